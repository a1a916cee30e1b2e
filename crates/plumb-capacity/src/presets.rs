//! What the plan's presets read from their runs, pure: where a stress test's goals started to
//! fail, how a spike was survived (its errors, its worst p99, the time to recover), and how a
//! soak drifted (p99 at the start and the end, its slope, the server's memory slope).

use plumb_schema::load::{LoadResult, SecondWindow};
use plumb_schema::plan::{SoakSummary, SpikeSummary, StressSummary};

/// Consecutive seconds back at the level before the spike that count as recovered.
const RECOVERED_SECONDS: usize = 3;
/// A second's p99 counts as recovered at most this many times the p99 before the spike...
const RECOVERED_P99_RATIO: f64 = 1.5;
/// ...or this many milliseconds above it, whichever is larger (fast services jitter by a few ms).
const RECOVERED_P99_SLACK_MS: f64 = 5.0;
/// A second's error rate counts as recovered at most this far (a fraction) above the one before.
const RECOVERED_ERROR_SLACK: f64 = 0.01;

/// One step of a stress test as the summary needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct StressStep {
    /// e.g. `stress 3x`.
    pub label: String,
    /// Requested rate (open model) or connections (closed model).
    pub level: f64,
    /// Whether every goal held.
    pub passed: bool,
}

/// Where the goals of `steps` (in increasing load) started to fail; `stopped_early` when the
/// steps after the first failure were not run. `unit` is `req/s` or `connections`.
pub fn stress_summary(steps: &[StressStep], stopped_early: bool, unit: &str) -> StressSummary {
    let first_failing = steps.iter().position(|s| !s.passed);
    let last_passing = match first_failing {
        Some(0) => None,
        Some(i) => Some(i - 1),
        None => steps.len().checked_sub(1),
    };
    let at = |i: usize| format!("{} ({} {unit})", steps[i].label, round(steps[i].level));
    let headline = match (last_passing, first_failing) {
        (Some(p), Some(f)) => format!("the goals hold up to {}; they fail from {}", at(p), at(f)),
        (None, Some(f)) => format!("the goals fail already at {}", at(f)),
        (Some(p), None) => format!("the goals hold at every step, up to {}", at(p)),
        (None, None) => "no step ran".to_owned(),
    };
    StressSummary {
        last_passing_step: last_passing,
        first_failing_step: first_failing,
        stopped_early,
        headline,
    }
}

fn round(level: f64) -> String {
    if level >= 10.0 || level.fract() == 0.0 {
        format!("{level:.0}")
    } else {
        format!("{level:.1}")
    }
}

/// How the run `result` survived a spike from `from_s` to `to_s` (seconds since its start).
pub fn spike_summary(result: &LoadResult, from_s: u64, to_s: u64) -> SpikeSummary {
    let series = &result.timeseries;
    let before: Vec<&SecondWindow> = series
        .iter()
        .filter(|w| w.t_s < from_s && w.t_s >= from_s / 2)
        .filter(|w| w.requests > 0)
        .collect();
    let during: Vec<&SecondWindow> = series
        .iter()
        .filter(|w| w.t_s >= from_s && w.t_s < to_s)
        .collect();
    let p99_before = median(before.iter().map(|w| w.latency_p99_ms).collect());
    let error_before = error_rate(&before);
    let p99_during = during
        .iter()
        .filter(|w| w.requests > 0)
        .map(|w| w.latency_p99_ms)
        .fold(None, |worst: Option<f64>, v| {
            Some(worst.map_or(v, |w| w.max(v)))
        });
    let after: Vec<&SecondWindow> = series.iter().filter(|w| w.t_s >= to_s).collect();
    let recovered = p99_before.and_then(|p99| recovery(&after, p99, error_before, to_s));
    let spike_requests = during.iter().map(|w| w.requests).sum();
    let spike_errors = during.iter().map(|w| w.errors).sum();
    let headline = spike_headline(
        spike_requests,
        spike_errors,
        p99_before,
        p99_during,
        recovered,
        &after,
    );
    SpikeSummary {
        spike_from_s: from_s,
        spike_to_s: to_s,
        spike_requests,
        spike_errors,
        p99_before_ms: p99_before,
        p99_during_ms: p99_during,
        recovered_after_s: recovered,
        headline,
    }
}

fn spike_headline(
    requests: u64,
    errors: u64,
    before: Option<f64>,
    during: Option<f64>,
    recovered: Option<u64>,
    after: &[&SecondWindow],
) -> String {
    let errors = if requests == 0 {
        "no request completed during the spike".to_owned()
    } else {
        format!(
            "{errors} errors in {requests} requests during the spike ({:.2}%)",
            errors as f64 / requests as f64 * 100.0
        )
    };
    let latency = match (before, during) {
        (Some(b), Some(d)) => format!(", p99 {b:.1} ms before and {d:.1} ms at worst during it"),
        _ => String::new(),
    };
    let recovery = match recovered {
        Some(0) => "; back to normal at once".to_owned(),
        Some(s) => format!("; back to normal {s} s after it"),
        None => format!("; not back to normal within the {} s after it", after.len()),
    };
    format!("{errors}{latency}{recovery}")
}

/// Seconds after `end_s` until [`RECOVERED_SECONDS`] seconds in a row are back at the level
/// before the spike.
fn recovery(
    after: &[&SecondWindow],
    p99_before: f64,
    error_before: f64,
    end_s: u64,
) -> Option<u64> {
    let p99_limit = (p99_before * RECOVERED_P99_RATIO).max(p99_before + RECOVERED_P99_SLACK_MS);
    let normal = |w: &SecondWindow| {
        w.requests > 0
            && w.latency_p99_ms <= p99_limit
            && (w.errors as f64 / w.requests as f64) <= error_before + RECOVERED_ERROR_SLACK
    };
    after
        .windows(RECOVERED_SECONDS)
        .find(|run| run.iter().all(|w| normal(w)))
        .map(|run| run[0].t_s.saturating_sub(end_s))
}

fn error_rate(windows: &[&SecondWindow]) -> f64 {
    let requests: u64 = windows.iter().map(|w| w.requests).sum();
    let errors: u64 = windows.iter().map(|w| w.errors).sum();
    if requests == 0 {
        0.0
    } else {
        errors as f64 / requests as f64
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[values.len() / 2])
}

/// How the soak `result` drifted over its length.
pub fn soak_summary(result: &LoadResult) -> SoakSummary {
    let seconds: Vec<&SecondWindow> = result
        .timeseries
        .iter()
        .filter(|w| w.requests > 0)
        .collect();
    let tenth = (seconds.len() / 10).max(1);
    let first = median(
        seconds
            .iter()
            .take(tenth)
            .map(|w| w.latency_p99_ms)
            .collect(),
    );
    let last = median(
        seconds
            .iter()
            .rev()
            .take(tenth)
            .map(|w| w.latency_p99_ms)
            .collect(),
    );
    let slope = slope_per_minute(&seconds);
    let memory = result.server.as_ref().map(|s| &s.resources.summary);
    let growth = memory.map(|m| m.rss_growth_bytes_per_sec);
    let leak = memory.and_then(|m| m.possible_leak.clone());
    let mut headline = match (first, last, slope) {
        (Some(f), Some(l), Some(s)) => format!(
            "p99 {f:.1} ms over the first tenth and {l:.1} ms over the last ({s:+.2} ms a minute)"
        ),
        _ => "too few seconds with responses to read a drift".to_owned(),
    };
    match (&leak, growth) {
        (Some(note), _) => headline.push_str(&format!("; {note}")),
        (None, Some(g)) => headline.push_str(&format!(
            "; the server's memory grew {:+.1} KiB a second",
            g / 1024.0
        )),
        (None, None) => {}
    }
    SoakSummary {
        p99_first_ms: first,
        p99_last_ms: last,
        p99_drift_ms_per_min: slope,
        memory_growth_bytes_per_sec: growth,
        possible_leak: leak,
        headline,
    }
}

/// Least-squares slope of the seconds' p99, in milliseconds per minute.
fn slope_per_minute(seconds: &[&SecondWindow]) -> Option<f64> {
    if seconds.len() < 3 {
        return None;
    }
    let n = seconds.len() as f64;
    let mean_t = seconds.iter().map(|w| w.t_s as f64).sum::<f64>() / n;
    let mean_p = seconds.iter().map(|w| w.latency_p99_ms).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for w in seconds {
        let dt = w.t_s as f64 - mean_t;
        num += dt * (w.latency_p99_ms - mean_p);
        den += dt * dt;
    }
    (den > 0.0).then(|| num / den * 60.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(label: &str, level: f64, passed: bool) -> StressStep {
        StressStep {
            label: label.into(),
            level,
            passed,
        }
    }

    #[test]
    fn stress_names_the_last_passing_and_first_failing_steps() {
        let steps = [
            step("stress 1x", 200.0, true),
            step("stress 2x", 400.0, true),
            step("stress 3x", 600.0, false),
        ];
        let s = stress_summary(&steps, true, "req/s");
        assert_eq!(
            (s.last_passing_step, s.first_failing_step),
            (Some(1), Some(2))
        );
        assert_eq!(
            s.headline,
            "the goals hold up to stress 2x (400 req/s); they fail from stress 3x (600 req/s)"
        );
        let s = stress_summary(&steps[..2], false, "req/s");
        assert_eq!(
            s.headline,
            "the goals hold at every step, up to stress 2x (400 req/s)"
        );
        let s = stress_summary(&steps[2..], true, "req/s");
        assert_eq!(
            s.headline,
            "the goals fail already at stress 3x (600 req/s)"
        );
    }

    fn window(t_s: u64, requests: u64, errors: u64, p99: f64) -> SecondWindow {
        SecondWindow {
            t_s,
            requests,
            errors,
            latency_p50_ms: p99 / 2.0,
            latency_p99_ms: p99,
            latency_max_ms: p99,
            service_p50_ms: p99 / 2.0,
            bytes_received: 0,
            latency_histogram: None,
            service_histogram: None,
        }
    }

    #[test]
    fn recovery_waits_for_three_normal_seconds() {
        // 10 ms before the spike; 2 normal seconds then a relapse, then normal from 5 s after.
        let mut series: Vec<SecondWindow> = (0..10).map(|t| window(t, 100, 0, 10.0)).collect();
        series.extend((10..15).map(|t| window(t, 300, 30, 900.0)));
        let after = [12.0, 12.0, 80.0, 40.0, 30.0, 11.0, 10.0, 10.0, 10.0, 10.0];
        series.extend(
            after
                .iter()
                .enumerate()
                .map(|(i, p)| window(15 + i as u64, 100, 0, *p)),
        );
        let windows: Vec<&SecondWindow> = series.iter().filter(|w| w.t_s >= 15).collect();
        assert_eq!(recovery(&windows, 10.0, 0.0, 15), Some(5));
        let before: Vec<&SecondWindow> = series.iter().filter(|w| w.t_s < 10).collect();
        assert_eq!(error_rate(&before), 0.0);
        let during: Vec<&SecondWindow> = series
            .iter()
            .filter(|w| (10..15).contains(&w.t_s))
            .collect();
        assert!((error_rate(&during) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn the_drift_is_the_slope_of_p99() {
        let series: Vec<SecondWindow> = (0..120)
            .map(|t| window(t, 10, 0, 10.0 + t as f64 * 0.5))
            .collect();
        let refs: Vec<&SecondWindow> = series.iter().collect();
        assert!((slope_per_minute(&refs).unwrap() - 30.0).abs() < 1e-9);
    }
}
