//! One steady step: its measured seconds (the settling ones left out) judged against the goal,
//! with an interval from a moving-block bootstrap over the seconds, so that a step whose p99
//! sits on the goal is "marginal" rather than a coin toss called pass or fail.

use crate::Goal;
use plumb_schema::capacity::CapacityStep;
use plumb_schema::load::SecondWindow;
use plumb_stats::{DurationHistogram, LoadMetrics, Metric};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// Bootstrap resamples of a step's seconds.
const RESAMPLES: usize = 400;
/// The interval's confidence.
const CONFIDENCE: f64 = 0.95;

/// What one step's load run measured.
#[derive(Debug, Clone)]
pub struct StepRun<'a> {
    /// The offered rate.
    pub rate: f64,
    /// Whether it re-runs the sustained rate.
    pub confirmation: bool,
    /// Every whole second of the run, in order.
    pub windows: &'a [SecondWindow],
    /// Seconds to leave out at the start.
    pub settle: usize,
    /// Whether the generator, not the target, limited the run.
    pub generator_saturated: bool,
}

/// The measured seconds, decoded.
struct Seconds {
    histograms: Vec<DurationHistogram>,
    requests: Vec<u64>,
    errors: Vec<u64>,
}

impl Seconds {
    fn of(windows: &[SecondWindow]) -> Seconds {
        let histograms = windows
            .iter()
            .map(|w| {
                w.latency_histogram
                    .as_deref()
                    .and_then(|text| DurationHistogram::from_base64(text).ok())
                    .unwrap_or_default()
            })
            .collect();
        Seconds {
            histograms,
            requests: windows.iter().map(|w| w.requests).collect(),
            errors: windows.iter().map(|w| w.errors).collect(),
        }
    }

    /// The goal's statistic over the seconds at `indices`.
    fn observe(&self, goal: &Goal, indices: &[usize]) -> Option<f64> {
        let mut latency = DurationHistogram::new();
        for &i in indices {
            latency.merge(&self.histograms[i]);
        }
        let empty = DurationHistogram::new();
        let metrics = LoadMetrics {
            latency: &latency,
            service: &empty,
            ttfb: &empty,
            connect: &empty,
            requests: indices.iter().map(|&i| self.requests[i]).sum(),
            errors: indices.iter().map(|&i| self.errors[i]).sum(),
            bytes_sent: 0,
            bytes_received: 0,
            elapsed: Duration::from_secs(indices.len() as u64),
        };
        goal.threshold.evaluate(&metrics).observed
    }

    fn len(&self) -> usize {
        self.requests.len()
    }
}

/// Judge one step against `goal`.
pub fn judge_step(run: &StepRun<'_>, goal: &Goal, seed: u64) -> CapacityStep {
    let measured = &run.windows[run.settle.min(run.windows.len())..];
    let seconds = Seconds::of(measured);
    let all: Vec<usize> = (0..seconds.len()).collect();
    let requests: u64 = seconds.requests.iter().sum();
    let errors: u64 = seconds.errors.iter().sum();
    let error_rate = errors as f64 / requests.max(1) as f64;
    let observed = seconds.observe(goal, &all);
    let (low, high) = interval(&seconds, goal, seed).unzip();
    let merged = merged_latency(&seconds);
    let mean_ms = (!merged.is_empty()).then(|| merged.mean().as_secs_f64() * 1e3);
    let achieved = requests as f64 / seconds.len().max(1) as f64;
    let (verdict, reason) = verdict(run, goal, (observed, low, high), (requests, error_rate));
    CapacityStep {
        rate: run.rate,
        confirmation: run.confirmation,
        requests,
        errors,
        achieved_rps: achieved,
        error_rate,
        observed,
        observed_low: low,
        observed_high: high,
        p50_ms: percentile_ms(&merged, 50.0),
        p99_ms: percentile_ms(&merged, 99.0),
        concurrency: achieved * mean_ms.unwrap_or(0.0) / 1e3,
        verdict: verdict.to_string(),
        reason,
    }
}

fn merged_latency(seconds: &Seconds) -> DurationHistogram {
    let mut merged = DurationHistogram::new();
    for h in &seconds.histograms {
        merged.merge(h);
    }
    merged
}

fn percentile_ms(h: &DurationHistogram, p: f64) -> Option<f64> {
    (!h.is_empty()).then(|| h.percentile(p).as_secs_f64() * 1e3)
}

/// A percentile interval of the goal's statistic over moving-block resamples of the seconds.
fn interval(seconds: &Seconds, goal: &Goal, seed: u64) -> Option<(f64, f64)> {
    let n = seconds.len();
    if n < 3 {
        return None;
    }
    let block = ((n as f64).cbrt().floor() as usize).max(1);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(RESAMPLES);
    let mut indices = Vec::with_capacity(n);
    for _ in 0..RESAMPLES {
        indices.clear();
        while indices.len() < n {
            let start = rng.random_range(0..=n - block);
            indices.extend((start..start + block).take(n - indices.len()));
        }
        if let Some(value) = seconds.observe(goal, &indices) {
            values.push(value);
        }
    }
    if values.len() < RESAMPLES / 2 {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    Some((
        at((1.0 - CONFIDENCE) / 2.0),
        at(1.0 - (1.0 - CONFIDENCE) / 2.0),
    ))
}

fn verdict(
    run: &StepRun<'_>,
    goal: &Goal,
    (observed, low, high): (Option<f64>, Option<f64>, Option<f64>),
    (requests, error_rate): (u64, f64),
) -> (&'static str, String) {
    if run.generator_saturated {
        return (
            "inconclusive",
            "plumb's own threads were saturated: the generator, not the target, limited this step"
                .into(),
        );
    }
    if requests == 0 {
        return (
            "fail",
            "no response completed in the measured seconds".into(),
        );
    }
    if error_rate > goal.max_error_rate {
        return (
            "fail",
            format!(
                "{:.2}% errors, above the {:.2}% allowed",
                error_rate * 100.0,
                goal.max_error_rate * 100.0
            ),
        );
    }
    let Some(observed) = observed else {
        return ("fail", "the goal's metric has no data".into());
    };
    let holds = |value: f64| goal.holds(value);
    let shown = goal.show(observed);
    match (holds(observed), low.zip(high)) {
        (true, Some((low, high))) if holds(low) && holds(high) => (
            "pass",
            format!("{shown}, the whole interval meets the goal"),
        ),
        (false, Some((low, high))) if !holds(low) && !holds(high) => (
            "fail",
            format!("{shown}, the whole interval misses the goal"),
        ),
        (_, Some((low, high))) => (
            "marginal",
            format!(
                "{shown}, its interval [{}, {}] straddles the goal",
                goal.show(low),
                goal.show(high)
            ),
        ),
        (true, None) => ("pass", format!("{shown} (too few seconds for an interval)")),
        (false, None) => ("fail", format!("{shown} (too few seconds for an interval)")),
    }
}

/// Whether a goal's metric can be read from a step's per-second windows.
pub(crate) fn readable_from_windows(metric: Metric) -> bool {
    matches!(
        metric,
        Metric::HttpReqDuration | Metric::HttpReqFailed | Metric::HttpReqs
    )
}
