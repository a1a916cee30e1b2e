//! Flows against a real shop on 127.0.0.1 (`plumb_test::Shop`): a token captured and sent back,
//! cookies kept per session, a weighted mix, CSV rows in order and once each, failing checks
//! counted, both load models.

use crate::support::run;
use plumb_flow::read_flow_file;
use plumb_load::{ErrorClass, LoadModel, LoadReport, LoadSettings};
use plumb_test::Shop;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const SHOP: &str = r#"
[data.users]
file = "users.csv"
on_eof = "stop"

[flows.buy]
weight = 3
[[flows.buy.steps]]
name = "login"
method = "POST"
url = "/login"
json = { user = "{{users.email}}", pw = "{{users.pw}}" }
capture = { token = "json:$.token" }
check = { status = 200, json = { "$.ok" = true } }

[[flows.buy.steps]]
name = "items"
url = "/items"
headers = { Authorization = "Bearer {{token}}" }
capture = { item = "json:$.items[0].id" }
check = { status = 200, json = { "$.count" = 2 } }

[[flows.buy.steps]]
name = "cart"
method = "POST"
url = "/cart"
headers = { Authorization = "Bearer {{token}}" }
form = { item = "{{item}}" }
check = { status = 200, body_contains = "\"ok\":true" }

[flows.browse]
weight = 1
[[flows.browse.steps]]
name = "home"
url = "/"
check = { body_contains = "welcome" }
"#;

/// A flow file and its data in a temporary directory, prepared for `threads` workers.
fn plan(
    dir: &Path,
    flows: &str,
    rows: usize,
    selection: &[&str],
    base: &str,
    threads: usize,
) -> Arc<plumb_flow::FlowPlan> {
    let mut csv = String::from("email,pw\n");
    for i in 0..rows {
        csv.push_str(&format!("u{i}@x.org,secret\n"));
    }
    std::fs::write(dir.join("users.csv"), csv).unwrap();
    let path = dir.join("flows.toml");
    std::fs::write(&path, flows).unwrap();
    let selection: Vec<String> = selection.iter().map(|s| s.to_string()).collect();
    let file = read_flow_file(&path).unwrap();
    Arc::new(file.prepare(base, &selection, threads).unwrap())
}

fn settings(
    shop: &Shop,
    plan: Arc<plumb_flow::FlowPlan>,
    model: LoadModel,
    threads: usize,
) -> LoadSettings {
    let mut s = LoadSettings::new(shop.url());
    s.model = model;
    s.threads = threads;
    s.duration = Some(Duration::from_secs(20));
    s.flows = Some(plan);
    s
}

fn steps(report: &LoadReport, flow: usize) -> Vec<(u64, u64)> {
    let flows = report.totals.flows.as_ref().expect("flow figures");
    flows.flows[flow]
        .steps
        .iter()
        .map(|s| (s.requests, s.errors))
        .collect()
}

#[test]
fn a_captured_token_and_cookie_carry_a_login_through_the_flow() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path(), SHOP, 1000, &["buy"], &shop.url(), 1);
    let mut s = settings(&shop, plan, LoadModel::Closed { connections: 2 }, 1);
    s.requests = Some(30);
    let report = run(&s);
    assert_eq!(report.totals.errors, 0, "{:?}", report.totals.details);
    assert_eq!(report.totals.requests, 90);
    // The shop refuses /items and /cart without the token and the cookie: every one passed.
    assert_eq!(
        (shop.served("/items", 200), shop.served("/cart", 200)),
        (30, 30)
    );
    assert_eq!(shop.served("/cart", 401), 0);
    assert_eq!(steps(&report, 0), vec![(30, 0), (30, 0), (30, 0)]);
    let flows = report.totals.flows.as_ref().unwrap();
    let buy = &flows.flows[0];
    assert_eq!((buy.started, buy.completed, buy.failed), (30, 30, 0));
    assert_eq!(buy.duration.len(), 30);
    assert_eq!(buy.steps[0].checks_passed, 60);
    assert_eq!(buy.steps[2].checks_passed, 60);
    // Submetric thresholds by tag read these figures.
    let judged = |expr: &str| {
        let t = plumb_stats::Threshold::parse(expr).unwrap();
        let e = t.evaluate(&report);
        (e.status, e.observed)
    };
    use plumb_stats::ThresholdStatus::{NoData, Passed};
    assert_eq!(
        judged("http_reqs{step:cart}: count===30"),
        (Passed, Some(30.0))
    );
    assert_eq!(
        judged("http_reqs{flow:buy}: count==90"),
        (Passed, Some(90.0))
    );
    assert_eq!(judged("checks{flow:buy}: rate==1"), (Passed, Some(1.0)));
    assert_eq!(
        judged("http_req_failed{step:login}: rate==0"),
        (Passed, Some(0.0))
    );
    assert_eq!(
        judged("http_reqs{status:200}: count==90"),
        (Passed, Some(90.0))
    );
    assert_eq!(
        judged("http_req_duration{step:nope}: p(95)<1ms"),
        (NoData, None)
    );
    let p95 = judged("http_req_duration{step:login}: p(95)<10s");
    assert_eq!(p95.0, Passed);
    let login_p95 = plumb_load::percentiles(&buy.steps[0].latency).p95;
    assert_eq!(p95.1, Some(login_p95));
}

#[test]
fn without_the_capture_the_shop_refuses_and_the_errors_are_counted_per_step() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let broken = SHOP.replace("Bearer {{token}}", "Bearer none");
    let plan = plan(dir.path(), &broken, 1000, &["buy"], &shop.url(), 1);
    let mut s = settings(&shop, plan, LoadModel::Closed { connections: 1 }, 1);
    s.requests = Some(10);
    let report = run(&s);
    // /items answered 401: its status check failed (the class it is counted under), and its
    // capture matched nothing, which ends the session there: /cart was never sent.
    assert_eq!(steps(&report, 0), vec![(10, 0), (10, 10), (0, 0)]);
    assert_eq!(shop.served("/items", 401), 10);
    let flows = report.totals.flows.as_ref().unwrap();
    let items = &flows.flows[0].steps[1];
    assert_eq!(items.errors_of(ErrorClass::Status), 10);
    assert_eq!(items.capture_misses, vec![10]);
    assert_eq!(flows.flows[0].failed, 10);
}

#[test]
fn failing_checks_are_counted_by_class() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let flows = SHOP.replace(r#""$.count" = 2"#, r#""$.count" = 3"#);
    let plan = plan(dir.path(), &flows, 1000, &["buy"], &shop.url(), 1);
    let mut s = settings(&shop, plan, LoadModel::Closed { connections: 1 }, 1);
    s.requests = Some(12);
    let report = run(&s);
    let f = report.totals.flows.as_ref().unwrap();
    let items = &f.flows[0].steps[1];
    assert_eq!((items.checks_passed, items.checks_failed), (12, 12));
    assert_eq!(items.errors_of(ErrorClass::Check), 12);
    assert_eq!(report.totals.errors_of(ErrorClass::Check), 12);
    // A failed check does not end the session: /cart still ran and passed.
    assert_eq!(f.flows[0].completed, 12);
    assert_eq!(shop.served("/cart", 200), 12);
}

#[test]
fn the_weighted_mix_holds_within_two_percent() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(
        dir.path(),
        SHOP.replace("on_eof = \"stop\"", "on_eof = \"recycle\"")
            .as_str(),
        50,
        &[],
        &shop.url(),
        2,
    );
    let mut s = settings(&shop, plan, LoadModel::Closed { connections: 8 }, 2);
    s.requests = Some(2000);
    let report = run(&s);
    let f = report.totals.flows.as_ref().unwrap();
    let (browse, buy) = (f.flows[0].started as f64, f.flows[1].started as f64);
    assert_eq!(browse + buy, 2000.0);
    let share = buy / (browse + buy);
    assert!((share - 0.75).abs() <= 0.02 * 0.75, "buy share {share}");
    assert_eq!(shop.served("/", 200) as f64, browse);
    assert_eq!(shop.served("/login", 200) as f64, buy);
    assert_eq!(report.totals.errors, 0);
}

#[test]
fn csv_rows_are_used_in_order_and_once_with_stop() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let plan_one = plan(dir.path(), SHOP, 40, &["buy"], &shop.url(), 1);
    let report = run(&settings(
        &shop,
        plan_one,
        LoadModel::Closed { connections: 1 },
        1,
    ));
    let expected: Vec<String> = (0..40).map(|i| format!("u{i}@x.org")).collect();
    assert_eq!(shop.log().logins, expected, "one user: file order");
    assert!(
        report.elapsed < Duration::from_secs(15),
        "the run ends when the data does"
    );
    // ... and says so: the run stopped before its planned end.
    assert_eq!(
        report.stop_reason.as_deref(),
        Some("the data ran out (on_eof = \"stop\"): no session started after it")
    );
    // Several users on two threads: each row exactly once.
    let shop = Shop::start();
    let plan_many = plan(dir.path(), SHOP, 40, &["buy"], &shop.url(), 2);
    run(&settings(
        &shop,
        plan_many,
        LoadModel::Closed { connections: 6 },
        2,
    ));
    let mut logins = shop.log().logins;
    logins.sort();
    let mut sorted = expected;
    sorted.sort();
    assert_eq!(logins, sorted);
}

#[test]
fn the_open_model_starts_sessions_on_the_schedule() {
    // On one thread and on three: every thread's users send their share of the schedule (an
    // overflow in a user's seed once ended the users of every thread but the first).
    for threads in [1, 3] {
        let shop = Shop::start();
        let dir = tempfile::tempdir().unwrap();
        let plan = plan(dir.path(), SHOP, 1000, &["buy"], &shop.url(), threads);
        let mut s = settings(
            &shop,
            plan,
            LoadModel::Open {
                rate: 100.0,
                max_connections: 50,
            },
            threads,
        );
        s.duration = Some(Duration::from_millis(1500));
        let report = run(&s);
        let f = report.totals.flows.as_ref().unwrap();
        // 100 sessions a second for 1.5 s: 150 due.
        assert_eq!(f.flows[0].started, 150, "{threads} threads");
        assert_eq!(f.flows[0].completed + report.in_flight_at_end, 150);
        assert_eq!(report.totals.errors, 0);
        assert_eq!(
            report.totals.send_lag.len(),
            150,
            "one send lag per session"
        );
    }
}

/// Three segments of one test, each its own engine run: together they log every data row in
/// exactly once (`on_eof = "stop"`), each segment its own rows.
#[test]
fn segments_use_each_data_row_once_between_them() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let mut per_segment = Vec::new();
    for index in 0..3u32 {
        let mut csv = String::from("email,pw\n");
        for i in 0..40 {
            csv.push_str(&format!("u{i}@x.org,secret\n"));
        }
        std::fs::write(dir.path().join("users.csv"), csv).unwrap();
        let path = dir.path().join("flows.toml");
        std::fs::write(&path, SHOP).unwrap();
        let split = plumb_flow::data::DataSplit {
            workers: 2,
            segment: index as usize,
            segments: 3,
        };
        let file = read_flow_file(&path).unwrap();
        let plan = Arc::new(
            file.prepare(&shop.url(), &["buy".to_string()], split)
                .unwrap(),
        );
        let mut s = settings(&shop, plan, LoadModel::Closed { connections: 6 }, 2);
        s.segment = Some(plumb_load::Segment { index, count: 3 });
        let before = shop.log().logins.len();
        run(&s);
        per_segment.push(shop.log().logins.len() - before);
    }
    // 40 rows in three contiguous parts.
    assert_eq!(per_segment.iter().sum::<usize>(), 40, "{per_segment:?}");
    assert!(
        per_segment.iter().all(|n| (13..=14).contains(n)),
        "{per_segment:?}"
    );
    let mut logins = shop.log().logins;
    logins.sort();
    let mut expected: Vec<String> = (0..40).map(|i| format!("u{i}@x.org")).collect();
    expected.sort();
    assert_eq!(logins, expected);
}

/// A server whose `/login` omits the `token` field and the `X-Sid` header from every `every`-th
/// answer (counted across connections); `/me` always answers 200.
fn omitting_server(every: u64) -> plumb_test::Background {
    use std::sync::atomic::{AtomicU64, Ordering};
    let logins = Arc::new(AtomicU64::new(0));
    plumb_test::Background::start(move |listener, stop| {
        plumb_test::accept_each(listener, stop, move |stream| {
            let logins = Arc::clone(&logins);
            async move {
                let _ = answer_each(stream, |head| {
                    if !head.starts_with("GET /login ") {
                        return ("", "{}".to_string());
                    }
                    let n = logins.fetch_add(1, Ordering::Relaxed) + 1;
                    if n % every == 0 {
                        ("", r#"{"other":1}"#.to_string())
                    } else {
                        ("X-Sid: s1\r\n", format!(r#"{{"token":"t{n}"}}"#))
                    }
                })
                .await;
            }
        })
    })
}

/// Read request heads (no bodies) and answer each with `answer(head)`'s headers and JSON body.
async fn answer_each(
    mut stream: tokio::net::TcpStream,
    answer: impl Fn(&str) -> (&'static str, String),
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            let (headers, body) = answer(&head);
            let response = format!(
                "HTTP/1.1 200 OK\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).await?;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

const OMITTED: &str = r#"
[flows.sid]
[[flows.sid.steps]]
name = "login"
url = "/login"
capture = { token = "json:$.token", sid = "header:X-Sid" }

[[flows.sid.steps]]
name = "me"
url = "/me?t={{token}}&s={{sid}}"
"#;

#[test]
fn captures_missed_counts_every_capture_that_missed_in_exactly_k_of_n_responses() {
    // Every 4th of 20 logins omits both captured values: 5 responses, each missing both.
    let server = omitting_server(4);
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://{}", server.addr());
    let plan = plan(dir.path(), OMITTED, 1, &["sid"], &base, 1);
    let mut s = LoadSettings::new(base);
    s.model = LoadModel::Closed { connections: 2 };
    s.threads = 1;
    s.duration = Some(Duration::from_secs(20));
    s.flows = Some(Arc::clone(&plan));
    s.requests = Some(20);
    let report = run(&s);
    let flows = report.totals.flows.as_ref().unwrap();
    let sid = &flows.flows[0];
    assert_eq!((sid.started, sid.completed, sid.failed), (20, 15, 5));
    assert_eq!(sid.steps[0].capture_misses, vec![5, 5]);
    assert_eq!(sid.steps[0].errors_of(ErrorClass::Capture), 5);
    assert_eq!(sid.steps[1].requests, 15);
    let result = report.to_result(&s, Vec::new());
    let login = &result.flows.as_ref().unwrap().flows[0].steps[0];
    let missed: Vec<(&str, u64)> = login
        .captures_missed
        .iter()
        .map(|(name, n)| (name.as_str(), *n))
        .collect();
    assert_eq!(missed, vec![("sid", 5), ("token", 5)]);
}
