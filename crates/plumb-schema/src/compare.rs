//! The result of `plumb compare -o json`: two runs compared metric by metric (schema version
//! [`COMPARE_SCHEMA_VERSION`]). Changes are fractions (0.05 = +5%); an interval bound the samples
//! cannot support is `null` (unbounded).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of [`ComparisonResult`]'s layout; bumped on any change that is not purely additive.
/// Version 2: each row names its statistic, changes of error rates are differences, rows that
/// cannot support a verdict say why, and both sides may pool several runs.
pub const COMPARE_SCHEMA_VERSION: u32 = 2;

/// Version of [`GateResult`]'s layout.
pub const GATE_SCHEMA_VERSION: u32 = 1;

/// A comparison of candidate runs with baseline runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComparisonResult {
    /// Always [`COMPARE_SCHEMA_VERSION`] for this layout.
    pub schema_version: u32,
    /// The baseline's runs, by name, id and git commit where known.
    pub baseline: Vec<String>,
    /// The candidate's runs.
    pub candidate: Vec<String>,
    /// The practical tolerance δ, as a fraction: changes within ±δ are equivalent.
    pub tolerance: f64,
    /// Confidence that no row is falsely called regressed or improved.
    pub confidence: f64,
    /// Confidence level of each row's interval (the family's split over the rows, Bonferroni).
    pub row_confidence: f64,
    /// One entry per compared metric.
    pub metrics: Vec<MetricComparison>,
    /// Things the reader must know (different settings or hosts, busy hosts, interrupted runs).
    pub warnings: Vec<String>,
}

/// One metric of a comparison: `baseline` and `candidate` are the very statistic whose change
/// is estimated, so the sign of `change` always agrees with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricComparison {
    /// The metric, e.g. `latency p99` or `build: wall time`.
    pub metric: String,
    /// The statistic both columns show, e.g. `whole-run p99` or `median of runs`.
    pub statistic: String,
    /// The baseline's value of the statistic, in the metric's unit.
    pub baseline: f64,
    /// The candidate's value.
    pub candidate: f64,
    /// The unit: `ms`, `s`, `req/s`, `fraction`, `bytes` or `% of a core`.
    pub unit: String,
    /// `relative` (candidate / baseline − 1, never below −1) or `difference` (candidate −
    /// baseline, for fractions such as error rates).
    pub change_kind: String,
    /// The change; absent when the metric is not comparable.
    pub change: Option<f64>,
    /// Lower bound of the change's interval.
    pub change_low: Option<f64>,
    /// Upper bound of the change's interval.
    pub change_high: Option<f64>,
    /// `regressed`, `improved`, `equivalent`, `inconclusive` or `not comparable`.
    pub verdict: String,
    /// Why the metric is not comparable (coarse values, a measurement floor, too few requests).
    pub reason: Option<String>,
    /// For an inconclusive verdict, about how many more samples per side would settle it.
    pub more_samples: Option<u64>,
    /// Samples behind the baseline (runs, or seconds of load).
    pub samples_baseline: u64,
    /// Samples behind the candidate.
    pub samples_candidate: u64,
}

/// A threshold checked by the gate against the candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GateThreshold {
    /// The expression, e.g. `http_req_duration: p(95)<200ms`.
    pub expression: String,
    /// The baseline's value of the same metric, when it has one.
    pub baseline: Option<f64>,
    /// The candidate's value; absent when there was no data.
    pub observed: Option<f64>,
    /// `passed`, `failed` or `no data`.
    pub status: plumb_stats::ThresholdStatus,
}

/// The result of `plumb gate -o json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GateResult {
    /// Always [`GATE_SCHEMA_VERSION`] for this layout.
    pub schema_version: u32,
    /// `passed` or `failed`.
    pub outcome: String,
    /// Why, in words ("regression", "threshold", "inconclusive, --strict").
    pub reason: String,
    /// The exit code plumb exits with (docs/exit-codes.md).
    pub exit_code: i32,
    /// The comparison with the baseline.
    pub comparison: ComparisonResult,
    /// The thresholds checked.
    pub thresholds: Vec<GateThreshold>,
}
