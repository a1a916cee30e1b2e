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

/// `-p 8` with two connections keeps exactly 8 streams open on each: the server holds every
/// response 50 ms, so each lane always has one stream waiting on it.
#[test]
fn closed_model_multiplexes_streams_on_each_connection() {
    let server = plumb_test::H2ConcurrencyServer::start(std::time::Duration::from_millis(50));
    let mut s = settings(&server.url(), LoadModel::Closed { connections: 2 }, 1_000);
    s.http_version = HttpVersion::Http2;
    s.streams = 8;
    s.threads = 2;
    let report = run(&s);
    assert_eq!(
        report.totals.errors, 0,
        "{:?}",
        report.totals.errors_by_class
    );
    assert_eq!(report.totals.connections_opened, 2);
    assert_eq!(server.peaks(), vec![8, 8]);
    // 16 in flight for 50 ms each: about 320/s; one stream per connection would be 40/s.
    assert!(report.totals.requests > 200, "{}", report.totals.requests);
}

/// The open model with `-c 2 -p 10` opens no more than two connections and puts the schedule's
/// concurrent requests on them as streams.
#[test]
fn open_model_lanes_share_connections_up_to_the_cap() {
    let server = plumb_test::H2ConcurrencyServer::start(std::time::Duration::from_millis(50));
    let model = LoadModel::Open {
        rate: 200.0,
        max_connections: 2,
    };
    let mut s = settings(&server.url(), model, 1_000);
    s.http_version = HttpVersion::Http2;
    s.streams = 10;
    let report = run(&s);
    assert_eq!(
        report.totals.errors, 0,
        "{:?}",
        report.totals.errors_by_class
    );
    assert!(report.totals.connections_opened <= 2);
    let peaks = server.peaks();
    assert!(peaks.iter().any(|p| *p > 1), "{peaks:?}");
    assert!(peaks.iter().all(|p| *p <= 10), "{peaks:?}");
    // 200/s for 1 s: every request due was sent and answered or still in flight.
    assert_eq!(
        report.totals.requests + report.in_flight_at_end + report.missed_sends,
        200
    );
    assert!(report.missed_sends == 0 && report.cap_waits == 0);
}

#[test]
fn streams_need_http2() {
    let mut s = settings(
        "http://127.0.0.1:9/",
        LoadModel::Closed { connections: 2 },
        100,
    );
    s.streams = 4;
    let error = plumb_load::run(
        &s,
        &mut plumb_load::Unobserved,
        &plumb_load::StopSignal::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("add --http2"), "{error}");
}

/// A server allowing 4 streams per connection, and `-p 20`: the streams sent before its SETTINGS
/// arrived are refused, never processed, so they are sent again: no errors, every request served.
#[test]
fn streams_over_the_servers_limit_are_refused_and_sent_again() {
    let server =
        plumb_test::H2ConcurrencyServer::start_limited(std::time::Duration::from_millis(5), 4);
    let mut s = settings(&server.url(), LoadModel::Closed { connections: 1 }, 5_000);
    s.http_version = HttpVersion::Http2;
    s.streams = 20;
    s.duration = None;
    s.requests = Some(400);
    let report = run(&s);
    assert_eq!(
        report.totals.errors, 0,
        "{:?}",
        report.totals.errors_by_class
    );
    assert_eq!(report.totals.requests, 400);
    assert_eq!(server.served(), 400);
    // The first burst (up to 20 - 4 streams) was refused and sent again: retries, not errors.
    assert!(
        (1..=16).contains(&report.totals.retries),
        "{}",
        report.totals.retries
    );
    assert!(
        server.peaks().iter().all(|p| *p <= 4),
        "{:?}",
        server.peaks()
    );
}
