//! Probes: one real HTTP request through plumb's load engine (the one owner of HTTP in plumb),
//! with the monitor's timeout and checks. [`Prober`] is the seam tests drive: a scripted target
//! that answers by the test clock's time.

use crate::clock::Millis;
use crate::config::{ConfigError, MonitorConfig};
use plumb_load::{ErrorClass, LoadModel, LoadSettings, StopSignal, Unobserved};
use serde::Serialize;
use std::time::Duration;

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeResult {
    /// When it was sent, ms since the epoch.
    pub at: Millis,
    /// Whether it passed its checks.
    pub ok: bool,
    /// The response status, if a response came.
    pub status: Option<u16>,
    /// Connect plus exchange time.
    #[serde(serialize_with = "as_ms")]
    pub took: Duration,
    /// Why it failed, in words.
    pub error: Option<String>,
}

fn as_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// Sends probes.
pub trait Prober {
    /// Probe once, at `at` by the monitor's clock.
    fn probe(&mut self, at: Millis) -> ProbeResult;
}

/// Probes over HTTP with plumb's load engine: one connection, one request.
pub struct HttpProber {
    settings: LoadSettings,
    stop: StopSignal,
}

impl HttpProber {
    /// A prober of the monitor's URL with its timeout and checks.
    pub fn new(config: &MonitorConfig) -> Result<HttpProber, ConfigError> {
        let mut settings = one_request(&config.url, config.timeout, config.checks()?);
        if let Some(path) = &config.flow_file {
            let flow_error = |e: plumb_flow::FlowFileError| {
                ConfigError::new(
                    "flow-file",
                    e.to_string(),
                    "see docs/flows.md for the flow file",
                )
            };
            let file = plumb_flow::read_flow_file(path).map_err(flow_error)?;
            let plan = file
                .prepare(&config.url, &config.flow, 1)
                .map_err(flow_error)?;
            // One session a probe: -n counts sessions with flows.
            settings.flows = Some(std::sync::Arc::new(plan));
        }
        Ok(HttpProber {
            settings,
            stop: StopSignal::new(),
        })
    }

    /// Cut a probe in flight short when `stop` fires (SIGINT/SIGTERM), rather than wait for
    /// its timeout; a probe cut short is not counted.
    pub fn with_stop(mut self, stop: StopSignal) -> HttpProber {
        self.stop = stop;
        self
    }

    /// Whether the stop has fired.
    pub fn stopped(&self) -> bool {
        self.stop.is_stopped()
    }
}

/// The settings of a single request of `url` (probes, webhooks, remote writes).
pub fn one_request(url: &str, timeout: Duration, checks: plumb_load::Checks) -> LoadSettings {
    let mut settings = LoadSettings::new(url);
    settings.model = LoadModel::Closed { connections: 1 };
    settings.requests = Some(1);
    settings.threads = 1;
    settings.timeout = timeout;
    settings.checks = checks;
    settings
}

impl Prober for HttpProber {
    fn probe(&mut self, at: Millis) -> ProbeResult {
        match plumb_load::run(&self.settings, &mut Unobserved, &self.stop) {
            Ok(report) if self.settings.flows.is_some() => from_session(at, &report.totals),
            Ok(report) => from_totals(at, &report.totals),
            Err(e) => ProbeResult {
                at,
                ok: false,
                status: None,
                took: Duration::ZERO,
                error: Some(e.to_string()),
            },
        }
    }
}

fn from_totals(at: Millis, totals: &plumb_load::Recorder) -> ProbeResult {
    let status = totals.statuses().map(|(code, _)| code).find(|c| *c > 0);
    let connect = if totals.connect.is_empty() {
        Duration::ZERO
    } else {
        totals.connect.max()
    };
    let exchange = if totals.latency.is_empty() {
        Duration::ZERO
    } else {
        totals.latency.max()
    };
    let ok = totals.requests == 1 && totals.errors == 0;
    ProbeResult {
        at,
        ok,
        status,
        took: connect + exchange,
        error: (!ok).then(|| failure_reason(totals, status)),
    }
}

/// A probe that ran one session of flows: it passes when the session completed with no failed
/// request, check or capture; it took the session's whole time.
fn from_session(at: Millis, totals: &plumb_load::Recorder) -> ProbeResult {
    let session = totals.flows.as_ref().and_then(|f| {
        f.flows
            .iter()
            .find(|s| s.started > 0)
            .map(|s| (s.completed == 1 && s.failed == 0, s.duration.max()))
    });
    let (completed, took) = session.unwrap_or((false, Duration::ZERO));
    let ok = completed && totals.errors == 0;
    let status = totals.statuses().map(|(code, _)| code).find(|c| *c > 0);
    ProbeResult {
        at,
        ok,
        status,
        took,
        error: (!ok).then(|| match session {
            None => "no session started".to_string(),
            Some(_) if totals.errors > 0 => failure_reason(totals, status),
            Some(_) => "the session did not complete".to_string(),
        }),
    }
}

/// `status 503 (expected 2xx or 3xx)`, `timeout`, `refused: connection refused`.
fn failure_reason(totals: &plumb_load::Recorder, status: Option<u16>) -> String {
    if totals.requests == 0 {
        return "no response".to_string();
    }
    for class in ErrorClass::ALL {
        if totals.errors_of(class) == 0 {
            continue;
        }
        let detail = totals.details_of(class).into_iter().next().map(|d| d.0);
        return match (class, status, detail) {
            (ErrorClass::Status, Some(code), _) => format!("unexpected status {code}"),
            (ErrorClass::Body, _, _) => "the body lacks the expected text".to_string(),
            (_, _, Some(detail)) => format!("{}: {detail}", class.name()),
            _ => class.name().to_string(),
        };
    }
    "failed".to_string()
}
