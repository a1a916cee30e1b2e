//! Snapshots of the comparison renderers (text, Markdown for PR comments, JUnit for CI) from two
//! fixed bench results, one 20% slower.

use plumb_compare::CompareSettings;
use plumb_report::compare::{self, ComparisonTable, ThresholdRow};
use plumb_schema::bench::BenchReport;

fn bench(scale: f64) -> BenchReport {
    let runs: Vec<_> = (0..20)
        .map(|i| {
            let wall = scale * (0.010 + 0.0002 * ((i * 7) % 11) as f64);
            serde_json::json!({"round": i + 1, "wall_seconds": wall, "user_seconds": 0.001,
            "system_seconds": 0.002, "peak_rss_bytes": 4_000_000, "voluntary_context_switches": 1,
            "involuntary_context_switches": 0, "block_input_ops": 0, "block_output_ops": 0,
            "exit_code": 0, "signal": null})
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "schema_version": 1, "plumb_version": "0.1.0",
        "settings": {"warmup_runs": 0, "shell": null, "order": "interleaved", "seed": 1,
                     "prepare": null, "setup": null, "cleanup": null},
        "interrupted": false, "shell_overhead": null, "peak_rss_floor_bytes": null,
        "benchmarks": [{"name": "build", "command": "make", "parameters": {}, "runs": runs,
            "stats": {"runs": 20, "wall": {"mean_seconds": 0.011 * scale, "stddev_seconds": null,
                "median_seconds": 0.011 * scale, "mad_seconds": 0.0, "min_seconds": 0.010 * scale,
                "max_seconds": 0.012 * scale}, "user_mean_seconds": 0.001, "system_mean_seconds": 0.002,
                "peak_rss_median_bytes": 4_000_000, "peak_rss_max_bytes": 4_000_000,
                "voluntary_context_switches_mean": 1.0, "involuntary_context_switches_mean": 0.0},
            "outliers": {"z_threshold": 3.5, "indices": [], "slow_first_run": false}}],
        "comparison": null
    }))
    .unwrap()
}

fn table() -> ComparisonTable {
    let settings = CompareSettings {
        tolerance: 0.05,
        ..CompareSettings::default()
    };
    let mut comparison = plumb_compare::compare_bench(&[&bench(1.0)], &[&bench(1.2)], &settings);
    comparison
        .warnings
        .push("the runs come from different machines (4 vs 8 cores)".into());
    ComparisonTable {
        baseline: vec!["main (018bcfe5680d, commit 1a2b3c4d)".into()],
        candidate: vec!["018bcfe5690c".into()],
        tolerance: 0.05,
        confidence: settings.confidence,
        comparison,
        thresholds: vec![ThresholdRow {
            expression: "http_req_duration: p(95)<200ms".into(),
            baseline: Some(150.0),
            achieved: Some(210.0),
            status: plumb_stats::ThresholdStatus::Failed,
        }],
        no_data: plumb_stats::NoData::default(),
    }
}

#[test]
fn markdown_for_a_pull_request() {
    insta::assert_snapshot!(compare::markdown(&table()));
}

#[test]
fn text_table() {
    insta::assert_snapshot!(compare::text(&table()));
}

#[test]
fn junit_marks_the_regression_and_the_failed_threshold() {
    let table = table();
    assert!(table.regressed() && table.threshold_failed());
    insta::assert_snapshot!(plumb_report::junit::junit(&table, false, 12.5));
}

/// The JUnit file parses with junitparser (a common consumer) and has the counts and times CI
/// dashboards read. `pip install junitparser` (which `.ci/run` does) provides it.
#[test]
fn junit_parses_with_junitparser() {
    let table = table();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gate.xml");
    std::fs::write(&path, plumb_report::junit::junit(&table, true, 12.5)).unwrap();
    let script = r#"
import sys
from junitparser import JUnitXml, Failure, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
for suite in xml:
    print(suite.name, suite.tests, suite.failures, suite.errors, suite.skipped, suite.time)
    for case in suite:
        kinds = [type(r).__name__ for r in case.result]
        print(case.name, case.time, ",".join(kinds) or "passed", case.system_out is not None)
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .expect("python3 runs (Debian's python3; .ci/run installs junitparser with pip)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "junitparser could not read the file (pip install junitparser): {stderr}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    // --strict: the two not-comparable rows stay skipped; the regressions, the inconclusive
    // peak memory (two single runs cannot show it within 5%) and the threshold fail.
    assert!(lines[0].ends_with("6 4 0 2 12.5"), "{text}");
    assert!(
        lines[1].starts_with("build: wall time (median of runs) 12.5 Failure True"),
        "{text}"
    );
    assert!(lines[3].contains("Skipped True"), "{text}");
    assert!(
        lines[5].contains("peak memory") && lines[5].ends_with("Failure True"),
        "{text}"
    );
}
