//! The result of `plumb compare -o json`: two runs compared metric by metric (schema version
//! [`COMPARE_SCHEMA_VERSION`]). Changes are fractions (0.05 = +5%); an interval bound the samples
//! cannot support is `null` (unbounded).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of [`ComparisonResult`]'s layout; bumped on any change that is not purely additive.
pub const COMPARE_SCHEMA_VERSION: u32 = 1;

/// A comparison of a candidate run with a baseline run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComparisonResult {
    /// Always [`COMPARE_SCHEMA_VERSION`] for this layout.
    pub schema_version: u32,
    /// The baseline's run id (or file).
    pub baseline: String,
    /// The candidate's run id (or file).
    pub candidate: String,
    /// The practical tolerance δ, as a fraction.
    pub tolerance: f64,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// One entry per compared metric.
    pub metrics: Vec<MetricComparison>,
    /// Things the reader must know (different machines, interrupted runs).
    pub warnings: Vec<String>,
}

/// One metric of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricComparison {
    /// The metric, e.g. `latency p99` or `build: wall median`.
    pub metric: String,
    /// The baseline's value, in the metric's unit.
    pub baseline: f64,
    /// The candidate's value.
    pub candidate: f64,
    /// The unit of `baseline` and `candidate`: `ms`, `s`, `req/s`, `fraction` or `bytes`.
    pub unit: String,
    /// Hodges–Lehmann estimate of the change, as a fraction; absent when it cannot be estimated.
    pub change: Option<f64>,
    /// Lower bound of the interval of the change; `null` when unbounded or not estimated.
    pub change_low: Option<f64>,
    /// Upper bound of the interval of the change; `null` when unbounded or not estimated.
    pub change_high: Option<f64>,
    /// Two-sided p-value of "no change".
    pub p_value: Option<f64>,
    /// `regressed`, `improved`, `equivalent` or `inconclusive`.
    pub verdict: String,
    /// For an inconclusive verdict, about how many more runs per side would settle it.
    pub more_runs: Option<u64>,
}
