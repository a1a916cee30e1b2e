//! `plumb load --segment I/N --start-at TIME`: a test split over separate processes sends exactly
//! what one process would, each segment its own share, all on one agreed clock.

use crate::support::{plumb, stderr};
use plumb_schema::load::LoadResult;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Start `count` segment processes of `plumb load URL ARGS` writing `DIR/segment-I.json`.
fn start_segments(url: &str, args: &[&str], count: u32, start_at: &str, dir: &Path) -> Vec<Child> {
    (0..count)
        .map(|index| {
            plumb()
                .args(["load", url, "-q", "-t", "1"])
                .args(args)
                .args(["--segment", &format!("{index}/{count}")])
                .args(["--start-at", start_at])
                .arg("--json")
                .arg(dir.join(format!("segment-{index}.json")))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("plumb starts")
        })
        .collect()
}

fn finish(children: Vec<Child>, dir: &Path) -> Vec<LoadResult> {
    let count = children.len();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    (0..count)
        .map(|index| {
            let text = std::fs::read_to_string(dir.join(format!("segment-{index}.json"))).unwrap();
            serde_json::from_str(&text).unwrap()
        })
        .collect()
}

/// An agreed start far enough ahead for every (debug-built) process to be waiting for it.
fn start_in(delay: Duration) -> String {
    let at = SystemTime::now() + delay;
    let ms = at.duration_since(UNIX_EPOCH).unwrap().as_millis();
    format!("@{}.{:03}", ms / 1000, ms % 1000)
}

#[test]
fn open_model_segments_together_send_exactly_the_whole_schedule() {
    let nginx = plumb_test::Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let start_at = start_in(Duration::from_secs(3));
    let args = ["--rate", "1000", "-d", "2s"];
    let segments = finish(
        start_segments(&nginx.url(), &args, 4, &start_at, dir.path()),
        dir.path(),
    );
    let mut sent = 0;
    for (index, result) in segments.iter().enumerate() {
        let segment = result.segment.as_ref().expect("a segment record");
        assert_eq!((segment.index, segment.count), (index as u64, 4));
        assert_eq!(
            segment.start_at,
            segments[0].segment.as_ref().unwrap().start_at
        );
        assert_eq!(result.started_at, segment.start_at);
        // The whole test's settings; this segment's share of the rate.
        assert_eq!(result.settings.rate, Some(1000.0));
        assert_eq!(result.summary.requested_rps, Some(250.0));
        let s = &result.summary;
        // Requests 0..2000 due in 2 s at 1000/s; segment i owns the indices k % 4 == i.
        assert_eq!(
            s.requests + s.in_flight_at_end + s.missed_sends,
            500,
            "segment {index}"
        );
        assert_eq!(s.errors, 0);
        sent += s.requests + s.in_flight_at_end;
        // Windows count seconds from the agreed start.
        assert!(
            result.timeseries.iter().all(|w| w.t_s < 3),
            "{:?}",
            result.timeseries
        );
        assert!(result
            .timeseries
            .iter()
            .all(|w| w.service_histogram.is_some() || w.requests == 0));
    }
    assert!(sent >= 1_998, "{sent} of 2000 sent");
}

#[test]
fn closed_model_segments_share_connections_and_the_request_count() {
    let nginx = plumb_test::Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let start_at = start_in(Duration::from_secs(3));
    let args = ["-c", "8", "-n", "4000"];
    let segments = finish(
        start_segments(&nginx.url(), &args, 3, &start_at, dir.path()),
        dir.path(),
    );
    let requests: Vec<u64> = segments.iter().map(|r| r.summary.requests).collect();
    // 4000 = 1334 + 1333 + 1333; connections 0..8 by k % 3: 3, 3 and 2.
    assert_eq!(requests, vec![1334, 1333, 1333]);
    let opened: Vec<u64> = segments
        .iter()
        .map(|r| r.summary.connections_opened)
        .collect();
    assert_eq!(opened, vec![3, 3, 2]);
}

#[test]
fn bad_segments_and_start_times_are_refused_before_the_run() {
    let cases: [(&[&str], &str); 5] = [
        (&["--segment", "4/4"], "not below the count 4"),
        (
            &["--segment", "1/4", "-c", "3"],
            "cannot be split into 4 segments",
        ),
        (&["--segment", "auto/4"], "JOB_COMPLETION_INDEX"),
        (&["--start-at", "@1"], "too late to join"),
        (&["--start-at", "next tuesday"], "--start-at"),
    ];
    for (args, expected) in cases {
        let out = plumb()
            .args(["load", "http://127.0.0.1:9/", "-d", "1s"])
            .args(args)
            .env_remove("JOB_COMPLETION_INDEX")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let text = stderr(&out);
        assert!(
            text.contains(expected) && text.contains("hint:"),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn the_segment_index_can_come_from_a_kubernetes_indexed_job() {
    let nginx = plumb_test::Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = plumb()
        .args(["load", &nginx.url(), "-q", "-c", "5", "-n", "10"])
        .args(["--segment", "auto/5"])
        .arg("--json")
        .arg(&json)
        .env("JOB_COMPLETION_INDEX", "3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let result: LoadResult =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let segment = result.segment.unwrap();
    assert_eq!((segment.index, segment.count), (3, 5));
    // 10 requests over 5 segments: 2 each.
    assert_eq!(result.summary.requests, 2);
}

#[test]
fn a_plan_scenario_runs_as_one_segment() {
    let nginx = plumb_test::Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let plan = format!(
        "[target]\nurl = \"{}\"\n\n[scenarios.normal]\nrate = 200\nduration = \"1s\"\n",
        nginx.url()
    );
    std::fs::write(dir.path().join("plumb.toml"), plan).unwrap();
    let json = dir.path().join("run.json");
    let out = plumb()
        .current_dir(dir.path())
        .args([
            "run",
            "normal",
            "-q",
            "--segment",
            "1/2",
            "--start-at",
            "+1s",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let result = &run["steps"][0]["result"];
    assert_eq!(result["segment"]["index"], 1);
    assert_eq!(result["segment"]["count"], 2);
    // 200 requests due in 1 s; this segment owns the odd ones.
    let s = &result["summary"];
    let sent = s["requests"].as_u64().unwrap()
        + s["in_flight_at_end"].as_u64().unwrap()
        + s["missed_sends"].as_u64().unwrap();
    assert_eq!(sent, 100);
    assert!(run["before_after"].is_null());
}
