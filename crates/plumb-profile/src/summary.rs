//! Summary of a resource timeline: min/avg/max, totals, the RSS growth slope and the
//! "possible leak" judgement. Pure functions over the points, which already sum the members of
//! a process tree or cgroup (so the RSS of a tree is judged as one).

use plumb_schema::profile::{
    MinAvgMax, ProcessGroup, ResourcePoint, ResourceSummary, ResourceTimeline,
};
use std::time::Duration;

/// Shortest series the leak judgement trusts.
const LEAK_MIN_POINTS: usize = 5;
/// Shortest time span the leak judgement trusts.
const LEAK_MIN_SECS: f64 = 1.0;
/// How well a straight line must fit RSS over time (coefficient of determination).
const LEAK_MIN_FIT: f64 = 0.8;
/// Smallest growth worth a note: 1 MiB and 10% of the starting RSS.
const LEAK_MIN_GROWTH_BYTES: f64 = 1024.0 * 1024.0;

/// Build a timeline with its summary.
pub fn timeline(
    interval: Duration,
    points: Vec<ResourcePoint>,
    unreadable: Vec<String>,
    processes: Option<ProcessGroup>,
) -> ResourceTimeline {
    let summary = summarize(&points);
    ResourceTimeline {
        interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
        points,
        summary,
        unreadable,
        processes,
    }
}

/// min/avg/max of every gauge, counter deltas, RSS slope and leak note.
pub fn summarize(points: &[ResourcePoint]) -> ResourceSummary {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return ResourceSummary::default();
    };
    // The first point has no previous reading, so its CPU percentages are not measured.
    let cpu_points = if points.len() > 1 {
        &points[1..]
    } else {
        points
    };
    let rss: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.t_secs, p.rss_bytes as f64))
        .collect();
    let (slope, fit) = linear_fit(&rss);
    let delta = |from: Option<u64>, to: Option<u64>| Some(to?.saturating_sub(from?));
    ResourceSummary {
        points: points.len() as u64,
        cpu_user_percent: min_avg_max(cpu_points.iter().map(|p| p.cpu_user_percent)),
        cpu_system_percent: min_avg_max(cpu_points.iter().map(|p| p.cpu_system_percent)),
        rss_bytes: min_avg_max(points.iter().map(|p| p.rss_bytes as f64)),
        threads: min_avg_max(points.iter().map(|p| p.threads as f64)),
        open_fds: points
            .iter()
            .all(|p| p.open_fds.is_some())
            .then(|| min_avg_max(points.iter().filter_map(|p| p.open_fds.map(|n| n as f64)))),
        voluntary_ctx_switches: last
            .voluntary_ctx_switches
            .saturating_sub(first.voluntary_ctx_switches),
        involuntary_ctx_switches: last
            .involuntary_ctx_switches
            .saturating_sub(first.involuntary_ctx_switches),
        read_bytes: delta(first.read_bytes, last.read_bytes),
        written_bytes: delta(first.written_bytes, last.written_bytes),
        rss_growth_bytes_per_sec: slope,
        possible_leak: leak_note(points, slope, fit),
    }
}

fn min_avg_max(values: impl Iterator<Item = f64>) -> MinAvgMax {
    let (mut min, mut max, mut sum, mut count) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0u64);
    for value in values {
        min = min.min(value);
        max = max.max(value);
        sum += value;
        count += 1;
    }
    if count == 0 {
        return MinAvgMax::default();
    }
    MinAvgMax {
        min,
        avg: sum / count as f64,
        max,
    }
}

/// Least-squares slope of y over x and the coefficient of determination (r²) of the fit.
pub fn linear_fit(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    if points.len() < 2 {
        return (0.0, 0.0);
    }
    let mean_x = points.iter().map(|(x, _)| x).sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, y)| y).sum::<f64>() / n;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in points {
        sxx += (x - mean_x) * (x - mean_x);
        sxy += (x - mean_x) * (y - mean_y);
        syy += (y - mean_y) * (y - mean_y);
    }
    if sxx == 0.0 {
        return (0.0, 0.0);
    }
    let slope = sxy / sxx;
    let fit = if syy == 0.0 {
        0.0
    } else {
        (sxy * sxy) / (sxx * syy)
    };
    (slope, fit)
}

/// The wording of the "possible leak" note, when RSS climbed steadily and substantially.
fn leak_note(points: &[ResourcePoint], slope: f64, fit: f64) -> Option<String> {
    let (first, last) = (points.first()?, points.last()?);
    let span = last.t_secs - first.t_secs;
    let growth = last.rss_bytes as f64 - first.rss_bytes as f64;
    let substantial = growth >= LEAK_MIN_GROWTH_BYTES.max(0.1 * first.rss_bytes as f64);
    let steady = slope > 0.0 && fit >= LEAK_MIN_FIT;
    if points.len() < LEAK_MIN_POINTS || span < LEAK_MIN_SECS || !substantial || !steady {
        return None;
    }
    Some(format!(
        "possible leak: RSS grew steadily from {} to {} over {span:.1} s ({}/s, straight-line fit r² = {fit:.2})",
        mib(first.rss_bytes as f64),
        mib(last.rss_bytes as f64),
        mib(slope),
    ))
}

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t_secs: f64, rss_mib: f64) -> ResourcePoint {
        ResourcePoint {
            t_secs,
            cpu_user_percent: 50.0,
            cpu_system_percent: 1.0,
            rss_bytes: (rss_mib * 1024.0 * 1024.0) as u64,
            threads: 1,
            voluntary_ctx_switches: 0,
            involuntary_ctx_switches: 0,
            read_bytes: None,
            written_bytes: None,
            open_fds: Some(3),
            processes: Some(1),
        }
    }

    fn series(rss_mib: &[f64]) -> Vec<ResourcePoint> {
        rss_mib
            .iter()
            .enumerate()
            .map(|(i, &rss)| point(i as f64 * 0.5, rss))
            .collect()
    }

    #[test]
    fn steady_growth_is_a_possible_leak() {
        let summary = summarize(&series(&[10.0, 12.0, 14.0, 16.0, 18.0, 20.0]));
        let note = summary.possible_leak.expect("a leak note");
        assert!(note.contains("10.0 MiB to 20.0 MiB"), "{note}");
        assert!((summary.rss_growth_bytes_per_sec - 4.0 * 1024.0 * 1024.0).abs() < 1.0);
    }

    #[test]
    fn flat_or_noisy_memory_is_not_a_leak() {
        assert_eq!(
            summarize(&series(&[10.0, 10.0, 10.0, 10.0, 10.0, 10.0])).possible_leak,
            None
        );
        assert_eq!(
            summarize(&series(&[10.0, 30.0, 10.0, 30.0, 10.0, 11.5])).possible_leak,
            None
        );
        assert_eq!(
            summarize(&series(&[10.0, 10.1, 10.2, 10.3, 10.4, 10.5])).possible_leak,
            None
        );
    }

    #[test]
    fn summary_skips_the_unmeasured_first_cpu_point() {
        let mut points = series(&[1.0, 1.0, 1.0]);
        points[0].cpu_user_percent = 0.0;
        assert_eq!(summarize(&points).cpu_user_percent.min, 50.0);
        assert_eq!(summarize(&[]).points, 0);
    }
}
