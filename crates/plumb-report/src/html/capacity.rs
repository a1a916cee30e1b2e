//! The HTML section of a `plumb capacity` search: the sustained rate and where it broke, the
//! steps with their verdicts, and p99 and the achieved rate against the offered rate.

use super::Entry;
use crate::chart::{Line, LineChart};
use crate::format::{ms, percent, rate};
use crate::layout::{Card, Cell, Section, Table, Tone};
use plumb_schema::capacity::CapacityResult;

/// The section of a capacity search.
pub(super) fn section(entry: &Entry<'_>, r: &CapacityResult) -> Section {
    let mut meta = entry.meta();
    meta.insert(1, ("target", r.url.clone()));
    meta.insert(
        2,
        (
            "goal",
            format!(
                "{} and errors at most {}",
                r.goal,
                percent(r.max_error_rate)
            ),
        ),
    );
    if entry.context.started_at.is_empty() {
        meta.push(("started", r.started_at.clone()));
    }
    meta.push((
        "steps",
        format!(
            "settle {} s, measure {} s, precision {}",
            r.settle_s,
            r.measure_s,
            percent(r.precision)
        ),
    ));
    let mut section = Section::new(
        "capacity",
        format!("Capacity search {}: {}", entry.label(), r.url),
    )
    .meta(&meta)
    .note(&r.headline)
    .cards(cards(r))
    .table(steps(r))
    .chart(latency_chart(r))
    .chart(achieved_chart(r));
    if r.interrupted {
        section = section.warnings(&["interrupted: the search ended before it converged".into()]);
    }
    section
}

fn cards(r: &CapacityResult) -> Vec<Card> {
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{}/s", rate(v)));
    let mut cards = vec![
        Card::new("sustained rate", opt(r.sustained_rps))
            .detail("highest rate that met the goal")
            .tone(if r.sustained_rps.is_some() {
                Tone::Good
            } else {
                Tone::Bad
            }),
        Card::new("failing rate", opt(r.failing_rps))
            .detail(r.limited_by.clone().unwrap_or_default()),
    ];
    if let Some(knee) = r.knee_rps {
        cards.push(Card::new("USL knee", format!("{}/s", rate(knee))));
    }
    cards
}

fn steps(r: &CapacityResult) -> Table {
    let headers = [
        "step", "offered", "achieved", "errors", "p50", "p99", "verdict", "why",
    ];
    let mut table = Table::new("steps", &headers);
    for (i, s) in r.steps.iter().enumerate() {
        let tone = match s.verdict.as_str() {
            "pass" => Tone::Good,
            "fail" => Tone::Bad,
            _ => Tone::Warn,
        };
        let step = if s.confirmation {
            format!("{} (confirm)", i + 1)
        } else {
            (i + 1).to_string()
        };
        table.push(vec![
            Cell::num(step),
            Cell::num(format!("{}/s", rate(s.rate))),
            Cell::num(format!("{}/s", rate(s.achieved_rps))),
            Cell::num(percent(s.error_rate)),
            Cell::num(s.p50_ms.map_or("-".into(), |v| format!("{} ms", ms(v)))),
            Cell::num(s.p99_ms.map_or("-".into(), |v| format!("{} ms", ms(v)))),
            Cell::text(&s.verdict).tone(tone),
            Cell::text(&s.reason),
        ]);
    }
    table
}

/// The steps' points sorted by offered rate, confirmations left out.
fn by_rate(
    r: &CapacityResult,
    f: impl Fn(&plumb_schema::capacity::CapacityStep) -> Option<f64>,
) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = r
        .steps
        .iter()
        .filter(|s| !s.confirmation)
        .filter_map(|s| Some((s.rate, f(s)?)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

fn latency_chart(r: &CapacityResult) -> String {
    LineChart::new("capacity", "Latency against the offered rate")
        .x_linear("offered rate", "req/s")
        .y("latency", "ms")
        .line(Line::new("p50", by_rate(r, |s| s.p50_ms)))
        .line(Line::new("p99", by_rate(r, |s| s.p99_ms)))
        .render()
}

fn achieved_chart(r: &CapacityResult) -> String {
    let offered = by_rate(r, |s| Some(s.rate));
    LineChart::new("achieved", "Achieved against offered rate")
        .x_linear("offered rate", "req/s")
        .y("achieved rate", "req/s")
        .line(Line::new("achieved", by_rate(r, |s| Some(s.achieved_rps))))
        .line(
            Line::new("offered (ideal)", offered)
                .dashed()
                .color(crate::chart::BASELINE),
        )
        .render()
}
