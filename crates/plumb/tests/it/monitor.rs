//! `plumb monitor` end to end: a real Prometheus (Debian's package) scrapes a running monitor
//! and PromQL reads its figures; a restart keeps the budget and does not fire again; the
//! dashboard opens in headless Chromium with no console errors and its charts drawn;
//! SIGTERM stops it with its state saved; bad flags and plan keys are named with a hint.

use crate::support::{plumb, stderr, stdout};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn target() -> plumb_target::RunningTarget {
    plumb_target::spawn(Default::default(), "127.0.0.1:0".parse().unwrap(), 1).unwrap()
}

/// A port no one listens on (bound, then released).
fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}/health", listener.local_addr().unwrap())
}

/// Start a monitor serving on a free loopback port; returns it and its dashboard URL.
fn start_monitor(args: &[&str]) -> (Child, String) {
    let mut child = plumb()
        .arg("monitor")
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("http://127.0.0.1:"), "{line:?}");
    (child, line.trim().to_string())
}

/// GET `path` from `addr` over plain HTTP/1.0; the status and body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A Prometheus on a free loopback port scraping `target` every second.
struct Prometheus {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        Prometheus::start_with(target, &[])
    }

    fn start_with(target: &str, extra: &[&str]) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nscrape_configs:\n- job_name: plumb\n  static_configs: [{{targets: ['{target}']}}]\n"
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "prometheus is not installed: apt-get install prometheus (.ci/run installs it)",
            );
        Prometheus {
            child,
            addr,
            _dir: dir,
        }
    }

    /// The value of an instant query that returns one sample, waiting up to 30 s for it.
    fn value(&self, query: &str) -> f64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut stream) = TcpStream::connect(&self.addr) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let path = format!("/api/v1/query?query={}", encode(query));
                let _ = write!(stream, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr);
                let mut text = String::new();
                let _ = stream.read_to_string(&mut text);
                if let Some((_, body)) = text.split_once("\r\n\r\n") {
                    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
                    if let Some(v) = json["data"]["result"][0]["value"][1].as_str() {
                        return v.parse().unwrap();
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus has no sample for {query}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sigterm(child: &mut Child) -> (i32, String) {
    // SAFETY: the pid is our own child's, still unreaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code().unwrap_or(-1), err)
}

/// Wait (up to 30 s) until `/api/status` has a probe.
fn wait_for_a_probe(addr: &str, query: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(addr, &format!("/api/status{query}")).1.trim() == "null" {
        assert!(Instant::now() < deadline, "no probe within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn host_port(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

#[test]
fn prometheus_scrapes_a_running_monitor_and_promql_reads_its_figures() {
    let target = target();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.db");
    // One probe at the start, the next in an hour: the figures hold still while Prometheus reads them.
    let (mut monitor, url) = start_monitor(&[
        &target.url("/"),
        "--name",
        "shop",
        "--every",
        "1h",
        "--slo",
        "availability 99.9% 30d",
        "--slo",
        "latency 99% < 300ms 30d",
        "--ledger",
        ledger.to_str().unwrap(),
    ]);
    let addr = host_port(&url);
    let prometheus = Prometheus::start(&addr);
    let m = r#"monitor="shop""#;
    assert_eq!(
        prometheus.value(&format!(r#"plumb_probes_total{{{m},result="ok"}}"#)),
        1.0
    );
    assert_eq!(
        prometheus.value(&format!("plumb_probe_success{{{m}}}")),
        1.0
    );
    assert_eq!(
        prometheus.value(&format!("plumb_probe_duration_seconds_count{{{m}}}")),
        1.0
    );
    // The latency SLO's bound is a bucket boundary, so rules can read it exactly.
    assert_eq!(
        prometheus.value(&format!(
            r#"plumb_probe_duration_seconds_bucket{{{m},le="0.3"}}"#
        )),
        1.0
    );
    assert_eq!(
        prometheus.value(&format!(
            r#"plumb_slo_objective_ratio{{{m},slo="availability"}}"#
        )),
        0.999
    );
    assert_eq!(
        prometheus.value(&format!(
            r#"plumb_slo_objective_ratio{{{m},slo="latency-300ms"}}"#
        )),
        0.99
    );
    assert_eq!(
        prometheus.value(&format!(
            r#"plumb_slo_error_budget_remaining_ratio{{{m},slo="availability"}}"#
        )),
        1.0
    );
    assert_eq!(
        prometheus.value(&format!(
            r#"plumb_slo_burn_rate{{{m},slo="availability",window="5m"}}"#
        )),
        0.0
    );
    assert_eq!(
        prometheus.value(&format!(
            r#"plumb_alert_firing{{{m},alertname="SloBurnPage",slo="availability"}}"#
        )),
        0.0
    );
    assert_eq!(prometheus.value(r#"up{job="plumb"}"#), 1.0);
    let (code, err) = sigterm(&mut monitor);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("stopped (interrupted (SIGTERM)) after 1 probes; state saved"),
        "{err}"
    );
    target.shutdown();
}

#[test]
fn a_restart_keeps_the_budget_and_does_not_fire_again() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.db");
    let alerts = dir.path().join("alerts.jsonl");
    let url = dead_url();
    let command = format!("cat >> {}; echo >> {}", alerts.display(), alerts.display());
    let run = |for_: &str| {
        plumb()
            .args([
                "monitor", &url, "--name", "api", "--every", "200ms", "--for", for_, "--json",
            ])
            .args([
                "--ledger",
                ledger.to_str().unwrap(),
                "--alert-command",
                &command,
            ])
            .output()
            .unwrap()
    };
    let first = run("1s");
    assert!(first.status.success(), "{}", stderr(&first));
    let status: serde_json::Value = serde_json::from_str(&stdout(&first)).unwrap();
    // About 5 probes in 1 s every 200 ms (fewer if a loaded machine makes one overrun a slot).
    let first_probes = status["probes_failed"].as_u64().unwrap();
    assert!((1..=5).contains(&first_probes), "{status}");
    assert_eq!(status["slos"][0]["total"], first_probes);
    let err = stderr(&first);
    // Every probe fails: 100% errors over every window burns 1000x the 0.1% budget.
    assert!(err.contains("FIRING SloBurnPage{monitor=api,severity=page,slo=availability}: availability error budget burn rate 1000.0x over 5m"), "{err}");
    let fired = std::fs::read_to_string(&alerts).unwrap();
    let bodies: Vec<serde_json::Value> = fired
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = bodies
        .iter()
        .map(|b| b["alerts"][0]["labels"]["alertname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["SloBurnPage", "SloBurnTicket", "ErrorRateSpike"]);
    assert!(bodies.iter().all(|b| b["status"] == "firing"));

    let second = run("1s");
    assert!(second.status.success(), "{}", stderr(&second));
    let status: serde_json::Value = serde_json::from_str(&stdout(&second)).unwrap();
    // The budget counts both runs' probes; the alerts still fire, without firing again.
    let second_probes = status["probes_failed"].as_u64().unwrap();
    assert_eq!(status["slos"][0]["total"], first_probes + second_probes);
    assert_eq!(status["slos"][0]["good"], 0);
    assert!(!stderr(&second).contains("FIRING"), "{}", stderr(&second));
    assert_eq!(std::fs::read_to_string(&alerts).unwrap(), fired);
    let firing: Vec<&str> = status["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["state"] == "firing")
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(firing, ["SloBurnPage", "SloBurnTicket", "ErrorRateSpike"]);
}

fn chromium_dom(url: &str) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("/usr/bin/chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
        ])
        .args([
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .output()
        .expect("chromium is not installed: apt-get install chromium (.ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

#[test]
fn the_dashboard_draws_its_charts_in_headless_chromium_and_asks_for_its_token() {
    let target = target();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.db");
    let (mut monitor, url) = start_monitor(&[
        &target.url("/"),
        "--every",
        "200ms",
        "--token",
        "s3cret",
        "--ledger",
        ledger.to_str().unwrap(),
    ]);
    let addr = host_port(&url);
    wait_for_a_probe(&addr, "?token=s3cret");
    assert_eq!(get(&addr, "/metrics").0, 401);
    assert_eq!(get(&addr, "/").0, 401);
    let (status, body) = get(&addr, "/metrics?token=s3cret");
    assert_eq!(status, 200);
    assert!(
        body.contains("plumb_probes_total") && body.ends_with("# EOF\n"),
        "{body}"
    );
    std::thread::sleep(Duration::from_millis(600));
    let (dom, console) = chromium_dom(&format!("{url}?token=s3cret"));
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(dom.contains(">UP<"), "{dom}");
    assert!(dom.contains("availability 99.9% 30d"), "{dom}");
    assert!(
        dom.contains("<polyline points=\""),
        "no latency lines: {dom}"
    );
    assert!(dom.contains("<rect x="), "no error-rate bars: {dom}");
    assert!(!dom.contains("<script src"), "an external script: {dom}");
    let (code, err) = sigterm(&mut monitor);
    assert_eq!(code, 0, "{err}");
    target.shutdown();
}

#[test]
fn bad_monitor_settings_name_the_flag_or_the_plan_key_with_a_hint() {
    let out = plumb()
        .args(["monitor", "http://127.0.0.1:1/", "--every", "1ms"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--every: 1ms is outside 100ms to 1day\nhint:"),
        "{}",
        stderr(&out)
    );
    let out = plumb()
        .args([
            "monitor",
            "http://127.0.0.1:1/",
            "--slo",
            "availability 100% 30d",
        ])
        .output()
        .unwrap();
    assert!(stderr(&out).contains("invalid value 'availability 100% 30d' for --slo: the objective is not above 0% and below 100%\nhint:"), "{}", stderr(&out));
    let out = plumb()
        .args(["monitor", "http://127.0.0.1:1/", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("--token: is required to listen on 0.0.0.0:0"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plumb.toml");
    std::fs::write(&plan, "[goals]\np95 = \"200ms\"\n\n[monitor]\nurl = \"http://127.0.0.1:1/\"\ntimeout = \"2s\"\nevry = \"1s\"\n").unwrap();
    let out = plumb()
        .args(["monitor", "--plan", plan.to_str().unwrap()])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}:7:1: unknown field `evry`", plan.display())),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn rules_are_written_for_promtool() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules.yml");
    let out = plumb()
        .args([
            "monitor",
            "http://127.0.0.1:1/",
            "--name",
            "shop",
            "--slo",
            "latency 99% < 250ms 7d",
            "--rules",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let check = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&file)
        .output()
        .expect("promtool: apt-get install prometheus");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let text = std::fs::read_to_string(Path::new(&file)).unwrap();
    // 7 days: the workbook's windows scaled by 7/30 (1h -> 14m, 5m -> 70s), factors kept.
    assert!(
        text.contains("slo:sli_error:ratio_rate14m")
            && text.contains("slo:sli_error:ratio_rate70s"),
        "{text}"
    );
    assert!(text.contains(r#"le=\"0.25\""#), "{text}");
}

#[test]
fn plumb_load_pushes_its_seconds_to_a_prometheus_remote_write_receiver() {
    let target = target();
    let dead = dead_url();
    let prometheus = Prometheus::start_with(
        &host_port(&dead).replace("/health", ""),
        &["--web.enable-remote-write-receiver"],
    );
    // Wait until Prometheus answers queries.
    prometheus.value("vector(1)");
    let out = plumb()
        .args([
            "load",
            &target.url("/"),
            "-c",
            "2",
            "-d",
            "3s",
            "-o",
            "json",
        ])
        .args([
            "--prometheus-rw",
            &format!("http://{}/api/v1/write", prometheus.addr),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pushed 3 seconds of the run to"),
        "{}",
        stderr(&out)
    );
    let result: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let seconds = result["timeseries"].as_array().unwrap();
    let requests: u64 = seconds
        .iter()
        .map(|w| w["requests"].as_u64().unwrap())
        .sum();
    let sel = r#"{job="plumb-load"}"#;
    assert_eq!(
        prometheus.value(&format!("count_over_time(plumb_load_requests{sel}[10m])")),
        seconds.len() as f64
    );
    assert_eq!(
        prometheus.value(&format!("sum_over_time(plumb_load_requests{sel}[10m])")),
        requests as f64
    );
    let max = seconds
        .iter()
        .map(|w| w["latency_max_ms"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let got = prometheus.value(&format!(
        "max_over_time(plumb_load_latency_max_seconds{sel}[10m])"
    ));
    assert!((got - max / 1000.0).abs() < 1e-12, "{got} vs {max} ms");
    // A receiver that is not there is a warning, not a lost run.
    let out = plumb()
        .args([
            "load",
            &target.url("/"),
            "-c",
            "1",
            "-d",
            "1s",
            "--prometheus-rw",
            &dead,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: remote write to"),
        "{}",
        stderr(&out)
    );
    target.shutdown();
}

#[test]
fn sigterm_cuts_a_probe_in_flight_short_and_saves_the_state() {
    let settings = plumb_target::TargetSettings {
        latency: plumb_target::Latency::Fixed(Duration::from_secs(20)),
        ..Default::default()
    };
    let target = plumb_target::spawn(settings, "127.0.0.1:0".parse().unwrap(), 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.db");
    let (mut monitor, url) = start_monitor(&[
        &target.url("/"),
        "--timeout",
        "30s",
        "--ledger",
        ledger.to_str().unwrap(),
    ]);
    let (status, body) = get(&host_port(&url), "/api/status");
    assert_eq!(
        (status, body.trim()),
        (200, "null"),
        "the first probe is still in flight"
    );
    let sent = Instant::now();
    let (code, err) = sigterm(&mut monitor);
    assert_eq!(code, 0, "{err}");
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "took {:?}",
        sent.elapsed()
    );
    assert!(
        err.contains("stopped (interrupted (SIGTERM)) after 0 probes; state saved"),
        "{err}"
    );
}

#[test]
fn a_watched_process_above_its_share_of_the_host_fires_the_resource_alert() {
    let target = target();
    let dir = tempfile::tempdir().unwrap();
    let mut spinner = Command::new("sh")
        .args(["-c", "while :; do :; done"])
        .spawn()
        .unwrap();
    let pid = spinner.id().to_string();
    let out = plumb()
        .args([
            "monitor",
            &target.url("/health"),
            "--every",
            "300ms",
            "--for",
            "2s",
        ])
        .args(["--resource-above", "5%", "--watch-pid", &pid])
        .args(["--ledger", dir.path().join("l.db").to_str().unwrap()])
        .output()
        .unwrap();
    let _ = spinner.kill();
    let _ = spinner.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    // One spinning thread is at least 5% of the host's CPUs (at most 1024 of them).
    assert!(
        err.contains("FIRING ProcessCpuHigh{monitor=")
            && err.contains("the watched processes' CPU is"),
        "{err}"
    );
    let bad = plumb()
        .args([
            "monitor",
            &target.url("/health"),
            "--watch-pid",
            &pid,
            "--for",
            "1s",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("resource-above"), "{}", stderr(&bad));
}

const SHOP_FLOW: &str = r#"
[flows.buy]
[[flows.buy.steps]]
name = "login"
method = "POST"
url = "/login"
json = { user = "probe@x.org", pw = "PASSWORD" }
capture = { token = "json:$.token" }
check = { status = 200 }

[[flows.buy.steps]]
name = "cart"
method = "POST"
url = "/cart"
headers = { Authorization = "Bearer {{token}}" }
check = { status = 200 }
"#;

#[test]
fn a_flow_probe_passes_when_its_session_completes_and_fails_when_a_check_does() {
    let shop = plumb_test::Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let probe = |password: &str| {
        let flows = dir.path().join(format!("{password}.toml"));
        std::fs::write(&flows, SHOP_FLOW.replace("PASSWORD", password)).unwrap();
        plumb()
            .args([
                "monitor",
                &shop.url(),
                "--every",
                "200ms",
                "--for",
                "1s",
                "--json",
            ])
            .args(["--flow-file", flows.to_str().unwrap(), "--flow", "buy"])
            .args(["--name", password])
            .args(["--ledger", dir.path().join("l.db").to_str().unwrap()])
            .output()
            .unwrap()
    };
    let good = probe("secret");
    assert!(good.status.success(), "{}", stderr(&good));
    let status: serde_json::Value = serde_json::from_str(&stdout(&good)).unwrap();
    let passed = status["probes_ok"].as_u64().unwrap();
    assert!(passed >= 1, "{status}");
    assert_eq!(status["probes_failed"], 0, "{status}");
    // Each probe is one session: a login, then the cart with the captured token.
    assert_eq!(shop.served("/cart", 200), passed);
    let bad = probe("wrong");
    let status: serde_json::Value = serde_json::from_str(&stdout(&bad)).unwrap();
    assert_eq!(status["probes_ok"], 0, "{status}");
    assert!(status["probes_failed"].as_u64().unwrap() >= 1, "{status}");
    assert_eq!(shop.served("/cart", 200), passed, "no cart without a login");
}
