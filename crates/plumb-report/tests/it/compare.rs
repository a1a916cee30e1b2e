//! Snapshots of the comparison renderers (text, Markdown for PR comments, JUnit for CI) from two
//! fixed bench results, one 20% slower.

use plumb_report::compare::{self, ComparisonTable, ThresholdRow};
use plumb_schema::bench::BenchReport;
use plumb_stats::compare::CompareSettings;

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
    ComparisonTable {
        baseline_id: "018bcfe5680deadbeef".into(),
        candidate_id: "018bcfe5690cafef00d".into(),
        tolerance: 0.05,
        rows: compare::bench_rows(&bench(1.0), &bench(1.2), &settings),
        thresholds: vec![ThresholdRow {
            expression: "http_req_duration: p(95)<200ms".into(),
            baseline: Some(150.0),
            achieved: Some(210.0),
            status: "failed".into(),
        }],
        warnings: vec!["the runs come from different machines (4 vs 8 cores)".into()],
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
    insta::assert_snapshot!(plumb_report::junit::junit(&table, false));
}
