//! Page load in a real headless Chromium, the engine behind `plumb page` (docs/page.md).
//!
//! [`run`] loads one URL N times, each time in a browser started for that load with a fresh
//! profile (`browser.rs`), over a small DevTools client on the browser's pipe (`cdp.rs`).
//! `collect.rs` drives one load: observers injected before the page's scripts (`observer.js`),
//! screen and throttling (`settings.rs`), navigation, the load event, then a quiet network and
//! main thread for the settle time. `metrics.rs` holds the rules (TBT, CLS windows, LCP parts),
//! `network.rs` the requests from `Network.*` events, `summary.rs` the median and p75 over runs,
//! `audits.rs` the findings with measured savings, and `har.rs` the HAR 1.2 export.
//! No printing: progress goes to a callback.

#![deny(unsafe_op_in_unsafe_fn)]

mod audits;
mod browser;
mod cdp;
mod collect;
mod error;
pub mod har;
mod metrics;
mod network;
mod settings;
pub mod summary;

pub use browser::{find as find_browser, Browser};
pub use error::PageError;
pub use settings::{PageSettings, Preset, Throttle};

use collect::Ended;
use plumb_schema::page::{PageResult, PageRun, PageSettingsRecord, PAGE_SCHEMA_VERSION};
use std::sync::atomic::{AtomicBool, Ordering};

/// Load `settings.url` `settings.runs` times and sum the runs up. `started_at` (RFC 3339) is
/// recorded as given; `progress` hears of each run as it ends. A signal (`stop`) ends the runs
/// early and keeps the ones measured.
pub fn run(
    settings: &PageSettings,
    started_at: &str,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(usize, &PageRun),
) -> Result<PageResult, PageError> {
    let path = browser::find(settings.browser.as_deref())?;
    let viewport = settings.throttle.viewport();
    let mut runs = Vec::new();
    let mut loaded = Vec::new();
    let mut product = String::new();
    for index in 0..settings.runs {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let mut browser = Browser::launch(&path, (viewport.width, viewport.height))?;
        product.clone_from(&browser.product);
        let outcome = collect::load(&mut browser, settings, stop);
        browser.close();
        match outcome {
            Ok(load) => {
                progress(index as usize, &load.run);
                runs.push(load.run.clone());
                loaded.push(load);
            }
            Err(Ended::Stopped) => break,
            Err(Ended::Failed(error)) => return Err(error),
        }
    }
    let representative = summary::representative(&runs);
    let audits = loaded.get(representative).map_or_else(Vec::new, |load| {
        audits::audit(&load.run, &load.images, &load.compressible)
    });
    Ok(PageResult {
        schema_version: PAGE_SCHEMA_VERSION,
        kind: "page".into(),
        plumb_version: env!("CARGO_PKG_VERSION").into(),
        started_at: started_at.to_owned(),
        url: settings.url.clone(),
        settings: PageSettingsRecord {
            runs: settings.runs,
            throttle: settings.throttle.record(),
            viewport,
            timeout_s: settings.timeout.as_secs_f64(),
            settle_s: settings.settle.as_secs_f64(),
        },
        browser: product,
        summary: summary::summarize(&runs),
        runs,
        audits,
        thresholds: Vec::new(),
        representative_run: representative,
        interrupted: stop.load(Ordering::SeqCst),
        under_load: None,
    })
}
