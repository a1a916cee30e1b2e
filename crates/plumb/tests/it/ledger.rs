//! The ledger from the outside: `plumb load` and `plumb bench` save their runs; `history`, `show`,
//! `baseline`, `compare` and `gate` read them back; bad references fail with a hint. Every test
//! uses its own temporary ledger (`PLUMB_LEDGER` or `--ledger`), never the repository's `.plumb/`.

use crate::support::{stderr, stdout};
use plumb_target::TargetSettings;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `plumb ARGS` with the ledger at `ledger`.
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

fn temp_ledger() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    (dir, path)
}

/// A bench result file with one benchmark `sleep` whose runs take `scale` × a fixed noisy series.
fn bench_file(dir: &Path, name: &str, scale: f64, exit_code: i32) -> PathBuf {
    let walls: Vec<f64> = (0..20)
        .map(|i| scale * (0.010 + 0.00002 * ((i * 7) % 11) as f64))
        .collect();
    let runs: Vec<_> = walls
        .iter()
        .enumerate()
        .map(|(i, w)| {
            serde_json::json!({"round": i + 1, "wall_seconds": w, "user_seconds": 0.001,
            "system_seconds": 0.001, "peak_rss_bytes": 4_000_000, "voluntary_context_switches": 1,
            "involuntary_context_switches": 0, "block_input_ops": 0, "block_output_ops": 0,
            "exit_code": exit_code, "signal": null})
        })
        .collect();
    let median = walls[10];
    let json = serde_json::json!({
        "schema_version": 1, "plumb_version": "0.1.0",
        "settings": {"warmup_runs": 0, "shell": null, "order": "interleaved", "seed": 1,
                     "prepare": null, "setup": null, "cleanup": null},
        "interrupted": false, "shell_overhead": null, "peak_rss_floor_bytes": null,
        "benchmarks": [{"name": "sleep", "command": "sleep", "parameters": {}, "runs": runs,
            "stats": {"runs": 20, "wall": {"mean_seconds": median, "stddev_seconds": null,
                "median_seconds": median, "mad_seconds": 0.0, "min_seconds": median,
                "max_seconds": median}, "user_mean_seconds": 0.001, "system_mean_seconds": 0.001,
                "peak_rss_median_bytes": 4_000_000, "peak_rss_max_bytes": 4_000_000,
                "voluntary_context_switches_mean": 1.0, "involuntary_context_switches_mean": 0.0},
            "outliers": {"z_threshold": 3.5, "indices": [], "slow_first_run": false}}],
        "comparison": null
    });
    let path = dir.join(name);
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

#[test]
fn bench_runs_are_saved_listed_shown_and_named_as_baselines() {
    let (_dir, ledger) = temp_ledger();
    for label in ["one", "two"] {
        let out = plumb(
            &ledger,
            &[
                "bench",
                "-N",
                "-r",
                "3",
                "true",
                "--run-name",
                "truth",
                "--label",
                &format!("try={label}"),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let out = plumb(&ledger, &["history"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].contains("bench") && lines[1].contains("try=two"),
        "{text}"
    );
    assert!(lines[2].contains("try=one"), "{text}");
    let out = plumb(
        &ledger,
        &["history", "--label", "try=one", "--name", "truth"],
    );
    assert_eq!(stdout(&out).lines().count(), 2);

    let out = plumb(&ledger, &["show", "latest~1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("command  plumb bench -N -r 3 true"),
        "{}",
        stdout(&out)
    );
    let out = plumb(&ledger, &["show", "latest", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["benchmarks"][0]["runs"].as_array().unwrap().len(), 3);

    let out = plumb(&ledger, &["baseline", "set", "main", "latest~1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = plumb(&ledger, &["baseline", "list"]);
    assert!(stdout(&out).starts_with("main "), "{}", stdout(&out));
    let out = plumb(&ledger, &["compare", "baseline:main", "latest"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("true: wall time") && stdout(&out).contains("median of runs"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_load_run_is_saved_with_its_series() {
    let (_dir, ledger) = temp_ledger();
    let target =
        plumb_target::spawn(TargetSettings::default(), "127.0.0.1:0".parse().unwrap(), 1).unwrap();
    let url = target.url("/");
    let out = plumb(
        &ledger,
        &["load", &url, "-c", "2", "-n", "200", "-t", "1", "-q"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = plumb(&ledger, &["show", "latest", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["kind"], "load");
    assert_eq!(json["summary"]["requests"], 200);
    assert!(!json["histograms"]["latency"].as_str().unwrap().is_empty());
    let out = plumb(&ledger, &["compare", "latest", "latest"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("latency p99"), "{}", stdout(&out));
    let out = plumb(&ledger, &["compare", "latest", "latest", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(include_str!(
        "../../../plumb-schema/schema/compare.schema.json"
    ))
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(json["metrics"][0]["metric"], "latency p50");
}

#[test]
fn no_save_leaves_no_ledger() {
    let (_dir, ledger) = temp_ledger();
    let out = plumb(&ledger, &["bench", "-N", "-r", "2", "true", "--no-save"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!ledger.exists());
}

#[test]
fn a_ledger_that_cannot_be_written_is_a_warning_not_a_lost_result() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let out = plumb(
        &blocker.join("ledger.db"),
        &["bench", "-N", "-r", "2", "true"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("true"), "the result is still printed");
    let err = stderr(&out);
    assert!(err.contains("warning: the run was not saved"), "{err}");
    assert!(err.contains("hint: "), "{err}");
}

#[test]
fn unknown_runs_missing_baselines_and_corrupt_files_are_named_with_a_hint() {
    let (dir, ledger) = temp_ledger();
    let cases: [(&[&str], &str); 3] = [
        (&["show", "ffff"], "no run matches 'ffff'"),
        (
            &["compare", "baseline:nope", "latest"],
            "no baseline named 'nope'",
        ),
        (&["show", "latest~3"], "no run matches 'latest~3'"),
    ];
    for (args, message) in cases {
        let out = plumb(&ledger, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains(message) && err.contains("hint: "),
            "{args:?}: {err}"
        );
    }
    let corrupt = dir.path().join("corrupt.json");
    std::fs::write(&corrupt, "{\"kind\": \"load\"").unwrap();
    let out = plumb(&ledger, &["show", corrupt.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("corrupt.json") && err.contains("hint: "),
        "{err}"
    );
}

#[test]
fn gate_exit_codes_follow_the_verdicts() {
    let (dir, ledger) = temp_ledger();
    let base = bench_file(dir.path(), "base.json", 1.0, 0);
    let same = bench_file(dir.path(), "same.json", 1.0, 0);
    let slower = bench_file(dir.path(), "slower.json", 1.2, 0);
    let failing = bench_file(dir.path(), "failing.json", 1.0, 1);
    let gate = |cand: &Path| {
        plumb(
            &ledger,
            &[
                "gate",
                "--baseline",
                base.to_str().unwrap(),
                cand.to_str().unwrap(),
            ],
        )
    };
    let out = gate(&same);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("**gate: passed"), "{}", stdout(&out));
    let out = gate(&slower);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("| sleep: wall time | median of runs |"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("regressed"));
    let out = gate(&failing);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
}

#[test]
fn gate_writes_junit_and_the_github_step_summary() {
    let (dir, ledger) = temp_ledger();
    let base = bench_file(dir.path(), "base.json", 1.0, 0);
    let slower = bench_file(dir.path(), "slower.json", 1.2, 0);
    let junit = dir.path().join("junit.xml");
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args([
            "gate",
            "--baseline",
            base.to_str().unwrap(),
            slower.to_str().unwrap(),
            "--junit",
        ])
        .arg(&junit)
        .env("PLUMB_LEDGER", &ledger)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testcase name=\"sleep: wall time (median of runs)\""),
        "{xml}"
    );
    assert!(
        xml.contains("<failure message=\"regressed\" type=\"regression\">"),
        "{xml}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("earlier step\n### plumb:"), "{md}");
    assert!(md.contains("**gate: failed (regression)**"), "{md}");
}

#[test]
fn gate_on_a_baseline_name_uses_the_ledger() {
    let (_dir, ledger) = temp_ledger();
    let out = plumb(&ledger, &["bench", "-N", "-r", "3", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = plumb(&ledger, &["gate", "--baseline", "main"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no baseline named 'main'"),
        "{}",
        stderr(&out)
    );
    plumb(&ledger, &["baseline", "set", "main", "latest"]);
    let out = plumb(&ledger, &["gate", "--baseline", "main"]);
    // The same run against itself: every difference is zero.
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// Open `html` in headless Chromium (Debian's `chromium`, installed by .ci/run) and return the
/// DOM it built and what it logged.
fn chromium_dump(html: &Path) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs: apt-get install chromium (.ci/run installs it)");
    assert!(out.status.success(), "{}", stderr(&out));
    (stdout(&out), stderr(&out))
}

#[test]
fn the_html_report_opens_in_chromium_with_its_charts() {
    let (dir, ledger) = temp_ledger();
    let target =
        plumb_target::spawn(TargetSettings::default(), "127.0.0.1:0".parse().unwrap(), 1).unwrap();
    let out = plumb(
        &ledger,
        &[
            "load",
            &target.url("/"),
            "-c",
            "2",
            "-d",
            "2s",
            "-t",
            "1",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let base = bench_file(dir.path(), "base.json", 1.0, 0);
    let slower = bench_file(dir.path(), "slower.json", 1.2, 0);
    let html = dir.path().join("report.html");
    let csv = dir.path().join("report.csv");
    let out = plumb(
        &ledger,
        &[
            "report",
            base.to_str().unwrap(),
            slower.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let load_html = dir.path().join("load.html");
    let out = plumb(
        &ledger,
        &["report", "latest", "--html", load_html.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = std::fs::read_to_string(&load_html).unwrap();
    for outside in ["<script", "<link", " src=", "@import", "url("] {
        assert!(
            !page.contains(outside),
            "the report must be self-contained: {outside}"
        );
    }

    for (file, charts) in [
        (&html, &["distribution"][..]),
        (
            &load_html,
            &["spectrum", "latency", "throughput", "errors"][..],
        ),
    ] {
        let (dom, log) = chromium_dump(file);
        for chart in charts {
            assert!(
                dom.contains(&format!("class=\"chart {chart}\"")),
                "{chart} missing: {dom}"
            );
        }
        assert!(
            dom.contains("<polyline") || dom.contains("class=\"box\""),
            "the charts have lines (load) or boxes with points (bench)"
        );
        assert!(!log.contains("CONSOLE"), "console messages: {log}");
    }
    let (dom, _) = chromium_dump(&html);
    assert!(
        dom.contains("class=\"regressed\""),
        "the comparison table is in the report"
    );
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.starts_with("run,kind,series,x,value\n"));
    assert_eq!(csv.lines().count(), 1 + 40);
}

#[test]
fn compare_ab_runs_both_commands_in_paired_rounds() {
    let (_dir, ledger) = temp_ledger();
    let out = plumb(&ledger, &["compare", "--ab", "true", "true", "-r", "6"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("(paired rounds)")
            && text.contains("wall time")
            && text.contains("median of runs"),
        "{text}"
    );
    assert!(!ledger.exists(), "--ab measures, it does not save");
}

#[test]
fn gate_checks_thresholds_against_a_saved_load_run() {
    let (dir, ledger) = temp_ledger();
    let target =
        plumb_target::spawn(TargetSettings::default(), "127.0.0.1:0".parse().unwrap(), 1).unwrap();
    let url = target.url("/");
    for _ in 0..2 {
        let out = plumb(
            &ledger,
            &["load", &url, "-c", "2", "-n", "300", "-t", "1", "-q"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let out = plumb(&ledger, &["baseline", "set", "main", "latest~1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let gate = |threshold: &str| {
        plumb(
            &ledger,
            &["gate", "--baseline", "main", "--threshold", threshold],
        )
    };
    let passed = gate("http_req_failed: rate<0.01");
    assert_eq!(passed.status.code(), Some(0), "{}", stdout(&passed));
    let text = stdout(&passed);
    assert!(
        text.contains("| http_req_failed |") && text.contains("rate<0.01"),
        "{text}"
    );
    let failed = gate("http_req_duration: p(95)<1ns");
    assert_eq!(failed.status.code(), Some(1), "{}", stdout(&failed));
    assert!(
        stdout(&failed).contains("failed (threshold)"),
        "{}",
        stdout(&failed)
    );
    let invalid = gate("http_req_duration: p(95)<1xs");
    assert_eq!(invalid.status.code(), Some(2));
    assert!(
        stderr(&invalid).contains("unknown unit 'xs'"),
        "{}",
        stderr(&invalid)
    );
    // A bench run has no latency distribution to check.
    let bench = bench_file(dir.path(), "bench.json", 1.0, 0);
    let out = plumb(
        &ledger,
        &[
            "gate",
            "--baseline",
            bench.to_str().unwrap(),
            bench.to_str().unwrap(),
            "--threshold",
            "http_reqs: count>1",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("applies to load and page runs") && stderr(&out).contains("hint:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn compare_ab_loads_two_urls_in_interleaved_rounds() {
    let (_dir, ledger) = temp_ledger();
    let fast =
        plumb_target::spawn(TargetSettings::default(), "127.0.0.1:0".parse().unwrap(), 1).unwrap();
    let slow_settings = TargetSettings {
        latency: plumb_target::Latency::Fixed(std::time::Duration::from_millis(5)),
        ..TargetSettings::default()
    };
    let slow = plumb_target::spawn(slow_settings, "127.0.0.1:0".parse().unwrap(), 1).unwrap();
    let (a, b) = (fast.url("/"), slow.url("/"));
    let out = plumb(
        &ledger,
        &["compare", "--ab", &a, &b, "-r", "2", "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p50 = json["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "latency p50")
        .unwrap();
    assert_eq!(p50["statistic"], "whole-run p50");
    assert_eq!(p50["verdict"], "regressed", "{p50}");
    assert!(p50["candidate"].as_f64().unwrap() >= 5.0, "{p50}");
    assert!(!ledger.exists(), "--ab measures, it does not save");
}
