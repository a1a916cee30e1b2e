//! The HTML section of one `plumb bench` run: what ran, a card per command (its median, and its
//! ratio to the fastest), the statistics table, outliers, and every command's runs side by side
//! on one axis.

use super::Entry;
use crate::chart::Distribution;
use crate::format::{bytes, ms};
use crate::layout::{Card, Cell, Section, Table, Tone};
use plumb_schema::bench::{BenchReport, BenchmarkRecord};

/// The section of a bench run.
pub(super) fn section(entry: &Entry<'_>, r: &BenchReport) -> Section {
    let mut meta = entry.meta();
    let s = &r.settings;
    meta.insert(
        1,
        (
            "settings",
            format!(
                "{} warmup runs · {:?} order · seed {} · shell {}",
                s.warmup_runs,
                s.order,
                s.seed,
                s.shell.as_deref().unwrap_or("none")
            )
            .to_lowercase(),
        ),
    );
    if let Some(shell) = &r.shell_overhead {
        meta.push((
            "shell startup",
            format!(
                "{} ms subtracted from every run",
                ms(shell.wall_seconds * 1e3)
            ),
        ));
    }
    meta.push(("plumb", r.plumb_version.clone()));
    if let Some(noise) = &r.host_noise {
        meta.push(("host noise", super::noise_text(noise)));
    }
    let names: Vec<&str> = r.benchmarks.iter().map(|b| b.name.as_str()).collect();
    let mut section = Section::new(
        "bench",
        format!("Bench run {}: {}", entry.label(), names.join(" vs ")),
    )
    .meta(&meta)
    .cards(cards(r))
    .table(stats_table(r))
    .chart(distribution(&[(String::new(), r)]));
    let outliers: Vec<String> = r.benchmarks.iter().filter_map(outlier_note).collect();
    if r.interrupted {
        section =
            section.warnings(&["interrupted: the figures cover the runs that finished".into()]);
    }
    section.warnings(&outliers)
}

fn cards(r: &BenchReport) -> Vec<Card> {
    let fastest = r
        .benchmarks
        .iter()
        .map(|b| b.stats.wall.median_seconds)
        .fold(f64::INFINITY, f64::min);
    r.benchmarks
        .iter()
        .map(|b| {
            let median = b.stats.wall.median_seconds;
            let ratio = median / fastest;
            let (detail, tone) = if r.benchmarks.len() < 2 {
                (format!("median of {} runs", b.stats.runs), Tone::Neutral)
            } else if ratio <= 1.0 + 1e-12 {
                ("fastest".to_string(), Tone::Good)
            } else {
                (format!("{ratio:.2}× the fastest"), Tone::Neutral)
            };
            Card::new(b.name.clone(), format!("{} ms", ms(median * 1e3)))
                .detail(detail)
                .tone(tone)
        })
        .collect()
}

fn stats_table(r: &BenchReport) -> Table {
    let headers = [
        "command", "runs", "median", "mean", "σ", "min", "max", "user", "system", "peak RSS",
    ];
    let mut table = Table::new("bench-stats", &headers);
    for b in &r.benchmarks {
        let w = &b.stats.wall;
        let t = |s: f64| Cell::num(format!("{} ms", ms(s * 1e3)));
        table.push(vec![
            Cell::code(&b.name),
            Cell::num(b.stats.runs.to_string()),
            t(w.median_seconds),
            t(w.mean_seconds),
            w.stddev_seconds.map_or(Cell::num("-"), t),
            t(w.min_seconds),
            t(w.max_seconds),
            t(b.stats.user_mean_seconds),
            t(b.stats.system_mean_seconds),
            Cell::num(bytes(b.stats.peak_rss_median_bytes)),
        ]);
    }
    table
}

fn outlier_note(b: &BenchmarkRecord) -> Option<String> {
    let n = b.outliers.indices.len();
    let slow_first = b.outliers.slow_first_run;
    if n == 0 && !slow_first {
        return None;
    }
    let mut note = format!(
        "{}: {n} outlier run(s) (modified z-score above {})",
        b.name, b.outliers.z_threshold
    );
    if slow_first {
        note.push_str("; the first run was much slower: a cold cache? (--warmup)");
    }
    Some(note)
}

/// Every command of every run, one row each, on one shared axis; `runs` are (side, report). With
/// two sides each command's baseline row (grey) sits right above its candidate row.
pub(super) fn distribution(runs: &[(String, &BenchReport)]) -> String {
    let mut groups = Vec::new();
    for (si, (side, r)) in runs.iter().enumerate() {
        for (bi, b) in r.benchmarks.iter().enumerate() {
            let name = if side.is_empty() {
                b.name.clone()
            } else {
                format!("{} ({side})", b.name)
            };
            let walls: Vec<f64> = b.runs.iter().map(|run| run.wall_seconds * 1e3).collect();
            groups.push((bi, si, name, walls));
        }
    }
    groups.sort_by_key(|g| (g.0, g.1));
    let mut chart =
        Distribution::new("distribution", "Wall time of every run").axis("wall time", "ms");
    for (bi, si, name, walls) in groups {
        let colour = if runs.len() == 2 && si == 0 {
            crate::chart::BASELINE
        } else {
            crate::chart::PALETTE[bi % crate::chart::PALETTE.len()]
        };
        chart = chart.group(name, walls, colour);
    }
    chart.render()
}
