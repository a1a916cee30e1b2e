//! `plumb page` end to end: Debian's chromium loading plumb-page's fixture site from a real nginx;
//! the result saved to the ledger, judged by thresholds, compared and gated; and the errors a
//! user meets (no browser, an unreachable URL) said plainly, with no browser left behind.

use crate::support::{run, stderr, stdout};
use plumb_test::Nginx;
use std::path::Path;
use std::process::{Command, Output};

/// The fixture site with a generated 1 MiB script beside it; nginx serves a temporary copy.
fn site() -> (Nginx, tempfile::TempDir) {
    let root = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plumb-page/tests/fixtures/site");
    for entry in std::fs::read_dir(fixtures).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), root.path().join(entry.file_name())).unwrap();
    }
    let script: String = (0..16_384)
        .map(|i| format!("{:<63}\n", format!("// padding line {i:06}")))
        .collect();
    std::fs::write(root.path().join("big.js"), script).unwrap();
    let nginx = Nginx::serve(root.path(), "");
    (nginx, root)
}

fn with_ledger(ledger: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("PLUMB_LEDGER", ledger)
        .env_remove("PLUMB_NO_SAVE")
        .output()
        .expect("plumb runs")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", stdout(output), stderr(output));
    })
}

#[test]
fn page_runs_are_saved_judged_compared_and_gated() {
    let (nginx, _root) = site();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let har = dir.path().join("heavy.har");
    let heavy = format!("{}heavy.html", nginx.url());
    let out = with_ledger(
        &ledger,
        &[
            "page",
            &heavy,
            "--runs",
            "3",
            "--settle",
            "500ms",
            "--run-name",
            "heavy",
            "--har",
            har.to_str().unwrap(),
            "-o",
            "json",
            "--threshold",
            "page_weight: max<2000000",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let result = json(&out);
    assert_eq!(result["kind"], "page");
    assert_eq!(result["runs"].as_array().unwrap().len(), 3);
    assert_eq!(result["thresholds"][0]["status"], "passed");
    let schema: serde_json::Value = serde_json::from_str(include_str!(
        "../../../plumb-schema/schema/page.schema.json"
    ))
    .unwrap();
    assert!(
        jsonschema::is_valid(&schema, &result),
        "the result fits its schema"
    );
    let har: serde_json::Value = serde_json::from_slice(&std::fs::read(&har).unwrap()).unwrap();
    assert_eq!(har["log"]["pages"].as_array().unwrap().len(), 3);
    // The light twin: the same page without its 1 MiB script and stylesheet.
    let light = format!("{}light.html", nginx.url());
    let out = with_ledger(
        &ledger,
        &[
            "page",
            &light,
            "--runs",
            "3",
            "--settle",
            "500ms",
            "--run-name",
            "light",
            "--threshold",
            "page_weight: max<1000",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed threshold: {}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("threshold page_weight: max<1000: failed"),
        "{}",
        stdout(&out)
    );
    let history = stdout(&with_ledger(&ledger, &["history"]));
    assert!(history.matches("page").count() >= 2, "{history}");
    let out = with_ledger(
        &ledger,
        &["compare", "name:heavy", "name:light", "-o", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let comparison = json(&out);
    let rows = comparison["metrics"].as_array().unwrap();
    let row = |metric: &str| {
        rows.iter()
            .find(|r| r["metric"] == metric)
            .unwrap_or_else(|| panic!("no {metric} row in {comparison:#}"))
    };
    assert_eq!(
        row("page weight")["verdict"],
        "improved",
        "{:#}",
        row("page weight")
    );
    assert_eq!(
        row("requests")["verdict"],
        "improved",
        "{:#}",
        row("requests")
    );
    // Gated the other way round, the heavy page regresses against the light baseline.
    let out = with_ledger(
        &ledger,
        &[
            "gate",
            "--baseline",
            "name:light",
            "name:heavy",
            "--threshold",
            "page_requests: max<3",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("page weight"), "{}", stdout(&out));
    let shown = stdout(&with_ledger(&ledger, &["show", "latest", "-o", "markdown"]));
    assert!(shown.contains("## plumb page:"), "{shown}");
}

#[test]
fn a_missing_browser_and_an_unreachable_url_are_errors_with_hints() {
    let out = run(&[
        "page",
        "http://127.0.0.1:9/",
        "--browser",
        "/nonexistent/chromium",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no Chromium found: looked for /nonexistent/chromium"),
        "{err}"
    );
    assert!(err.contains("hint: install Chromium"), "{err}");
    let port = plumb_test::closed_port();
    let out = run(&["page", &format!("http://{port}/"), "--runs", "2"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("net::ERR_CONNECTION_REFUSED") && err.contains("hint:"),
        "{err}"
    );
    let out = run(&["page", "http://127.0.0.1:8080/", "--runs", "5000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("at most 1000"), "{}", stderr(&out));
}

/// Live processes whose command line names `marker` (the TMPDIR a plumb was given: its
/// browsers' profiles live under it).
fn processes_naming(marker: &Path) -> Vec<String> {
    let marker = marker.to_str().unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let zombie = stat
                .rsplit_once(") ")
                .is_some_and(|(_, s)| s.starts_with('Z'));
            let cmdline = String::from_utf8_lossy(&std::fs::read(e.path().join("cmdline")).ok()?)
                .replace('\0', " ");
            (!zombie && cmdline.contains(marker)).then_some(cmdline)
        })
        .collect()
}

#[test]
fn sigterm_during_a_load_stops_closes_the_browser_and_reports() {
    let (nginx, root) = site();
    // A page whose image comes from a server that accepts and never answers.
    let silent = plumb_test::silent_server();
    let page = format!(
        "<!doctype html><p>waiting</p><img src=\"http://{}/forever.png\">",
        silent.addr()
    );
    std::fs::write(root.path().join("stuck.html"), page).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let child = crate::support::plumb()
        .args(["page", &format!("{}stuck.html", nginx.url()), "--runs", "3"])
        .args(["--timeout", "60s"])
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(4));
    // SAFETY: kill with the pid of the child this test spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("interrupted: 0 of 3 loads measured"),
        "{}",
        stdout(&out)
    );
    let left = processes_naming(tmp.path());
    assert!(left.is_empty(), "browsers left behind: {left:#?}");
}

#[test]
fn a_killed_plumb_takes_its_browser_with_it() {
    let (nginx, root) = site();
    let silent = plumb_test::silent_server();
    let page = format!(
        "<!doctype html><img src=\"http://{}/x.png\">",
        silent.addr()
    );
    std::fs::write(root.path().join("stuck.html"), page).unwrap();
    // The browser's profile goes under this directory, so its processes can be found by it.
    let tmp = tempfile::tempdir().unwrap();
    let mut child = crate::support::plumb()
        .args([
            "page",
            &format!("{}stuck.html", nginx.url()),
            "--timeout",
            "60s",
        ])
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let browsers = || processes_naming(tmp.path()).len();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    // Wait for the browser and its helpers (zygotes, renderer, network service).
    while browsers() < 5 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(
        browsers() >= 5,
        "the browser and its helpers started: {}",
        browsers()
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while browsers() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        browsers(),
        0,
        "browser processes outlived a SIGKILLed plumb"
    );
}

#[test]
fn a_page_measured_under_a_plan_scenarios_load_records_the_load() {
    let (nginx, _root) = site();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    // The backend: a pool of known capacity, loaded at 50 req/s by the plan's scenario.
    let pool = plumb_test::WorkerPool::start(4, std::time::Duration::from_millis(5));
    let plan = dir.path().join("plumb.toml");
    std::fs::write(
        &plan,
        format!(
            "[scenarios.backend]\nurl = \"{}\"\nrate = 50\nduration = \"1s\"\n",
            pool.url()
        ),
    )
    .unwrap();
    let light = format!("{}light.html", nginx.url());
    let out = with_ledger(
        &ledger,
        &[
            "page",
            &light,
            "--runs",
            "1",
            "--settle",
            "300ms",
            "--under",
            "backend",
            "--plan",
            plan.to_str().unwrap(),
            "-o",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let result = json(&out);
    let load = &result["under_load"];
    assert_eq!(load["scenario"], "backend");
    assert_eq!(load["url"], pool.url());
    assert_eq!(load["requested_rps"], 50.0);
    // It ran for the 2 s before the page load and during it, whatever the scenario's 1 s said.
    let seconds = load["duration_s"].as_f64().unwrap();
    assert!(seconds >= 2.0, "{load}");
    let achieved = load["achieved_rps"].as_f64().unwrap();
    assert!((40.0..=55.0).contains(&achieved), "{load}");
    assert_eq!(load["error_rate"], 0.0, "{load}");
    assert!(load["ended_early"].is_null(), "{load}");
    let text = with_ledger(&ledger, &["show", "latest"]);
    assert!(
        stdout(&text).contains("under load: scenario backend"),
        "{}",
        stdout(&text)
    );
    let bad = with_ledger(
        &ledger,
        &[
            "page",
            &light,
            "--under",
            "nosuch",
            "--plan",
            plan.to_str().unwrap(),
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("no load scenario called 'nosuch'"),
        "{}",
        stderr(&bad)
    );
}
