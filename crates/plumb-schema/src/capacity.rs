//! Result of `plumb capacity`: the steady steps of an open-model rate search, each judged against
//! the goal with its uncertainty, the sustained rate found, the Universal Scalability Law fitted
//! over the steps, and the knee of latency against rate.
//!
//! Versioned by [`CAPACITY_SCHEMA_VERSION`]; a field is only ever added.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the [`CapacityResult`] format.
pub const CAPACITY_SCHEMA_VERSION: u32 = 1;

/// Everything one capacity search measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CapacityResult {
    /// Always [`CAPACITY_SCHEMA_VERSION`] when written by this plumb.
    pub schema_version: u32,
    /// Always `"capacity"`.
    pub kind: String,
    /// The plumb that measured it.
    pub plumb_version: String,
    /// When the search started (RFC 3339).
    pub started_at: String,
    /// The target.
    pub url: String,
    /// The goal every step is judged by, as given (`http_req_duration: p(99)<250ms`).
    pub goal: String,
    /// The largest error rate a passing step may have (a fraction).
    pub max_error_rate: f64,
    /// Seconds each step ran before it was measured (left out of its figures).
    pub settle_s: f64,
    /// Seconds each step was measured for, in whole-second windows.
    pub measure_s: f64,
    /// The search stops when the bracket between passing and failing rates is this narrow
    /// (a fraction of the passing rate).
    pub precision: f64,
    /// The steps, in the order they ran.
    pub steps: Vec<CapacityStep>,
    /// The highest rate that passed (and passed again when confirmed), in requests per second.
    pub sustained_rps: Option<f64>,
    /// The lowest rate that did not pass, above `sustained_rps`.
    pub failing_rps: Option<f64>,
    /// Half the bracket between them, as a fraction of `sustained_rps`: the "±" of the answer.
    pub margin: Option<f64>,
    /// Why the search ended without a bracket (the generator could not keep up, the maximum
    /// rate passed, the time budget ran out, an interrupt), if it did.
    pub limited_by: Option<String>,
    /// The Universal Scalability Law fitted over the measured steps, when at least four are.
    pub usl: Option<UslFit>,
    /// The highest rate before latency (the goal's statistic) doubled over its lowest value.
    pub knee_rps: Option<f64>,
    /// One line that answers "where does it break?".
    pub headline: String,
    /// Whether the search was stopped early (a signal).
    pub interrupted: bool,
}

/// One steady step of the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CapacityStep {
    /// The offered rate, requests per second.
    pub rate: f64,
    /// Whether this step re-ran the sustained rate to confirm it.
    pub confirmation: bool,
    /// Requests completed in the measured windows.
    pub requests: u64,
    /// Of them, failed.
    pub errors: u64,
    /// Completed requests per second in the measured windows.
    pub achieved_rps: f64,
    /// Failed over completed.
    pub error_rate: f64,
    /// The goal's statistic over the measured windows (milliseconds for latencies).
    pub observed: Option<f64>,
    /// Its interval (a bootstrap over the measured seconds), low end.
    pub observed_low: Option<f64>,
    /// Its interval, high end.
    pub observed_high: Option<f64>,
    /// Latency p50 in the measured windows, milliseconds.
    pub p50_ms: Option<f64>,
    /// Latency p99 in the measured windows, milliseconds.
    pub p99_ms: Option<f64>,
    /// Mean concurrency (Little's law: throughput times mean latency).
    pub concurrency: f64,
    /// `pass`, `fail`, `marginal` (the interval straddles the goal) or `inconclusive` (plumb or
    /// the host, not the target, could not keep up).
    pub verdict: String,
    /// Why, in words.
    pub reason: String,
}

/// The Universal Scalability Law `X(N) = λN / (1 + σ(N−1) + κN(N−1))` fitted to throughput X
/// against concurrency N over the measured steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UslFit {
    /// Contention (serial fraction).
    pub sigma: f64,
    /// Coherency (crosstalk).
    pub kappa: f64,
    /// Throughput of one unit of concurrency, requests per second.
    pub lambda: f64,
    /// The predicted peak throughput, requests per second; absent when the fit shows no peak
    /// (κ = 0: throughput levels off instead of falling).
    pub peak_rps: Option<f64>,
    /// Its interval from a bootstrap over the steps.
    pub peak_rps_low: Option<f64>,
    /// Its interval, high end.
    pub peak_rps_high: Option<f64>,
    /// The concurrency at the peak.
    pub peak_concurrency: Option<f64>,
    /// Whether the peak lies beyond the highest concurrency measured (an extrapolation).
    pub extrapolated: bool,
    /// Steps the fit used.
    pub points: u64,
}
