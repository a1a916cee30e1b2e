//! Every error class, from real misbehaving servers: counted, never a crash.

use crate::support::{run, settings};
use plumb_load::{ErrorClass, LoadModel};
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
