//! `plumb calibrate` on a URL (A/A pairs of load runs against the embedded target) and the
//! host's noise that every saved run keeps (`plumb show latest -o json`).

use crate::support::{stderr, stdout};
use plumb_target::TargetSettings;
use std::path::Path;
use std::process::{Command, Output};

/// `plumb ARGS` with the ledger at `ledger`.
fn plumb(ledger: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("PLUMB_LEDGER", ledger)
        .env_remove("PLUMB_NO_SAVE")
        .output()
        .expect("plumb runs")
}

fn target() -> plumb_target::RunningTarget {
    plumb_target::spawn(TargetSettings::default(), "127.0.0.1:0".parse().unwrap(), 1).unwrap()
}

/// The percentage in `suggested tolerance: 3.5% (...): --tolerance 3.5%`, or `None` for the
/// "no useful tolerance" line; panics when neither is there.
fn suggested(text: &str) -> Option<f64> {
    if let Some(line) = text
        .lines()
        .find(|l| l.starts_with("suggested tolerance: "))
    {
        let percent = line["suggested tolerance: ".len()..]
            .split('%')
            .next()
            .unwrap();
        assert!(
            line.ends_with(&format!("--tolerance {percent}%")),
            "the flag repeats the figure: {line}"
        );
        return Some(percent.parse().unwrap());
    }
    assert!(
        text.lines().any(
            |l| l.starts_with("no useful tolerance: A/A runs differ by up to ")
                && l.contains("above 25%")
                && l.contains("quieter machine")
        ),
        "neither a tolerance nor the too-noisy advice: {text}"
    );
    None
}

#[test]
fn calibrate_on_a_url_reports_each_metrics_a_a_spread_and_a_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let target = target();
    let url = target.url("/");
    let args = [
        "calibrate",
        &url,
        "-d",
        "3s",
        "--repeats",
        "2",
        "-c",
        "4",
        "-t",
        "1",
    ];
    let out = plumb(&ledger, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!(
            "A/A: GET {url} against itself, 2 pairs of load runs (3 s, 4 connections, 1 thread each)\n"
        )),
        "{text}"
    );
    assert_eq!(text.matches("\nrepeat ").count(), 2, "{text}");
    let spread = &text[text.find("A/A spread over 2 repeats:").expect("a spread")..];
    // 3 s runs have 3 whole seconds a side: throughput is compared too.
    for metric in [
        "latency p50",
        "latency p90",
        "latency p95",
        "latency p99",
        "throughput",
    ] {
        let line = spread
            .lines()
            .find(|l| l.trim_start().starts_with(metric))
            .unwrap_or_else(|| panic!("no {metric} in {spread}"));
        // Two percentages: the largest |change| and the widest interval bound, the first the
        // smaller (every point lies inside its interval).
        let figures: Vec<f64> = line
            .split_whitespace()
            .filter_map(|w| w.strip_suffix('%')?.parse().ok())
            .collect();
        assert_eq!(figures.len(), 2, "{line}");
        assert!(figures[0] <= figures[1], "{line}");
    }
    assert!(!spread.contains("skipped"), "{spread}");
    assert!(
        !spread.contains("error rate"),
        "a difference, not a relative spread: {spread}"
    );
    if let Some(percent) = suggested(&text) {
        assert!((1.0..=25.0).contains(&percent), "{text}");
        assert_eq!(
            percent * 2.0,
            (percent * 2.0).round(),
            "a multiple of 0.5%: {text}"
        );
    }
    assert!(!ledger.exists(), "calibrate measures, it does not save");
}

#[test]
fn calibrate_on_a_command_still_suggests_a_bounded_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let out = plumb(
        &ledger,
        &["calibrate", "sleep 0.01", "-r", "8", "--repeats", "2"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("wall time (median of runs)"), "{text}");
    assert!(
        text.contains("(skipped in 2 of 2 repeats: "),
        "CPU rows of a sleep: {text}"
    );
    if let Some(percent) = suggested(&text) {
        assert!((1.0..=25.0).contains(&percent), "{text}");
    }
}

#[test]
fn calibrate_refuses_the_flags_of_the_other_mode() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let cases: [(&[&str], &str); 4] = [
        (
            &["calibrate", "true", "-d", "3s"],
            "invalid value '3s' for -d: shapes load runs, and the target is a command, not a URL",
        ),
        (
            &["calibrate", "http://127.0.0.1:9/", "-r", "5"],
            "invalid value '5' for --runs: counts a command's rounds",
        ),
        (
            &["calibrate", "http://127.0.0.1:9/", "-d", "0s"],
            "invalid value '0s' for --duration: must be longer than zero",
        ),
        (
            // Nothing listens on the discard port: no noise to measure on a dead target.
            &[
                "calibrate",
                "http://127.0.0.1:9/",
                "-d",
                "1s",
                "--repeats",
                "1",
            ],
            "every request to http://127.0.0.1:9/ failed",
        ),
    ];
    for (args, message) in cases {
        let out = plumb(&ledger, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains(message) && err.contains("hint: "),
            "{args:?}: {err}"
        );
    }
}

/// The host-noise figures of a saved run's JSON, each within its bounds.
fn check_noise(json: &serde_json::Value, at_least_s: f64) {
    let noise = &json["host_noise"];
    assert!(noise["cpus"].as_u64().unwrap() >= 1, "{noise}");
    assert!(noise["wall_s"].as_f64().unwrap() >= at_least_s, "{noise}");
    assert!(
        noise["load_avg_1m_start"].as_f64().unwrap() >= 0.0,
        "{noise}"
    );
    assert!(noise["load_avg_1m_end"].as_f64().unwrap() >= 0.0, "{noise}");
    for share in [
        "steal_share",
        "cpu_busy_share",
        "plumb_cpu_share",
        "cpu_pressure_some_share",
    ] {
        let value = &noise[share];
        let from_proc_stat = matches!(share, "steal_share" | "cpu_busy_share");
        if value.is_null() && (share == "cpu_pressure_some_share" || from_proc_stat) {
            // A kernel without PSI; or a run shorter than /proc/stat's clock tick (10 ms), whose
            // counters did not move: no figure rather than a made-up one.
            continue;
        }
        let value = value.as_f64().unwrap_or_else(|| panic!("{share}: {noise}"));
        assert!((0.0..=1.0).contains(&value), "{share}: {noise}");
    }
}

#[test]
fn saved_load_and_bench_runs_keep_the_hosts_noise() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let target = target();
    let url = target.url("/");
    let load = ["load", &url, "-d", "1s", "-c", "2", "-t", "1", "-q"];
    let out = plumb(&ledger, &load);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = plumb(&ledger, &["show", "latest", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&shown)).unwrap();
    check_noise(&json, 0.9);
    // A load run keeps plumb busy: its own share is above zero.
    assert!(json["host_noise"]["plumb_cpu_share"].as_f64().unwrap() > 0.0);
    let out = plumb(&ledger, &["bench", "-N", "-r", "3", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = plumb(&ledger, &["show", "latest", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&shown)).unwrap();
    check_noise(&json, 0.0);
}
