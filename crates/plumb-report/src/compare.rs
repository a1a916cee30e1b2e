//! A comparison (`plumb_compare::Comparison`, which owns every statistic and verdict) rendered as
//! an aligned text table, Markdown for a pull request, and the versioned JSON of
//! `plumb_schema::compare`. Nothing here judges: it only prints what the comparison decided.

use crate::format;
use plumb_compare::{Change, ChangeKind, Comparison, Row, Unit, Verdict};
use plumb_schema::compare::{ComparisonResult, MetricComparison, COMPARE_SCHEMA_VERSION};

/// A threshold of the candidate next to the baseline's value of the same metric.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdRow {
    /// The threshold expression, e.g. `http_req_duration: p(95)<200ms`.
    pub expression: String,
    /// The baseline's observed value, when it had one.
    pub baseline: Option<f64>,
    /// The candidate's observed value; `None` when there was no data.
    pub achieved: Option<f64>,
    /// Passed, failed or no data.
    pub status: plumb_stats::ThresholdStatus,
}

/// What `compare`, `gate` and `report` print: the runs on each side, the settings, the
/// comparison and the candidate's thresholds.
#[derive(Debug, Clone)]
pub struct ComparisonTable {
    /// The baseline's runs, each by name, id and commit where known.
    pub baseline: Vec<String>,
    /// The candidate's runs.
    pub candidate: Vec<String>,
    /// The tolerance δ, as a fraction.
    pub tolerance: f64,
    /// The family confidence of the verdicts.
    pub confidence: f64,
    /// The rows, verdicts and warnings.
    pub comparison: Comparison,
    /// The candidate's thresholds.
    pub thresholds: Vec<ThresholdRow>,
    /// What a threshold with no data counts as (`--allow-no-data` makes it pass).
    pub no_data: plumb_stats::NoData,
}

impl ComparisonTable {
    /// Whether any metric regressed.
    pub fn regressed(&self) -> bool {
        self.comparison.regressed()
    }

    /// Whether any metric is inconclusive.
    pub fn inconclusive(&self) -> bool {
        self.comparison.inconclusive()
    }

    /// Whether any threshold of the candidate failed (one with no data too, unless allowed).
    pub fn threshold_failed(&self) -> bool {
        self.thresholds.iter().any(|t| t.status.fails(self.no_data))
    }

    /// The warnings of the comparison.
    pub fn warnings(&self) -> &[String] {
        &self.comparison.warnings
    }

    fn sides(&self) -> (String, String) {
        (self.baseline.join(", "), self.candidate.join(", "))
    }
}

/// A value with its unit.
pub fn value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Millis => format!("{} ms", format::ms(v)),
        Unit::Seconds => format!("{} ms", format::ms(v * 1e3)),
        Unit::PerSecond => format!("{} req/s", format::rate(v)),
        Unit::Fraction => format::percent(v),
        Unit::Bytes => format::bytes(v.max(0.0) as u64),
        Unit::CorePercent => format!("{}% of a core", format::significant(v)),
        Unit::PerRequest => format!("{} per request", format::significant(v)),
        Unit::Number => format::significant(v),
    }
}

/// A change as `+5.1%` (relative) or `+1.90 pp` (a difference of fractions).
pub fn signed(kind: ChangeKind, x: f64) -> String {
    match kind {
        ChangeKind::Relative => format!("{:+.1}%", x * 100.0),
        ChangeKind::Difference => format!("{:+.2} pp", x * 100.0),
    }
}

fn change_cells(change: Option<&Change>) -> (String, String) {
    match change {
        Some(c) => (
            signed(c.kind, c.point),
            format!("[{}, {}]", signed(c.kind, c.low), signed(c.kind, c.high)),
        ),
        None => ("-".into(), "-".into()),
    }
}

/// The verdict in words, with the reason or the samples that would settle it.
pub fn verdict_text(row: &Row) -> String {
    match (&row.verdict, row.more_samples) {
        (Verdict::NotComparable(why), _) => format!("not comparable: {why}"),
        (Verdict::Inconclusive, Some(n)) => format!("inconclusive (≈{n} more samples a side)"),
        (v, _) => v.as_str().to_owned(),
    }
}

/// The cells of a row: metric, statistic, baseline, candidate, change, interval, verdict.
pub fn row_cells(row: &Row) -> [String; 7] {
    let (change, interval) = change_cells(row.change.as_ref());
    [
        row.metric.clone(),
        row.statistic.clone(),
        value(row.unit, row.baseline),
        value(row.unit, row.candidate),
        change,
        interval,
        verdict_text(row),
    ]
}

/// The table's header, naming the interval's confidence.
pub fn header(table: &ComparisonTable) -> [String; 7] {
    let ci = format!(
        "{}% CI",
        format::significant(table.comparison.row_confidence * 100.0)
    );
    [
        "Metric",
        "Statistic",
        "Baseline",
        "Candidate",
        "Change",
        &ci,
        "Verdict",
    ]
    .map(str::to_owned)
}

/// The comparison as an aligned text table.
pub fn text(table: &ComparisonTable) -> String {
    let (base, cand) = table.sides();
    let mut out = format!(
        "baseline  {base}\ncandidate {cand}\ntolerance ±{}%, {}% confidence that no row is a false alarm\n\n",
        format::significant(table.tolerance * 100.0),
        format::significant(table.confidence * 100.0)
    );
    // Warnings first: a reader must know the two sides differ before reading any verdict.
    for warning in table.warnings() {
        out.push_str(&format!("WARNING: {warning}\n"));
    }
    if !table.warnings().is_empty() {
        out.push('\n');
    }
    let rows: Vec<[String; 7]> = table.comparison.rows.iter().map(row_cells).collect();
    let header = header(table);
    let widths: Vec<usize> = (0..7)
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
    out
}

/// The comparison as Markdown, fit for a pull-request comment (cut with a note beyond GitHub's
/// 65,536 characters).
pub fn markdown(table: &ComparisonTable) -> String {
    crate::markdown::fit_comment(&full_markdown(table)).into_owned()
}

fn full_markdown(table: &ComparisonTable) -> String {
    let (base, cand) = table.sides();
    let mut out = format!(
        "### plumb: `{cand}` against baseline `{base}` (tolerance ±{}%)\n\n",
        format::significant(table.tolerance * 100.0)
    );
    for warning in table.warnings() {
        out.push_str(&format!("> **warning:** {warning}\n\n"));
    }
    out.push_str(&format!("| {} |\n", header(table).join(" | ")));
    out.push_str("|---|---|---:|---:|---:|---:|---|\n");
    for row in &table.comparison.rows {
        out.push_str(&format!("| {} |\n", row_cells(row).join(" | ")));
    }
    if !table.thresholds.is_empty() {
        out.push('\n');
        out.push_str(&threshold_markdown(table));
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
        let shown = |v: Option<f64>| {
            v.map_or("no data".into(), |v| {
                crate::thresholds::observed(&t.expression, v)
            })
        };
        let change = match (t.baseline, t.achieved) {
            (Some(b), Some(a)) if b > 0.0 => signed(ChangeKind::Relative, a / b - 1.0),
            _ => "-".into(),
        };
        out.push_str(&format!(
            "| {metric} | {} | {target} | {} ({}) | {change} |\n",
            shown(t.baseline),
            shown(t.achieved),
            t.status.as_str()
        ));
    }
    out
}

/// The comparison as the versioned result of `plumb_schema::compare`.
pub fn result(table: &ComparisonTable) -> ComparisonResult {
    let metrics = table.comparison.rows.iter().map(metric_record).collect();
    ComparisonResult {
        schema_version: COMPARE_SCHEMA_VERSION,
        baseline: table.baseline.clone(),
        candidate: table.candidate.clone(),
        tolerance: table.tolerance,
        confidence: table.confidence,
        row_confidence: table.comparison.row_confidence,
        metrics,
        warnings: table.comparison.warnings.clone(),
    }
}

fn metric_record(row: &Row) -> MetricComparison {
    let change = row.change.as_ref();
    MetricComparison {
        metric: row.metric.clone(),
        statistic: row.statistic.clone(),
        baseline: row.baseline,
        candidate: row.candidate,
        unit: row.unit.name().to_owned(),
        change_kind: match change.map_or(ChangeKind::Relative, |c| c.kind) {
            ChangeKind::Relative => "relative".into(),
            ChangeKind::Difference => "difference".into(),
        },
        change: change.map(|c| c.point),
        change_low: change.map(|c| c.low),
        change_high: change.map(|c| c.high),
        verdict: row.verdict.as_str().to_owned(),
        reason: match &row.verdict {
            Verdict::NotComparable(why) => Some(why.clone()),
            _ => None,
        },
        more_samples: row.more_samples,
        samples_baseline: row.samples.0 as u64,
        samples_candidate: row.samples.1 as u64,
    }
}

/// The comparison as JSON text.
pub fn json(table: &ComparisonTable) -> String {
    serde_json::to_string_pretty(&result(table)).expect("a comparison serializes") + "\n"
}
