//! `plumb load` from the outside: thresholds and exit codes, bad input, JSON result, Ctrl-C.

use crate::support::{plumb, run, stderr, stdout};
use plumb_target::TargetSettings;
use std::time::{Duration, Instant};

fn target() -> plumb_target::RunningTarget {
    plumb_target::spawn(TargetSettings::default(), "127.0.0.1:0".parse().unwrap(), 1).unwrap()
}

#[test]
fn passing_thresholds_exit_zero_and_print_a_summary() {
    let t = target();
    let out = run(&[
        "load",
        &t.url("/"),
        "-c",
        "2",
        "-d",
        "500ms",
        "-t",
        "1",
        "--threshold",
        "http_req_failed: rate<0.01",
        "--threshold",
        "http_req_duration: p(99)<5s",
        "--threshold",
        "http_reqs: count>10",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("PASS    http_req_failed: rate<0.01"),
        "{text}"
    );
    assert!(text.contains("status     200: "), "{text}");
}

#[test]
fn a_failed_threshold_exits_one() {
    let t = target();
    let out = run(&[
        "load",
        &t.url("/"),
        "-c",
        "1",
        "-d",
        "300ms",
        "--threshold",
        "http_req_duration: p(95)<1ns",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("FAIL    http_req_duration: p(95)<1ns"));
}

#[test]
fn abort_on_fail_stops_early_and_exits_one() {
    let t = target();
    let started = Instant::now();
    let out = run(&[
        "load",
        &t.url("/"),
        "-c",
        "1",
        "-d",
        "20s",
        "-q",
        "--threshold",
        "http_req_duration: max<1ns",
        "--abort-on-fail",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "did not stop early"
    );
    let text = stdout(&out);
    assert!(
        text.contains("INTERRUPTED: threshold 'http_req_duration: max<1ns' failed"),
        "{text}"
    );
}

#[test]
fn invalid_threshold_points_at_the_bad_part_and_exits_two() {
    let out = run(&[
        "load",
        "http://127.0.0.1:1/",
        "--threshold",
        "http_req_duration: p(95)<200xs",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown unit 'xs'"), "{err}");
    assert!(err.contains("                            ^^"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn bad_flags_and_urls_name_the_culprit_with_a_hint() {
    for (args, culprit) in [
        (
            vec!["load", "http://127.0.0.1:1/", "-d", "ten"],
            "--duration",
        ),
        (
            vec!["load", "http://127.0.0.1:1/", "--rate", "-5"],
            "--rate",
        ),
        (
            vec!["load", "http://127.0.0.1:1/", "--stages", "10s"],
            "--stages",
        ),
        (
            vec!["load", "http://127.0.0.1:1/", "-H", "NoColon"],
            "--header",
        ),
        (
            vec!["load", "http://127.0.0.1:1/", "--expect-status", "2xx"],
            "--expect-status",
        ),
        (
            vec![
                "load",
                "http://127.0.0.1:1/",
                "--body-file",
                "/no/such/file",
            ],
            "--body-file",
        ),
        (
            vec!["load", "gopher://127.0.0.1/"],
            "unsupported scheme 'gopher'",
        ),
        (vec!["load", "localhost:8080"], "missing scheme"),
        (
            vec!["load", "http://127.0.0.1:1/", "--cacert", "/no/such.pem"],
            "/no/such.pem",
        ),
    ] {
        let mut full = args.clone();
        full.extend(["-d", "1s"].iter().filter(|_| !args.contains(&"-d")));
        let out = run(&full);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(culprit) && err.contains("hint:"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_refused_target_is_counted_not_a_crash() {
    let out = run(&[
        "load",
        "http://127.0.0.1:1/",
        "-c",
        "1",
        "-d",
        "200ms",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let refused = json["summary"]["errors_by_class"]["refused"]
        .as_u64()
        .unwrap();
    assert!(refused > 0);
    assert_eq!(json["summary"]["errors"].as_u64(), Some(refused));
}

#[test]
fn json_result_matches_the_committed_schema() {
    let t = target();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("result.json");
    let out = run(&[
        "load",
        &t.url("/"),
        "--rate",
        "200",
        "-d",
        "1s",
        "-q",
        "--json",
        file.to_str().unwrap(),
        "--threshold",
        "http_req_failed: rate<0.01",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let result: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let schema: serde_json::Value = serde_json::from_str(include_str!(
        "../../../plumb-schema/schema/load.schema.json"
    ))
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&result)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let summary = &result["summary"];
    assert_eq!(result["schema_version"], 1);
    for key in ["min", "p50", "p90", "p95", "p99", "p999", "max"] {
        assert!(
            summary["latency_ms"][key].as_f64().unwrap() > 0.0,
            "latency_ms.{key}"
        );
        assert!(
            summary["service_time_ms"][key].as_f64().unwrap() > 0.0,
            "service_time_ms.{key}"
        );
    }
    let requests = summary["requests"].as_u64().unwrap();
    assert!((190..=210).contains(&requests), "{requests}");
    // The histogram travels whole: it decodes back to the same count.
    let histogram = plumb_stats::DurationHistogram::from_base64(
        result["histograms"]["latency"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(
        histogram.len(),
        summary["latency_ms"]["count"].as_u64().unwrap()
    );
}

#[test]
fn ctrl_c_keeps_and_reports_the_partial_result() {
    let t = target();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("partial.json");
    let child = plumb()
        .args([
            "load",
            &t.url("/"),
            "-c",
            "2",
            "-d",
            "30s",
            "-q",
            "--json",
            file.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1_500));
    // SAFETY: sending SIGINT to the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("INTERRUPTED: interrupted (SIGINT)"));
    let result: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(result["interrupted"], true);
    assert!(result["summary"]["requests"].as_u64().unwrap() > 0);
    assert!(result["summary"]["duration_s"].as_f64().unwrap() < 10.0);
}

#[test]
fn markdown_output_has_the_tables() {
    let t = target();
    let out = run(&[
        "load",
        &t.url("/"),
        "-c",
        "1",
        "-d",
        "200ms",
        "-o",
        "markdown",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("### plumb load GET"), "{text}");
    assert!(
        text.contains("| ms | min | p50 | p90 | p95 | p99 | p99.9 | max |"),
        "{text}"
    );
}

#[test]
fn demo_runs_both_models_against_the_embedded_target() {
    let out = run(&["demo", "-d", "1s", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("closed model, 20 connections"), "{text}");
    assert!(text.contains("latency (from intended send)"), "{text}");
    assert!(text.contains("What this shows"), "{text}");
    // The whole loop: goals, the fix, the run after it, the before/after table.
    assert!(
        text.contains("The goals: http_req_duration: p(99)<100ms"),
        "{text}"
    );
    assert!(text.contains("3/4  The fix: the stall removed"), "{text}");
    assert!(
        text.contains("before/after: the baseline (step 2) -> after the fix (step 4)"),
        "{text}"
    );
    assert!(text.contains("latency p99"), "{text}");
}

#[test]
fn target_command_serves_until_interrupted() {
    let (child, url) = target_process(&["--size", "1KB"]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let out = run(&["load", &url, "-n", "50", "-c", "2", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["summary"]["requests"], 50);
    assert!(json["summary"]["bytes_received"].as_u64().unwrap() >= 50 * 1000);
    // SAFETY: SIGINT to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let mut child = child;
    assert!(child.wait().unwrap().success());
}

#[test]
fn load_help_is_stable() {
    let load = run(&["load", "--help"]);
    insta::assert_snapshot!("load_help", stdout(&load));
}

/// `plumb target` as a separate process, so its PID can be watched.
fn target_process(knobs: &[&str]) -> (std::process::Child, String) {
    let mut child = plumb()
        .args(["target", "--port", "0"])
        .args(knobs)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    (child, line.trim().to_string())
}

#[test]
fn watch_pid_reports_the_servers_cpu_and_memory() {
    let (mut server, url) = target_process(&["--latency", "1ms"]);
    let pid = server.id().to_string();
    let out = run(&[
        "load",
        &url,
        "-c",
        "4",
        "-d",
        "1500ms",
        "-o",
        "json",
        "--profile-pid",
        &pid,
    ]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let watched = &json["server"];
    assert_eq!(watched["pid"].as_u64(), Some(server.id() as u64));
    let resources = &watched["resources"];
    assert!(
        resources["points"].as_array().unwrap().len() >= 5,
        "{resources}"
    );
    assert!(resources["summary"]["rss_bytes"]["max"].as_f64().unwrap() > 1e6);
    let cpu_used = resources["summary"]["cpu_user_percent"]["max"]
        .as_f64()
        .unwrap()
        + resources["summary"]["cpu_system_percent"]["max"]
            .as_f64()
            .unwrap();
    assert!(
        cpu_used > 1.0,
        "the server under load used no CPU: {resources}"
    );
    let status = watched["cpu"]["status"].as_str().unwrap();
    assert!(status == "sampled" || status == "unavailable", "{status}");
}

#[test]
fn watching_a_process_that_does_not_exist_is_a_clear_error() {
    let out = run(&[
        "load",
        "http://127.0.0.1:1/",
        "-d",
        "1s",
        "--watch-pid",
        "999999999",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("999999999") && err.contains("hint:"), "{err}");
}

#[test]
fn a_threshold_with_no_data_fails_a_run_against_a_dead_server() {
    let dead = plumb_test::closed_port();
    let url = format!("http://{dead}/");
    let args = [
        "load",
        url.as_str(),
        "-c",
        "2",
        "-d",
        "300ms",
        "-t",
        "1",
        "--threshold",
        "http_req_duration: p(95)<5ms",
    ];
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("EVERY REQUEST FAILED"), "{text}");
    assert!(text.contains("NO DATA"), "{text}");
    let mut allowed = args.to_vec();
    allowed.push("--allow-no-data");
    let out = run(&allowed);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn connections_beyond_the_open_files_limit_are_refused_before_the_run() {
    let t = target();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 200 && exec \"$0\" load {} -c 1000 -d 300ms --no-save",
            t.url("/")
        ))
        .arg(env!("CARGO_BIN_EXE_plumb"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("-c 1000 needs about 1064 open files, but this process may open only 200")
            && err.contains("hint: lower -c to at most 136"),
        "{err}"
    );
}

#[test]
fn a_usage_error_from_the_parser_ends_with_a_hint() {
    for args in [
        vec!["load", "http://127.0.0.1:1/", "-o", "yaml"],
        vec!["load"],
        vec!["compare", "latest"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        let command = args[0];
        assert!(
            err.trim_end().ends_with(&format!(
                "hint: `plumb {command} --help` lists the flags and the values they take"
            )),
            "{args:?}: {err}"
        );
    }
}
