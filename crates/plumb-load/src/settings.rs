//! Plain, typed settings of a load test: what the CLI resolves flags into and a plan file deserializes.

use std::path::PathBuf;
use std::time::Duration;

/// Everything the load engine needs to run one test.
#[derive(Debug, Clone)]
pub struct LoadSettings {
    /// The target URL (`http://` or `https://`).
    pub url: String,
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Extra request headers, in order.
    pub headers: Vec<(String, String)>,
    /// Request body (empty for none).
    pub body: Vec<u8>,
    /// Closed or open model.
    pub model: LoadModel,
    /// Ramping stages; empty for a constant load.
    pub stages: Vec<Stage>,
    /// Stop after this long (defaults to the stages' total, or 10 s).
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    pub requests: Option<u64>,
    /// Worker threads, one event loop each.
    pub threads: usize,
    /// Per-request timeout (connect and exchange each).
    pub timeout: Duration,
    /// HTTP/1.1 or HTTP/2.
    pub http_version: HttpVersion,
    /// HTTP/2: concurrent streams per connection (`-p`), so the closed model keeps
    /// `connections x streams` requests in flight and the open model's cap is `connections x
    /// streams`; 1 with HTTP/1.1.
    pub streams: u32,
    /// TLS options for `https://`.
    pub tls: TlsSettings,
    /// What counts as a successful response.
    pub checks: Checks,
    /// Flows to run instead of one request (`plumb load -f FILE`): `url` is then their base URL,
    /// and `requests` counts sessions.
    pub flows: Option<std::sync::Arc<plumb_flow::FlowPlan>>,
    /// Run only this segment of the test (`--segment I/N`); `None` runs all of it.
    pub segment: Option<Segment>,
    /// Start the load at this absolute time (`--start-at`), so segments on several machines
    /// begin together; `None` starts at once.
    pub start_at: Option<std::time::SystemTime>,
}

/// Segment `index` of `count` of a test split over several processes. Every other setting stays
/// the whole test's: the open model's request `k` and the closed model's connection `k` belong
/// to segment `k % count`, and the request count `-n` and connection cap are shared out, so the
/// segments together send exactly what one process would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// From 0 to `count - 1`.
    pub index: u32,
    /// At least 1.
    pub count: u32,
}

impl Segment {
    /// The whole test as one segment.
    pub const WHOLE: Segment = Segment { index: 0, count: 1 };

    /// This segment's share of `total` (requests under `-n`, or connections of the cap), split as
    /// evenly as possible with the first segments taking the remainder.
    pub fn share(self, total: u64) -> u64 {
        let count = u64::from(self.count.max(1));
        total / count + u64::from(u64::from(self.index) < total % count)
    }
}

/// How requests are paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoadModel {
    /// `connections` keep-alive connections, each sending its next request when the last completes.
    Closed {
        /// Number of connections (the starting value when stages are given).
        connections: u32,
    },
    /// Requests sent on a schedule of `rate` per second; latency counts from the intended send time.
    Open {
        /// Requests per second (the starting value when stages are given).
        rate: f64,
        /// Connections are opened as needed up to this cap.
        max_connections: u32,
    },
}

/// One ramping stage: move linearly to `target` over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// How long the stage lasts.
    pub duration: Duration,
    /// Rate (open model) or connections (closed model) at the end of the stage.
    pub target: f64,
}

/// The HTTP version spoken to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpVersion {
    /// HTTP/1.1 with keep-alive (plumb's own hand-written client).
    #[default]
    Http1,
    /// HTTP/2: by ALPN over TLS, or h2c with prior knowledge over plain TCP.
    Http2,
}

/// TLS options.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// Accept any certificate (for self-signed test targets).
    pub insecure: bool,
    /// Trust this PEM file's certificates in addition to the system's.
    pub cacert: Option<PathBuf>,
}

/// Checks applied to every response.
#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// Accepted status codes; empty means any 2xx or 3xx.
    pub expect_status: Vec<StatusRange>,
    /// Text the body must contain.
    pub expect_body: Option<String>,
}

/// An inclusive range of status codes, e.g. `200-299` or a single `404`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRange {
    /// First accepted code.
    pub from: u16,
    /// Last accepted code.
    pub to: u16,
}

impl Checks {
    /// Whether a response with this status passes the status check.
    pub fn status_ok(&self, status: u16) -> bool {
        if self.expect_status.is_empty() {
            (200..400).contains(&status)
        } else {
            self.expect_status
                .iter()
                .any(|r| (r.from..=r.to).contains(&status))
        }
    }
}

impl LoadSettings {
    /// The settings of a plain closed-model GET test; callers adjust fields from here.
    pub fn new(url: impl Into<String>) -> LoadSettings {
        LoadSettings {
            url: url.into(),
            method: "GET".to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            model: LoadModel::Closed { connections: 50 },
            stages: Vec::new(),
            duration: None,
            requests: None,
            threads: default_threads(),
            timeout: Duration::from_secs(10),
            http_version: HttpVersion::Http1,
            streams: 1,
            tls: TlsSettings::default(),
            checks: Checks::default(),
            flows: None,
            segment: None,
            start_at: None,
        }
    }

    /// How long the load phase lasts when bounded by time: `duration`, else the stages' total,
    /// else 10 s unless a request count bounds the run.
    pub fn planned_duration(&self) -> Option<Duration> {
        if let Some(d) = self.duration {
            return Some(d);
        }
        if !self.stages.is_empty() {
            return Some(self.stages.iter().map(|s| s.duration).sum());
        }
        if self.requests.is_some() {
            None
        } else {
            Some(Duration::from_secs(10))
        }
    }
}

/// One worker thread per available core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
