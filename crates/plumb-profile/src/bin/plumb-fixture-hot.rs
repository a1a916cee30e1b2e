//! Test fixture with a known CPU profile: `hot_seventy` takes 70% of the CPU time,
//! `warm_twenty` 20% and `cool_ten` 10%, for `SECONDS` (first argument, default 2), or for a
//! fixed amount of work with `--rounds N` (what an overhead measurement needs).
//! `PLUMB_FIXTURE_HOT_UNITS=N` gives `hot_seventy` N units instead of 7: the "optimization" that
//! profile comparisons are tested with.
//!
//! The three functions run the same loop for 7, 2 and 1 units of work per round, so their shares
//! hold whatever the machine's speed. They are never inlined, so each is its own symbol.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Iterations of the spin loop in one unit of work.
const UNIT: u64 = 2_000;

// Only primitive operators: unoptimized (debug) builds call no helper functions either, so
// every sample lands in the function that runs the loop.
macro_rules! spin {
    ($units:expr) => {{
        let end: u64 = black_box($units * UNIT);
        let mut acc: u64 = 1;
        let mut i: u64 = 0;
        while i < end {
            acc = (acc << 1) ^ (acc >> 3) ^ i;
            i += 1;
        }
        acc
    }};
}

#[inline(never)]
fn hot_seventy() -> u64 {
    spin!(hot_units())
}

/// Units of work of `hot_seventy`: 7 unless `PLUMB_FIXTURE_HOT_UNITS` says otherwise.
fn hot_units() -> u64 {
    static UNITS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *UNITS.get_or_init(|| {
        std::env::var("PLUMB_FIXTURE_HOT_UNITS")
            .ok()
            .and_then(|units| units.parse().ok())
            .unwrap_or(7)
    })
}

#[inline(never)]
fn warm_twenty() -> u64 {
    spin!(2)
}

#[inline(never)]
fn cool_ten() -> u64 {
    spin!(1)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sink = match args.as_slice() {
        [flag, rounds] if flag == "--rounds" => {
            run_rounds(rounds.parse().expect("--rounds takes a count"))
        }
        [seconds, ..] => run_for(seconds.parse().expect("SECONDS is a number")),
        [] => run_for(2.0),
    };
    black_box(sink);
}

fn round() -> u64 {
    hot_seventy() ^ warm_twenty() ^ cool_ten()
}

fn run_rounds(rounds: u64) -> u64 {
    (0..rounds).fold(0, |sink, _| sink ^ round())
}

fn run_for(seconds: f64) -> u64 {
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut sink = 0u64;
    while Instant::now() < end {
        sink ^= round();
    }
    sink
}
