//! `plumb run`, `plumb init` and `--threshold-window` end to end: a plan's goals judged on real
//! servers (a worker pool of known capacity, a server that degrades late), the stress preset's
//! steps finding where the goals fail, the before/after table against the previous run, exit
//! codes, and bad plan files named by file, line and key.

use crate::support::stdout;
use plumb_test::{Degrading, WorkerPool};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// plumb in `dir`, with the ledger in it.
fn plumb_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PLUMB_LEDGER", dir.join("ledger.db"))
        .env_remove("PLUMB_NO_SAVE")
        .output()
        .expect("plumb runs")
}

fn both(out: &Output) -> String {
    format!("{}\n{}", stdout(out), String::from_utf8_lossy(&out.stderr))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_window_catches_a_late_degradation_the_whole_run_dilutes() {
    // 100 req/s for 10 s; from 9.6 s the server takes 100 ms: about 30 slow responses of 1,000
    // (3%, inside the whole run's 5% tail), but 10% of the last 3-second window.
    let server = Degrading::start(Duration::from_millis(9_600), Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let out_json = dir.path().join("load.json");
    let out = plumb_in(
        dir.path(),
        &[
            "load",
            &server.url(),
            "--rate",
            "100",
            "-d",
            "10s",
            "--threshold",
            "http_req_duration: p(95)<50ms",
            "--threshold-window",
            "3s",
            "--json",
            out_json.to_str().unwrap(),
            "-q",
            "--no-save",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let result = json(&out_json);
    let threshold = &result["thresholds"][0];
    assert_eq!(threshold["status"], "failed");
    let whole_run = threshold["observed"].as_f64().unwrap();
    assert!(
        whole_run < 50.0,
        "the whole run's p95 must pass: {whole_run} ms"
    );
    let window = &threshold["window"];
    assert_eq!(window["seconds"], 3);
    assert_eq!(window["status"], "failed");
    // 10 whole seconds make 8 windows of 3 s; the slow responses fall in the last second, and
    // only the windows that hold it fail: those starting at 7 s (and at 6 s or 8 s at most).
    assert_eq!(window["windows"], 8, "{window}");
    let failed = window["failed_windows"].as_u64().unwrap();
    assert!((1..=3).contains(&failed), "{window}");
    assert!(
        window["worst_observed"].as_f64().unwrap() >= 90.0,
        "{window}"
    );
    assert!(
        window["first_failed_from_s"].as_u64().unwrap() >= 5,
        "{window}"
    );
    // The text says what the windows showed beside the whole run's passing figure.
    let text = stdout(&out);
    assert!(text.contains("of 8 windows of 3 s failed, worst"), "{text}");
}

#[test]
fn abort_on_fail_says_when_and_at_which_rate() {
    let server = Degrading::start(Duration::from_millis(2_500), Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let out_json = dir.path().join("load.json");
    let out = plumb_in(
        dir.path(),
        &[
            "load",
            &server.url(),
            "--rate",
            "50",
            "-d",
            "20s",
            "--threshold",
            "http_req_duration: p(95)<50ms",
            "--threshold-window",
            "2s",
            "--abort-on-fail",
            "--json",
            out_json.to_str().unwrap(),
            "-q",
            "--no-save",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let result = json(&out_json);
    let reason = result["stop_reason"].as_str().unwrap();
    assert!(
        reason.contains("threshold 'http_req_duration: p(95)<50ms' failed over the window"),
        "{reason}"
    );
    assert!(reason.contains("at 50 req/s requested"), "{reason}");
    assert!(
        result["summary"]["duration_s"].as_f64().unwrap() < 10.0,
        "{reason}"
    );
}

const PLAN: &str = r#"
[plan]
name = "pool"

[target]
url = "URL"

[goals]
latency = "http_req_duration: p(95)<150ms"
errors = "http_req_failed: rate<1%"

[scenarios.normal]
url = "/"
rate = 40
duration = "3s"

[presets]
stress = { factors = [1, 2, 5, 6], step = "3s" }
"#;

fn plan_dir(url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = PLAN.replace("URL", url.trim_end_matches('/'));
    std::fs::write(dir.path().join("plumb.toml"), text).unwrap();
    dir
}

#[test]
fn stress_steps_find_where_a_pool_of_known_capacity_breaks() {
    // 4 workers of 25 ms serve 160 req/s: 40 and 80 hold, 200 and 240 queue without bound.
    let pool = WorkerPool::start(4, Duration::from_millis(25));
    let dir = plan_dir(&pool.url());
    let out_json = dir.path().join("stress.json");
    let out = plumb_in(
        dir.path(),
        &["run", "stress", "-q", "--json", out_json.to_str().unwrap()],
    );
    let result = json(&out_json);
    let labels: Vec<&str> = result["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    // The steps stop at the first that fails: 6x is never run.
    assert_eq!(
        labels,
        ["stress 1x", "stress 2x", "stress 5x"],
        "{}",
        both(&out)
    );
    assert_eq!(result["steps"][2]["level"], 200.0);
    assert_eq!(result["stress"]["last_passing_step"], 1, "{}", both(&out));
    assert_eq!(result["stress"]["first_failing_step"], 2);
    assert_eq!(result["stress"]["stopped_early"], true);
    let headline = result["stress"]["headline"].as_str().unwrap();
    assert_eq!(
        headline,
        "the goals hold up to stress 2x (80 req/s); they fail from stress 5x (200 req/s)"
    );
    // The normal load held, so the stress test passes, and says where it broke.
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(stdout(&out).contains(headline), "{}", both(&out));
    // Each step was saved, labelled with the plan, the preset and the step.
    let history = plumb_in(dir.path(), &["history", "--label", "step=stress 5x"]);
    assert!(
        stdout(&history).contains("preset=stress"),
        "{}",
        both(&history)
    );
}

#[test]
fn the_second_run_prints_the_before_after_table_against_the_first() {
    let pool = WorkerPool::start(8, Duration::from_millis(5));
    let dir = plan_dir(&pool.url());
    let first = plumb_in(dir.path(), &["run", "-q"]);
    assert_eq!(first.status.code(), Some(0), "{}", both(&first));
    assert!(
        stdout(&first).contains("no earlier run of scenario 'normal'"),
        "{}",
        both(&first)
    );
    let out_json = dir.path().join("run.json");
    let html = dir.path().join("run.html");
    let second = plumb_in(
        dir.path(),
        &[
            "run",
            "-q",
            "--json",
            out_json.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
    );
    assert_eq!(second.status.code(), Some(0), "{}", both(&second));
    let result = json(&out_json);
    let table = &result["before_after"];
    let rows = table["rows"].as_array().unwrap();
    let p95 = rows.iter().find(|r| r["metric"] == "latency p95").unwrap();
    assert_eq!(p95["target"], "< 150 ms");
    assert_eq!(p95["target_met"], true);
    // The table's columns are the two runs' own whole-run p95.
    let first_id = table["baseline"]
        .as_str()
        .unwrap()
        .trim_start_matches("run ");
    let shown = plumb_in(dir.path(), &["show", first_id, "-o", "json"]);
    let first_result: serde_json::Value = serde_json::from_str(&stdout(&shown)).unwrap();
    let base_p95 = first_result["summary"]["latency_ms"]["p95"]
        .as_f64()
        .unwrap();
    assert!((p95["baseline"].as_f64().unwrap() - base_p95).abs() < 1e-9);
    let now_p95 = result["steps"][0]["result"]["summary"]["latency_ms"]["p95"]
        .as_f64()
        .unwrap();
    assert!((p95["achieved"].as_f64().unwrap() - now_p95).abs() < 1e-9);
    let text = stdout(&second);
    assert!(text.contains("before/after: run "), "{text}");
    assert!(text.contains("< 150 ms (met)"), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Before and after: run "),
        "the plan's section leads the report"
    );
    assert!(page.contains("&lt; 150 ms (met)"));
    assert!(
        page.contains("Load run normal"),
        "each step's load report follows"
    );
}

#[test]
fn a_failed_goal_exits_1_and_a_bad_plan_exits_2_naming_file_line_and_key() {
    let pool = WorkerPool::start(1, Duration::from_millis(20));
    let dir = plan_dir(&pool.url());
    let path = dir.path().join("plumb.toml");
    // One worker of 20 ms serves 50 req/s: a goal of 10 ms cannot hold.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("p(95)<150ms", "p(95)<10ms");
    std::fs::write(&path, &text).unwrap();
    let out = plumb_in(dir.path(), &["run", "-q", "--no-save"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(stdout(&out).contains("goals: FAILED"), "{}", both(&out));

    std::fs::write(
        &path,
        text.replace("rate = 40", "rate = 40\nconections = 5"),
    )
    .unwrap();
    let out = plumb_in(dir.path(), &["run", "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("plumb.toml:15:1: scenarios.normal: unknown field `conections`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");

    std::fs::write(&path, text.replace("url = \"/\"", "flow = \"checkout\"")).unwrap();
    let out = plumb_in(dir.path(), &["run", "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("plumb.toml:13:8: scenarios.normal.flow: names a flow the plan does not have: 'checkout'"),
        "{stderr}"
    );

    std::fs::write(&path, &text).unwrap();
    let out = plumb_in(dir.path(), &["run", "nosuch"]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no scenario or preset called 'nosuch'"));
}

#[test]
fn init_writes_a_plan_that_runs_and_never_overwrites_one() {
    let pool = WorkerPool::start(4, Duration::from_millis(2));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}health", pool.url());
    let out = plumb_in(dir.path(), &["init", &url, "--rate", "20"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let path = dir.path().join("plumb.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("duration = \"30s\"", "duration = \"2s\"");
    std::fs::write(&path, text).unwrap();
    let list = plumb_in(dir.path(), &["run", "--list"]);
    assert!(
        stdout(&list).contains(&format!("plumb load {url} --rate 20 --duration 2s")),
        "{}",
        both(&list)
    );
    // Each preset's steps with the load they offer.
    assert!(
        stdout(&list).contains("stress 3x    --rate 60 --duration 30s"),
        "{}",
        both(&list)
    );
    assert!(
        stdout(&list)
            .contains("spike 5x     --rate 20 --stages 20s:20,0s:100,10s:100,0s:20,30s:20"),
        "{}",
        both(&list)
    );
    let run = plumb_in(dir.path(), &["run", "-q", "--no-save"]);
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    let again = plumb_in(dir.path(), &["init", &url]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

const SHOP_PLAN: &str = r#"
[target]
url = "URL"

[goals]
login = "http_req_duration{step:login}: p(95)<500ms"
errors = "http_req_failed: rate==0"

[data.users]
file = "users.csv"

[flows.buy]
[[flows.buy.steps]]
name = "login"
method = "POST"
url = "/login"
json = { user = "{{users.email}}", pw = "secret" }
capture = { token = "json:$.token" }
check = { status = 200 }

[[flows.buy.steps]]
name = "cart"
method = "POST"
url = "/cart"
headers = { Authorization = "Bearer {{token}}" }
check = { status = 200 }

[scenarios.shop]
flow = "buy"
connections = 2
requests = 10        # with flows, -n counts sessions
threads = 1
"#;

#[test]
fn a_scenario_of_flows_runs_the_plans_own_flows() {
    let shop = plumb_test::Shop::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("users.csv"), "email\na@x.org\nb@x.org\n").unwrap();
    let text = SHOP_PLAN.replace("URL", &shop.url());
    std::fs::write(dir.path().join("plumb.toml"), text).unwrap();
    let out_json = dir.path().join("run.json");
    let out = plumb_in(
        dir.path(),
        &["run", "shop", "-q", "--json", out_json.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let result = json(&out_json);
    let step = &result["steps"][0]["result"];
    // 20 requests are 10 sessions of two steps, each sending back the token it captured.
    assert_eq!(step["summary"]["requests"], 20, "{}", both(&out));
    assert_eq!(step["flows"]["flows"][0]["name"], "buy");
    assert_eq!(shop.served("/cart", 200), 10);
    assert_eq!(step["thresholds"][0]["status"], "passed", "{}", both(&out));
    assert_eq!(
        step["thresholds"][0]["expression"],
        "http_req_duration{step:login}: p(95)<500ms"
    );
}

#[test]
fn capacity_of_a_scenario_takes_its_url_and_latency_goal() {
    let pool = WorkerPool::start(8, Duration::from_millis(5));
    let dir = plan_dir(&pool.url());
    let out_json = dir.path().join("capacity.json");
    let out = plumb_in(
        dir.path(),
        &[
            "capacity",
            "normal",
            "--start",
            "20",
            "--max-steps",
            "1",
            "--settle",
            "0s",
            "--measure",
            "3s",
            "--no-save",
            "--json",
            out_json.to_str().unwrap(),
        ],
    );
    let result = json(&out_json);
    assert_eq!(result["url"], pool.url(), "{}", both(&out));
    assert_eq!(result["goal"], "http_req_duration: p(95)<150ms");
    let out = plumb_in(dir.path(), &["capacity", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no load scenario called 'nosuch'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the plan's load scenarios are: normal"),
        "{stderr}"
    );
}
