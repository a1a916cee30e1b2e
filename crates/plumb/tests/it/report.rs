//! Reports of real runs: `plumb load --per-second` against the embedded target, and `plumb
//! report` of two and of three saved load runs opened in headless Chromium (a comparison with
//! both runs overlaid, a trend labelled by run name), with no console errors.

use crate::support::{stderr, stdout};
use plumb_target::TargetSettings;
use plumb_test::{page_text, Chromium};
use std::path::Path;
use std::process::{Command, Output};

fn plumb(ledger: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("PLUMB_LEDGER", ledger)
        .env_remove("PLUMB_NO_SAVE")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("plumb runs")
}

fn target() -> plumb_target::RunningTarget {
    let settings = TargetSettings {
        latency: plumb_target::Latency::Uniform(
            std::time::Duration::from_millis(1),
            std::time::Duration::from_millis(4),
        ),
        ..TargetSettings::default()
    };
    plumb_target::spawn(settings, "127.0.0.1:0".parse().unwrap(), 1).unwrap()
}

/// The lines of the `--per-second` table after its header.
fn table_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip_while(|l| !l.trim_start().starts_with("second"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[test]
fn per_second_prints_a_line_for_every_second_of_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let target = target();
    let url = target.url("/");
    let args = [
        "load",
        &url,
        "--rate",
        "100",
        "-d",
        "3s",
        "-q",
        "--per-second",
    ];
    let out = plumb(&ledger, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let rows = table_rows(&text);
    let json = plumb(&ledger, &["show", "latest", "-o", "json"]);
    let result: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let seconds = result["timeseries"].as_array().unwrap();
    assert_eq!(rows.len(), seconds.len(), "{text}");
    for (row, second) in rows.iter().zip(seconds) {
        assert_eq!(row[0], second["t_s"].to_string(), "{text}");
        assert_eq!(row[1], second["requests"].to_string(), "{text}");
        assert_eq!(
            row.len(),
            7,
            "second, req/s, errors, p50, p95, p99, max: {text}"
        );
    }
    // With JSON on stdout the table goes to stderr, and stdout stays one JSON document.
    let out = plumb(
        &ledger,
        &[
            "load",
            &url,
            "--rate",
            "50",
            "-d",
            "2s",
            "-q",
            "--per-second",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str::<serde_json::Value>(&stdout(&out)).expect("stdout is JSON");
    assert!(!table_rows(&stderr(&out)).is_empty(), "{}", stderr(&out));
}

#[test]
fn reports_of_real_runs_open_in_chromium_with_overlays_and_a_trend() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let target = target();
    let url = target.url("/");
    let me = std::process::id().to_string();
    for name in ["before", "after", "again"] {
        let out = plumb(
            &ledger,
            &[
                "load",
                &url,
                "--rate",
                "100",
                "-d",
                "2s",
                "-q",
                "--run-name",
                name,
                "--watch-pid",
                &me,
                "--threshold",
                "http_req_duration: p(95)<500ms",
                "--threshold",
                "http_req_failed: rate<0.01",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let compare = dir.path().join("compare.html");
    let trend = dir.path().join("trend.html");
    for (file, runs) in [
        (&compare, &["latest~1", "latest"][..]),
        (&trend, &["latest~2", "latest~1", "latest"][..]),
    ] {
        let mut args = vec!["report"];
        args.extend(runs);
        args.extend(["--html", file.to_str().unwrap()]);
        let out = plumb(&ledger, &args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let shot = Chromium::screenshot(file, 1280, 2400).unwrap_or_else(|e| panic!("{e}"));
        assert!(shot.console.is_empty(), "console: {:?}", shot.console);
    }
    let (dom, console) = Chromium::dump_dom(&compare).unwrap();
    assert!(console.is_empty(), "{console:?}");
    let text = page_text(&dom);
    for needle in [
        "Comparison",
        "Baseline and candidate on shared axes",
        "Server CPU over time",
        "baseline after",
        "candidate again",
        "PASS http_req_duration: p(95)<500ms",
        "Server PID",
        "CPU over time",
        "latency (ms)",
    ] {
        assert!(text.contains(needle), "{needle:?}: {text}");
    }
    let (dom, _) = Chromium::dump_dom(&trend).unwrap();
    let text = page_text(&dom);
    assert!(text.contains("Trend over 3 load runs"), "{text}");
    for name in ["before", "after", "again"] {
        assert!(text.contains(&format!("Load run {name}")), "{name}: {text}");
    }
    let markdown = plumb(
        &ledger,
        &["report", "latest~1", "latest", "--markdown", "-"],
    );
    assert_eq!(markdown.status.code(), Some(0), "{}", stderr(&markdown));
    let md = stdout(&markdown);
    assert!(
        md.contains("| Metric | Statistic |") && md.chars().count() <= 65_536,
        "{md}"
    );
}
