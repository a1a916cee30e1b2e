//! The result of `plumb bench`: every run of every command, the statistics derived from them and
//! the comparison between commands, as written by `--json` (schema version [`BENCH_SCHEMA_VERSION`]).
//!
//! Times are seconds as `f64` and memory is bytes as `u64`, named with their unit (`wall_seconds`,
//! `peak_rss_bytes`) so the JSON reads without this file. The [`hyperfine`] module holds the
//! layout of hyperfine's `--export-json`, which `--export-hyperfine-json` writes.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of [`BenchReport`]'s layout; bumped on any change that is not purely additive.
pub const BENCH_SCHEMA_VERSION: u32 = 1;

/// Everything `plumb bench` measured and concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BenchReport {
    /// Always [`BENCH_SCHEMA_VERSION`] for this layout.
    pub schema_version: u32,
    /// Version of plumb that wrote the report.
    pub plumb_version: String,
    /// How the benchmark was run.
    pub settings: SettingsRecord,
    /// Whether the user interrupted the benchmark (Ctrl-C): the runs are those measured until then.
    pub interrupted: bool,
    /// The measured cost of starting the shell, subtracted from every run; absent without a shell.
    pub shell_overhead: Option<ShellOverhead>,
    /// plumb's own peak RSS while measuring, when known. Linux folds the peak of the image that
    /// `exec` replaces into the child's, so no child's `peak_rss_bytes` is below this floor: a
    /// command at the floor used this much or less.
    pub peak_rss_floor_bytes: Option<u64>,
    /// One entry per benchmarked command (after parameter expansion), in command-line order.
    pub benchmarks: Vec<BenchmarkRecord>,
    /// How the commands compare; absent with fewer than two commands.
    pub comparison: Option<Comparison>,
    /// How busy the host was during the benchmark (load average, CPU pressure, steal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_noise: Option<crate::host::HostNoise>,
}

/// The settings that shaped the measurements, kept so a result can be reproduced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SettingsRecord {
    /// Warmup runs per command before measuring.
    pub warmup_runs: u32,
    /// The shell commands ran in (`sh`, `bash`, ...); `None` with `--no-shell`.
    pub shell: Option<String>,
    /// Whether commands ran interleaved in rounds or one after another.
    pub order: RunOrder,
    /// Seed of the round shuffling and of the bootstrap.
    pub seed: u64,
    /// Command run before every run, if any.
    pub prepare: Option<String>,
    /// Command run once before each benchmarked command, if any.
    pub setup: Option<String>,
    /// Command run once after each benchmarked command, if any.
    pub cleanup: Option<String>,
}

/// The order in which several commands ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunOrder {
    /// Rounds in which every command runs once, in a shuffled order per round.
    Interleaved,
    /// All runs of the first command, then all of the second, and so on (hyperfine's order).
    Sequential,
}

/// The shell's own startup cost, measured by running an empty command through it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShellOverhead {
    /// Number of calibration runs (up front, then one per round).
    pub runs: u32,
    /// Median wall time of the empty command, subtracted from every run's wall time.
    pub wall_seconds: f64,
    /// Robust spread (scaled MAD) of the calibration's wall times: the limit of what can be resolved.
    pub wall_mad_seconds: f64,
    /// Median user CPU time of the empty command, subtracted from every run's user time.
    pub user_seconds: f64,
    /// Median system CPU time of the empty command, subtracted from every run's system time.
    pub system_seconds: f64,
}

/// One benchmarked command: its runs and what they say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BenchmarkRecord {
    /// Label shown in reports: `--name`, or the command itself.
    pub name: String,
    /// The command as run, with parameters substituted.
    pub command: String,
    /// Parameter values substituted into this command (empty without parameters).
    pub parameters: BTreeMap<String, String>,
    /// Every measured run (warmups excluded), in the order they ran.
    pub runs: Vec<RunRecord>,
    /// Statistics over `runs`.
    pub stats: BenchStats,
    /// Runs whose wall time is far from the rest.
    pub outliers: Outliers,
}

/// One measured run of a command, from the `wait4` rusage of that child alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunRecord {
    /// Round this run belongs to (0-based); with sequential order, the run's index.
    pub round: u32,
    /// Wall time, shell overhead subtracted (never below zero).
    pub wall_seconds: f64,
    /// User CPU time, shell overhead subtracted (never below zero).
    pub user_seconds: f64,
    /// System CPU time, shell overhead subtracted (never below zero).
    pub system_seconds: f64,
    /// Peak resident set size of the child (or of its largest waited-for descendant).
    pub peak_rss_bytes: u64,
    /// Voluntary context switches (the child waited: I/O, sleep, locks).
    pub voluntary_context_switches: u64,
    /// Involuntary context switches (the child was preempted).
    pub involuntary_context_switches: u64,
    /// Block input operations.
    pub block_input_ops: u64,
    /// Block output operations.
    pub block_output_ops: u64,
    /// Exit code, or `None` when a signal ended the child.
    pub exit_code: Option<i32>,
    /// The signal that ended the child, if one did.
    pub signal: Option<i32>,
}

/// Statistics of one command's measured runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BenchStats {
    /// Number of measured runs.
    pub runs: u32,
    /// Wall-time statistics.
    pub wall: TimeStats,
    /// Mean user CPU time.
    pub user_mean_seconds: f64,
    /// Mean system CPU time.
    pub system_mean_seconds: f64,
    /// Median of the per-run peak RSS.
    pub peak_rss_median_bytes: u64,
    /// Largest per-run peak RSS.
    pub peak_rss_max_bytes: u64,
    /// Mean voluntary context switches per run.
    pub voluntary_context_switches_mean: f64,
    /// Mean involuntary context switches per run.
    pub involuntary_context_switches_mean: f64,
}

/// Descriptive statistics of a set of times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TimeStats {
    /// Mean.
    pub mean_seconds: f64,
    /// Sample standard deviation; `None` with a single run.
    pub stddev_seconds: Option<f64>,
    /// Median.
    pub median_seconds: f64,
    /// Median absolute deviation scaled to estimate σ: a spread that outliers do not inflate.
    pub mad_seconds: f64,
    /// Fastest run.
    pub min_seconds: f64,
    /// Slowest run.
    pub max_seconds: f64,
}

/// Outlying runs by modified z-score of the wall time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outliers {
    /// The modified z-score above which a run counts as an outlier.
    pub z_threshold: f64,
    /// Indices into `runs` of the outlying runs.
    pub indices: Vec<usize>,
    /// Whether the first measured run was a slow outlier (typically cold caches).
    pub slow_first_run: bool,
}

/// The commands compared with the fastest one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    /// Index into `benchmarks` of the command with the smallest median wall time.
    pub fastest: usize,
    /// Confidence level of the ratio intervals (0.95).
    pub confidence: f64,
    /// Significance level of the Mann–Whitney test (0.05).
    pub alpha: f64,
    /// Number of bootstrap resamples behind each interval.
    pub resamples: u32,
    /// One entry per other command, in command-line order.
    pub others: Vec<RatioRecord>,
}

/// How much slower one command is than the fastest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RatioRecord {
    /// Index into `benchmarks` of the slower command.
    pub benchmark: usize,
    /// Its median wall time divided by the fastest command's; `None` when the fastest median is
    /// zero (a command no slower than the empty shell command).
    pub ratio: Option<f64>,
    /// Lower bound of the bootstrap confidence interval of the ratio.
    pub ratio_low: Option<f64>,
    /// Upper bound of the bootstrap confidence interval of the ratio.
    pub ratio_high: Option<f64>,
    /// Two-sided p-value of the Mann–Whitney U test between the two commands' wall times.
    pub p_value: f64,
    /// What the data allow us to say.
    pub verdict: Verdict,
}

/// Whether a difference in wall time is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Slower than the fastest command: p < alpha and the interval excludes 1.
    Slower,
    /// The data do not show a difference: do not rank these two.
    NoSignificantDifference,
}

/// The JSON Schema of [`BenchReport`], for validating files that `--json` writes.
pub fn bench_report_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(BenchReport)).expect("a schema serializes to JSON")
}

/// hyperfine's `--export-json` layout, so its plotting and analysis scripts read plumb's results.
pub mod hyperfine {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};

    /// The whole file: `{"results": [...]}`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Export {
        /// One entry per command.
        pub results: Vec<BenchmarkResult>,
    }

    /// One command, with hyperfine's field names; times in seconds.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct BenchmarkResult {
        /// The command as run.
        pub command: String,
        /// Mean wall time.
        pub mean: f64,
        /// Standard deviation of the wall time (`null` with one run, as hyperfine writes it).
        pub stddev: Option<f64>,
        /// Median wall time.
        pub median: f64,
        /// Mean user CPU time.
        pub user: f64,
        /// Mean system CPU time.
        pub system: f64,
        /// Fastest run.
        pub min: f64,
        /// Slowest run.
        pub max: f64,
        /// Every run's wall time.
        pub times: Vec<f64>,
        /// Every run's peak RSS in bytes (per child, unlike hyperfine's own figures).
        pub memory_usage_byte: Vec<u64>,
        /// Every run's exit code (`null` when a signal ended it).
        pub exit_codes: Vec<Option<i32>>,
        /// Parameter values, omitted when there are none (as hyperfine does).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub parameters: BTreeMap<String, String>,
    }
}
