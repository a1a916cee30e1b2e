//! One page load in a browser that plumb just started: attach to its tab, inject the observers,
//! apply the screen and throttling, navigate, wait for the load event and then for the network
//! and the main thread to be quiet for the settle time, and read what the page measured.

use crate::browser::Browser;
use crate::cdp::CdpError;
use crate::error::PageError;
use crate::metrics::{self, ResourceTiming};
use crate::network::Network;
use crate::settings::{bytes_per_second, PageSettings};
use plumb_schema::page::{LayoutShift, LongTask, PageRun, PageWeight};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The observers the page runs before its own scripts.
const OBSERVER: &str = include_str!("observer.js");

/// How long one DevTools call may take (a long task in the page delays an evaluation).
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// How often the quiet phase asks the page when its main thread was last busy.
const POLL: Duration = Duration::from_millis(200);

/// What one load gave, before the audits.
pub struct Loaded {
    /// The metrics and the waterfall.
    pub run: PageRun,
    /// The page's images: URL, natural and displayed size in device pixels.
    pub images: Vec<crate::audits::Image>,
    /// Response bodies of uncompressed text, gzip-compressed for real: URL, decoded bytes,
    /// bytes once compressed.
    pub compressible: Vec<(String, u64, u64)>,
}

/// Why a load ended early.
pub enum Ended {
    /// A signal stopped it.
    Stopped,
    /// It failed.
    Failed(PageError),
}

impl From<PageError> for Ended {
    fn from(error: PageError) -> Ended {
        Ended::Failed(error)
    }
}

/// Load `settings.url` once in `browser`.
pub fn load(
    browser: &mut Browser,
    settings: &PageSettings,
    stop: &AtomicBool,
) -> Result<Loaded, Ended> {
    let url = settings.url.clone();
    let protocol = |source: CdpError| PageError::Protocol {
        url: url.clone(),
        source,
    };
    attach(browser).map_err(protocol)?;
    prepare(browser, settings).map_err(protocol)?;
    let started = Instant::now();
    let deadline = started + settings.timeout;
    let navigated =
        call(browser, "Page.navigate", json!({ "url": settings.url })).map_err(protocol)?;
    if let Some(reason) = navigated["errorText"].as_str().filter(|e| !e.is_empty()) {
        return Err(PageError::Navigation {
            url: settings.url.clone(),
            reason: reason.to_owned(),
        }
        .into());
    }
    let mut network = Network::default();
    wait_for_load(browser, &mut network, settings, deadline, stop)?;
    let quiet = wait_for_quiet(browser, &mut network, settings, deadline, stop)?;
    let page = evaluate(
        browser,
        "window.__plumb ? window.__plumb.collect() : 'null'",
    )
    .map_err(protocol)?;
    let mut loaded = read_run(&page, &network, settings)?;
    if !quiet {
        loaded.run.notes.push(format!(
            "the network or the main thread was still busy {} s after navigation; the run ended there",
            settings.timeout.as_secs_f64()
        ));
    }
    loaded.compressible = crate::audits::compress_text(browser, &network, &loaded.run.requests);
    Ok(loaded)
}

/// Attach to the browser's one tab, in flat mode (the session id rides on each message).
fn attach(browser: &mut Browser) -> Result<(), CdpError> {
    browser.cdp.use_session(None);
    let targets = call(browser, "Target.getTargets", json!({}))?;
    let page = targets["targetInfos"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["type"] == "page")
        .and_then(|t| t["targetId"].as_str().map(str::to_owned));
    let target = match page {
        Some(id) => id,
        None => call(
            browser,
            "Target.createTarget",
            json!({ "url": "about:blank" }),
        )?["targetId"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    };
    let attached = call(
        browser,
        "Target.attachToTarget",
        json!({ "targetId": target, "flatten": true }),
    )?;
    let session = attached["sessionId"].as_str().map(str::to_owned);
    browser.cdp.use_session(session);
    Ok(())
}

/// Observers, screen and throttling, before the navigation.
fn prepare(browser: &mut Browser, settings: &PageSettings) -> Result<(), CdpError> {
    call(browser, "Page.enable", json!({}))?;
    call(browser, "Network.enable", json!({}))?;
    call(
        browser,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": OBSERVER }),
    )?;
    let viewport = settings.throttle.viewport();
    call(
        browser,
        "Emulation.setDeviceMetricsOverride",
        json!({
            "width": viewport.width,
            "height": viewport.height,
            "deviceScaleFactor": viewport.device_scale_factor,
            "mobile": viewport.mobile,
        }),
    )?;
    let throttle = settings.throttle;
    if throttle.throttles_network() {
        throttle_network(browser, &throttle)?;
    }
    if throttle.cpu_slowdown > 1.0 {
        call(
            browser,
            "Emulation.setCPUThrottlingRate",
            json!({ "rate": throttle.cpu_slowdown }),
        )?;
    }
    Ok(())
}

/// Network conditions for every URL: `emulateNetworkConditionsByRule` (Chrome 138 and later),
/// or the older `emulateNetworkConditions` where the browser lacks it.
fn throttle_network(browser: &mut Browser, throttle: &crate::Throttle) -> Result<(), CdpError> {
    let conditions = json!({
        "latency": throttle.latency_ms,
        "downloadThroughput": bytes_per_second(throttle.download_kbps),
        "uploadThroughput": bytes_per_second(throttle.upload_kbps),
    });
    let mut rule = conditions.clone();
    rule["urlPattern"] = json!("");
    let by_rule = json!({ "offline": false, "matchedNetworkConditions": [rule] });
    match call(browser, "Network.emulateNetworkConditionsByRule", by_rule) {
        Err(CdpError::Protocol { .. }) => {
            let mut old = conditions;
            old["offline"] = json!(false);
            call(browser, "Network.emulateNetworkConditions", old).map(drop)
        }
        other => other.map(drop),
    }
}

fn call(browser: &mut Browser, method: &str, params: Value) -> Result<Value, CdpError> {
    browser
        .cdp
        .call(method, params, Instant::now() + CALL_TIMEOUT)
}

/// Take in events until the load event, the deadline or a signal.
fn wait_for_load(
    browser: &mut Browser,
    network: &mut Network,
    settings: &PageSettings,
    deadline: Instant,
    stop: &AtomicBool,
) -> Result<(), Ended> {
    loop {
        if stop.load(Ordering::SeqCst) {
            return Err(Ended::Stopped);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(load_timeout(settings, network).into());
        }
        let slice = deadline.min(now + Duration::from_millis(100));
        let event = browser
            .cdp
            .next_event(slice)
            .map_err(|source| PageError::Protocol {
                url: settings.url.clone(),
                source,
            })?;
        let Some(event) = event else { continue };
        match event.method.as_str() {
            "Page.loadEventFired" => return Ok(()),
            "Inspector.targetCrashed" | "Target.targetCrashed" => {
                return Err(PageError::Navigation {
                    url: settings.url.clone(),
                    reason: "the page's renderer crashed".into(),
                }
                .into())
            }
            method => network.on_event(method, &event.params),
        }
    }
}

fn load_timeout(settings: &PageSettings, network: &Network) -> PageError {
    let pending = network.in_flight();
    let pending = match pending.len() {
        0 => String::new(),
        n => format!(
            "; {n} request{} still in flight: {}",
            if n == 1 { "" } else { "s" },
            pending
                .iter()
                .take(3)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    PageError::LoadTimeout {
        url: settings.url.clone(),
        timeout_s: settings.timeout.as_secs_f64(),
        pending,
    }
}

/// After load: wait until no request is in flight and neither the network nor the main thread
/// has been busy for the settle time. `false` when the deadline came first.
fn wait_for_quiet(
    browser: &mut Browser,
    network: &mut Network,
    settings: &PageSettings,
    deadline: Instant,
    stop: &AtomicBool,
) -> Result<bool, Ended> {
    let settle = settings.settle.as_secs_f64() * 1e3;
    let mut network_quiet_since = Instant::now();
    let protocol = |source| PageError::Protocol {
        url: settings.url.clone(),
        source,
    };
    loop {
        if stop.load(Ordering::SeqCst) {
            return Err(Ended::Stopped);
        }
        let poll_until = Instant::now() + POLL;
        while let Some(event) = browser.cdp.next_event(poll_until).map_err(protocol)? {
            network.on_event(&event.method, &event.params);
            if event.method.starts_with("Network.") && event.method != "Network.dataReceived" {
                network_quiet_since = Instant::now();
            }
        }
        if !network.in_flight().is_empty() {
            network_quiet_since = Instant::now();
        }
        let busy = evaluate(
            browser,
            "window.__plumb ? window.__plumb.lastBusy() : '[0,0]'",
        )
        .map_err(protocol)?;
        let (page_now, last_busy) = (
            busy[0].as_f64().unwrap_or(0.0),
            busy[1].as_f64().unwrap_or(0.0),
        );
        let network_quiet = network_quiet_since.elapsed().as_secs_f64() * 1e3 >= settle;
        if network_quiet && page_now - last_busy >= settle {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
    }
}

/// Evaluate an expression that returns JSON text, and parse it.
fn evaluate(browser: &mut Browser, expression: &str) -> Result<Value, CdpError> {
    let reply = call(
        browser,
        "Runtime.evaluate",
        json!({ "expression": expression, "returnByValue": true }),
    )?;
    let text = reply["result"]["value"].as_str().unwrap_or("null");
    Ok(serde_json::from_str(text).unwrap_or(Value::Null))
}

/// The page's figures and the network's into a run.
fn read_run(page: &Value, network: &Network, settings: &PageSettings) -> Result<Loaded, PageError> {
    let Some(nav) = page.get("nav").filter(|n| !n.is_null()) else {
        return Err(PageError::Navigation {
            url: settings.url.clone(),
            reason: "the page has no navigation timing (not an HTML page?)".into(),
        });
    };
    let ms = |v: &Value| v.as_f64().unwrap_or(0.0);
    let requests_sent = network.requests(&[]);
    // Navigation Timing's responseStart leaves out DevTools' emulated latency (Chrome 156); the
    // document request's response headers, as the Network domain saw them, include it.
    let document_ms = requests_sent
        .iter()
        .find(|r| r.resource_type == "document")
        .and_then(|r| r.response_ms);
    let ttfb_ms = ms(&nav["ttfb"]).max(document_ms.unwrap_or(0.0));
    let fcp_ms = page["fcp"].as_f64();
    let tasks: Vec<LongTask> = array(&page["tasks"])
        .map(|t| LongTask {
            start_ms: ms(&t["t"]),
            duration_ms: ms(&t["d"]),
        })
        .collect();
    let shifts: Vec<LayoutShift> = array(&page["shifts"])
        .filter(|s| s["input"] != true)
        .map(|s| LayoutShift {
            start_ms: ms(&s["t"]),
            value: ms(&s["v"]),
        })
        .collect();
    let lcp = page.get("lcp").filter(|l| !l.is_null());
    let lcp_ms = lcp.map(|l| ms(&l["t"]));
    let lcp_parts = lcp.map(|l| {
        let resource = page
            .get("lcpResource")
            .filter(|r| !r.is_null())
            .map(|r| ResourceTiming {
                start_ms: ms(&r["start"]),
                request_start_ms: ms(&r["requestStart"]),
                response_end_ms: ms(&r["responseEnd"]),
            });
        let text = |v: &Value| v.as_str().map(str::to_owned);
        metrics::lcp_parts(
            ms(&l["t"]),
            ttfb_ms,
            resource,
            text(&l["tag"]),
            text(&l["url"]),
        )
    });
    let blocking: Vec<String> = array(&page["resources"])
        .filter(|r| r["blocking"] == true)
        .filter_map(|r| r["url"].as_str().map(str::to_owned))
        .collect();
    let requests = network.requests(&blocking);
    let weight = PageWeight {
        transfer_bytes: requests.iter().map(|r| r.transfer_bytes).sum(),
        requests: requests.len() as u64,
        by_type: crate::network::by_type(&requests),
    };
    let run = PageRun {
        started_unix_ms: network.started_unix_ms,
        ttfb_ms,
        fcp_ms,
        lcp_ms,
        lcp_parts,
        cls: metrics::cumulative_layout_shift(&shifts),
        tbt_ms: metrics::total_blocking_time(&tasks, fcp_ms.unwrap_or(0.0)),
        dom_content_loaded_ms: ms(&nav["dcl"]),
        load_ms: ms(&nav["load"]),
        weight,
        long_tasks: tasks,
        layout_shifts: shifts,
        requests,
        notes: Vec::new(),
    };
    let images = array(&page["images"])
        .map(|i| crate::audits::Image {
            url: i["url"].as_str().unwrap_or_default().to_owned(),
            natural: (ms(&i["naturalWidth"]), ms(&i["naturalHeight"])),
            displayed: (ms(&i["width"]), ms(&i["height"])),
        })
        .collect();
    Ok(Loaded {
        run,
        images,
        compressible: Vec::new(),
    })
}

fn array(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}
