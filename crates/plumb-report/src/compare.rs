//! Comparison of two results metric by metric (what `plumb compare` and `plumb gate` show), and
//! its text and Markdown tables.
//!
//! Load runs give each metric one sample per second of the run (`timeseries`): latency p50 and
//! p99 of each window, requests per window, errors per request in each window. Bench runs give one
//! sample per run: wall time, user and system time, peak memory. `plumb_stats::compare` judges each
//! metric; false alarms across the metrics are controlled with Benjamini–Hochberg.

use crate::format;
use plumb_schema::bench::{BenchReport, BenchmarkRecord};
use plumb_schema::compare::{ComparisonResult, MetricComparison, COMPARE_SCHEMA_VERSION};
use plumb_schema::load::{LoadResult, SecondWindow};
use plumb_stats::compare::{
    compare, control_false_discoveries, CompareSettings, Design, Direction, Judgement, Scale,
    Verdict,
};

/// False-discovery rate across the metrics of one comparison.
pub const FALSE_DISCOVERY_RATE: f64 = 0.05;

/// How a metric's values print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds.
    Millis,
    /// Seconds, printed in milliseconds.
    Seconds,
    /// Requests per second.
    PerSecond,
    /// A fraction, printed in percent.
    Fraction,
    /// Bytes.
    Bytes,
}

impl Unit {
    /// The unit's name in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Millis => "ms",
            Unit::Seconds => "s",
            Unit::PerSecond => "req/s",
            Unit::Fraction => "fraction",
            Unit::Bytes => "bytes",
        }
    }
}

impl Unit {
    /// A value with its unit.
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Millis => format!("{} ms", format::ms(value)),
            Unit::Seconds => format!("{} ms", format::ms(value * 1e3)),
            Unit::PerSecond => format!("{} req/s", format::rate(value)),
            Unit::Fraction => format::percent(value),
            Unit::Bytes => format::bytes(value.max(0.0) as u64),
        }
    }
}

/// One compared metric.
#[derive(Debug, Clone)]
pub struct MetricRow {
    /// e.g. `latency p99` or `sleep 0.01: wall median`.
    pub metric: String,
    /// How its values print.
    pub unit: Unit,
    /// The baseline's value.
    pub baseline: f64,
    /// The candidate's value.
    pub candidate: f64,
    /// The statistics and the verdict.
    pub judgement: Judgement,
}

/// A threshold of the candidate next to the baseline's value of the same metric.
#[derive(Debug, Clone)]
pub struct ThresholdRow {
    /// The threshold expression, e.g. `http_req_duration: p(95)<200ms`.
    pub expression: String,
    /// The baseline's observed value, when it had the same threshold.
    pub baseline: Option<f64>,
    /// The candidate's observed value.
    pub achieved: Option<f64>,
    /// `passed` or `failed` (or another status the run recorded).
    pub status: String,
}

/// A whole comparison.
#[derive(Debug, Clone)]
pub struct ComparisonTable {
    /// The baseline's id (or file).
    pub baseline_id: String,
    /// The candidate's id (or file).
    pub candidate_id: String,
    /// The tolerance δ, as a fraction.
    pub tolerance: f64,
    /// The compared metrics.
    pub rows: Vec<MetricRow>,
    /// The candidate's thresholds.
    pub thresholds: Vec<ThresholdRow>,
    /// Things the reader must know (different hosts, different kinds, interrupted runs).
    pub warnings: Vec<String>,
}

impl ComparisonTable {
    /// Whether any metric regressed.
    pub fn regressed(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.judgement.verdict == Verdict::Regressed)
    }

    /// Whether any metric is inconclusive.
    pub fn inconclusive(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.judgement.verdict == Verdict::Inconclusive)
    }

    /// Whether any threshold of the candidate failed.
    pub fn threshold_failed(&self) -> bool {
        self.thresholds.iter().any(|t| t.status == "failed")
    }
}

/// One metric's samples and headline values, before judging.
struct Series {
    metric: String,
    unit: Unit,
    direction: Direction,
    scale: Scale,
    design: Design,
    baseline: (f64, Vec<f64>),
    candidate: (f64, Vec<f64>),
}

fn judge_all(series: Vec<Series>, settings: &CompareSettings) -> Vec<MetricRow> {
    let mut rows: Vec<MetricRow> = series
        .into_iter()
        .map(|s| MetricRow {
            judgement: compare(
                &s.baseline.1,
                &s.candidate.1,
                s.design,
                s.scale,
                s.direction,
                settings,
            ),
            metric: s.metric,
            unit: s.unit,
            baseline: s.baseline.0,
            candidate: s.candidate.0,
        })
        .collect();
    let mut judgements: Vec<Judgement> = rows.iter().map(|r| r.judgement).collect();
    control_false_discoveries(&mut judgements, FALSE_DISCOVERY_RATE);
    for (row, judgement) in rows.iter_mut().zip(judgements) {
        row.judgement = judgement;
    }
    rows
}

/// Compare two load results on their per-second windows.
pub fn load_rows(
    base: &LoadResult,
    cand: &LoadResult,
    settings: &CompareSettings,
) -> Vec<MetricRow> {
    let (bw, cw) = (
        full_windows(&base.timeseries),
        full_windows(&cand.timeseries),
    );
    let pick = |windows: &[&SecondWindow], f: &dyn Fn(&SecondWindow) -> f64| -> Vec<f64> {
        windows.iter().map(|w| f(w)).collect()
    };
    let served = |w: &[&SecondWindow]| -> Vec<SecondWindow> {
        w.iter()
            .filter(|w| w.requests > w.errors)
            .map(|w| (*w).clone())
            .collect()
    };
    let (bs, cs) = (served(&bw), served(&cw));
    let latency = |name: &str, f: fn(&SecondWindow) -> f64, b: f64, c: f64| Series {
        metric: name.to_owned(),
        unit: Unit::Millis,
        direction: Direction::LowerIsBetter,
        scale: Scale::Log,
        design: Design::Independent,
        baseline: (b, bs.iter().map(f).collect()),
        candidate: (c, cs.iter().map(f).collect()),
    };
    let error_rate = |w: &SecondWindow| w.errors as f64 / (w.requests.max(1)) as f64;
    let series = vec![
        latency(
            "latency p50",
            |w| w.latency_p50_ms,
            base.summary.latency_ms.p50,
            cand.summary.latency_ms.p50,
        ),
        latency(
            "latency p99",
            |w| w.latency_p99_ms,
            base.summary.latency_ms.p99,
            cand.summary.latency_ms.p99,
        ),
        Series {
            metric: "throughput".into(),
            unit: Unit::PerSecond,
            direction: Direction::HigherIsBetter,
            scale: Scale::Log,
            design: Design::Independent,
            baseline: (base.summary.rps, pick(&bw, &|w| w.requests as f64)),
            candidate: (cand.summary.rps, pick(&cw, &|w| w.requests as f64)),
        },
        Series {
            metric: "error rate".into(),
            unit: Unit::Fraction,
            direction: Direction::LowerIsBetter,
            scale: Scale::Linear { floor: 0.001 },
            design: Design::Independent,
            baseline: (base.summary.error_rate, pick(&bw, &error_rate)),
            candidate: (cand.summary.error_rate, pick(&cw, &error_rate)),
        },
    ];
    judge_all(series, settings)
}

/// The windows of a whole second: the last one is dropped when it is cut short.
fn full_windows(series: &[SecondWindow]) -> Vec<&SecondWindow> {
    let keep = if series.len() > 2 {
        series.len() - 1
    } else {
        series.len()
    };
    series[..keep].iter().collect()
}

/// Compare two bench results benchmark by benchmark (matched by name, or the only one of each).
pub fn bench_rows(
    base: &BenchReport,
    cand: &BenchReport,
    settings: &CompareSettings,
) -> Vec<MetricRow> {
    let mut series = Vec::new();
    for b in &cand.benchmarks {
        let matched = base
            .benchmarks
            .iter()
            .find(|a| a.name == b.name)
            .or((base.benchmarks.len() == 1 && cand.benchmarks.len() == 1)
                .then(|| &base.benchmarks[0]));
        if let Some(a) = matched {
            series.extend(bench_series(a, b, Design::Independent));
        }
    }
    judge_all(series, settings)
}

/// Compare the first two benchmarks of one report round by round (`plumb compare --ab`): the
/// paired design, each round's two runs side by side.
pub fn paired_bench_rows(report: &BenchReport, settings: &CompareSettings) -> Vec<MetricRow> {
    let [a, b, ..] = report.benchmarks.as_slice() else {
        return Vec::new();
    };
    let by_round = |r: &BenchmarkRecord| {
        let mut runs = r.runs.clone();
        runs.sort_by_key(|run| run.round);
        BenchmarkRecord { runs, ..r.clone() }
    };
    let (a, b) = (by_round(a), by_round(b));
    let paired = a.runs.len() == b.runs.len();
    let design = if paired {
        Design::Paired
    } else {
        Design::Independent
    };
    judge_all(bench_series(&a, &b, design), settings)
}

fn bench_series(a: &BenchmarkRecord, b: &BenchmarkRecord, design: Design) -> Vec<Series> {
    let prefix = if a.name == b.name {
        format!("{}: ", b.name)
    } else {
        String::new()
    };
    let take = |r: &BenchmarkRecord, f: fn(&plumb_schema::bench::RunRecord) -> f64| -> Vec<f64> {
        r.runs.iter().map(f).collect()
    };
    let time_floor = Scale::Linear { floor: 1e-4 };
    let one = |name: &str,
               unit,
               scale,
               f: fn(&plumb_schema::bench::RunRecord) -> f64,
               va: f64,
               vb: f64| Series {
        metric: format!("{prefix}{name}"),
        unit,
        direction: Direction::LowerIsBetter,
        scale,
        design,
        baseline: (va, take(a, f)),
        candidate: (vb, take(b, f)),
    };
    vec![
        one(
            "wall median",
            Unit::Seconds,
            Scale::Log,
            |r| r.wall_seconds,
            a.stats.wall.median_seconds,
            b.stats.wall.median_seconds,
        ),
        one(
            "wall mean",
            Unit::Seconds,
            Scale::Log,
            |r| r.wall_seconds,
            a.stats.wall.mean_seconds,
            b.stats.wall.mean_seconds,
        ),
        one(
            "user",
            Unit::Seconds,
            time_floor,
            |r| r.user_seconds,
            a.stats.user_mean_seconds,
            b.stats.user_mean_seconds,
        ),
        one(
            "system",
            Unit::Seconds,
            time_floor,
            |r| r.system_seconds,
            a.stats.system_mean_seconds,
            b.stats.system_mean_seconds,
        ),
        one(
            "peak memory",
            Unit::Bytes,
            Scale::Log,
            |r| r.peak_rss_bytes as f64,
            a.stats.peak_rss_median_bytes as f64,
            b.stats.peak_rss_median_bytes as f64,
        ),
    ]
}

/// The candidate's thresholds next to the baseline's values.
pub fn threshold_rows(base: &LoadResult, cand: &LoadResult) -> Vec<ThresholdRow> {
    cand.thresholds
        .iter()
        .map(|t| ThresholdRow {
            expression: t.expression.clone(),
            baseline: base
                .thresholds
                .iter()
                .find(|b| b.expression == t.expression)
                .and_then(|b| b.observed),
            achieved: t.observed,
            status: t.status.clone(),
        })
        .collect()
}

/// A change as `+5.1%`; infinite bounds as `−∞`/`+∞`.
fn signed_percent(fraction: f64) -> String {
    if fraction == f64::INFINITY {
        "+∞".into()
    } else if fraction == f64::NEG_INFINITY {
        "−∞".into()
    } else {
        format!("{:+.1}%", fraction * 100.0)
    }
}

/// The cells of a row: metric, baseline, candidate, change, interval, verdict.
pub fn row_cells(row: &MetricRow) -> [String; 6] {
    let j = &row.judgement;
    let (change, ci) = match j.shift {
        Some(s) => (
            signed_percent(s.change),
            format!("[{}, {}]", signed_percent(s.low), signed_percent(s.high)),
        ),
        None => ("n/a".into(), "n/a".into()),
    };
    let verdict = match (j.verdict, j.more_runs) {
        (Verdict::Inconclusive, Some(n)) => format!("inconclusive (≈{n} more runs)"),
        (v, _) => v.as_str().to_owned(),
    };
    [
        row.metric.clone(),
        row.unit.format(row.baseline),
        row.unit.format(row.candidate),
        change,
        ci,
        verdict,
    ]
}

const HEADER: [&str; 6] = [
    "Metric",
    "Baseline",
    "Candidate",
    "Change",
    "95% CI",
    "Verdict",
];

/// The comparison as an aligned text table.
pub fn text(table: &ComparisonTable) -> String {
    let mut out = format!(
        "baseline  {}\ncandidate {}\ntolerance ±{}\n\n",
        table.baseline_id,
        table.candidate_id,
        format::significant(table.tolerance * 100.0) + "%"
    );
    let rows: Vec<[String; 6]> = table.rows.iter().map(row_cells).collect();
    let header = HEADER.map(str::to_owned);
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    if !table.thresholds.is_empty() {
        out.push('\n');
        out.push_str(&threshold_markdown(table));
    }
    for warning in &table.warnings {
        out.push_str(&format!("\nwarning: {warning}"));
    }
    if !table.warnings.is_empty() {
        out.push('\n');
    }
    out
}

/// The comparison as Markdown, fit for a pull-request comment.
pub fn markdown(table: &ComparisonTable) -> String {
    let mut out = format!(
        "### plumb: `{}` against baseline `{}` (tolerance ±{}%)\n\n",
        table.candidate_id,
        table.baseline_id,
        format::significant(table.tolerance * 100.0)
    );
    out.push_str(&format!("| {} |\n", HEADER.join(" | ")));
    out.push_str("|---|---:|---:|---:|---:|---|\n");
    for row in &table.rows {
        let c = row_cells(row);
        out.push_str(&format!("| {} |\n", c.join(" | ")));
    }
    if !table.thresholds.is_empty() {
        out.push('\n');
        out.push_str(&threshold_markdown(table));
    }
    for warning in &table.warnings {
        out.push_str(&format!("\n> **warning:** {warning}\n"));
    }
    out
}

/// Thresholds as a before/after review: Metric | Baseline | Target | Achieved | Change.
fn threshold_markdown(table: &ComparisonTable) -> String {
    let mut out = String::from(
        "| Metric | Baseline | Target | Achieved | Change |\n|---|---:|---|---:|---:|\n",
    );
    for t in &table.thresholds {
        let (metric, target) = t
            .expression
            .split_once(':')
            .map_or((t.expression.as_str(), ""), |(m, c)| (m.trim(), c.trim()));
        let value = |v: Option<f64>| v.map_or("n/a".into(), format::significant);
        let change = match (t.baseline, t.achieved) {
            (Some(b), Some(a)) if b != 0.0 => signed_percent(a / b - 1.0),
            _ => "n/a".into(),
        };
        out.push_str(&format!(
            "| {metric} | {} | {target} | {} ({}) | {change} |\n",
            value(t.baseline),
            value(t.achieved),
            t.status
        ));
    }
    out
}

/// The comparison as the versioned JSON of `plumb_schema::compare`.
pub fn json(table: &ComparisonTable, confidence: f64) -> String {
    let finite = |v: f64| v.is_finite().then_some(v);
    let metrics = table
        .rows
        .iter()
        .map(|row| {
            let shift = row.judgement.shift;
            MetricComparison {
                metric: row.metric.clone(),
                statistic: String::new(),
                baseline: row.baseline,
                candidate: row.candidate,
                unit: row.unit.name().to_owned(),
                change_kind: "relative".into(),
                change: shift.and_then(|s| finite(s.change)),
                change_low: shift.and_then(|s| finite(s.low)),
                change_high: shift.and_then(|s| finite(s.high)),
                verdict: row.judgement.verdict.as_str().to_owned(),
                reason: None,
                more_samples: row.judgement.more_runs,
                samples_baseline: 0,
                samples_candidate: 0,
            }
        })
        .collect();
    let result = ComparisonResult {
        schema_version: COMPARE_SCHEMA_VERSION,
        baseline: vec![table.baseline_id.clone()],
        candidate: vec![table.candidate_id.clone()],
        tolerance: table.tolerance,
        confidence,
        row_confidence: confidence,
        metrics,
        warnings: table.warnings.clone(),
    };
    serde_json::to_string_pretty(&result).expect("a comparison serializes") + "\n"
}
