//! Where does it break? The search behind `plumb capacity`, pure (no I/O, no clock): the caller
//! runs each steady step of the open model and hands its per-second windows back.
//!
//! [`Search`] picks the rates: the start, doubled while steps pass, then the geometric middle of
//! the bracket between the highest passing and the lowest failing rate until the bracket is
//! narrower than the precision, then the sustained rate once more to confirm it. Each step is
//! judged by [`judge_step`] over its measured seconds (the settling ones left out, never a ramp):
//! pass, fail, marginal (the goal's interval straddles the bound) or inconclusive (the generator
//! was saturated, so the step says nothing about the target). [`fit_usl`] fits the Universal
//! Scalability Law to throughput against concurrency over the steps, with a bootstrap interval
//! of the predicted peak, and [`knee`] finds where latency doubled. [`summarize`] makes the
//! versioned result and its headline.

mod presets;
mod search;
mod step;
mod usl;

pub use presets::{soak_summary, spike_summary, stress_summary, StressStep};
pub use search::{Next, Search, SearchLimits};
pub use step::{judge_step, StepRun};
pub use usl::{fit_usl, knee};

use plumb_schema::capacity::{CapacityResult, CapacityStep, CAPACITY_SCHEMA_VERSION};
use plumb_stats::{Aggregation, Threshold};

/// What every step must meet.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    /// The goal, e.g. `http_req_duration: p(99)<250ms`.
    pub threshold: Threshold,
    /// The largest error rate a passing step may have.
    pub max_error_rate: f64,
}

/// Why a goal cannot drive a capacity search.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct GoalError {
    /// What is wrong, with a `hint:` line.
    pub message: String,
}

impl Goal {
    /// A goal from an expression (`p(99)<250ms` means `http_req_duration: p(99)<250ms`).
    pub fn parse(expression: &str, max_error_rate: f64) -> Result<Goal, GoalError> {
        let full = if expression.contains(':') {
            expression.to_string()
        } else {
            format!("http_req_duration: {expression}")
        };
        let threshold = Threshold::parse(&full).map_err(|e| GoalError {
            message: format!("--goal: {e}\nhint: a goal reads like 'p(99)<250ms' or 'http_req_duration: p(95)<100ms'"),
        })?;
        if !step::readable_from_windows(threshold.metric) {
            return Err(GoalError {
                message: format!("--goal: {} cannot be judged per step (the steps keep latency histograms and counts only)\nhint: use http_req_duration (p(N), avg, med, max), http_req_failed or http_reqs", threshold.metric.name()),
            });
        }
        Ok(Goal {
            threshold,
            max_error_rate,
        })
    }

    /// Whether an observed value meets the goal.
    pub fn holds(&self, observed: f64) -> bool {
        self.threshold
            .comparison
            .holds(observed, self.threshold.bound)
    }

    /// An observed value as the goal reads it: `p(99) 212.4 ms`.
    pub fn show(&self, value: f64) -> String {
        let unit = if self.threshold.is_duration() {
            " ms"
        } else {
            ""
        };
        format!("{} {value:.1}{unit}", self.threshold.aggregation)
    }

    /// The goal in its canonical form.
    pub fn expression(&self) -> String {
        self.threshold.canonical()
    }

    /// Whether the goal is on a latency percentile (its statistic then gives the knee).
    pub fn is_latency(&self) -> bool {
        self.threshold.is_duration() && !matches!(self.threshold.aggregation, Aggregation::Count)
    }
}

/// The settings a result records.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultContext {
    /// The target.
    pub url: String,
    /// When the search started (RFC 3339).
    pub started_at: String,
    /// Seconds each step settled.
    pub settle_s: f64,
    /// Seconds each step was measured.
    pub measure_s: f64,
    /// Whether a signal stopped the search.
    pub interrupted: bool,
}

/// The result of a finished (or stopped) search.
pub fn summarize(search: &Search, goal: &Goal, context: ResultContext) -> CapacityResult {
    let steps = search.steps().to_vec();
    let sustained = search.sustained();
    let failing = search.failing();
    let margin = sustained
        .zip(failing)
        .map(|(pass, fail)| (fail - pass) / 2.0 / pass);
    let usl = fit_usl(&steps, 0x0070_6c75_6d62);
    let knee = knee(&steps);
    let limited_by = search.limit().map(str::to_string);
    let headline = headline(
        goal,
        sustained,
        margin,
        failing,
        usl.as_ref(),
        limited_by.as_deref(),
    );
    CapacityResult {
        schema_version: CAPACITY_SCHEMA_VERSION,
        kind: "capacity".into(),
        plumb_version: env!("CARGO_PKG_VERSION").into(),
        started_at: context.started_at,
        url: context.url,
        goal: goal.expression(),
        max_error_rate: goal.max_error_rate,
        settle_s: context.settle_s,
        measure_s: context.measure_s,
        precision: search.precision(),
        steps,
        sustained_rps: sustained,
        failing_rps: failing,
        margin,
        limited_by,
        usl,
        knee_rps: knee,
        headline,
        interrupted: context.interrupted,
    }
}

fn headline(
    goal: &Goal,
    sustained: Option<f64>,
    margin: Option<f64>,
    failing: Option<f64>,
    usl: Option<&plumb_schema::capacity::UslFit>,
    limited_by: Option<&str>,
) -> String {
    let mut out = match (sustained, margin) {
        (Some(rate), Some(margin)) => format!(
            "sustains {} req/s ±{:.0}% at {} (fails at {} req/s)",
            rate_text(rate),
            margin * 100.0,
            goal.expression(),
            rate_text(failing.unwrap_or(rate))
        ),
        (Some(rate), None) => format!(
            "sustains at least {} req/s at {}",
            rate_text(rate),
            goal.expression()
        ),
        (None, _) => format!("no step met {}", goal.expression()),
    };
    if let Some(limit) = limited_by {
        out.push_str(&format!(" ({limit})"));
    }
    if let Some(peak) = usl.and_then(|u| u.peak_rps) {
        let extrapolated = if usl.is_some_and(|u| u.extrapolated) {
            ", extrapolated"
        } else {
            ""
        };
        out.push_str(&format!(
            "; USL peak {} req/s{extrapolated}",
            rate_text(peak)
        ));
    }
    out
}

/// A rate with thousands separated: `4,150`.
pub fn rate_text(rate: f64) -> String {
    let whole = rate.round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The steps that measured the target (not the generator).
pub(crate) fn measured(steps: &[CapacityStep]) -> impl Iterator<Item = &CapacityStep> {
    steps.iter().filter(|s| s.verdict != "inconclusive")
}
