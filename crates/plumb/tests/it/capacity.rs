//! `plumb capacity` against a server with a known capacity: 8 workers that each take exactly
//! 50 ms per request serve 160 requests a second, and no more. (The goal sits well above the
//! service time: on a loaded 2-core machine the tail of a sleeping server is the machine's.)

use crate::support::{run, stdout};
use plumb_test::WorkerPool;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// plumb with its own ledger.
fn with_ledger(ledger: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("PLUMB_LEDGER", ledger)
        .env_remove("PLUMB_NO_SAVE")
        .output()
        .expect("plumb runs")
}

#[test]
fn the_capacity_of_a_worker_pool_is_found_within_10_percent() {
    let pool = WorkerPool::start(8, Duration::from_millis(50));
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("capacity.json");
    let ledger = dir.path().join("ledger.db");
    let out = with_ledger(
        &ledger,
        &[
            "capacity",
            &pool.url(),
            "--goal",
            "p(95)<150ms",
            "--start",
            "40",
            "--settle",
            "1s",
            "--measure",
            "3s",
            "--json",
            json.to_str().unwrap(),
            "--run-name",
            "pool",
        ],
    );
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let sustained = result["sustained_rps"].as_f64().expect("a sustained rate");
    assert!(
        (144.0..=176.0).contains(&sustained),
        "truth 160 req/s, found {sustained}: {text}"
    );
    let failing = result["failing_rps"].as_f64().expect("a failing rate");
    assert!(failing / sustained <= 1.05 + 1e-9, "{text}");
    let steps = result["steps"].as_array().unwrap();
    assert!(steps.last().unwrap()["confirmation"].as_bool().unwrap());
    assert!(text.starts_with("sustains "), "{text}");
    assert!(text.contains("p(95)<150ms"), "{text}");

    // Saved in the ledger: listed, shown again, and gated (against itself: equivalent at worst).
    let history = stdout(&with_ledger(&ledger, &["history"]));
    assert!(
        history.contains("capacity") && history.contains("sustains"),
        "{history}"
    );
    let shown = stdout(&with_ledger(&ledger, &["show", "pool", "-o", "markdown"]));
    assert!(shown.contains("| Step | Offered req/s"), "{shown}");
    let gate = with_ledger(&ledger, &["gate", "pool", "--baseline", "pool"]);
    assert_eq!(gate.status.code(), Some(0), "{}", stdout(&gate));
    assert!(
        stdout(&gate).contains("sustained rate"),
        "{}",
        stdout(&gate)
    );
}

#[test]
fn a_goal_on_a_metric_the_steps_cannot_judge_is_refused_with_a_hint() {
    let out = run(&[
        "capacity",
        "http://127.0.0.1:9/",
        "--goal",
        "http_req_connecting: p(99)<5ms",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("http_req_connecting cannot be judged per step"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
}
