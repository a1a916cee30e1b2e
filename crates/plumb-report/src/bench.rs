//! Renderers of a `plumb bench` result: the terminal text, Markdown, CSV, plumb's JSON and
//! hyperfine's JSON layout. They only format what the report holds; nothing here computes a
//! statistic, so every output tells the same story.

use crate::format::bytes;
use std::fmt::Write as _;
use std::time::Duration;

use plumb_schema::bench::{hyperfine, BenchReport, BenchmarkRecord, RatioRecord, Verdict};

/// Below this median, a command run through a shell is hard to time: its shell's startup dominates.
pub const SHELL_RESOLUTION: Duration = Duration::from_millis(5);

/// Whether the text output may use ANSI colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colors {
    /// Plain text (`NO_COLOR`, or not a terminal).
    Never,
    /// Bold headings, green times, yellow warnings.
    Always,
}

impl Colors {
    fn paint(self, text: &str, ansi: &str) -> String {
        match self {
            Colors::Never => text.to_owned(),
            Colors::Always => format!("\x1b[{ansi}m{text}\x1b[0m"),
        }
    }
}

/// The human-readable summary, hyperfine's layout plus median, memory and a verdict per pair.
pub fn text(report: &BenchReport, colors: Colors) -> String {
    let mut out = String::new();
    for (index, benchmark) in report.benchmarks.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        benchmark_text(&mut out, index, benchmark, report, colors);
    }
    if let Some(comparison) = &report.comparison {
        let fastest = &report.benchmarks[comparison.fastest];
        let _ = writeln!(out, "\n{}", colors.paint("Summary", "1"));
        let _ = writeln!(out, "  {} ran", colors.paint(&quoted(&fastest.name), "36"));
        for other in &comparison.others {
            let _ = writeln!(out, "    {}", ratio_line(other, report, colors));
        }
    }
    out
}

fn benchmark_text(
    out: &mut String,
    index: usize,
    b: &BenchmarkRecord,
    report: &BenchReport,
    colors: Colors,
) {
    let w = &b.stats.wall;
    let unit = TimeUnit::for_seconds(w.median_seconds);
    let _ = writeln!(
        out,
        "{} {}",
        colors.paint(&format!("Benchmark {}:", index + 1), "1"),
        b.name
    );
    let _ = writeln!(
        out,
        "  Time (median ± MAD):  {} ± {}",
        colors.paint(&unit.format(w.median_seconds), "32;1"),
        unit.format(w.mad_seconds),
    );
    let stddev = w
        .stddev_seconds
        .map_or_else(|| "n/a".to_owned(), |s| unit.format(s));
    let _ = writeln!(
        out,
        "  Time (mean ± σ):      {} ± {}    [User: {}, System: {}]",
        unit.format(w.mean_seconds),
        stddev,
        unit.format(b.stats.user_mean_seconds),
        unit.format(b.stats.system_mean_seconds),
    );
    let _ = writeln!(
        out,
        "  Range (min … max):    {} … {}    {} {}",
        unit.format(w.min_seconds),
        unit.format(w.max_seconds),
        b.stats.runs,
        if b.stats.runs == 1 { "run" } else { "runs" },
    );
    let _ = writeln!(
        out,
        "  Peak memory:          {} (max {}){}",
        bytes(b.stats.peak_rss_median_bytes),
        bytes(b.stats.peak_rss_max_bytes),
        floor_note(b, report),
    );
    let _ = writeln!(
        out,
        "  Context switches:     {:.1} voluntary, {:.1} involuntary per run",
        b.stats.voluntary_context_switches_mean, b.stats.involuntary_context_switches_mean,
    );
    for warning in warnings(b, report) {
        let _ = writeln!(out, "  {} {warning}", colors.paint("Warning:", "33;1"));
    }
}

/// Peak RSS within this fraction above plumb's own peak is "at the floor".
const FLOOR_MARGIN: f64 = 1.05;

/// A note when the command's peak is plumb's own: the command used that much or less.
fn floor_note(b: &BenchmarkRecord, report: &BenchReport) -> String {
    match report.peak_rss_floor_bytes {
        Some(floor) if b.stats.peak_rss_median_bytes as f64 <= floor as f64 * FLOOR_MARGIN => {
            format!(
                ", at plumb's own peak of {}: the command used this or less",
                bytes(floor)
            )
        }
        _ => String::new(),
    }
}

/// Warnings about one benchmark, each naming the likely cause and what to do.
pub fn warnings(b: &BenchmarkRecord, report: &BenchReport) -> Vec<String> {
    let mut found = Vec::new();
    let failed = b.runs.iter().filter(|r| r.exit_code != Some(0)).count();
    if failed > 0 {
        found.push(format!(
            "{failed} of {} runs failed (ignored because of -i/--ignore-failure); their times are included.",
            b.runs.len()
        ));
    }
    if b.outliers.slow_first_run {
        found.push(
            "the first run was much slower than the rest, likely cold caches. \
             hint: use --warmup 3, or --prepare to put caches in a known state."
                .to_owned(),
        );
    }
    let scattered = b.outliers.indices.len() - usize::from(b.outliers.slow_first_run);
    if scattered > 0 {
        found.push(format!(
            "{scattered} of {} runs are statistical outliers (modified z-score > {}), likely a busy \
             machine. hint: close other programs and run again; the median is robust to them.",
            b.runs.len(),
            b.outliers.z_threshold,
        ));
    }
    if report.shell_overhead.is_some()
        && b.stats.wall.median_seconds < SHELL_RESOLUTION.as_secs_f64()
    {
        found.push(format!(
            "the command took less than {} ms after subtracting the shell's startup, so the result may \
             be inaccurate. hint: use -N/--no-shell.",
            SHELL_RESOLUTION.as_millis()
        ));
    }
    found
}

fn ratio_line(other: &RatioRecord, report: &BenchReport, colors: Colors) -> String {
    let name = quoted(&report.benchmarks[other.benchmark].name);
    let p = p_value(other.p_value);
    match (other.verdict, other.ratio, other.ratio_low, other.ratio_high) {
        (Verdict::Slower, Some(ratio), Some(low), Some(high)) => format!(
            "{} ± {} times faster than {name}  (95% CI {low:.2}–{high:.2}, {p})",
            colors.paint(&format!("{ratio:.2}"), "32;1"),
            format_args!("{:.2}", (high - low) / 2.0),
        ),
        (Verdict::Slower, ..) => format!("faster than {name}  ({p}; its median is zero, so no ratio)"),
        (Verdict::NoSignificantDifference, Some(ratio), Some(low), Some(high)) => format!(
            "no significant difference from {name}  (ratio {ratio:.2}, 95% CI {low:.2}–{high:.2}, {p})"
        ),
        (Verdict::NoSignificantDifference, ..) => format!("no significant difference from {name}  ({p})"),
    }
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_owned()
    } else {
        format!("p = {p:.3}")
    }
}

fn quoted(name: &str) -> String {
    format!("'{name}'")
}

/// A unit for showing times, picked from a typical value so that figures read well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Microseconds.
    Micros,
    /// Milliseconds.
    Millis,
    /// Seconds.
    Seconds,
}

impl TimeUnit {
    /// The unit for a value around `seconds`.
    pub fn for_seconds(seconds: f64) -> TimeUnit {
        if seconds < 1e-3 {
            TimeUnit::Micros
        } else if seconds < 1.0 {
            TimeUnit::Millis
        } else {
            TimeUnit::Seconds
        }
    }

    /// The unit's symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            TimeUnit::Micros => "µs",
            TimeUnit::Millis => "ms",
            TimeUnit::Seconds => "s",
        }
    }

    /// `seconds` in this unit, as a number.
    pub fn scale(self, seconds: f64) -> f64 {
        match self {
            TimeUnit::Micros => seconds * 1e6,
            TimeUnit::Millis => seconds * 1e3,
            TimeUnit::Seconds => seconds,
        }
    }

    /// `seconds` in this unit with its symbol, right-aligned for columns.
    pub fn format(self, seconds: f64) -> String {
        let decimals = if self == TimeUnit::Seconds { 3 } else { 1 };
        format!("{:>7.*} {}", decimals, self.scale(seconds), self.symbol())
    }
}

/// A Markdown table, one row per command, with the ratio to the fastest.
pub fn markdown(report: &BenchReport) -> String {
    let fastest_median = report
        .benchmarks
        .iter()
        .map(|b| b.stats.wall.median_seconds)
        .fold(f64::INFINITY, f64::min);
    let unit = TimeUnit::for_seconds(fastest_median);
    let s = unit.symbol();
    let mut out = format!(
        "| Command | Median [{s}] | Mean [{s}] | Min [{s}] | Max [{s}] | Peak RSS | Relative |\n\
         |:---|---:|---:|---:|---:|---:|---:|\n"
    );
    for (index, b) in report.benchmarks.iter().enumerate() {
        let w = &b.stats.wall;
        let mean = match w.stddev_seconds {
            Some(sd) => format!("{:.1} ± {:.1}", unit.scale(w.mean_seconds), unit.scale(sd)),
            None => format!("{:.1}", unit.scale(w.mean_seconds)),
        };
        let _ = writeln!(
            out,
            "| `{}` | {:.1} | {mean} | {:.1} | {:.1} | {} | {} |",
            b.name.replace('|', "\\|"),
            unit.scale(w.median_seconds),
            unit.scale(w.min_seconds),
            unit.scale(w.max_seconds),
            bytes(b.stats.peak_rss_median_bytes),
            relative(report, index),
        );
    }
    out
}

fn relative(report: &BenchReport, index: usize) -> String {
    let Some(comparison) = &report.comparison else {
        // Several commands always come with a comparison; a result without one cannot rank them.
        let alone = report.benchmarks.len() == 1;
        return if alone { "1.00" } else { "-" }.to_owned();
    };
    if comparison.fastest == index {
        return "1.00".to_owned();
    }
    let Some(other) = comparison.others.iter().find(|o| o.benchmark == index) else {
        return String::new();
    };
    let (Some(ratio), Some(low), Some(high)) = (other.ratio, other.ratio_low, other.ratio_high)
    else {
        return "n/a".to_owned();
    };
    let marker = match other.verdict {
        Verdict::Slower => "",
        Verdict::NoSignificantDifference => " (not significant)",
    };
    format!("{ratio:.2} ± {:.2}{marker}", (high - low) / 2.0)
}

/// A summary CSV: hyperfine's columns first (times in seconds), then plumb's, then one
/// `parameter_NAME` column per parameter.
pub fn csv(report: &BenchReport) -> String {
    let parameter_names: Vec<&String> = report
        .benchmarks
        .first()
        .map(|b| b.parameters.keys().collect())
        .unwrap_or_default();
    let mut header = vec![
        "command",
        "mean",
        "stddev",
        "median",
        "user",
        "system",
        "min",
        "max",
        "name",
        "mad",
        "peak_rss_median_bytes",
        "peak_rss_max_bytes",
        "runs",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    header.extend(
        parameter_names
            .iter()
            .map(|name| format!("parameter_{name}")),
    );
    let mut out = csv_line(&header);
    for b in &report.benchmarks {
        let w = &b.stats.wall;
        let mut row = vec![
            b.command.clone(),
            w.mean_seconds.to_string(),
            w.stddev_seconds.map_or_else(String::new, |s| s.to_string()),
            w.median_seconds.to_string(),
            b.stats.user_mean_seconds.to_string(),
            b.stats.system_mean_seconds.to_string(),
            w.min_seconds.to_string(),
            w.max_seconds.to_string(),
            b.name.clone(),
            w.mad_seconds.to_string(),
            b.stats.peak_rss_median_bytes.to_string(),
            b.stats.peak_rss_max_bytes.to_string(),
            b.stats.runs.to_string(),
        ];
        row.extend(
            parameter_names
                .iter()
                .map(|name| b.parameters.get(*name).cloned().unwrap_or_default()),
        );
        out.push_str(&csv_line(&row));
    }
    out
}

fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    format!("{}\n", quoted.join(","))
}

fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) || field.trim() != field {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// plumb's own JSON (pretty-printed [`BenchReport`]).
pub fn json(report: &BenchReport) -> serde_json::Result<String> {
    serde_json::to_string_pretty(report)
}

/// The report in hyperfine's `--export-json` layout.
pub fn hyperfine_export(report: &BenchReport) -> hyperfine::Export {
    let results = report
        .benchmarks
        .iter()
        .map(|b| hyperfine::BenchmarkResult {
            command: b.command.clone(),
            mean: b.stats.wall.mean_seconds,
            stddev: b.stats.wall.stddev_seconds,
            median: b.stats.wall.median_seconds,
            user: b.stats.user_mean_seconds,
            system: b.stats.system_mean_seconds,
            min: b.stats.wall.min_seconds,
            max: b.stats.wall.max_seconds,
            times: b.runs.iter().map(|r| r.wall_seconds).collect(),
            memory_usage_byte: b.runs.iter().map(|r| r.peak_rss_bytes).collect(),
            exit_codes: b.runs.iter().map(|r| r.exit_code).collect(),
            parameters: b.parameters.clone(),
        })
        .collect();
    hyperfine::Export { results }
}

/// hyperfine's JSON layout, pretty-printed.
pub fn hyperfine_json(report: &BenchReport) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&hyperfine_export(report))
}
