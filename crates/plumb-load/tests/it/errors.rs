//! Every error class, from real misbehaving servers: counted, never a crash.

use crate::support::{run, settings};
use plumb_load::{ErrorClass, LoadModel, LoadSettings, Stage};
use plumb_test::{closed_port, garbage_server, reset_server, silent_server};
use std::time::Duration;

fn only_class(url: &str, class: ErrorClass, timeout: Option<Duration>) {
    let mut s = settings(url, LoadModel::Closed { connections: 2 }, 400);
    if let Some(t) = timeout {
        s.timeout = t;
    }
    let report = run(&s);
    assert!(report.totals.requests > 0, "{url}: nothing was attempted");
    assert_eq!(
        report.totals.errors, report.totals.requests,
        "{url}: some requests succeeded"
    );
    assert_eq!(
        report.totals.errors_of(class),
        report.totals.errors,
        "{url}: expected only {class:?}, got {:?}",
        report.totals.errors_by_class
    );
}

#[test]
fn closed_port_is_refused() {
    only_class(
        &format!("http://{}/", closed_port()),
        ErrorClass::Refused,
        None,
    );
}

#[test]
fn reset_connections_are_resets() {
    let server = reset_server();
    only_class(&server.url(), ErrorClass::Reset, None);
}

#[test]
fn garbage_is_malformed() {
    let server = garbage_server();
    only_class(&server.url(), ErrorClass::Malformed, None);
}

#[test]
fn silence_is_a_timeout() {
    let server = silent_server();
    let mut s = settings(&server.url(), LoadModel::Closed { connections: 2 }, 700);
    s.timeout = Duration::from_millis(150);
    let report = run(&s);
    assert!(
        report.totals.errors_of(ErrorClass::Timeout) >= 4,
        "{:?}",
        report.totals.errors_by_class
    );
    assert_eq!(
        report.totals.errors,
        report.totals.errors_of(ErrorClass::Timeout)
    );
}

#[test]
fn bad_urls_are_clear_errors() {
    for (url, says) in [
        ("ftp://127.0.0.1/", "unsupported scheme"),
        ("127.0.0.1:8080/", "missing scheme"),
        ("http://", "invalid URL"),
        ("http://user:pw@127.0.0.1/", "credentials"),
        (
            "http://127.0.0.1:80800/",
            "port '80800' is not between 1 and 65535",
        ),
        (
            "http://127.0.0.1:99999/",
            "port '99999' is not between 1 and 65535",
        ),
        (
            "http://[::1]:65536/",
            "port '65536' is not between 1 and 65535",
        ),
        ("http://127.0.0.1:0/", "port '0' is not between 1 and 65535"),
        (
            "http://127.0.0.1/\r\nX: y",
            "invalid URL 'http://127.0.0.1/\\r\\nX: y'",
        ),
    ] {
        let err = plumb_load::run(
            &settings(url, LoadModel::Closed { connections: 1 }, 100),
            &mut plumb_load::Unobserved,
            &plumb_load::StopSignal::new(),
        )
        .expect_err(url)
        .to_string();
        assert!(err.contains(says) && err.contains("hint:"), "{url}: {err}");
    }
}

#[test]
fn settings_beyond_the_limits_are_refused_before_the_run() {
    let open = |rate: f64| LoadModel::Open {
        rate,
        max_connections: 10,
    };
    let day = Duration::from_secs(86_400);
    let cases: Vec<(LoadSettings, &str)> = vec![
        (with(open(1e12), |_| {}), "above plumb's limit of 10000000"),
        (with(open(f64::NAN), |_| {}), "not a usable rate"),
        (
            with(LoadModel::Closed { connections: 2 }, |s| {
                s.duration = Some(day * 31)
            }),
            "--duration is longer than the limit of 30 days",
        ),
        (
            with(LoadModel::Closed { connections: 2 }, |s| {
                s.timeout = day * 40
            }),
            "--timeout is longer than the limit of 30 days",
        ),
        (
            with(open(10.0), |s| {
                s.duration = None;
                s.stages = vec![Stage {
                    duration: Duration::from_secs(1),
                    target: f64::NAN,
                }];
            }),
            "is not a number of 0 or more",
        ),
        (
            with(open(10.0), |s| {
                s.duration = None;
                s.stages = vec![Stage {
                    duration: Duration::from_secs(1),
                    target: 1e20,
                }];
            }),
            "above plumb's limit",
        ),
    ];
    for (settings, says) in cases {
        let err = plumb_load::run(
            &settings,
            &mut plumb_load::Unobserved,
            &plumb_load::StopSignal::new(),
        )
        .expect_err(says)
        .to_string();
        assert!(err.contains(says) && err.contains("hint:"), "{says}: {err}");
    }
}

fn with(model: LoadModel, change: impl FnOnce(&mut LoadSettings)) -> LoadSettings {
    let mut s = settings("http://127.0.0.1:9/", model, 100);
    change(&mut s);
    s
}
