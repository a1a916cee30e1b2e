//! Bad input gets an error naming the thing at fault and a hint, within the timeouts.

use crate::cluster::cluster_or_skip;
use plumb_db::{ConnectOptions, DbError, Session};
use std::time::{Duration, Instant};

fn connect(url: &str) -> DbError {
    let mut options = ConnectOptions::new(Some(url.to_owned()));
    options.connect_timeout = Duration::from_secs(1);
    match Session::connect(&options) {
        Ok(_) => panic!("{url} connected"),
        Err(e) => e,
    }
}

#[test]
fn an_unreachable_server_is_named() {
    let port = plumb_test::closed_port().port();
    let error = connect(&format!(
        "postgres://app:pw@127.0.0.1:{port}/shop?sslmode=disable"
    ));
    assert!(matches!(error, DbError::Unreachable { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains(&format!("app@127.0.0.1:{port}/shop")),
        "{error}"
    );
    assert!(!error.to_string().contains("pw"), "{error}");
    assert!(
        error.hint().starts_with("is PostgreSQL running there?"),
        "{}",
        error.hint()
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let silent = plumb_test::silent_server();
    let started = Instant::now();
    let error = connect(&format!(
        "postgres://app@{}/shop?sslmode=disable",
        silent.addr()
    ));
    assert!(matches!(error, DbError::Timeout { .. }), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        error.hint().contains("--connect-timeout"),
        "{}",
        error.hint()
    );
}

#[test]
fn a_wrong_password_names_the_role() {
    let pg = cluster_or_skip!();
    let error = connect(&pg.url_as("postgres", "wrong", "shop"));
    assert!(matches!(error, DbError::Auth { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("password authentication failed for user \"postgres\""),
        "{error}"
    );
    assert!(
        error.hint().contains("password for role postgres"),
        "{}",
        error.hint()
    );
}

#[test]
fn an_unknown_database_is_named() {
    let pg = cluster_or_skip!();
    let error = connect(&pg.url("nosuchdb"));
    assert!(
        error
            .to_string()
            .contains("database \"nosuchdb\" does not exist"),
        "{error}"
    );
    assert!(error.hint().contains("database name"), "{}", error.hint());
}

#[test]
fn bad_urls_are_refused_before_connecting() {
    for (url, says) in [
        ("mysql://a@b/c", "postgres://"),
        ("postgres://a@b:notaport/c", "invalid"),
        ("postgres://a@b/c?sslmode=sometimes", "sslmode 'sometimes'"),
        ("just words", "neither"),
    ] {
        let error = connect(url);
        assert!(matches!(error, DbError::BadUrl { .. }), "{url}: {error:?}");
        assert!(error.to_string().contains(says), "{url}: {error}");
        assert!(
            error.hint().contains("postgres://USER:PASSWORD@HOST"),
            "{}",
            error.hint()
        );
    }
}
