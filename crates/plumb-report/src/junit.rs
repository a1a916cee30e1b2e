//! JUnit XML of a gate: one test case per compared metric (and per threshold), failed when the
//! metric regressed (or, with `--strict`, stayed inconclusive) or the threshold failed, so generic
//! CI dashboards show regressions.

use crate::compare::ComparisonTable;
use plumb_stats::compare::Verdict;

/// The gate's result as a JUnit `<testsuite>`.
pub fn junit(table: &ComparisonTable, strict: bool) -> String {
    let mut cases = String::new();
    let mut failures = 0;
    for row in &table.rows {
        let verdict = row.judgement.verdict;
        let failed = verdict == Verdict::Regressed || (strict && verdict == Verdict::Inconclusive);
        let detail = row.judgement.shift.map_or("no estimate".into(), |s| {
            format!(
                "change {:+.2}%, 95% CI [{:+.2}%, {:+.2}%]",
                s.change * 100.0,
                s.low * 100.0,
                s.high * 100.0
            )
        });
        cases.push_str(&case(&row.metric, failed, verdict.as_str(), &detail));
        failures += usize::from(failed);
    }
    for t in &table.thresholds {
        let failed = t.status == "failed";
        let detail = format!("observed {:?}", t.achieved);
        cases.push_str(&case(&t.expression, failed, &t.status, &detail));
        failures += usize::from(failed);
    }
    let tests = table.rows.len() + table.thresholds.len();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"plumb gate\" tests=\"{tests}\" failures=\"{failures}\">\n{cases}</testsuite>\n"
    )
}

fn case(name: &str, failed: bool, verdict: &str, detail: &str) -> String {
    let name = escape(name);
    if failed {
        format!(
            "  <testcase name=\"{name}\" classname=\"plumb.gate\">\n    <failure message=\"{}\">{}</failure>\n  </testcase>\n",
            escape(verdict),
            escape(detail)
        )
    } else {
        format!("  <testcase name=\"{name}\" classname=\"plumb.gate\"/>\n")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
