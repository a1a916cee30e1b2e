//! The trend over three or more runs of one kind: each metric run by run, oldest first, every run
//! labelled by its name (or id) and commit, so a drift across commits shows as a slope.

use super::{Entry, ReportRun};
use crate::chart::{Line, LineChart};
use crate::layout::Section;

/// Fewer runs than this of one kind get no trend (two are a comparison).
const MIN_RUNS: usize = 3;

/// A trend section for each kind with at least three runs.
pub(super) fn sections(entries: &[Entry<'_>]) -> Vec<Section> {
    let loads: Vec<&Entry<'_>> = entries
        .iter()
        .filter(|e| matches!(e.run, ReportRun::Load(..)))
        .collect();
    let benches: Vec<&Entry<'_>> = entries
        .iter()
        .filter(|e| matches!(e.run, ReportRun::Bench(..)))
        .collect();
    let mut out = Vec::new();
    if loads.len() >= MIN_RUNS {
        out.push(load_trend(&loads));
    }
    if benches.len() >= MIN_RUNS {
        out.push(bench_trend(&benches));
    }
    out
}

fn labels(entries: &[&Entry<'_>]) -> Vec<String> {
    entries.iter().map(|e| e.label()).collect()
}

fn load_trend(entries: &[&Entry<'_>]) -> Section {
    let series = |f: fn(&plumb_schema::load::LoadResult) -> f64| -> Vec<(f64, f64)> {
        entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e.run {
                ReportRun::Load(_, r) => Some((i as f64, f(r))),
                _ => None,
            })
            .collect()
    };
    let latency = LineChart::new("trend-latency", "Latency run by run")
        .x_runs(labels(entries))
        .y("latency", "ms")
        .line(Line::new("p50", series(|r| r.summary.latency_ms.p50)))
        .line(Line::new("p95", series(|r| r.summary.latency_ms.p95)))
        .line(Line::new("p99", series(|r| r.summary.latency_ms.p99)))
        .render();
    let throughput = LineChart::new("trend-throughput", "Throughput run by run")
        .x_runs(labels(entries))
        .y("throughput", "req/s")
        .line(Line::new("requests/s", series(|r| r.summary.rps)))
        .render();
    let errors = LineChart::new("trend-errors", "Errors run by run")
        .x_runs(labels(entries))
        .y("errors", "%")
        .line(Line::new("error rate", series(|r| r.summary.error_rate * 100.0)).color("#b00020"))
        .render();
    Section::new("trend", format!("Trend over {} load runs", entries.len()))
        .note("each point is one run, oldest first; hover a point for its value")
        .chart(latency)
        .chart(throughput)
        .chart(errors)
}

fn bench_trend(entries: &[&Entry<'_>]) -> Section {
    let mut names: Vec<String> = Vec::new();
    for e in entries {
        if let ReportRun::Bench(_, r) = e.run {
            for b in &r.benchmarks {
                if !names.contains(&b.name) {
                    names.push(b.name.clone());
                }
            }
        }
    }
    let mut chart = LineChart::new("trend-bench", "Median wall time run by run")
        .x_runs(labels(entries))
        .y("median wall time", "ms");
    for name in &names {
        let points = entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e.run {
                ReportRun::Bench(_, r) => r
                    .benchmarks
                    .iter()
                    .find(|b| &b.name == name)
                    .map(|b| (i as f64, b.stats.wall.median_seconds * 1e3)),
                _ => None,
            })
            .collect();
        chart = chart.line(Line::new(name.clone(), points));
    }
    Section::new("trend", format!("Trend over {} bench runs", entries.len()))
        .note("each point is one run's median, oldest first; hover a point for its value")
        .chart(chart.render())
}
