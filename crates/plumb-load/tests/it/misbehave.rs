//! The engine against servers that misbehave on purpose, each a real server on 127.0.0.1:0:
//! every test bounds the run by a request count and asserts the exact accounting (requests, status
//! codes, errors by class, retries, connections, reasons), not merely that nothing crashed.
//!
//! What "exact" means here:
//! - A server that never answers properly costs one error per request, of one class.
//! - A server that closes a keep-alive connection it had not said it would close (after a
//!   response, or when idle, or with HTTP/2 GOAWAY) costs nothing: the engine sends the request
//!   again, once, on a fresh connection (`retries`), and counts it once.
//! - One bad reply in N costs one error in N: a failed exchange must not poison the next one.
//! - plumb does not follow redirects: a 302 is a response like any other (3xx passes the default
//!   status check), and the server sees each request exactly once.

use crate::support::run;
use plumb_load::{ErrorClass, HttpVersion, LoadModel, LoadReport, LoadSettings, Recorder};
use plumb_test::{
    garbage_server, reset_server, silent_server, H2Fault, H2GoawayServer, H2StreamServer, Nginx,
    NginxConfig, Reply, Script, ScriptedServer, ServerCert, TlsTarget,
};
use std::time::Duration;

/// A timeout for tests that do not test timeouts: long enough that a loaded machine never
/// produces a spurious one.
const PATIENT: Duration = Duration::from_secs(3);

/// A timeout for tests of timeouts.
const SHORT: Duration = Duration::from_millis(200);

/// Closed model, one thread, `connections` connections, exactly `requests` requests.
fn closed(url: &str, connections: u32, requests: u64, timeout: Duration) -> LoadSettings {
    let mut s = LoadSettings::new(url);
    s.model = LoadModel::Closed { connections };
    s.threads = 1;
    s.requests = Some(requests);
    s.timeout = timeout;
    s
}

/// Everything a test looks at, in one line for failure messages.
fn summary(r: &Recorder) -> String {
    let errors: Vec<(&str, u64)> = ErrorClass::ALL
        .iter()
        .map(|c| (c.name(), r.errors_of(*c)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let details: Vec<(String, u64)> = ErrorClass::ALL
        .iter()
        .flat_map(|c| r.details_of(*c))
        .collect();
    format!(
        "requests {}, errors {} {errors:?} {details:?}, statuses {:?}, retries {}, connections {}",
        r.requests,
        r.errors,
        r.statuses().collect::<Vec<_>>(),
        r.retries,
        r.connections_opened,
    )
}

/// How many retries a test allows.
#[derive(Debug, Clone, Copy)]
enum Retries {
    /// None: every connection that failed was fresh, or failed after response bytes arrived.
    None,
    /// At most this many (stale keep-alive connections, GOAWAY).
    AtMost(u64),
}

/// Assert the exact accounting of a run: its request count, status codes and errors by class
/// (every class not named must be zero), and its retries.
fn check(
    what: &str,
    report: &LoadReport,
    requests: u64,
    statuses: &[(u16, u64)],
    errors: &[(ErrorClass, u64)],
    retries: Retries,
) {
    let t = &report.totals;
    let got = summary(t);
    assert_eq!(t.requests, requests, "{what}: request count; {got}");
    assert_eq!(
        t.statuses().collect::<Vec<_>>(),
        statuses,
        "{what}: status codes; {got}"
    );
    for class in ErrorClass::ALL {
        let expected = errors
            .iter()
            .find(|(c, _)| *c == class)
            .map_or(0, |(_, n)| *n);
        assert_eq!(
            t.errors_of(class),
            expected,
            "{what}: {} errors; {got}",
            class.name()
        );
    }
    let total: u64 = errors.iter().map(|(_, n)| n).sum();
    assert_eq!(t.errors, total, "{what}: error total; {got}");
    match retries {
        Retries::None => assert_eq!(t.retries, 0, "{what}: retries; {got}"),
        Retries::AtMost(n) => assert!(t.retries <= n, "{what}: retries; {got}"),
    }
}

/// Every failure of `class` has a reason, and every reason contains `words` (any case).
fn check_reasons(what: &str, report: &LoadReport, class: ErrorClass, words: &str) {
    let t = &report.totals;
    let reasons = t.details_of(class);
    let counted: u64 = reasons.iter().map(|(_, n)| n).sum();
    assert_eq!(
        counted,
        t.errors_of(class),
        "{what}: some {} errors have no reason; {}",
        class.name(),
        summary(t)
    );
    for (reason, _) in &reasons {
        assert!(
            reason.to_lowercase().contains(&words.to_lowercase()),
            "{what}: reason {reason:?} does not say {words:?}; {}",
            summary(t)
        );
    }
}

/// Every request of a closed run gets `reply`: each one is one error of `class`.
fn every_reply_fails(reply: Reply, class: ErrorClass, requests: u64, timeout: Duration) {
    let what = format!("{reply:?}");
    let server = ScriptedServer::start(Script::always(reply));
    let report = run(&closed(&server.url(), 2, requests, timeout));
    check(
        &what,
        &report,
        requests,
        &[],
        &[(class, requests)],
        Retries::None,
    );
    assert_eq!(
        server.requests(),
        requests,
        "{what}: requests the server saw"
    );
}

// --- Servers that never answer properly: one error per request, of one class. ---

#[test]
fn reset_is_one_reset_per_request() {
    let server = reset_server();
    let report = run(&closed(&server.url(), 2, 20, PATIENT));
    check(
        "reset",
        &report,
        20,
        &[],
        &[(ErrorClass::Reset, 20)],
        Retries::None,
    );
}

#[test]
fn garbage_is_one_malformed_per_request() {
    let server = garbage_server();
    let report = run(&closed(&server.url(), 2, 20, PATIENT));
    check(
        "garbage",
        &report,
        20,
        &[],
        &[(ErrorClass::Malformed, 20)],
        Retries::None,
    );
}

#[test]
fn a_server_that_never_answers_is_one_timeout_per_request() {
    let server = silent_server();
    let report = run(&closed(&server.url(), 2, 4, SHORT));
    check(
        "hang",
        &report,
        4,
        &[],
        &[(ErrorClass::Timeout, 4)],
        Retries::None,
    );
}

#[test]
fn a_body_shorter_than_its_content_length_is_closed() {
    every_reply_fails(Reply::TruncatedBody, ErrorClass::Closed, 20, PATIENT);
}

#[test]
fn a_close_before_any_byte_on_a_fresh_connection_is_closed_and_not_retried() {
    // Only a reused connection may have gone stale: a fresh one that fails is an error.
    every_reply_fails(Reply::CloseWithoutAnswer, ErrorClass::Closed, 20, PATIENT);
}

#[test]
fn a_close_in_the_middle_of_the_head_is_closed() {
    every_reply_fails(Reply::CloseMidHead, ErrorClass::Closed, 20, PATIENT);
}

#[test]
fn a_head_over_64_kib_is_malformed() {
    every_reply_fails(Reply::HugeHead, ErrorClass::Malformed, 6, PATIENT);
}

#[test]
fn a_bad_chunk_size_line_is_malformed() {
    every_reply_fails(Reply::BadChunkSize, ErrorClass::Malformed, 20, PATIENT);
}

#[test]
fn a_head_dribbled_slower_than_the_timeout_is_a_timeout() {
    // One byte every 30 ms: the 40-byte head would take 1.2 s; the timeout is 200 ms.
    let dribble = Reply::Slowloris(Duration::from_millis(30));
    every_reply_fails(dribble, ErrorClass::Timeout, 4, SHORT);
}

#[test]
fn continue_then_nothing_is_a_timeout() {
    every_reply_fails(Reply::ContinueThenStall, ErrorClass::Timeout, 4, SHORT);
}

// --- Servers that close connections: correct, so no errors. ---

#[test]
fn a_close_after_each_keep_alive_response_costs_no_errors() {
    // Keep-alive is implied (HTTP/1.1, no `Connection: close`), yet the server closes: the
    // engine finds out only when it reuses the connection, and must send again on a fresh one.
    let server = ScriptedServer::start(Script::always(Reply::OkThenClose));
    let report = run(&closed(&server.url(), 2, 50, PATIENT));
    check(
        "close after each response",
        &report,
        50,
        &[(200, 50)],
        &[],
        Retries::AtMost(50),
    );
    // Each connection carries exactly one answered request.
    assert_eq!(
        report.totals.connections_opened,
        50,
        "{}",
        summary(&report.totals)
    );
    assert_eq!((server.connections(), server.scripted()), (50, 50));
}

#[test]
fn an_idle_keep_alive_timeout_costs_no_errors() {
    // gunicorn's --keep-alive, shortened: connections idle for 40 ms are closed by the server,
    // and at 20 requests per second each connection waits about 50 ms between requests.
    let server =
        ScriptedServer::start(Script::always(Reply::Ok).idle_timeout(Duration::from_millis(40)));
    let mut s = closed(&server.url(), 1, 12, PATIENT);
    s.model = LoadModel::Open {
        rate: 20.0,
        max_connections: 4,
    };
    let report = run(&s);
    check(
        "idle keep-alive timeout",
        &report,
        12,
        &[(200, 12)],
        &[],
        Retries::AtMost(12),
    );
    assert_eq!(server.answered(), 12);
}

#[test]
fn over_tls_a_close_after_each_response_or_when_idle_costs_no_errors() {
    // TLS: the close after a response comes with close_notify, the idle one without (a bare
    // TCP close, which rustls reports as an unexpected end of file).
    let closing = ScriptedServer::start_tls(Script::always(Reply::OkThenClose));
    let mut s = closed(&closing.url(), 2, 30, PATIENT);
    s.tls.cacert = closing.ca_file().cloned();
    let report = run(&s);
    check(
        "TLS, close after each response",
        &report,
        30,
        &[(200, 30)],
        &[],
        Retries::AtMost(30),
    );
    assert_eq!(report.totals.connections_opened, 30);

    let idle = ScriptedServer::start_tls(
        Script::always(Reply::Ok).idle_timeout(Duration::from_millis(40)),
    );
    let mut s = closed(&idle.url(), 1, 8, PATIENT);
    s.tls.cacert = idle.ca_file().cloned();
    s.model = LoadModel::Open {
        rate: 20.0,
        max_connections: 4,
    };
    let report = run(&s);
    check(
        "TLS, idle keep-alive timeout",
        &report,
        8,
        &[(200, 8)],
        &[],
        Retries::AtMost(8),
    );
}

#[test]
fn http_1_0_responses_close_the_connection_without_errors() {
    for content_length in [true, false] {
        let what = format!("HTTP/1.0, content-length {content_length}");
        let server = ScriptedServer::start(Script::always(Reply::Http10 { content_length }));
        let report = run(&closed(&server.url(), 2, 30, PATIENT));
        check(&what, &report, 30, &[(200, 30)], &[], Retries::None);
        // HTTP/1.0 without keep-alive: a new connection for every request, never a stale one.
        assert_eq!(report.totals.connections_opened, 30, "{what}");
        assert_eq!(server.connections(), 30, "{what}");
    }
}

#[test]
fn a_redirect_to_itself_is_counted_as_302_and_not_followed() {
    let server = ScriptedServer::start(Script::always(Reply::RedirectToSelf));
    let mut s = closed(&server.url(), 2, 30, PATIENT);
    let report = run(&s);
    // 3xx passes the default status check; plumb measures the redirect itself.
    check("redirect", &report, 30, &[(302, 30)], &[], Retries::None);
    assert_eq!(server.requests(), 30, "plumb followed a redirect");
    // Asked for a 200, each 302 is a status error.
    s.checks.expect_status = vec![plumb_load::StatusRange { from: 200, to: 200 }];
    let report = run(&s);
    check(
        "redirect, --expect-status 200",
        &report,
        30,
        &[(302, 30)],
        &[(ErrorClass::Status, 30)],
        Retries::None,
    );
}

#[test]
fn a_server_killed_mid_run_answers_before_and_refuses_after() {
    // After 40 answers the server stops listening and closes every connection. (Only 20
    // requests after that: the closed model backs off between refused connects.)
    let server = ScriptedServer::start(Script::always(Reply::Ok).die_after(40));
    let report = run(&closed(&server.url(), 2, 60, PATIENT));
    let t = &report.totals;
    let got = summary(t);
    assert_eq!(t.requests, 60, "{got}");
    assert_eq!(t.statuses().collect::<Vec<_>>(), [(200, 40)], "{got}");
    assert_eq!(t.errors, 20, "{got}");
    let refused = t.errors_of(ErrorClass::Refused);
    let lost = t.errors_of(ErrorClass::Closed) + t.errors_of(ErrorClass::Reset);
    assert_eq!(refused + lost, 20, "only refused, closed or reset: {got}");
    // A request that met a dead keep-alive connection is sent again, and refused.
    assert_eq!(refused, 20, "{got}");
    assert!(t.retries <= 2, "{got}");
    assert_eq!(server.answered(), 40);
}

// --- TLS: every failure is a TLS error that says why. ---

#[test]
fn tls_to_a_plain_http_server_is_a_tls_error() {
    let server = ScriptedServer::start(Script::always(Reply::Ok));
    let url = format!("https://127.0.0.1:{}/", server.addr().port());
    let report = run(&closed(&url, 2, 6, PATIENT));
    check(
        "TLS to plain HTTP",
        &report,
        6,
        &[],
        &[(ErrorClass::Tls, 6)],
        Retries::None,
    );
    check_reasons(
        "TLS to plain HTTP",
        &report,
        ErrorClass::Tls,
        "not speak TLS",
    );
}

#[test]
fn plain_http_to_a_tls_server_is_malformed() {
    // The TLS server answers the plain request with a TLS alert record: bytes, but not HTTP.
    let tls = TlsTarget::start(&[b"http/1.1"]);
    let url = format!("http://127.0.0.1:{}/", tls.addr().port());
    let report = run(&closed(&url, 2, 6, PATIENT));
    check(
        "plain HTTP to TLS",
        &report,
        6,
        &[],
        &[(ErrorClass::Malformed, 6)],
        Retries::None,
    );
}

fn bad_certificate(cert: ServerCert, words: &str) {
    let what = format!("{cert:?}");
    let tls = TlsTarget::with_cert(&[b"http/1.1"], cert);
    let mut s = closed(&tls.url(), 2, 4, PATIENT);
    s.tls.cacert = Some(tls.ca_file().clone());
    let report = run(&s);
    check(
        &what,
        &report,
        4,
        &[],
        &[(ErrorClass::Tls, 4)],
        Retries::None,
    );
    check_reasons(&what, &report, ErrorClass::Tls, words);
}

#[test]
fn a_certificate_from_an_unknown_issuer_is_a_tls_error() {
    bad_certificate(ServerCert::UnknownIssuer, "unknown issuer");
}

#[test]
fn a_certificate_for_another_name_is_a_tls_error() {
    bad_certificate(ServerCert::NameMismatch, "name mismatch");
}

#[test]
fn an_expired_certificate_is_a_tls_error() {
    bad_certificate(ServerCert::Expired, "expired");
}

#[test]
fn a_trusted_certificate_is_no_error() {
    let tls = TlsTarget::with_cert(&[b"http/1.1"], ServerCert::Trusted);
    let mut s = closed(&tls.url(), 2, 20, PATIENT);
    s.tls.cacert = Some(tls.ca_file().clone());
    let report = run(&s);
    check("trusted", &report, 20, &[(200, 20)], &[], Retries::None);
    assert_eq!(report.totals.connections_opened, 2);
}

// --- One bad reply in 50: 2% errors, not a poisoned connection. ---

/// 500 requests, every 50th gets `reply`: 10 errors of `class` (2% +- 1 point), the rest 200.
fn one_bad_reply_in_50(reply: Reply, class: ErrorClass, connections: u32, timeout: Duration) {
    const REQUESTS: u64 = 500;
    let what = format!("one {reply:?} in 50");
    let server = ScriptedServer::start(Script::one_in(50, reply));
    let report = run(&closed(&server.url(), connections, REQUESTS, timeout));
    let t = &report.totals;
    let got = summary(t);
    assert_eq!(t.requests, REQUESTS, "{what}: {got}");
    let rate = t.errors as f64 / REQUESTS as f64;
    assert!(
        (0.01..=0.03).contains(&rate),
        "{what}: error rate {:.1}% is not 2% +- 1; {got}",
        rate * 100.0
    );
    assert_eq!(
        t.errors_of(class),
        t.errors,
        "{what}: only {class:?}; {got}"
    );
    assert_eq!(
        t.statuses().collect::<Vec<_>>(),
        [(200, REQUESTS - t.errors)],
        "{what}: {got}"
    );
    assert_eq!(t.retries, 0, "{what}: {got}");
    // Exactly one error per bad reply, unless the machine stalled past a short timeout.
    if timeout == PATIENT {
        assert_eq!(t.errors, server.scripted(), "{what}: {got}");
    }
}

#[test]
fn one_close_mid_head_in_50_is_2_percent_closed() {
    one_bad_reply_in_50(Reply::CloseMidHead, ErrorClass::Closed, 2, PATIENT);
}

#[test]
fn one_bad_chunk_line_in_50_is_2_percent_malformed() {
    one_bad_reply_in_50(Reply::BadChunkSize, ErrorClass::Malformed, 2, PATIENT);
}

#[test]
fn one_stalled_head_in_50_is_2_percent_timeouts() {
    // 10 stalls of 250 ms over 4 connections: about 0.7 s.
    let timeout = Duration::from_millis(250);
    one_bad_reply_in_50(Reply::Stall, ErrorClass::Timeout, 4, timeout);
}

#[test]
fn one_slowloris_head_in_50_is_2_percent_timeouts() {
    let timeout = Duration::from_millis(250);
    let dribble = Reply::Slowloris(Duration::from_millis(20));
    one_bad_reply_in_50(dribble, ErrorClass::Timeout, 4, timeout);
}

#[test]
fn one_close_mid_head_in_50_under_the_open_model_is_2_percent_closed() {
    // The open model hands requests to whichever connection is idle: a failure must not poison
    // that path either. 500 requests at 1000/s.
    let server = ScriptedServer::start(Script::one_in(50, Reply::CloseMidHead));
    let mut s = closed(&server.url(), 1, 500, PATIENT);
    s.model = LoadModel::Open {
        rate: 1000.0,
        max_connections: 8,
    };
    let report = run(&s);
    let errors = server.scripted();
    assert_eq!(errors, 10);
    check(
        "open model, one close mid-head in 50",
        &report,
        500,
        &[(200, 490)],
        &[(ErrorClass::Closed, 10)],
        Retries::None,
    );
}

#[test]
fn one_close_without_answer_in_50_on_a_reused_connection_is_retried() {
    // A reused connection closed before any byte of the answer looks exactly like a stale
    // keep-alive: the engine sends the request again on a fresh connection, which is answered.
    // So such a server shows no errors, and one retry per dropped request (10 of 510 requests
    // the server saw).
    let server = ScriptedServer::start(Script::one_in(50, Reply::CloseWithoutAnswer));
    let report = run(&closed(&server.url(), 2, 500, PATIENT));
    let got = summary(&report.totals);
    check(
        "one close without answer in 50",
        &report,
        500,
        &[(200, 500)],
        &[],
        Retries::AtMost(10),
    );
    assert_eq!(report.totals.retries, 10, "{got}");
    assert_eq!((server.scripted(), server.requests()), (10, 510), "{got}");
}

// --- HTTP/2 GOAWAY, refused and reset streams, and nginx's keepalive_requests. ---

#[test]
fn h2_goaway_after_every_10_streams_costs_no_errors() {
    let server = H2GoawayServer::start(10);
    let mut s = closed(&server.url(), 2, 100, PATIENT);
    s.http_version = HttpVersion::Http2;
    let report = run(&s);
    // A stream refused by GOAWAY was never processed: it is sent again and counted once.
    check(
        "GOAWAY",
        &report,
        100,
        &[(200, 100)],
        &[],
        Retries::AtMost(100),
    );
    assert_eq!(server.served(), 100, "{}", summary(&report.totals));
    assert!(
        report.totals.connections_opened >= 100 / 12,
        "connections were not replaced: {}",
        summary(&report.totals)
    );
}

#[test]
fn an_h2_stream_refused_before_goaway_is_retried_without_errors() {
    // REFUSED_STREAM says the request was not processed: it is sent again, on a fresh connection.
    let server = H2StreamServer::start(H2Fault::RefuseAfter(10));
    let mut s = closed(&server.url(), 2, 100, PATIENT);
    s.http_version = HttpVersion::Http2;
    let report = run(&s);
    let got = summary(&report.totals);
    check(
        "REFUSED_STREAM",
        &report,
        100,
        &[(200, 100)],
        &[],
        Retries::AtMost(100),
    );
    assert_eq!(server.served(), 100, "{got}");
    assert_eq!(
        report.totals.retries,
        server.reset(),
        "one retry per refused stream: {got}"
    );
    // Every connection but the last of each of the 2 slots answered 10 and refused one.
    assert!(server.reset() >= (100 - 2 * 10) / 10, "{got}");
}

#[test]
fn one_h2_stream_reset_with_internal_error_in_50_is_2_percent_resets() {
    // RST_STREAM(INTERNAL_ERROR) is no stale connection and no refusal: the server may have
    // processed the request, so it is an error and is not sent again (RFC 9113, 8.7).
    let server = H2StreamServer::start(H2Fault::InternalErrorEvery(50));
    let mut s = closed(&server.url(), 2, 500, PATIENT);
    s.http_version = HttpVersion::Http2;
    let report = run(&s);
    let got = summary(&report.totals);
    check(
        "one RST_STREAM(INTERNAL_ERROR) in 50",
        &report,
        500,
        &[(200, 490)],
        &[(ErrorClass::Reset, 10)],
        Retries::None,
    );
    assert_eq!((server.served(), server.reset()), (490, 10), "{got}");
}

#[test]
fn nginx_keepalive_requests_cost_no_errors_on_h1_and_h2() {
    for http2 in [false, true] {
        let what = if http2 { "nginx h2c" } else { "nginx HTTP/1.1" };
        let nginx = Nginx::start_with(NginxConfig {
            keepalive_requests: 10,
            http2,
        });
        let mut s = closed(&nginx.url(), 2, 200, PATIENT);
        if http2 {
            s.http_version = HttpVersion::Http2;
        }
        let report = run(&s);
        check(what, &report, 200, &[(200, 200)], &[], Retries::AtMost(200));
        assert!(
            report.totals.connections_opened >= 200 / 12,
            "{what}: connections were not replaced: {}",
            summary(&report.totals)
        );
        if !http2 {
            // HTTP/1.1: nginx says `Connection: close` on the 10th response; nothing to retry.
            assert_eq!(
                report.totals.retries,
                0,
                "{what}: {}",
                summary(&report.totals)
            );
        }
    }
}

// --- The same with several streams per connection (-p): a lane's failure is its stream's. ---

#[test]
fn multiplexed_streams_survive_goaway_and_reset_streams_exactly() {
    let server = H2GoawayServer::start(10);
    let mut s = closed(&server.url(), 2, 100, PATIENT);
    s.http_version = HttpVersion::Http2;
    s.streams = 4;
    let report = run(&s);
    check(
        "GOAWAY, -p 4",
        &report,
        100,
        &[(200, 100)],
        &[],
        Retries::AtMost(100),
    );
    assert_eq!(server.served(), 100, "{}", summary(&report.totals));

    // One stream in 50 reset after the server took it: 2% resets, never sent again, and the
    // other streams of its connection carry on.
    let server = H2StreamServer::start(H2Fault::InternalErrorEvery(50));
    let mut s = closed(&server.url(), 2, 500, PATIENT);
    s.http_version = HttpVersion::Http2;
    s.streams = 4;
    let report = run(&s);
    check(
        "one RST_STREAM(INTERNAL_ERROR) in 50, -p 4",
        &report,
        500,
        &[(200, 490)],
        &[(ErrorClass::Reset, 10)],
        Retries::None,
    );
    assert_eq!(
        report.totals.connections_opened,
        2,
        "{}",
        summary(&report.totals)
    );
}

#[test]
fn nginx_keepalive_requests_cost_no_errors_with_multiplexed_streams() {
    let nginx = Nginx::start_with(NginxConfig {
        keepalive_requests: 10,
        http2: true,
    });
    let mut s = closed(&nginx.url(), 2, 200, PATIENT);
    s.http_version = HttpVersion::Http2;
    s.streams = 5;
    let report = run(&s);
    check(
        "nginx h2c, -p 5",
        &report,
        200,
        &[(200, 200)],
        &[],
        Retries::AtMost(200),
    );
}
