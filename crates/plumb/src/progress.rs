//! Live progress of a load test on stderr, with each threshold's state as it stands, rolling
//! windows of thresholds (`--threshold-window`), and `--abort-on-fail`, which stops the run at the
//! first failure and says at which time and which requested rate it failed.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use plumb_cli::LoadPlan;
use plumb_load::{
    evaluate_thresholds, Control, LoadModel, Observer, Progress, Ramp, Recorder, RollingThresholds,
    WindowFailure,
};
use plumb_schema::load::{ThresholdOutcome, ThresholdWindow};
use plumb_stats::{Threshold, ThresholdStatus};
use std::time::Duration;

/// Draws a one-line progress display (hidden when stderr is not a terminal or when quiet),
/// judges rolling windows of the thresholds and, when asked, stops the run at the first failed
/// threshold.
pub struct LoadProgress<'a> {
    bar: ProgressBar,
    thresholds: &'a [Threshold],
    abort: bool,
    windows: Option<RollingThresholds>,
    /// What the requested rate was at each moment (open model), for the abort message.
    schedule: Option<Ramp>,
}

impl<'a> LoadProgress<'a> {
    /// A display for `plan`'s run.
    pub fn new(plan: &'a LoadPlan) -> Self {
        let bar = match plan.planned() {
            Some(d) => ProgressBar::new(d.as_millis() as u64),
            None => ProgressBar::new_spinner(),
        };
        let style = ProgressStyle::with_template("{spinner} [{bar:24}] {msg}")
            .expect("static template")
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_draw_target(if plan.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
        bar.set_message("starting");
        bar.enable_steady_tick(Duration::from_millis(120));
        let schedule = match plan.settings.model {
            LoadModel::Open { rate, .. } => Some(Ramp::new(rate, &plan.settings.stages)),
            LoadModel::Closed { .. } => None,
        };
        LoadProgress {
            bar,
            thresholds: &plan.thresholds,
            abort: plan.abort_on_fail,
            windows: plan
                .threshold_window
                .filter(|_| !plan.thresholds.is_empty())
                .map(|w| RollingThresholds::new(&plan.thresholds, w)),
            schedule,
        }
    }

    /// Remove the display; the rolling windows' verdicts, one per threshold, when judged.
    pub fn finish(self) -> Option<Vec<ThresholdWindow>> {
        self.bar.finish_and_clear();
        self.windows.map(|w| w.outcomes())
    }

    /// ", at 400 req/s requested" in the open model.
    fn requested_at(&self, elapsed: Duration) -> String {
        self.schedule
            .as_ref()
            .map(|ramp| {
                format!(
                    ", at {} req/s requested",
                    round_rate(ramp.value_at(elapsed))
                )
            })
            .unwrap_or_default()
    }

    fn abort_for_window(&self, failure: &WindowFailure, threshold: &Threshold) -> String {
        format!(
            "threshold '{}' failed over the window {}-{} s (observed {}){} (--abort-on-fail)",
            failure.expression,
            failure.from_s,
            failure.to_s,
            plumb_report::thresholds::with_unit(threshold, failure.observed),
            self.requested_at(Duration::from_secs(failure.to_s))
        )
    }
}

impl Observer for LoadProgress<'_> {
    fn on_tick(&mut self, progress: &Progress<'_>) -> Control {
        self.bar.set_position(progress.elapsed.as_millis() as u64);
        let outcomes = evaluate_thresholds(self.thresholds, progress);
        self.bar
            .set_message(describe(progress, self.thresholds, &outcomes));
        if !self.abort {
            return Control::Continue;
        }
        let failed = self
            .thresholds
            .iter()
            .zip(&outcomes)
            .find(|(_, outcome)| outcome.status == ThresholdStatus::Failed);
        match failed {
            Some((threshold, outcome)) => Control::Stop(format!(
                "threshold '{}' failed after {:.0} s (observed {} over the run so far){} (--abort-on-fail)",
                outcome.expression,
                progress.elapsed.as_secs_f64(),
                outcome
                    .observed
                    .map_or_else(|| "no value".to_owned(), |v| plumb_report::thresholds::with_unit(threshold, v)),
                self.requested_at(progress.elapsed)
            )),
            None => Control::Continue,
        }
    }

    fn on_second(&mut self, t_s: u64, second: &Recorder) -> Control {
        let Some(windows) = self.windows.as_mut() else {
            return Control::Continue;
        };
        let failures = windows.push(t_s, second);
        let first = failures.first().filter(|_| self.abort);
        let threshold =
            first.and_then(|f| self.thresholds.iter().find(|t| t.source == f.expression));
        match (first, threshold) {
            (Some(failure), Some(threshold)) => {
                Control::Stop(self.abort_for_window(failure, threshold))
            }
            _ => Control::Continue,
        }
    }
}

/// Rates as people say them: 412 req/s, 2.5 req/s.
fn round_rate(rate: f64) -> String {
    if rate >= 10.0 {
        format!("{rate:.0}")
    } else {
        format!("{rate:.1}")
    }
}

fn describe(
    progress: &Progress<'_>,
    thresholds: &[Threshold],
    outcomes: &[ThresholdOutcome],
) -> String {
    let t = progress.totals;
    let remaining = progress
        .planned
        .map(|p| {
            format!(
                ", {:.0}s left",
                p.saturating_sub(progress.elapsed).as_secs_f64()
            )
        })
        .unwrap_or_default();
    let current = progress.last_second.map_or(0, |w| w.requests);
    let mut line = format!(
        "{:.0}s{remaining} | {current} req/s | p50 {:.2} ms p99 {:.2} ms | {} errors",
        progress.elapsed.as_secs_f64(),
        t.latency.percentile(50.0).as_secs_f64() * 1e3,
        t.latency.percentile(99.0).as_secs_f64() * 1e3,
        t.errors
    );
    for (threshold, outcome) in thresholds.iter().zip(outcomes) {
        line.push_str(&format!(
            " | {} {}",
            threshold.canonical(),
            state(threshold, outcome)
        ));
    }
    line
}

/// `ok 120.3 ms`, `FAIL 412.0 ms`, `no data`.
fn state(threshold: &Threshold, outcome: &ThresholdOutcome) -> String {
    let value = outcome
        .observed
        .map(|v| plumb_report::thresholds::with_unit(threshold, v))
        .unwrap_or_default();
    match outcome.status {
        ThresholdStatus::Passed => format!("ok {value}"),
        ThresholdStatus::Failed => format!("FAIL {value}"),
        ThresholdStatus::NoData => "no data".to_owned(),
    }
}
