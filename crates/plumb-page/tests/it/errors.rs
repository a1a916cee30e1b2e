//! What goes wrong is said plainly, quickly, and leaves no browser behind: a missing browser, an
//! unreachable URL, a page that never finishes loading.

use crate::site::{self, Site};
use plumb_page::{PageError, PageSettings};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

fn attempt(settings: &PageSettings) -> PageError {
    let outcome = plumb_page::run(
        settings,
        "2026-12-01T00:00:00Z",
        &AtomicBool::new(false),
        &mut |_, _| {},
    );
    let error = outcome.expect_err("the run fails");
    assert!(error.hint().is_some(), "{error}: a hint");
    site::assert_no_browser_left();
    error
}

#[test]
fn a_missing_browser_is_named_with_a_hint() {
    let mut settings = PageSettings::new("http://127.0.0.1:9/");
    settings.browser = Some("/nonexistent/chromium".into());
    let error = attempt(&settings);
    assert!(
        matches!(error, PageError::BrowserMissing { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("/nonexistent/chromium"),
        "{error}"
    );
    assert!(error.hint().unwrap().contains("--browser"));
}

#[test]
fn an_unreachable_url_is_the_browsers_error() {
    let _serial = site::serial();
    let url = format!("http://{}/", plumb_test::closed_port());
    let mut settings = PageSettings::new(&url);
    settings.runs = 1;
    let started = Instant::now();
    let error = attempt(&settings);
    assert!(matches!(error, PageError::Navigation { .. }), "{error:?}");
    assert!(
        error.to_string().contains("ERR_CONNECTION_REFUSED"),
        "{error}"
    );
    assert!(error.to_string().contains(&url), "{error}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_page_that_never_loads_times_out_naming_the_request() {
    let _serial = site::serial();
    let site = Site::start();
    let mut settings = PageSettings::new(&site.url("never.html"));
    settings.runs = 2;
    settings.timeout = Duration::from_secs(3);
    let started = Instant::now();
    let error = attempt(&settings);
    assert!(matches!(error, PageError::LoadTimeout { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("within 3 s") && text.contains("/hang/forever.png"),
        "{text}"
    );
    // The first run's timeout ends the command: no second run.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}
