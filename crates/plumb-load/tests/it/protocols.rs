//! HTTP/2 (h2c and h2 over TLS), TLS trust options, and a real nginx.

use crate::support::{run, settings, target};
use plumb_load::{ErrorClass, HttpVersion, LoadModel};
use plumb_target::TargetSettings;
use plumb_test::{h2_only_server, Nginx, TlsTarget};

#[test]
fn h2c_with_prior_knowledge() {
    let server = h2_only_server();
    let mut s = settings(&server.url(), LoadModel::Closed { connections: 2 }, 400);
    s.http_version = HttpVersion::Http2;
    let report = run(&s);
    assert!(report.totals.requests > 20);
    assert_eq!(
        report.totals.errors, 0,
        "{:?}",
        report.totals.errors_by_class
    );
    // The same server does not answer HTTP/1.1: proof the h2 path was used above.
    s.http_version = HttpVersion::Http1;
    let h1 = run(&s);
    assert_eq!(h1.totals.errors, h1.totals.requests);
}

#[test]
fn h2_over_tls_by_alpn() {
    let tls = TlsTarget::start(&[b"h2"]);
    let mut s = settings(&tls.url(), LoadModel::Closed { connections: 2 }, 400);
    s.http_version = HttpVersion::Http2;
    s.tls.cacert = Some(tls.ca_file().clone());
    let report = run(&s);
    assert!(report.totals.requests > 20);
    assert_eq!(
        report.totals.errors, 0,
        "{:?}",
        report.totals.errors_by_class
    );
}

#[test]
fn https_with_cacert_with_insecure_and_untrusted() {
    let tls = TlsTarget::start(&[b"http/1.1"]);
    let mut s = settings(&tls.url(), LoadModel::Closed { connections: 2 }, 300);
    s.tls.cacert = Some(tls.ca_file().clone());
    let trusted = run(&s);
    assert!(trusted.totals.requests > 10);
    assert_eq!(
        trusted.totals.errors, 0,
        "{:?}",
        trusted.totals.errors_by_class
    );
    assert_eq!(trusted.totals.connections_opened, 2);

    s.tls.cacert = None;
    s.tls.insecure = true;
    assert_eq!(run(&s).totals.errors, 0);

    s.tls.insecure = false;
    let untrusted = run(&s);
    assert!(untrusted.totals.requests > 0);
    assert_eq!(
        untrusted.totals.errors_of(ErrorClass::Tls),
        untrusted.totals.requests
    );
}

#[test]
fn h2c_against_the_embedded_target() {
    let t = target(TargetSettings::default());
    let mut s = settings(
        &t.url("/"),
        LoadModel::Open {
            rate: 200.0,
            max_connections: 20,
        },
        1_000,
    );
    s.http_version = HttpVersion::Http2;
    let report = run(&s);
    assert!(
        (report.totals.requests as f64 - 200.0).abs() <= 10.0,
        "{}",
        report.totals.requests
    );
    assert_eq!(report.totals.errors, 0);
}

#[test]
fn real_nginx_closed_and_open() {
    let nginx = Nginx::start();
    let closed = run(&settings(
        &nginx.url(),
        LoadModel::Closed { connections: 10 },
        1_000,
    ));
    assert!(closed.totals.requests > 1_000, "{}", closed.totals.requests);
    assert_eq!(closed.totals.errors, 0);
    assert_eq!(
        closed.totals.connections_opened, 10,
        "keep-alive connections were not reused"
    );
    let open = run(&settings(
        &nginx.url(),
        LoadModel::Open {
            rate: 1_000.0,
            max_connections: 50,
        },
        1_000,
    ));
    assert!(
        (open.totals.requests as f64 - 1_000.0).abs() <= 20.0,
        "{}",
        open.totals.requests
    );
    assert_eq!(open.totals.errors, 0);
}
