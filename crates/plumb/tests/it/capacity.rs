//! `plumb capacity` against a server with a known capacity: 8 workers that each take exactly
//! 50 ms per request serve 160 requests a second, and no more. (The goal sits well above the
//! service time: on a loaded 2-core machine the tail of a sleeping server is the machine's.)

use crate::support::{run, stdout};
use plumb_test::WorkerPool;
use std::time::Duration;

#[test]
fn the_capacity_of_a_worker_pool_is_found_within_10_percent() {
    let pool = WorkerPool::start(8, Duration::from_millis(50));
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("capacity.json");
    let out = run(&[
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
    ]);
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
