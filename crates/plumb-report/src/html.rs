//! One self-contained HTML report (no script, no CDN, no network): for each load run the latency
//! percentile spectrum, latency, throughput and errors over time; for each bench run the
//! distribution of its wall times; and the comparison table when one is given. Charts are inline
//! SVG drawn here, so the file opens anywhere, offline, and prints.

use crate::compare::{self, ComparisonTable};
use crate::format;
use plumb_schema::bench::BenchReport;
use plumb_schema::capacity::CapacityResult;
use plumb_schema::load::LoadResult;
use plumb_schema::profile::{CpuOutcome, ProfileReport};
use plumb_stats::DurationHistogram;
use std::fmt::Write;

/// A run to put in the report, with the id it is known by.
#[derive(Debug, Clone, Copy)]
pub enum ReportRun<'a> {
    /// A load run.
    Load(&'a str, &'a LoadResult),
    /// A bench run.
    Bench(&'a str, &'a BenchReport),
    /// A profile, with its flamegraph SVG when it has CPU samples.
    Profile(&'a str, &'a ProfileReport, Option<&'a [u8]>),
    /// A capacity search.
    Capacity(&'a str, &'a CapacityResult),
}

const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const MARGIN: f64 = 56.0;

/// A series of (x, y) points with a name.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

/// The whole report.
pub fn html(runs: &[ReportRun<'_>], comparison: Option<&ComparisonTable>) -> String {
    let mut body = String::new();
    if let Some(table) = comparison {
        body.push_str("<section><h2>Comparison</h2>");
        body.push_str(&comparison_table(table));
        body.push_str("</section>");
    }
    for run in runs {
        match run {
            ReportRun::Load(id, result) => body.push_str(&load_section(id, result)),
            ReportRun::Bench(id, report) => body.push_str(&bench_section(id, report)),
            ReportRun::Profile(id, report, svg) => {
                body.push_str(&profile_section(id, report, *svg))
            }
            ReportRun::Capacity(id, result) => body.push_str(&capacity_section(id, result)),
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>plumb report</title>\
         <style>{STYLE}</style></head><body><h1>plumb report</h1>{body}</body></html>\n"
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:800px;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}\
td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}figcaption{font-weight:600}\
.regressed{color:#b00}.improved{color:#070}svg text{font-size:11px;fill:#444}";

fn load_section(id: &str, r: &LoadResult) -> String {
    let mut out = format!(
        "<section class=\"run load\"><h2>Load run {}</h2><p>{} {} &middot; {} requests &middot; {} req/s &middot; p99 {} ms &middot; {} errors</p>",
        escape(id),
        escape(&r.settings.method),
        escape(&r.settings.url),
        format::count(r.summary.requests),
        format::rate(r.summary.rps),
        format::ms(r.summary.latency_ms.p99),
        format::percent(r.summary.error_rate)
    );
    if let Ok(histogram) = DurationHistogram::from_base64(&r.histograms.latency) {
        let points = histogram
            .spectrum()
            .into_iter()
            .filter(|(p, _)| *p < 100.0)
            .map(|(p, d)| (-(1.0 - p / 100.0).log10(), d.as_secs_f64() * 1e3))
            .collect();
        let series = [Series {
            name: "latency".into(),
            points,
        }];
        out.push_str(&chart(
            "spectrum",
            "Latency percentile spectrum",
            "percentile (nines)",
            "ms",
            &series,
        ));
    }
    let t = |f: fn(&plumb_schema::load::SecondWindow) -> f64| -> Vec<(f64, f64)> {
        r.timeseries.iter().map(|w| (w.t_s as f64, f(w))).collect()
    };
    let latency = [
        Series {
            name: "p50".into(),
            points: t(|w| w.latency_p50_ms),
        },
        Series {
            name: "p99".into(),
            points: t(|w| w.latency_p99_ms),
        },
    ];
    out.push_str(&chart(
        "latency",
        "Latency over time",
        "second",
        "ms",
        &latency,
    ));
    let throughput = [Series {
        name: "requests/s".into(),
        points: t(|w| w.requests as f64),
    }];
    out.push_str(&chart(
        "throughput",
        "Throughput over time",
        "second",
        "req/s",
        &throughput,
    ));
    let errors = [Series {
        name: "errors/s".into(),
        points: t(|w| w.errors as f64),
    }];
    out.push_str(&chart(
        "errors",
        "Errors over time",
        "second",
        "errors",
        &errors,
    ));
    if let Some(db) = &r.db {
        out.push_str(&db_section(db));
    }
    out.push_str("</section>");
    out
}

/// Rows of the database's statement table in a load run.
const DB_ROWS: usize = 10;

/// What the database did during a load (`plumb load --db`).
fn db_section(db: &plumb_schema::db::LoadDbStats) -> String {
    let per_request = |v: Option<f64>, unit: &str| {
        v.map_or_else(
            || "-".to_string(),
            |v| format!("{} {unit}", format::significant(v)),
        )
    };
    let mut out = format!(
        "<h3>Database during the load</h3><p>{} queries for {} requests: <strong>{}</strong> &middot; database time {} per request{} &middot; cache hit ratio {} &middot; up to {} connections ({} active, {} idle in transaction) of {}</p>",
        db.queries,
        db.requests,
        per_request(db.queries_per_request, "queries per request"),
        per_request(db.db_time_per_request_ms, "ms"),
        db.latency_share
            .map_or_else(String::new, |s| format!(" ({} of the latency)", format::percent(s))),
        db.cache_hit_ratio
            .map_or_else(|| "-".to_string(), format::percent),
        db.connections.max_total,
        db.connections.max_active,
        db.connections.max_idle_in_transaction,
        db.connections.max_connections
    );
    for suspect in &db.n_plus_one {
        let _ = write!(
            out,
            "<p class=\"regressed\">N+1 suspect: <code>{}</code>: {} ({})</p>",
            escape(&suspect.statement.query),
            escape(&suspect.evidence),
            escape(&suspect.fix)
        );
    }
    out.push_str("<table><tr><th>Statement</th><th>Calls</th><th>Total ms</th><th>Mean ms</th><th>Rows</th></tr>");
    for s in db.top_statements.iter().take(DB_ROWS) {
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&s.query),
            s.calls,
            format::ms(s.total_ms),
            format::ms(s.mean_ms),
            s.rows
        );
    }
    out.push_str("</table>");
    out
}

/// Rows of a profile's hot-function table.
const PROFILE_ROWS: usize = 15;

fn profile_section(id: &str, r: &ProfileReport, flamegraph: Option<&[u8]>) -> String {
    let what = match &r.target.command {
        Some(command) => command.join(" "),
        None => format!("PID {}", r.target.pid),
    };
    let mut out = format!(
        "<section class=\"run profile\"><h2>Profile {}</h2><p>{} &middot; {:.1} s</p>",
        escape(id),
        escape(&what),
        r.duration_secs
    );
    match &r.cpu {
        CpuOutcome::Sampled(cpu) => {
            let _ = write!(out, "<p>{} CPU samples at {} Hz</p><table><tr><th>Function</th><th>Self %</th><th>Total %</th></tr>", cpu.samples, cpu.frequency_hz);
            for f in cpu.hot_functions.iter().take(PROFILE_ROWS) {
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{:.1}</td><td>{:.1}</td></tr>",
                    escape(&f.name),
                    f.self_percent,
                    f.total_percent
                );
            }
            out.push_str("</table>");
        }
        CpuOutcome::Unavailable { reason, .. } => {
            let _ = write!(out, "<p>CPU profile not available: {}</p>", escape(reason));
        }
    }
    if let Some(svg) = flamegraph {
        use base64::Engine;
        let data = base64::engine::general_purpose::STANDARD.encode(svg);
        // An image, not inline SVG: the flamegraph's own script must not run inside the report.
        let _ = write!(out, "<figure><figcaption>Flamegraph</figcaption><img alt=\"flamegraph\" style=\"width:100%\" src=\"data:image/svg+xml;base64,{data}\"></figure>");
    }
    let s = &r.resources.summary;
    let _ = write!(
        out,
        "<p>CPU {:.1}% of a core on average &middot; RSS at most {} &middot; {} threads at most</p>",
        s.cpu_user_percent.avg + s.cpu_system_percent.avg,
        format::bytes(s.rss_bytes.max as u64),
        s.threads.max
    );
    for note in &r.notes {
        let _ = write!(out, "<p class=\"note\">{}</p>", escape(note));
    }
    out.push_str("</section>");
    out
}

fn capacity_section(id: &str, r: &CapacityResult) -> String {
    let mut out = format!(
        "<section class=\"run capacity\"><h2>Capacity search {}</h2><p><strong>{}</strong></p><p>{} &middot; goal {}</p><table><tr><th>Step</th><th>Offered req/s</th><th>Achieved req/s</th><th>Errors</th><th>p99 ms</th><th>Verdict</th></tr>",
        escape(id),
        escape(&r.headline),
        escape(&r.url),
        escape(&r.goal)
    );
    for (i, step) in r.steps.iter().enumerate() {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            format::rate(step.rate),
            format::rate(step.achieved_rps),
            format::percent(step.error_rate),
            step.p99_ms.map_or_else(|| "-".to_string(), format::ms),
            escape(&step.verdict)
        );
    }
    out.push_str("</table>");
    let mut points: Vec<(f64, f64)> = r
        .steps
        .iter()
        .filter(|s| !s.confirmation)
        .filter_map(|s| Some((s.rate, s.p99_ms?)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let series = [Series {
        name: "p99".into(),
        points,
    }];
    out.push_str(&chart(
        "capacity",
        "p99 latency against the offered rate",
        "offered rate (req/s)",
        "p99 (ms)",
        &series,
    ));
    out.push_str("</section>");
    out
}

fn bench_section(id: &str, r: &BenchReport) -> String {
    let mut out = format!("<section class=\"run bench\"><h2>Bench run {}</h2><table><tr><th>Command</th><th>Runs</th><th>Median</th><th>Mean</th><th>Min</th><th>Max</th></tr>", escape(id));
    for b in &r.benchmarks {
        let w = &b.stats.wall;
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{} ms</td><td>{} ms</td><td>{} ms</td><td>{} ms</td></tr>",
            escape(&b.name),
            b.stats.runs,
            format::ms(w.median_seconds * 1e3),
            format::ms(w.mean_seconds * 1e3),
            format::ms(w.min_seconds * 1e3),
            format::ms(w.max_seconds * 1e3)
        );
    }
    out.push_str("</table>");
    let series: Vec<Series> = r
        .benchmarks
        .iter()
        .map(|b| {
            let mut walls: Vec<f64> = b.runs.iter().map(|run| run.wall_seconds * 1e3).collect();
            walls.sort_by(f64::total_cmp);
            let n = walls.len().max(1) as f64;
            Series {
                name: b.name.clone(),
                points: walls
                    .iter()
                    .enumerate()
                    .map(|(i, w)| ((i as f64 + 0.5) / n * 100.0, *w))
                    .collect(),
            }
        })
        .collect();
    out.push_str(&chart(
        "distribution",
        "Wall time distribution (sorted runs)",
        "percentile",
        "ms",
        &series,
    ));
    out.push_str("</section>");
    out
}

fn comparison_table(table: &ComparisonTable) -> String {
    let mut out = format!(
        "<p>candidate <code>{}</code> against baseline <code>{}</code>, tolerance ±{}%</p><table><tr>",
        escape(&table.candidate.join(", ")),
        escape(&table.baseline.join(", ")),
        format::significant(table.tolerance * 100.0)
    );
    for cell in compare::header(table) {
        let _ = write!(out, "<th>{}</th>", escape(&cell));
    }
    out.push_str("</tr>");
    for row in &table.comparison.rows {
        let cells = compare::row_cells(row);
        let verdict = row.verdict.as_str().replace(' ', "-");
        out.push_str("<tr>");
        for (i, cell) in cells.iter().enumerate() {
            let class = if i == cells.len() - 1 {
                format!(" class=\"{verdict}\"")
            } else {
                String::new()
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    for warning in table.warnings() {
        let _ = write!(out, "<p><strong>warning:</strong> {}</p>", escape(warning));
    }
    out
}

/// A line chart with linear axes, ticks at round values, and a legend.
fn chart(class: &str, title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = bounds(all().map(|p| p.0), false);
    let (y0, y1) = bounds(all().map(|p| p.1), true);
    let sx = |x: f64| MARGIN + (x - x0) / (x1 - x0) * (WIDTH - 2.0 * MARGIN);
    let sy = |y: f64| HEIGHT - MARGIN + -(y - y0) / (y1 - y0) * (HEIGHT - 1.5 * MARGIN);
    let mut svg = format!(
        "<figure class=\"chart {class}\"><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        escape(title),
        escape(title)
    );
    let (bottom, right) = (HEIGHT - MARGIN, WIDTH - MARGIN);
    let _ = write!(svg, "<line x1=\"{MARGIN}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\" stroke=\"#888\"/><line x1=\"{MARGIN}\" y1=\"{}\" x2=\"{MARGIN}\" y2=\"{bottom}\" stroke=\"#888\"/>", MARGIN / 2.0);
    for i in 0..=4 {
        let (x, y) = (
            x0 + (x1 - x0) * i as f64 / 4.0,
            y0 + (y1 - y0) * i as f64 / 4.0,
        );
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            sx(x),
            bottom + 16.0,
            format::significant(x)
        );
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            MARGIN - 6.0,
            sy(y) + 4.0,
            format::significant(y)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        WIDTH / 2.0,
        HEIGHT - 12.0,
        escape(x_label)
    );
    let _ = write!(
        svg,
        "<text x=\"12\" y=\"{:.1}\">{}</text>",
        MARGIN / 2.0 - 8.0,
        escape(y_label)
    );
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points: Vec<String> = s
            .points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        let _ = write!(svg, "<polyline class=\"series\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"/>", points.join(" "));
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{color}\" style=\"fill:{color}\">{}</text>",
            right - 120.0,
            MARGIN / 2.0 + 14.0 * i as f64,
            escape(&s.name)
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

/// The range of `values`, never empty; from zero when `from_zero` and all values are positive.
fn bounds(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero && lo > 0.0 {
        lo = 0.0;
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    (lo, hi)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
