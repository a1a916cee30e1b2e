//! What `plumb run --json` writes: the runs of a plan's scenario or preset, whether the goals
//! held, the before/after table against the baseline, and each preset's own reading (where a
//! stress test broke, how a spike was survived, how a soak drifted).

use crate::load::LoadResult;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Layout version of [`PlanRunResult`].
pub const PLAN_RUN_SCHEMA_VERSION: u32 = 1;

/// One `plumb run`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PlanRunResult {
    /// Layout version, [`PLAN_RUN_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The plumb that wrote it.
    pub plumb_version: String,
    /// The plan's name.
    pub plan: String,
    /// The plan file.
    pub file: String,
    /// The scenario run (for a preset, the normal scenario it derived from).
    pub scenario: String,
    /// The preset (`load`, `stress`, `soak`, `spike`), when one was run.
    pub preset: Option<String>,
    /// Every load run, in order.
    pub steps: Vec<PlanStep>,
    /// Whether every goal held in every step that counts (a stress test's steps past the
    /// breaking point do not).
    pub goals_passed: bool,
    /// The last step against the baseline.
    pub before_after: Option<BeforeAfter>,
    /// A stress test's reading.
    pub stress: Option<StressSummary>,
    /// A spike test's reading.
    pub spike: Option<SpikeSummary>,
    /// A soak test's reading.
    pub soak: Option<SoakSummary>,
    /// What the reader must know.
    pub warnings: Vec<String>,
}

/// One load run of a plan.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PlanStep {
    /// e.g. `normal`, `stress 3x`.
    pub label: String,
    /// Multiple of the normal load.
    pub factor: f64,
    /// Requested rate (open model) or connections (closed model).
    pub level: f64,
    /// Whether every goal held.
    pub goals_passed: bool,
    /// The ledger run it was saved as, when saved.
    pub run_id: Option<String>,
    /// The run itself.
    pub result: Box<LoadResult>,
}

/// The seeds' table: Metric | Baseline | Target | Achieved | Improvement, with the verdict.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BeforeAfter {
    /// What the baseline column is (run ids or name).
    pub baseline: String,
    /// What the achieved column is.
    pub candidate: String,
    /// The comparison's tolerance, as a fraction.
    pub tolerance: f64,
    /// The rows.
    pub rows: Vec<BeforeAfterRow>,
    /// What weakens the comparison.
    pub warnings: Vec<String>,
}

/// One metric before and after.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BeforeAfterRow {
    /// e.g. `latency p95`.
    pub metric: String,
    /// The unit of both values (`ms`, `req/s`, `fraction`, ...).
    pub unit: String,
    /// Whether lower values are better.
    pub lower_is_better: bool,
    /// The baseline's value.
    pub baseline: Option<f64>,
    /// The goal on this metric, e.g. `< 200 ms`.
    pub target: Option<String>,
    /// Whether the achieved value meets the goal.
    pub target_met: Option<bool>,
    /// The value now.
    pub achieved: Option<f64>,
    /// How much better (positive) or worse (negative): times faster when above 1 ("5.2x"),
    /// else the fraction ("78% faster" is 0.78); `None` when a side is missing or zero.
    pub improvement: Option<Improvement>,
    /// The comparison's verdict on the change (`improved`, `regressed`, `equivalent`,
    /// `inconclusive`, `not comparable`).
    pub verdict: String,
}

/// How much a metric improved.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Improvement {
    /// The better side over the worse (at least 1): how many times better or worse.
    pub factor: f64,
    /// The change as a fraction of the baseline, positive when better.
    pub fraction: f64,
    /// Whether the change is for the better.
    pub better: bool,
}

/// Where a stress test's goals started to fail.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StressSummary {
    /// Index into `steps` of the last step whose goals held, if any.
    pub last_passing_step: Option<usize>,
    /// Index of the first step that failed a goal, if any.
    pub first_failing_step: Option<usize>,
    /// Whether steps were skipped after the first failure.
    pub stopped_early: bool,
    /// One sentence, e.g. "goals hold up to 3x (600 req/s); they fail from 4x (800 req/s)".
    pub headline: String,
}

/// How a spike was survived.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SpikeSummary {
    /// Seconds since the start at which the spike began.
    pub spike_from_s: u64,
    /// Seconds since the start at which it ended.
    pub spike_to_s: u64,
    /// Requests completed during the spike.
    pub spike_requests: u64,
    /// Errors during the spike.
    pub spike_errors: u64,
    /// p99 latency before the spike, in milliseconds (the median of its seconds' p99).
    pub p99_before_ms: Option<f64>,
    /// Worst second's p99 during the spike, in milliseconds.
    pub p99_during_ms: Option<f64>,
    /// Seconds after the spike's end until latency and errors were back to their level before
    /// it for 3 s in a row; `None` when they never were.
    pub recovered_after_s: Option<u64>,
    /// One sentence.
    pub headline: String,
}

/// How a soak test drifted.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SoakSummary {
    /// Median of the per-second p99 over the first tenth of the run, in milliseconds.
    pub p99_first_ms: Option<f64>,
    /// Median of the per-second p99 over the last tenth, in milliseconds.
    pub p99_last_ms: Option<f64>,
    /// Least-squares slope of the per-second p99, in milliseconds per minute.
    pub p99_drift_ms_per_min: Option<f64>,
    /// The watched server's RSS slope, in bytes per second (with `watch_pid`/`watch_cgroup`).
    pub memory_growth_bytes_per_sec: Option<f64>,
    /// The leak note, when RSS climbed steadily.
    pub possible_leak: Option<String>,
    /// One sentence.
    pub headline: String,
}
