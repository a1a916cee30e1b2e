//! `plumb coordinate` with `plumb load --segment I/N --coordinator ADDR` as separate processes:
//! one start, thresholds over the whole fleet, a fleet-wide abort, refusals, a lost coordinator.

use crate::support::{plumb, stderr, stdout};
use plumb_schema::load::LoadResult;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn free_address() -> String {
    plumb_test::closed_port().to_string()
}

fn coordinator(address: &str, extra: &[&str]) -> Child {
    let child = plumb()
        .args(["coordinate", "--listen", address])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Listening before the segments dial (they would retry anyway).
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(address).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn segment(url: &str, address: &str, index: u32, count: u32, extra: &[&str], dir: &Path) -> Child {
    plumb()
        .args(["load", url, "-q", "-t", "1"])
        .args(extra)
        .args([
            "--segment",
            &format!("{index}/{count}"),
            "--coordinator",
            address,
        ])
        .arg("--json")
        .arg(dir.join(format!("segment-{index}.json")))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn result(dir: &Path, index: u32) -> LoadResult {
    let text = std::fs::read_to_string(dir.join(format!("segment-{index}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_fleet_starts_together_and_is_judged_as_one() {
    let nginx = plumb_test::Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let address = free_address();
    let fleet = coordinator(
        &address,
        &["--segments", "2", "--threshold", "http_reqs: count>=590"],
    );
    let args = ["--rate", "200", "-d", "3s"];
    let segments: Vec<Child> = (0..2)
        .map(|i| segment(&nginx.url(), &address, i, 2, &args, dir.path()))
        .collect();
    for child in segments {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let out = fleet.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // 600 due; each segment owns 300 of them, and counted all that completed.
    let (a, b) = (result(dir.path(), 0), result(dir.path(), 1));
    let fleet_requests: u64 = stdout(&out)
        .split_whitespace()
        .nth(4)
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert_eq!(
        fleet_requests,
        a.summary.requests + b.summary.requests,
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("PASS    http_reqs: count>=590"),
        "{}",
        stdout(&out)
    );
    let (sa, sb) = (a.segment.unwrap(), b.segment.unwrap());
    assert_eq!(sa.start_at, sb.start_at);
    // One host: the measured offset is well under a millisecond.
    assert!(sa.clock_offset_ms.unwrap().abs() < 5.0, "{sa:?}");
}

#[test]
fn a_threshold_failing_over_the_fleet_aborts_every_segment() {
    let nginx = plumb_test::Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let address = free_address();
    let fleet = coordinator(
        &address,
        &[
            "--segments",
            "2",
            "--threshold",
            "http_req_duration: p(99)<1ns",
            "--abort-on-fail",
        ],
    );
    let started = Instant::now();
    let args = ["--rate", "100", "-d", "60s"];
    let segments: Vec<Child> = (0..2)
        .map(|i| segment(&nginx.url(), &address, i, 2, &args, dir.path()))
        .collect();
    for child in segments {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let out = fleet.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(
            "ABORTED: threshold 'http_req_duration: p(99)<1ns' failed over the whole fleet"
        ),
        "{text}"
    );
    for index in 0..2 {
        let r = result(dir.path(), index);
        let reason = r.stop_reason.unwrap_or_default();
        assert!(
            reason.contains("the coordinator aborted the test"),
            "{reason}"
        );
        assert!(r.summary.requests > 0);
    }
}

#[test]
fn a_segment_that_loses_its_coordinator_stops_and_keeps_its_result() {
    let nginx = plumb_test::Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let address = free_address();
    let mut fleet = coordinator(&address, &["--segments", "1"]);
    let child = segment(
        &nginx.url(),
        &address,
        0,
        1,
        &["--rate", "50", "-d", "60s"],
        dir.path(),
    );
    std::thread::sleep(Duration::from_secs(3));
    fleet.kill().unwrap();
    let _ = fleet.wait();
    let out = child.wait_with_output().unwrap();
    // Part of its share: never a passing run.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = result(dir.path(), 0);
    let reason = r.stop_reason.unwrap_or_default();
    assert!(
        reason.contains("lost the coordinator"),
        "{reason}: {}",
        stderr(&out)
    );
    assert!(r.summary.duration_s < 20.0);
    assert!(r.summary.requests > 0);
}

#[test]
fn segments_of_another_test_are_refused_and_missing_ones_named() {
    let nginx = plumb_test::Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let address = free_address();
    let fleet = coordinator(&address, &["--segments", "2", "--join-timeout", "4s"]);
    let first = segment(
        &nginx.url(),
        &address,
        0,
        2,
        &["--rate", "100", "-d", "1s"],
        dir.path(),
    );
    std::thread::sleep(Duration::from_millis(500));
    let stranger = segment(
        &nginx.url(),
        &address,
        1,
        2,
        &["--rate", "300", "-d", "1s"],
        dir.path(),
    );
    let out = stranger.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("runs a different test"),
        "{}",
        stderr(&out)
    );
    let out = fleet.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("segment(s) 1 did not join within 4 s"),
        "{}",
        stderr(&out)
    );
    // The first segment loses its coordinator before any start: an error, no result.
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_coordinator_that_cannot_be_reached_yields_to_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens there: the segment keeps dialling (a pod may come up later)...
    let address = free_address();
    let mut child = segment(
        "http://127.0.0.1:9/",
        &address,
        0,
        2,
        &["-d", "2s"],
        dir.path(),
    );
    std::thread::sleep(Duration::from_millis(1_500));
    // ... until it is told to stop.
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the segment ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(2));
    let out = plumb()
        .args([
            "load",
            "http://127.0.0.1:9/",
            "--segment",
            "0/2",
            "--coordinator",
            "nonsense",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no port"), "{}", stderr(&out));
}
