//! Live progress of a load test on stderr, and threshold checks during the run (`--abort-on-fail`).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use plumb_load::{evaluate_thresholds, Control, Observer, Progress};
use plumb_stats::Threshold;
use std::time::Duration;

/// Draws a one-line progress display (hidden when stderr is not a terminal or when quiet) and,
/// when asked, stops the run at the first failed threshold.
pub struct LoadProgress<'a> {
    bar: ProgressBar,
    abort_on: Option<&'a [Threshold]>,
}

impl<'a> LoadProgress<'a> {
    /// A display for a run of `planned` length; `abort_on` enables `--abort-on-fail`.
    pub fn new(planned: Option<Duration>, quiet: bool, abort_on: Option<&'a [Threshold]>) -> Self {
        let bar = match planned {
            Some(d) => ProgressBar::new(d.as_millis() as u64),
            None => ProgressBar::new_spinner(),
        };
        let style = ProgressStyle::with_template("{spinner} [{bar:24}] {msg}")
            .expect("static template")
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_draw_target(if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
        bar.set_message("starting");
        bar.enable_steady_tick(Duration::from_millis(120));
        LoadProgress { bar, abort_on }
    }

    /// Remove the display.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for LoadProgress<'_> {
    fn on_tick(&mut self, progress: &Progress<'_>) -> Control {
        self.bar.set_position(progress.elapsed.as_millis() as u64);
        self.bar.set_message(describe(progress));
        let Some(thresholds) = self.abort_on else {
            return Control::Continue;
        };
        let failed = evaluate_thresholds(thresholds, progress)
            .into_iter()
            .find(|outcome| outcome.status == plumb_stats::ThresholdStatus::Failed);
        match failed {
            Some(outcome) => Control::Stop(format!(
                "threshold '{}' failed after {:.0} s (--abort-on-fail)",
                outcome.expression,
                progress.elapsed.as_secs_f64()
            )),
            None => Control::Continue,
        }
    }
}

fn describe(progress: &Progress<'_>) -> String {
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
    format!(
        "{:.0}s{remaining} | {current} req/s | p50 {:.2} ms p99 {:.2} ms | {} errors",
        progress.elapsed.as_secs_f64(),
        t.latency.percentile(50.0).as_secs_f64() * 1e3,
        t.latency.percentile(99.0).as_secs_f64() * 1e3,
        t.errors
    )
}
