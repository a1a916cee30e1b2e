//! The HTML section of a comparison (`plumb_compare::Comparison`, which decides every verdict):
//! the two sides, warnings first, a card per headline metric coloured by its verdict, the full
//! table, the thresholds before and after, and the two runs overlaid on shared axes.

use super::{Entry, ReportRun};
use crate::compare::{self, ComparisonTable};
use crate::layout::{Card, Cell, Section, Table, Tone};
use plumb_compare::{Row, Verdict};

/// Cards for at most this many rows (the table has them all).
const CARDS: usize = 8;

/// The comparison section; `entries` are the runs of the report (baseline first when two).
pub(super) fn section(table: &ComparisonTable, entries: &[Entry<'_>]) -> Section {
    let meta = [
        ("baseline", table.baseline.join(", ")),
        ("candidate", table.candidate.join(", ")),
        (
            "tolerance",
            format!("±{}%", crate::format::significant(table.tolerance * 100.0)),
        ),
        (
            "confidence",
            format!(
                "{}% that no row is a false alarm",
                crate::format::significant(table.confidence * 100.0)
            ),
        ),
    ];
    let cards = table
        .comparison
        .rows
        .iter()
        .filter(|r| r.change.is_some())
        .take(CARDS)
        .map(card)
        .collect();
    let mut section = Section::new("comparison", "Comparison")
        .meta(&meta)
        .warnings(table.warnings())
        .cards(cards)
        .table(rows(table));
    if !table.thresholds.is_empty() {
        section = section
            .heading("Thresholds before and after")
            .table(thresholds(table));
    }
    overlays(section, entries)
}

/// The tone of a verdict.
pub(super) fn tone(v: &Verdict) -> Tone {
    match v {
        Verdict::Regressed => Tone::Bad,
        Verdict::Improved => Tone::Good,
        Verdict::Inconclusive => Tone::Warn,
        Verdict::Equivalent | Verdict::NotComparable(_) => Tone::Neutral,
    }
}

fn card(row: &Row) -> Card {
    let change = row
        .change
        .as_ref()
        .map_or("-".to_string(), |c| compare::signed(c.kind, c.point));
    Card::new(row.metric.clone(), change)
        .detail(format!(
            "{} → {} · {}",
            compare::value(row.unit, row.baseline),
            compare::value(row.unit, row.candidate),
            row.verdict.as_str()
        ))
        .tone(tone(&row.verdict))
}

fn rows(table: &ComparisonTable) -> Table {
    let header = compare::header(table);
    let headers: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut out = Table::new("comparison", &headers);
    for row in &table.comparison.rows {
        let cells = compare::row_cells(row);
        let class = row.verdict.as_str().replace(' ', "-");
        let verdict = format!(
            "<span class=\"{class}\">{}</span>",
            super::escape(&cells[6])
        );
        out.push(vec![
            Cell::text(&cells[0]),
            Cell::text(&cells[1]),
            Cell::num(&cells[2]),
            Cell::num(&cells[3]),
            Cell::num(&cells[4]).tone(tone(&row.verdict)),
            Cell::num(&cells[5]),
            Cell::html(verdict).tone(tone(&row.verdict)),
        ]);
    }
    out
}

fn thresholds(table: &ComparisonTable) -> Table {
    let mut out = Table::new(
        "thresholds",
        &["result", "threshold", "baseline", "candidate"],
    );
    for t in &table.thresholds {
        let (word, tone) = super::load::status(t.status);
        let shown = |v: Option<f64>| {
            v.map_or("no data".into(), |v| {
                crate::thresholds::observed(&t.expression, v)
            })
        };
        out.push(vec![
            Cell::badge(word, tone),
            Cell::code(&t.expression),
            Cell::num(shown(t.baseline)),
            Cell::num(shown(t.achieved)),
        ]);
    }
    out
}

/// Baseline and candidate on shared axes, when the report holds exactly those two runs.
fn overlays(section: Section, entries: &[Entry<'_>]) -> Section {
    match entries {
        [base, cand] => match (base.run, cand.run) {
            (ReportRun::Load(_, b), ReportRun::Load(_, c)) => {
                let runs = [
                    (format!("baseline {}", base.label()), b),
                    (format!("candidate {}", cand.label()), c),
                ];
                let section = section
                    .heading("Baseline and candidate on shared axes")
                    .chart(super::load::spectrum(c, &runs))
                    .chart(super::load::p99_over_time(&runs))
                    .chart(super::load::throughput(&runs, c.summary.requested_rps));
                match (&b.server, &c.server) {
                    (Some(bs), Some(cs)) => {
                        let servers = [(runs[0].0.clone(), bs), (runs[1].0.clone(), cs)];
                        section.chart(super::profile::server_cpu_overlay(&servers))
                    }
                    _ => section,
                }
            }
            (ReportRun::Bench(_, b), ReportRun::Bench(_, c)) => {
                let runs = [("baseline".to_string(), b), ("candidate".to_string(), c)];
                section
                    .heading("Baseline and candidate on one axis")
                    .chart(super::bench::distribution(&runs))
            }
            _ => section,
        },
        _ => section,
    }
}
