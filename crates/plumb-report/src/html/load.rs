//! The HTML section of one `plumb load` run: what ran, stat cards, thresholds, the percentile
//! table, status codes, errors, warnings, the latency spectrum and the per-second charts with
//! their goal lines, the watched server (CPU, memory, hot functions, flamegraph) and the database.

use super::Entry;
use crate::chart::{Line, LineChart};
use crate::format::{count, ms, percent, rate};
use crate::layout::{Card, Cell, Section, Table, Tone};
use crate::thresholds;
use crate::ticks::nines;
use plumb_schema::load::{LoadResult, Percentiles, SecondWindow};
use plumb_stats::{DurationHistogram, ThresholdStatus};
use std::collections::BTreeMap;

/// The section of a load run.
pub(super) fn section(entry: &Entry<'_>, r: &LoadResult) -> Section {
    let st = &r.settings;
    let mut meta = entry.meta();
    meta.insert(1, ("settings", settings_line(r)));
    if entry.context.started_at.is_empty() {
        meta.push(("started", r.started_at.clone()));
    }
    meta.push(("plumb", r.plumb_version.clone()));
    if let Some(noise) = &r.host_noise {
        meta.push(("host noise", super::noise_text(noise)));
    }
    let mut section = Section::new(
        "load",
        format!("Load run {}: {} {}", entry.label(), st.method, st.url),
    )
    .meta(&meta)
    .warnings(&alarms(r))
    .cards(cards(r));
    section = thresholds_table(section, r);
    section = section
        .heading("Latency percentiles")
        .table(percentile_table(r))
        .chart(spectrum(r, &[(entry.label(), r)]));
    section = section
        .chart(latency_over_time(r))
        .chart(throughput(
            &[(entry.label(), r)],
            // With flows the schedule starts sessions: no requests-per-second goal line.
            r.summary.requested_rps.filter(|_| r.flows.is_none()),
        ))
        .chart(errors_over_time(r));
    section = responses(section, r);
    if let Some(server) = &r.server {
        section =
            super::profile::server(section, server, entry.context.server_flamegraph.as_deref());
    }
    if let Some(db) = &r.db {
        section = super::profile::database(section, db);
    }
    section.warnings(&other_warnings(r))
}

/// `open model · 20,000/s requested · up to 1,000 connections · 2 threads · HTTP/1.1 · 10 s`.
fn settings_line(r: &LoadResult) -> String {
    let st = &r.settings;
    let mut parts = vec![format!("{} model", st.model)];
    if let Some(rate_) = st.rate {
        parts.push(format!("{}/s requested", rate(rate_)));
    }
    if !st.stages.is_empty() {
        let stages: Vec<String> = st
            .stages
            .iter()
            .map(|s| format!("{}s→{}", s.duration_s, s.target))
            .collect();
        parts.push(format!("stages {}", stages.join(", ")));
    }
    let conns = if st.model == "open" { "up to " } else { "" };
    parts.push(format!("{conns}{} connections", count(st.connections)));
    parts.push(format!("{} threads", st.threads));
    parts.push(format!("HTTP/{}", st.http_version));
    if let Some(d) = st.duration_s {
        parts.push(format!("{d} s"));
    }
    if let Some(n) = st.requests {
        parts.push(format!("{} requests", count(n)));
    }
    parts.push(format!("timeout {} ms", ms(st.timeout_ms)));
    parts.join(" · ")
}

/// Warnings that void the figures, and the interruption, first.
fn alarms(r: &LoadResult) -> Vec<String> {
    let mut out: Vec<String> = r.warnings.iter().filter(|w| is_alarm(w)).cloned().collect();
    if r.interrupted {
        let why = r.stop_reason.as_deref().unwrap_or("stopped early");
        out.insert(
            0,
            format!("interrupted: {why}; the figures cover the part that ran"),
        );
    }
    out
}

fn other_warnings(r: &LoadResult) -> Vec<String> {
    r.warnings
        .iter()
        .filter(|w| !is_alarm(w))
        .cloned()
        .collect()
}

fn is_alarm(w: &str) -> bool {
    w.starts_with("EVERY REQUEST FAILED") || w.starts_with("no request completed")
}

/// The tone of the thresholds on `metric`: bad when one failed, good when all passed.
fn threshold_tone(r: &LoadResult, metric: &str, aggregation: Option<&str>) -> Tone {
    r.thresholds
        .iter()
        .filter(|t| t.expression.trim_start().starts_with(metric))
        .filter(|t| aggregation.is_none_or(|a| t.expression.contains(a)))
        .fold(Tone::Neutral, |tone, t| {
            tone.worst(match t.status {
                ThresholdStatus::Passed => Tone::Good,
                _ => Tone::Bad,
            })
        })
}

fn cards(r: &LoadResult) -> Vec<Card> {
    let s = &r.summary;
    let mut cards = vec![throughput_card(r)];
    for (label, value, agg) in [
        ("p50 latency", s.latency_ms.p50, "p(50)"),
        ("p95 latency", s.latency_ms.p95, "p(95)"),
        ("p99 latency", s.latency_ms.p99, "p(99)"),
        ("p99.9 latency", s.latency_ms.p999, "p(99.9)"),
    ] {
        let tone = threshold_tone(r, "http_req_duration", Some(agg));
        cards.push(Card::new(label, format!("{} ms", ms(value))).tone(tone));
    }
    let error_tone = match threshold_tone(r, "http_req_failed", None) {
        Tone::Neutral if s.errors == 0 => Tone::Good,
        Tone::Neutral => Tone::Warn,
        tone => tone,
    };
    cards.push(
        Card::new("errors", percent(s.error_rate))
            .detail(format!("{} of {}", count(s.errors), count(s.requests)))
            .tone(error_tone),
    );
    if !r.thresholds.is_empty() {
        let passed = r
            .thresholds
            .iter()
            .filter(|t| t.status == ThresholdStatus::Passed)
            .count();
        let tone = if passed == r.thresholds.len() {
            Tone::Good
        } else {
            Tone::Bad
        };
        cards.push(
            Card::new("thresholds", format!("{passed} / {}", r.thresholds.len()))
                .detail("passed")
                .tone(tone),
        );
    }
    cards
}

fn throughput_card(r: &LoadResult) -> Card {
    let s = &r.summary;
    let card = Card::new("throughput", format!("{}/s", rate(s.rps))).detail(format!(
        "{} requests in {:.1} s",
        count(s.requests),
        s.duration_s
    ));
    match crate::load::schedule_rate(r) {
        Some((done, asked, what)) if asked > 0.0 => {
            let tone = if done < 0.95 * asked {
                Tone::Warn
            } else {
                Tone::Good
            };
            let detail = match what {
                "requests" => format!("of {}/s requested", rate(asked)),
                _ => format!("{what} {}/s of {}/s requested", rate(done), rate(asked)),
            };
            card.detail(detail).tone(tone)
        }
        _ => card.tone(threshold_tone(r, "http_reqs", None)),
    }
}

/// Goals and thresholds: each with PASS/FAIL/NO DATA and the observed value with its unit.
fn thresholds_table(section: Section, r: &LoadResult) -> Section {
    if r.thresholds.is_empty() {
        return section;
    }
    let windowed = r.thresholds.iter().any(|t| t.window.is_some());
    let headers: &[&str] = if windowed {
        &[
            "result",
            "threshold",
            "observed (whole run)",
            "rolling windows",
        ]
    } else {
        &["result", "threshold", "observed"]
    };
    let mut table = Table::new("thresholds", headers);
    for t in &r.thresholds {
        let (word, tone) = status(t.status);
        let observed = t
            .observed
            .map_or("no data".into(), |v| thresholds::observed(&t.expression, v));
        let mut row = vec![
            Cell::badge(word, tone),
            Cell::code(&t.expression),
            Cell::num(observed),
        ];
        if windowed {
            row.push(Cell::text(
                thresholds::windows(t).unwrap_or_else(|| "-".to_owned()),
            ));
        }
        table.push(row);
    }
    section.heading("Goals and thresholds").table(table)
}

/// `PASS` / `FAIL` / `NO DATA` and its tone.
pub(super) fn status(s: ThresholdStatus) -> (&'static str, Tone) {
    match s {
        ThresholdStatus::Passed => ("PASS", Tone::Good),
        ThresholdStatus::Failed => ("FAIL", Tone::Bad),
        ThresholdStatus::NoData => ("NO DATA", Tone::Bad),
    }
}

fn percentile_table(r: &LoadResult) -> Table {
    let s = &r.summary;
    let open = r.settings.model == "open";
    let mut rows: Vec<(&str, &Percentiles)> = vec![(
        if open {
            "latency (from intended send)"
        } else {
            "latency"
        },
        &s.latency_ms,
    )];
    if open {
        rows.push(("service time", &s.service_time_ms));
    }
    rows.push(("time to first byte", &s.ttfb_ms));
    rows.push(("connect", &s.connect_ms));
    if let Some(lag) = &s.send_lag_ms {
        rows.push(("send lag", lag));
    }
    let headers = [
        "ms", "count", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max",
    ];
    let mut table = Table::new("percentiles", &headers);
    for (label, p) in rows.into_iter().filter(|(_, p)| p.count > 0) {
        let mut cells = vec![Cell::text(label), Cell::num(count(p.count))];
        cells.extend(
            [p.min, p.mean, p.p50, p.p90, p.p95, p.p99, p.p999, p.max].map(|v| Cell::num(ms(v))),
        );
        table.push(cells);
    }
    table
}

/// Status codes and errors by class, each with its share, and the reasons plumb could tell.
fn responses(section: Section, r: &LoadResult) -> Section {
    let s = &r.summary;
    let total = s.requests.max(1) as f64;
    let shares = |map: &BTreeMap<String, u64>, first: &str, tone: fn(&str) -> Tone| {
        let mut table = Table::new(first, &[first, "requests", "share"]);
        for (k, v) in map {
            table.push(vec![
                Cell::text(k).tone(tone(k)),
                Cell::num(count(*v)),
                Cell::num(percent(*v as f64 / total)),
            ]);
        }
        table
    };
    let mut section =
        section
            .heading("Responses")
            .table(shares(&s.status_codes, "status", status_code_tone));
    if s.status_codes.is_empty() {
        section = section.note("no responses");
    }
    if s.errors_by_class.is_empty() {
        return section.note("no errors");
    }
    section = section
        .heading("Errors by class")
        .table(shares(&s.errors_by_class, "class", |_| Tone::Bad));
    let mut details = Table::new("error-details", &["class", "reason", "requests"]);
    for d in &s.error_details {
        details.push(vec![
            Cell::text(&d.class),
            Cell::text(&d.detail),
            Cell::num(count(d.count)),
        ]);
    }
    section.table(details)
}

fn status_code_tone(code: &str) -> Tone {
    match code.as_bytes().first() {
        Some(b'2' | b'3') => Tone::Good,
        Some(b'4' | b'5') => Tone::Bad,
        _ => Tone::Neutral,
    }
}

/// The percentile spectrum of each run on one pair of axes, with the latency goals of the first.
pub(super) fn spectrum(goals_of: &LoadResult, runs: &[(String, &LoadResult)]) -> String {
    let mut chart = LineChart::new("spectrum", "Latency percentile spectrum")
        .x_percentiles()
        .y("latency", "ms");
    for (i, (name, r)) in runs.iter().enumerate() {
        chart = chart.line(Line::new(name.clone(), spectrum_points(r)).paired(i, runs.len()));
    }
    for (label, p, bound) in
        thresholds::latency_goals(goals_of.thresholds.iter().map(|t| t.expression.as_str()))
    {
        if p.is_some() {
            chart = chart.goal(label, bound);
        }
    }
    chart.render()
}

fn spectrum_points(r: &LoadResult) -> Vec<(f64, f64)> {
    let Ok(histogram) = DurationHistogram::from_base64(&r.histograms.latency) else {
        return Vec::new();
    };
    histogram
        .spectrum()
        .into_iter()
        .filter(|(p, _)| *p < 100.0)
        .map(|(p, d)| (nines(p), d.as_secs_f64() * 1e3))
        .collect()
}

fn per_second(r: &LoadResult, f: fn(&SecondWindow) -> f64) -> Vec<(f64, f64)> {
    r.timeseries.iter().map(|w| (w.t_s as f64, f(w))).collect()
}

fn latency_over_time(r: &LoadResult) -> String {
    let mut chart = LineChart::new("latency", "Latency over time")
        .x_linear("time since start", "s")
        .y("latency", "ms")
        .line(Line::new("p50", per_second(r, |w| w.latency_p50_ms)))
        .line(Line::new("p99", per_second(r, |w| w.latency_p99_ms)))
        .line(Line::new("max", per_second(r, |w| w.latency_max_ms)).dashed());
    for (label, p, bound) in
        thresholds::latency_goals(r.thresholds.iter().map(|t| t.expression.as_str()))
    {
        if p.is_some_and(|p| p >= 50.0) {
            chart = chart.goal(label, bound);
        }
    }
    chart.render()
}

/// Requests per second of each run on one pair of axes, with the requested rate as a goal line.
pub(super) fn throughput(runs: &[(String, &LoadResult)], requested: Option<f64>) -> String {
    let mut chart = LineChart::new("throughput", "Throughput over time")
        .x_linear("time since start", "s")
        .y("throughput", "req/s");
    for (i, (name, r)) in runs.iter().enumerate() {
        let points = per_second(r, |w| w.requests as f64);
        chart = chart.line(Line::new(format!("{name} requests/s"), points).paired(i, runs.len()));
    }
    if let Some(asked) = requested {
        chart = chart.goal("requested rate", asked);
    }
    chart.render()
}

fn errors_over_time(r: &LoadResult) -> String {
    LineChart::new("errors", "Errors over time")
        .x_linear("time since start", "s")
        .y("errors", "per s")
        .line(Line::new("errors/s", per_second(r, |w| w.errors as f64)).color("#b00020"))
        .render()
}

/// p99 latency over time of each run on one pair of axes (a comparison's overlay).
pub(super) fn p99_over_time(runs: &[(String, &LoadResult)]) -> String {
    let mut chart = LineChart::new("latency", "p99 latency over time")
        .x_linear("time since start", "s")
        .y("p99 latency", "ms");
    for (i, (name, r)) in runs.iter().enumerate() {
        let points = per_second(r, |w| w.latency_p99_ms);
        chart = chart.line(Line::new(format!("{name} p99"), points).paired(i, runs.len()));
    }
    chart.render()
}
