//! Result of `plumb page`: N loads of one URL in a real headless Chromium, each with its own fresh
//! profile, and what they measured: TTFB, FCP, LCP with its four parts, CLS, TBT, DOMContentLoaded
//! and load, the page's weight and requests by resource type, each request's timing (the
//! waterfall); the median and p75 of every metric over the runs with their intervals; and the
//! audits, each with its measured saving.
//!
//! Versioned by [`PAGE_SCHEMA_VERSION`]; a field is only ever added.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the [`PageResult`] format.
pub const PAGE_SCHEMA_VERSION: u32 = 1;

/// Everything one `plumb page` measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageResult {
    /// Always [`PAGE_SCHEMA_VERSION`] when written by this plumb.
    pub schema_version: u32,
    /// Always `"page"`.
    pub kind: String,
    /// The plumb that measured it.
    pub plumb_version: String,
    /// When the first run started (RFC 3339).
    pub started_at: String,
    /// The page loaded.
    pub url: String,
    /// How the page was loaded.
    pub settings: PageSettingsRecord,
    /// The browser that loaded it (`Chrome/156.0.8078.114`).
    pub browser: String,
    /// Each load, in order.
    pub runs: Vec<PageRun>,
    /// Every metric over the runs: median and p75 with their intervals.
    pub summary: Vec<PageMetricSummary>,
    /// Findings with their measured savings, from the run closest to the median.
    pub audits: Vec<PageAudit>,
    /// `--threshold` outcomes, in the order given.
    #[serde(default)]
    pub thresholds: Vec<PageThreshold>,
    /// Which run the audits and the waterfall come from (0-based): the one nearest the median
    /// FCP and LCP, as Lighthouse picks its median run.
    pub representative_run: usize,
    /// Whether a signal stopped the runs early (the runs measured are kept).
    pub interrupted: bool,
    /// The backend load the page was measured under (`--under SCENARIO`), when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub under_load: Option<PageUnderLoad>,
}

/// A load that ran against the backend while the page loads were measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageUnderLoad {
    /// The plan's scenario.
    pub scenario: String,
    /// The loaded URL (or the flows' base URL).
    pub url: String,
    /// The requested rate (open model), per second.
    pub requested_rps: Option<f64>,
    /// Requests completed per second while it ran.
    pub achieved_rps: f64,
    /// Requests completed.
    pub requests: u64,
    /// The load's p95 latency, in milliseconds.
    pub latency_p95_ms: f64,
    /// The load's p99 latency, in milliseconds.
    pub latency_p99_ms: f64,
    /// Its failed requests over all requests.
    pub error_rate: f64,
    /// Seconds it ran, the page loads inside them.
    pub duration_s: f64,
    /// Why it ended before the last page load, if it did.
    pub ended_early: Option<String>,
}

/// The settings a page run was measured with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageSettingsRecord {
    /// Loads asked for.
    pub runs: u32,
    /// Network and CPU throttling.
    pub throttle: ThrottleRecord,
    /// The viewport, in CSS pixels.
    pub viewport: Viewport,
    /// The longest one load may take to fire its load event, in seconds.
    pub timeout_s: f64,
    /// How long the network and main thread must be quiet after load before a run ends, in seconds.
    pub settle_s: f64,
}

/// Throttling as applied through the DevTools protocol.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ThrottleRecord {
    /// `none`, `mobile`, `desktop` or `custom`.
    pub preset: String,
    /// Latency added to every request, in milliseconds (0: none).
    pub latency_ms: f64,
    /// Download throughput in kilobits (1024 bits) per second (0: unlimited).
    pub download_kbps: f64,
    /// Upload throughput in kilobits per second (0: unlimited).
    pub upload_kbps: f64,
    /// CPU slowdown factor (1: none).
    pub cpu_slowdown: f64,
}

/// A viewport.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Viewport {
    /// Width in CSS pixels.
    pub width: u32,
    /// Height in CSS pixels.
    pub height: u32,
    /// Device pixels per CSS pixel.
    pub device_scale_factor: f64,
    /// Emulated as a mobile device.
    pub mobile: bool,
}

/// One page load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageRun {
    /// When the document was requested, in milliseconds since the Unix epoch (the browser's
    /// wall clock; HAR's `startedDateTime`).
    pub started_unix_ms: f64,
    /// Time to first byte of the document, from navigation start, in milliseconds.
    pub ttfb_ms: f64,
    /// First Contentful Paint, in milliseconds (none when nothing was painted).
    pub fcp_ms: Option<f64>,
    /// Largest Contentful Paint, in milliseconds (none when no candidate was painted).
    pub lcp_ms: Option<f64>,
    /// LCP split into its four parts (web-vitals' attribution).
    pub lcp_parts: Option<LcpParts>,
    /// Cumulative Layout Shift: the largest session window (gaps under 1 s, at most 5 s).
    pub cls: f64,
    /// Total Blocking Time by Lighthouse's rule: the sum over main-thread long tasks after FCP
    /// of their time beyond 50 ms, in milliseconds.
    pub tbt_ms: f64,
    /// DOMContentLoaded (the event's start), in milliseconds.
    pub dom_content_loaded_ms: f64,
    /// The load event's start, in milliseconds.
    pub load_ms: f64,
    /// Bytes over the network and requests, by resource type.
    pub weight: PageWeight,
    /// Main-thread long tasks (50 ms or more), in order.
    pub long_tasks: Vec<LongTask>,
    /// Layout shifts without recent input, in order.
    pub layout_shifts: Vec<LayoutShift>,
    /// Every request, in the order sent: the waterfall.
    pub requests: Vec<PageRequest>,
    /// Anything the run could not settle (the network still busy when the run ended).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// LCP's four parts; they add up to LCP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LcpParts {
    /// The LCP element (`img`, `p`, ...).
    pub element: Option<String>,
    /// The LCP resource, for an image.
    pub url: Option<String>,
    /// Time to first byte of the document.
    pub ttfb_ms: f64,
    /// From TTFB until the LCP resource's request started.
    pub resource_load_delay_ms: f64,
    /// The LCP resource's request, from its start to its last byte.
    pub resource_load_duration_ms: f64,
    /// From the last byte (or TTFB, for text) until the element was painted.
    pub render_delay_ms: f64,
}

/// Bytes and requests of one load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageWeight {
    /// Bytes received over the network (headers and bodies, as sent: compressed).
    pub transfer_bytes: u64,
    /// Requests made.
    pub requests: u64,
    /// The same by resource type, heaviest first.
    pub by_type: Vec<TypeWeight>,
}

/// Bytes and requests of one resource type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TypeWeight {
    /// `document`, `script`, `stylesheet`, `image`, `font`, `xhr`, `fetch`, `media`, `other`.
    pub resource_type: String,
    /// Requests of this type.
    pub requests: u64,
    /// Bytes over the network.
    pub transfer_bytes: u64,
    /// Bytes of the bodies once decoded.
    pub decoded_bytes: u64,
}

/// A main-thread long task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LongTask {
    /// Start, from navigation start, in milliseconds.
    pub start_ms: f64,
    /// Duration in milliseconds.
    pub duration_ms: f64,
}

/// A layout shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LayoutShift {
    /// When, from navigation start, in milliseconds.
    pub start_ms: f64,
    /// Its score (impact fraction × distance fraction).
    pub value: f64,
}

/// One request of the waterfall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageRequest {
    /// The URL.
    pub url: String,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The resource type (see [`TypeWeight::resource_type`]).
    pub resource_type: String,
    /// The HTTP status (0 when it failed before a response).
    pub status: u16,
    /// `http/1.1`, `h2`, `h3`, ...
    pub protocol: Option<String>,
    /// The response's MIME type.
    pub mime_type: Option<String>,
    /// When it was sent, from the document's request, in milliseconds.
    pub start_ms: f64,
    /// When its response headers arrived, from the document's request, in milliseconds.
    pub response_ms: Option<f64>,
    /// When its last byte arrived (or it failed), from the document's request, in milliseconds.
    pub end_ms: f64,
    /// Bytes over the network (headers and body).
    pub transfer_bytes: u64,
    /// Body bytes once decoded.
    pub decoded_bytes: u64,
    /// The response's `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// The response's `Cache-Control`.
    pub cache_control: Option<String>,
    /// Whether the browser held rendering for it (Resource Timing's `renderBlockingStatus`).
    pub render_blocking: bool,
    /// Why it failed, when it did (`net::ERR_CONNECTION_REFUSED`).
    pub failed: Option<String>,
    /// Phases in milliseconds (HAR's blocked, dns, connect, ssl, send, wait, receive).
    pub timings: Option<RequestTimings>,
    /// Request headers, as sent.
    #[serde(default)]
    pub request_headers: Vec<(String, String)>,
    /// Response headers, as received.
    #[serde(default)]
    pub response_headers: Vec<(String, String)>,
}

/// A request's phases, in milliseconds; -1 where a phase did not happen (HAR's convention).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestTimings {
    /// Queued before being sent.
    pub blocked: f64,
    /// DNS lookup.
    pub dns: f64,
    /// TCP connect (TLS included).
    pub connect: f64,
    /// TLS handshake.
    pub ssl: f64,
    /// Sending the request.
    pub send: f64,
    /// Waiting for the first response byte.
    pub wait: f64,
    /// Receiving the response.
    pub receive: f64,
}

/// One metric over the runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageMetricSummary {
    /// The threshold name: `page_lcp`, `page_cls`, ...
    pub metric: String,
    /// `ms`, `bytes`, `requests` or `` (CLS has no unit).
    pub unit: String,
    /// Runs that measured it.
    pub runs: usize,
    /// The median over the runs.
    pub median: f64,
    /// A distribution-free interval of the median (order statistics).
    pub median_interval: [f64; 2],
    /// The 75th percentile over the runs (linear between order statistics).
    pub p75: f64,
    /// A distribution-free interval of the p75 (order statistics).
    pub p75_interval: [f64; 2],
    /// The confidence both intervals reach with this many runs (at most 0.95; fewer runs
    /// cannot reach it, and say so here).
    pub confidence: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// Runs whose value is an outlier by the modified z-score (a bimodal page is not hidden by
    /// its median).
    pub outliers: Vec<usize>,
}

/// Verdict of one `--threshold` on the runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageThreshold {
    /// The expression as given.
    pub expression: String,
    /// `"passed"`, `"failed"`, or `"no data"`.
    pub status: plumb_stats::ThresholdStatus,
    /// The observed value (milliseconds for durations).
    pub observed: Option<f64>,
}

/// One audit finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageAudit {
    /// `uncompressed-text`, `cache-headers`, `oversized-images`, `image-formats`,
    /// `render-blocking`, `large-javascript`, `http2`.
    pub id: String,
    /// What was found, in one line.
    pub title: String,
    /// Bytes that fixing it would save, measured (compressed for real, or the image's pixels
    /// against the pixels displayed), when it saves bytes.
    pub savings_bytes: Option<u64>,
    /// Milliseconds that fixing it would save, where measured.
    pub savings_ms: Option<f64>,
    /// The resources concerned, with the figure for each.
    pub items: Vec<AuditItem>,
}

/// One resource of an audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditItem {
    /// The URL.
    pub url: String,
    /// What is wrong with it, with its figures.
    pub detail: String,
    /// Bytes saved for this resource.
    pub savings_bytes: Option<u64>,
}

impl PageRun {
    /// This load's value of the metric named `metric` (`page_lcp`, as thresholds name it).
    pub fn value(&self, metric: &str) -> Option<f64> {
        match metric {
            "page_ttfb" => Some(self.ttfb_ms),
            "page_fcp" => self.fcp_ms,
            "page_lcp" => self.lcp_ms,
            "page_cls" => Some(self.cls),
            "page_tbt" => Some(self.tbt_ms),
            "page_dcl" => Some(self.dom_content_loaded_ms),
            "page_load" => Some(self.load_ms),
            "page_weight" => Some(self.weight.transfer_bytes as f64),
            "page_requests" => Some(self.weight.requests as f64),
            _ => None,
        }
    }
}

impl PageResult {
    /// The values of the metric named `metric` over the loads that measured it.
    pub fn values(&self, metric: &str) -> Vec<f64> {
        self.runs.iter().filter_map(|r| r.value(metric)).collect()
    }

    /// The metric named `metric` (`page_lcp`) over the runs, when any run measured it.
    pub fn metric(&self, metric: &str) -> Option<&PageMetricSummary> {
        self.summary.iter().find(|m| m.metric == metric)
    }

    /// One line for `plumb history`.
    pub fn headline(&self) -> String {
        let value = |name: &str, unit: &str| {
            self.metric(name).map_or("-".to_owned(), |m| match unit {
                "" => format!("{:.3}", m.p75),
                _ => format!("{:.0} {unit}", m.p75),
            })
        };
        format!(
            "p75 of {} loads: LCP {}, FCP {}, CLS {}, TBT {}",
            self.runs.len(),
            value("page_lcp", "ms"),
            value("page_fcp", "ms"),
            value("page_cls", ""),
            value("page_tbt", "ms")
        )
    }
}
