//! Audits of one load, each with what fixing it would save, measured where it can be: text sent
//! uncompressed (its body gzip-compressed here, for real), missing or short cache lifetimes,
//! images larger than displayed (their pixels against the pixels shown), images in heavy formats,
//! render-blocking scripts and styles, large JavaScript, and HTTP/1.1 where HTTP/2 would do.

use crate::browser::Browser;
use crate::network::Network;
use flate2::write::GzEncoder;
use plumb_schema::page::{AuditItem, PageAudit, PageRequest, PageRun};
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};

/// Text smaller than this is not worth compressing (Lighthouse's floor).
const MIN_TEXT_BYTES: u64 = 1400;
/// An audit item must save at least this much to be reported.
const MIN_SAVING_BYTES: u64 = 1024;
/// A cache lifetime shorter than this is short.
const SHORT_CACHE_S: u64 = 7 * 24 * 3600;
/// A script at least this large (decoded) is large.
const LARGE_SCRIPT_BYTES: u64 = 256 * 1024;
/// An image whose pixels exceed the displayed ones by more than this factor is oversized.
const OVERSIZE_FACTOR: f64 = 1.5;

/// An image as the page displayed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Its URL.
    pub url: String,
    /// Its own size in pixels.
    pub natural: (f64, f64),
    /// The size it was displayed at, in device pixels.
    pub displayed: (f64, f64),
}

/// Compress each uncompressed text response with gzip (level 6, as servers commonly use):
/// URL, decoded bytes, bytes once compressed. Bodies the browser no longer holds are skipped.
pub fn compress_text(
    browser: &mut Browser,
    network: &Network,
    requests: &[PageRequest],
) -> Vec<(String, u64, u64)> {
    let mut compressed = Vec::new();
    for request in requests.iter().filter(|r| is_uncompressed_text(r)) {
        let Some(id) = network.id_of(&request.url) else {
            continue;
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let Ok(body) = browser.cdp.call(
            "Network.getResponseBody",
            json!({ "requestId": id }),
            deadline,
        ) else {
            continue;
        };
        if body["base64Encoded"] == true {
            continue;
        }
        let text = body["body"].as_str().unwrap_or_default();
        compressed.push((
            request.url.clone(),
            text.len() as u64,
            gzip_len(text.as_bytes()),
        ));
    }
    compressed
}

fn gzip_len(bytes: &[u8]) -> u64 {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    let _ = encoder.write_all(bytes);
    encoder.finish().map_or(bytes.len(), |v| v.len()) as u64
}

fn is_text(mime: &str) -> bool {
    mime.starts_with("text/")
        || ["javascript", "json", "xml", "svg", "wasm"]
            .iter()
            .any(|kind| mime.contains(kind))
}

fn is_uncompressed_text(request: &PageRequest) -> bool {
    let encoded = request
        .content_encoding
        .as_deref()
        .is_some_and(|e| !e.eq_ignore_ascii_case("identity"));
    request.status == 200
        && !encoded
        && request.decoded_bytes >= MIN_TEXT_BYTES
        && request.mime_type.as_deref().is_some_and(is_text)
}

/// Every audit with a finding, for one run.
pub fn audit(run: &PageRun, images: &[Image], compressed: &[(String, u64, u64)]) -> Vec<PageAudit> {
    [
        uncompressed(compressed),
        caching(&run.requests),
        oversized(&run.requests, images),
        formats(&run.requests),
        render_blocking(run),
        large_scripts(&run.requests),
        http2(&run.requests),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn finding(id: &str, title: String, items: Vec<AuditItem>) -> Option<PageAudit> {
    if items.is_empty() {
        return None;
    }
    let savings: Vec<u64> = items.iter().filter_map(|i| i.savings_bytes).collect();
    Some(PageAudit {
        id: id.to_owned(),
        title,
        savings_bytes: (!savings.is_empty()).then(|| savings.iter().sum()),
        savings_ms: None,
        items,
    })
}

fn uncompressed(compressed: &[(String, u64, u64)]) -> Option<PageAudit> {
    let items: Vec<AuditItem> = compressed
        .iter()
        .filter(|(_, plain, packed)| plain.saturating_sub(*packed) >= MIN_SAVING_BYTES)
        .map(|(url, plain, packed)| AuditItem {
            url: url.clone(),
            detail: format!("{plain} bytes sent uncompressed; {packed} bytes with gzip"),
            savings_bytes: Some(plain - packed),
        })
        .collect();
    let count = items.len();
    finding(
        "uncompressed-text",
        format!("{count} text response(s) sent without compression"),
        items,
    )
}

/// The cache lifetime a response allows, in seconds (0 for `no-store`/`no-cache`), if any.
fn cache_lifetime(request: &PageRequest) -> Option<u64> {
    let control = request.cache_control.as_deref()?.to_ascii_lowercase();
    if control.contains("no-store") || control.contains("no-cache") {
        return Some(0);
    }
    control.split(',').find_map(|directive| {
        let (name, value) = directive.trim().split_once('=')?;
        (name == "max-age" || name == "s-maxage")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

fn caching(requests: &[PageRequest]) -> Option<PageAudit> {
    let cacheable = ["script", "stylesheet", "image", "font", "media"];
    let items: Vec<AuditItem> = requests
        .iter()
        .filter(|r| r.status == 200 && cacheable.contains(&r.resource_type.as_str()))
        .filter_map(|r| {
            let detail = match cache_lifetime(r) {
                None if !has_header(r, "expires") => "no Cache-Control max-age".to_owned(),
                Some(s) if s < SHORT_CACHE_S => format!("cached for {s} s only"),
                _ => return None,
            };
            Some(AuditItem {
                url: r.url.clone(),
                detail,
                savings_bytes: Some(r.transfer_bytes),
            })
        })
        .collect();
    let count = items.len();
    finding(
        "cache-headers",
        format!("{count} static resource(s) with a missing or short cache lifetime (under 7 days): fetched again on every visit"),
        items,
    )
}

fn has_header(request: &PageRequest, name: &str) -> bool {
    request
        .response_headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(name))
}

fn oversized(requests: &[PageRequest], images: &[Image]) -> Option<PageAudit> {
    let items: Vec<AuditItem> = images
        .iter()
        .filter_map(|image| {
            let natural = image.natural.0 * image.natural.1;
            let shown = (image.displayed.0 * image.displayed.1).max(1.0);
            if natural <= shown * OVERSIZE_FACTOR {
                return None;
            }
            let bytes = requests.iter().find(|r| r.url == image.url)?.transfer_bytes;
            let saving = (bytes as f64 * (1.0 - shown / natural)).round() as u64;
            (saving >= MIN_SAVING_BYTES).then(|| AuditItem {
                url: image.url.clone(),
                detail: format!(
                    "{}×{} pixels displayed at {}×{} ({:.1}× the pixels needed)",
                    image.natural.0,
                    image.natural.1,
                    image.displayed.0.round(),
                    image.displayed.1.round(),
                    natural / shown
                ),
                savings_bytes: Some(saving),
            })
        })
        .collect();
    let count = items.len();
    finding(
        "oversized-images",
        format!("{count} image(s) larger than displayed"),
        items,
    )
}

fn formats(requests: &[PageRequest]) -> Option<PageAudit> {
    let heavy = [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/bmp",
        "image/tiff",
    ];
    let items: Vec<AuditItem> = requests
        .iter()
        .filter(|r| r.decoded_bytes >= 4096)
        .filter(|r| r.mime_type.as_deref().is_some_and(|m| heavy.contains(&m)))
        .map(|r| AuditItem {
            url: r.url.clone(),
            detail: format!(
                "{} of {} bytes: WebP or AVIF is usually a quarter to a half smaller (not measured)",
                r.mime_type.as_deref().unwrap_or("image"),
                r.transfer_bytes
            ),
            savings_bytes: None,
        })
        .collect();
    let count = items.len();
    finding(
        "image-formats",
        format!("{count} image(s) in PNG, JPEG or GIF"),
        items,
    )
}

fn render_blocking(run: &PageRun) -> Option<PageAudit> {
    let blocking: Vec<&PageRequest> = run.requests.iter().filter(|r| r.render_blocking).collect();
    let items: Vec<AuditItem> = blocking
        .iter()
        .map(|r| AuditItem {
            url: r.url.clone(),
            detail: format!(
                "{} held the first paint for {:.0} ms (from {:.0} to {:.0} ms)",
                r.resource_type,
                r.end_ms - r.start_ms,
                r.start_ms,
                r.end_ms
            ),
            savings_bytes: None,
        })
        .collect();
    let count = items.len();
    let mut audit = finding(
        "render-blocking",
        format!("{count} render-blocking script(s) or stylesheet(s)"),
        items,
    )?;
    // The time the blocking requests spanned, measured, up to FCP.
    let start = blocking
        .iter()
        .map(|r| r.start_ms)
        .fold(f64::INFINITY, f64::min);
    let end = blocking.iter().map(|r| r.end_ms).fold(0.0, f64::max);
    let fcp = run.fcp_ms.unwrap_or(end);
    audit.savings_ms = Some((end.min(fcp) - start).max(0.0));
    Some(audit)
}

fn large_scripts(requests: &[PageRequest]) -> Option<PageAudit> {
    let items: Vec<AuditItem> = requests
        .iter()
        .filter(|r| r.resource_type == "script" && r.decoded_bytes >= LARGE_SCRIPT_BYTES)
        .map(|r| AuditItem {
            url: r.url.clone(),
            detail: format!(
                "{} KiB of JavaScript ({} KiB over the network)",
                r.decoded_bytes / 1024,
                r.transfer_bytes / 1024
            ),
            savings_bytes: None,
        })
        .collect();
    let count = items.len();
    finding(
        "large-javascript",
        format!("{count} JavaScript bundle(s) of 256 KiB or more"),
        items,
    )
}

fn http2(requests: &[PageRequest]) -> Option<PageAudit> {
    let items: Vec<AuditItem> = requests
        .iter()
        .filter(|r| {
            r.protocol
                .as_deref()
                .is_some_and(|p| p.starts_with("http/1"))
        })
        .map(|r| AuditItem {
            url: r.url.clone(),
            detail: format!("served over {}", r.protocol.as_deref().unwrap_or("HTTP/1")),
            savings_bytes: None,
        })
        .collect();
    let count = items.len();
    finding(
        "http2",
        format!("{count} request(s) over HTTP/1.x: HTTP/2 multiplexes them on one connection"),
        items,
    )
}
