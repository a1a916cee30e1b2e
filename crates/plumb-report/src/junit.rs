//! JUnit XML of a gate, in the shape Jenkins' JUnit schema and common consumers (junitparser,
//! GitLab, GitHub test reporters) read: one `<testsuite>` named after the runs compared, one
//! `<testcase>` per compared metric and per threshold, each with its numbers in `<system-out>`.
//! A regression or a failed threshold is a `<failure>`; an inconclusive or not comparable metric
//! is `<skipped>` (an inconclusive one fails with `--strict`); a case's `time` is the measured duration of the
//! candidate runs its figures come from.

use crate::compare::{row_cells, ComparisonTable, ThresholdRow};
use plumb_compare::{Row, Verdict};
use std::fmt::Write;

/// How one case ended.
enum CaseOutcome {
    Passed,
    /// The message, and the failure's type (`regression`, `threshold`, `inconclusive`).
    Failed(String, &'static str),
    Skipped(String),
}

/// The gate's result as a JUnit document. `candidate_seconds` is how long the candidate runs
/// measured, in seconds.
pub fn junit(table: &ComparisonTable, strict: bool, candidate_seconds: f64) -> String {
    let mut cases = String::new();
    let (mut failures, mut skipped, mut tests) = (0, 0, 0);
    let mut add = |name: &str, outcome: CaseOutcome, numbers: &str| {
        tests += 1;
        match outcome {
            CaseOutcome::Failed(..) => failures += 1,
            CaseOutcome::Skipped(_) => skipped += 1,
            CaseOutcome::Passed => {}
        }
        cases.push_str(&case(name, &outcome, numbers, candidate_seconds));
    };
    for row in &table.comparison.rows {
        add(&case_name(row), row_outcome(row, strict), &row_numbers(row));
    }
    for t in &table.thresholds {
        add(
            &t.expression,
            threshold_outcome(t, table.no_data),
            &threshold_numbers(t),
        );
    }
    let name = escape(&format!(
        "plumb gate: {} against baseline {}",
        table.candidate.join(", "),
        table.baseline.join(", ")
    ));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"plumb gate\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\">\n  <testsuite name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\">\n{cases}  </testsuite>\n</testsuites>\n",
        time = candidate_seconds.max(0.0)
    )
}

fn case_name(row: &Row) -> String {
    format!("{} ({})", row.metric, row.statistic)
}

fn row_outcome(row: &Row, strict: bool) -> CaseOutcome {
    let verdict = crate::compare::verdict_text(row);
    match &row.verdict {
        Verdict::Regressed => CaseOutcome::Failed(verdict, "regression"),
        Verdict::Inconclusive if strict => CaseOutcome::Failed(verdict, "inconclusive"),
        Verdict::Inconclusive | Verdict::NotComparable(_) => CaseOutcome::Skipped(verdict),
        Verdict::Improved | Verdict::Equivalent => CaseOutcome::Passed,
    }
}

fn row_numbers(row: &Row) -> String {
    let [_, statistic, baseline, candidate, change, interval, verdict] = row_cells(row);
    format!(
        "{statistic}: baseline {baseline}, candidate {candidate}, change {change} {interval}; {verdict}; samples {} and {}",
        row.samples.0, row.samples.1
    )
}

fn threshold_outcome(t: &ThresholdRow, no_data: plumb_stats::NoData) -> CaseOutcome {
    use plumb_stats::ThresholdStatus;
    match t.status {
        ThresholdStatus::Passed => CaseOutcome::Passed,
        ThresholdStatus::NoData if !t.status.fails(no_data) => {
            CaseOutcome::Skipped("no data (allowed by --allow-no-data)".into())
        }
        ThresholdStatus::NoData => {
            CaseOutcome::Failed("no data: nothing was measured".into(), "threshold")
        }
        ThresholdStatus::Failed => {
            CaseOutcome::Failed(format!("failed: {}", threshold_numbers(t)), "threshold")
        }
    }
}

fn threshold_numbers(t: &ThresholdRow) -> String {
    let shown = |v: Option<f64>| v.map_or("no data".to_string(), crate::format::significant);
    format!(
        "observed {}, baseline {} ({})",
        shown(t.achieved),
        shown(t.baseline),
        t.status.as_str()
    )
}

fn case(name: &str, outcome: &CaseOutcome, numbers: &str, seconds: f64) -> String {
    let mut out = format!(
        "    <testcase name=\"{}\" classname=\"plumb.gate\" time=\"{:.3}\">\n",
        escape(name),
        seconds.max(0.0)
    );
    match outcome {
        CaseOutcome::Passed => {}
        CaseOutcome::Failed(message, kind) => {
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{kind}\">{}</failure>",
                escape(message),
                escape(numbers)
            );
        }
        CaseOutcome::Skipped(message) => {
            let _ = writeln!(out, "      <skipped message=\"{}\"/>", escape(message));
        }
    }
    let _ = writeln!(out, "      <system-out>{}</system-out>", escape(numbers));
    out.push_str("    </testcase>\n");
    out
}

fn escape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
