//! The bounds of every numeric flag, in one place (README.md and docs/load.md list them).
//!
//! Each value is checked against its bound when it is parsed, so the engines' arithmetic on it
//! (deadlines, schedules, buffer sizes) can never overflow: a bound is far above any real use
//! and far below where `Duration`, `u64` nanoseconds or an allocation would break.

use std::time::Duration;

/// The longest run: `plumb load -d`, the total of `--stages`, `plumb profile -d`, `plumb demo -d`.
pub const MAX_RUN: Duration = Duration::from_secs(7 * 24 * 3600);
/// The longest of every other duration: `--timeout`, `--latency`, `--stall`, `--interval`,
/// `plumb bench --min-time/--max-time`.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);
/// The highest request rate, per second (`--rate` and rate targets of `--stages`).
pub const MAX_RATE: f64 = 10_000_000.0;
/// The lowest positive request rate, per second: one request every 100 s.
pub const MIN_RATE: f64 = 0.01;
/// The most connections (`-c`, and connection targets of `--stages`).
pub const MAX_CONNECTIONS: u64 = 1_000_000;
/// The most HTTP/2 streams per connection (`-p`): servers allow 100 to 1,000 at once.
pub const MAX_STREAMS: u32 = plumb_load::MAX_STREAMS;
/// The most requests of `plumb load -n`.
pub const MAX_REQUESTS: u64 = 1_000_000_000_000;
/// The most worker threads (`plumb load -t`, `plumb target -t`).
pub const MAX_THREADS: u64 = 1_024;
/// The largest response body of `plumb target --size`: 1 GiB.
pub const MAX_BODY_SIZE: u64 = 1 << 30;
/// The most runs of a command in `plumb bench` (`--runs`, `--min-runs`, `--max-runs`, `--warmup`).
pub const MAX_BENCH_RUNS: u64 = 1_000_000;
/// The most rounds of `plumb compare --ab` and `plumb calibrate`.
pub const MAX_ROUNDS: u64 = 10_000;
/// The most A/A comparisons of `plumb calibrate --repeats`.
pub const MAX_REPEATS: u64 = 1_000;
/// The most runs `plumb history --limit` lists.
pub const MAX_HISTORY: u64 = 1_000_000;
/// The most rows of `plumb profile --top`.
pub const MAX_TOP: u64 = 10_000;
/// The highest sample frequency of `plumb profile -F`, per second and thread.
pub const MAX_FREQUENCY: u64 = 10_000;
/// The longest HTTP method `-m` takes (the longest registered one, UPDATEREDIRECTREF, has 17).
pub const MAX_METHOD_LEN: usize = 32;
/// The longest rolling window of `--threshold-window`: each second of a window keeps the
/// histograms its thresholds read (about 0.2 MB a histogram), so 10 minutes of latency hold
/// about 120 MB.
pub const MAX_THRESHOLD_WINDOW: Duration = Duration::from_secs(600);
/// The longest note `plumb note` keeps, in bytes.
pub const MAX_NOTE_BYTES: usize = 4096;
