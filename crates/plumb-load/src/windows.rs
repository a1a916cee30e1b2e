//! Thresholds judged over every rolling window of a run (`--threshold-window 10s`) as well as
//! over the whole run, so that a failure in the last seconds is not diluted by earlier success
//! (k6 judges only the run so far).
//!
//! The engine hands each completed second's merged [`Recorder`] to its observer in order; a
//! [`RollingThresholds`] keeps the last `window` of them and judges every threshold over their
//! merge once per second, as soon as a full window exists. Windows slide by one second.
//! Submetrics by tag (`{step:}`, `{flow:}`, `{status:}`) are judged over the window's own
//! per-step figures and status counts, which every second's recorder carries.

use crate::recorder::Recorder;
use crate::report::load_metrics;
use plumb_schema::load::ThresholdWindow;
use plumb_stats::{
    Aggregation, Comparison, DurationHistogram, LoadMetrics, Metric, MetricSource, Tag, TagKey,
    Threshold, ThresholdStatus,
};
use std::collections::VecDeque;
use std::time::Duration;

/// What one threshold's windows showed so far.
#[derive(Debug, Clone, Default, PartialEq)]
struct Tally {
    judged: u64,
    failed: u64,
    /// Start (seconds since the start) and observed value of the first failing window.
    first_failure: Option<(u64, f64)>,
    /// Start and observed value of the window furthest on the failing side of the bound.
    worst: Option<(u64, f64)>,
}

/// A newly failed window of one threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowFailure {
    /// The threshold's expression as given.
    pub expression: String,
    /// Seconds since the start at which the failing window begins.
    pub from_s: u64,
    /// Seconds since the start at which it ends.
    pub to_s: u64,
    /// The value observed over that window (milliseconds for durations).
    pub observed: f64,
}

/// The thresholds of a run, judged over each rolling window of whole seconds.
pub struct RollingThresholds {
    thresholds: Vec<Threshold>,
    window: u64,
    seconds: VecDeque<Recorder>,
    /// The second the oldest kept recorder covers.
    oldest: u64,
    tallies: Vec<Tally>,
}

impl RollingThresholds {
    /// Judge `thresholds` over every window of `window` (whole seconds, at least one).
    pub fn new(thresholds: &[Threshold], window: Duration) -> RollingThresholds {
        RollingThresholds {
            thresholds: thresholds.to_vec(),
            window: window.as_secs().max(1),
            seconds: VecDeque::new(),
            oldest: 0,
            tallies: vec![Tally::default(); thresholds.len()],
        }
    }

    /// The window's length in seconds.
    pub fn window_seconds(&self) -> u64 {
        self.window
    }

    /// Add second `t_s`'s recorder; once a full window exists, judge it. Returns the failures of
    /// this window (each threshold's, when it fails here).
    pub fn push(&mut self, t_s: u64, second: &Recorder) -> Vec<WindowFailure> {
        let mut kept = if self.seconds.len() as u64 >= self.window {
            self.oldest += 1;
            self.seconds.pop_front().unwrap_or_default()
        } else {
            Recorder::new()
        };
        kept.clear();
        kept.merge(second);
        self.drop_unread(&mut kept);
        if self.seconds.is_empty() {
            self.oldest = t_s;
        }
        self.seconds.push_back(kept);
        if (self.seconds.len() as u64) < self.window {
            return Vec::new();
        }
        self.judge_window()
    }

    /// Empty the histograms no threshold reads, so that a second of the window costs one or two
    /// histograms, not five. Latency stays: whether any response was measured decides whether a
    /// count or rate has data.
    fn drop_unread(&self, second: &mut Recorder) {
        let reads = |metric: Metric| self.thresholds.iter().any(|t| t.metric == metric);
        if !reads(Metric::HttpReqServiceTime) {
            second.service = DurationHistogram::new();
        }
        if !reads(Metric::HttpReqWaiting) {
            second.ttfb = DurationHistogram::new();
        }
        if !reads(Metric::HttpReqConnecting) {
            second.connect = DurationHistogram::new();
        }
        second.send_lag = DurationHistogram::new();
        let reads_steps = self
            .thresholds
            .iter()
            .any(|t| t.tag.as_ref().is_some_and(|tag| tag.key != TagKey::Status));
        if !reads_steps {
            second.flows = None;
        }
    }

    fn judge_window(&mut self) -> Vec<WindowFailure> {
        let mut merged = Recorder::new();
        for second in &self.seconds {
            merged.merge(second);
        }
        let from_s = self.oldest;
        let to_s = from_s + self.window;
        let elapsed = Duration::from_secs(self.window);
        let metrics = WindowSource {
            whole: load_metrics(&merged, elapsed),
            merged: &merged,
            elapsed,
        };
        let mut failures = Vec::new();
        for (threshold, tally) in self.thresholds.iter().zip(&mut self.tallies) {
            let evaluation = threshold.evaluate(&metrics);
            let Some(observed) = evaluation.observed else {
                continue;
            };
            tally.judged += 1;
            if evaluation.status != ThresholdStatus::Failed {
                continue;
            }
            tally.failed += 1;
            tally.first_failure.get_or_insert((from_s, observed));
            if tally
                .worst
                .is_none_or(|(_, worst)| further(threshold.comparison, observed, worst))
            {
                tally.worst = Some((from_s, observed));
            }
            failures.push(WindowFailure {
                expression: threshold.source.clone(),
                from_s,
                to_s,
                observed,
            });
        }
        failures
    }

    /// Each threshold's windows, in the thresholds' order.
    pub fn outcomes(&self) -> Vec<ThresholdWindow> {
        self.tallies
            .iter()
            .map(|tally| ThresholdWindow {
                seconds: self.window,
                windows: tally.judged,
                failed_windows: tally.failed,
                status: if tally.judged == 0 {
                    ThresholdStatus::NoData
                } else if tally.failed > 0 {
                    ThresholdStatus::Failed
                } else {
                    ThresholdStatus::Passed
                },
                first_failed_from_s: tally.first_failure.map(|(s, _)| s),
                worst_from_s: tally.worst.map(|(s, _)| s),
                worst_observed: tally.worst.map(|(_, v)| v),
            })
            .collect()
    }
}

/// One window as thresholds read it: its whole figures and its submetrics by tag.
struct WindowSource<'a> {
    whole: LoadMetrics<'a>,
    merged: &'a Recorder,
    elapsed: Duration,
}

impl MetricSource for WindowSource<'_> {
    fn value(&self, metric: Metric, aggregation: Aggregation) -> Option<f64> {
        self.whole.value(metric, aggregation)
    }

    fn tagged_value(&self, metric: Metric, aggregation: Aggregation, tag: &Tag) -> Option<f64> {
        crate::flow_report::tagged_value(self.merged, self.elapsed, metric, aggregation, tag)
    }
}

/// Whether `value` lies further on the failing side of a bound than `than`.
fn further(comparison: Comparison, value: f64, than: f64) -> bool {
    match comparison {
        Comparison::Less | Comparison::LessOrEqual => value > than,
        Comparison::Greater | Comparison::GreaterOrEqual => value < than,
        // `==` and `!=` have no side: the first failing window stands as the worst.
        Comparison::Equal | Comparison::NotEqual => false,
    }
}

/// Merge each threshold's whole-run outcome with its windows': the threshold fails when either
/// fails. A run shorter than one window keeps its whole-run verdict, and says so.
pub fn with_windows(
    outcomes: &mut [plumb_schema::load::ThresholdOutcome],
    windows: Vec<ThresholdWindow>,
) {
    for (outcome, window) in outcomes.iter_mut().zip(windows) {
        if window.status == ThresholdStatus::Failed {
            outcome.status = ThresholdStatus::Failed;
        }
        outcome.window = Some(window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::Exchange;
    use plumb_stats::MetricSource;

    fn second(latency_ms: u64, requests: u64) -> Recorder {
        let mut recorder = Recorder::new();
        for _ in 0..requests {
            let exchange = Exchange {
                latency: Duration::from_millis(latency_ms),
                service: Duration::from_millis(latency_ms),
                ttfb: Duration::from_millis(latency_ms),
                status: 200,
                bytes_sent: 10,
                bytes_received: 10,
            };
            recorder.record_exchange(&exchange, None);
        }
        recorder
    }

    #[test]
    fn a_late_degradation_fails_the_window_the_whole_run_misses() {
        let threshold = Threshold::parse("http_req_duration: p(95)<100ms").unwrap();
        let mut rolling = RollingThresholds::new(&[threshold], Duration::from_secs(5));
        let mut whole = Recorder::new();
        let mut failures = Vec::new();
        // 53 s at 10 ms, then 2 s at 400 ms: 3.6% of the requests are slow, inside the whole
        // run's 5% tail, so its p95 stays at 10 ms.
        for t in 0..55 {
            let s = if t >= 53 {
                second(400, 100)
            } else {
                second(10, 100)
            };
            whole.merge(&s);
            failures.extend(rolling.push(t, &s));
        }
        let whole_p95 = load_metrics(&whole, Duration::from_secs(55))
            .value(
                plumb_stats::Metric::HttpReqDuration,
                plumb_stats::Aggregation::Percentile(95.0),
            )
            .unwrap();
        assert!(whole_p95 < 100.0, "whole-run p95 {whole_p95} ms");
        let outcome = &rolling.outcomes()[0];
        assert_eq!(outcome.windows, 51);
        // 51 windows start at 0..=50; those starting at 49 (one slow second of five: 20% > 5%)
        // and 50 (two) have a p95 of 400 ms.
        assert_eq!(outcome.failed_windows, 2);
        assert_eq!(outcome.status, ThresholdStatus::Failed);
        assert_eq!(outcome.first_failed_from_s, Some(49));
        assert_eq!(failures[0].from_s, 49);
        assert_eq!(failures[0].to_s, 54);
        let worst = outcome.worst_observed.unwrap();
        assert!((worst - 400.0).abs() < 1.0, "worst {worst}");
    }

    #[test]
    fn a_run_shorter_than_a_window_judges_no_window() {
        let threshold = Threshold::parse("http_req_duration: p(95)<100ms").unwrap();
        let mut rolling = RollingThresholds::new(&[threshold], Duration::from_secs(10));
        for t in 0..9 {
            assert!(rolling.push(t, &second(500, 10)).is_empty());
        }
        let outcome = &rolling.outcomes()[0];
        assert_eq!(outcome.windows, 0);
        assert_eq!(outcome.status, ThresholdStatus::NoData);
    }

    #[test]
    fn the_rate_of_a_window_is_over_its_own_seconds() {
        let threshold = Threshold::parse("http_reqs: rate>=90").unwrap();
        let mut rolling = RollingThresholds::new(&[threshold], Duration::from_secs(3));
        for t in 0..6 {
            let requests = if t == 5 { 0 } else { 100 };
            rolling.push(t, &second(1, requests));
        }
        let outcome = &rolling.outcomes()[0];
        // Windows [0,3) [1,4) [2,5) hold 300 requests: 100/s; [3,6) holds 200: 66.7/s.
        assert_eq!((outcome.windows, outcome.failed_windows), (4, 1));
        assert!((outcome.worst_observed.unwrap() - 200.0 / 3.0).abs() < 1e-9);
    }
}
