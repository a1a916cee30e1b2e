//! `plumb load -f FILE --dry-run`: one session of each selected flow, sent one request at a time
//! on one connection, with every request, response status, capture and check written down, so a
//! flow file can be checked against the real target before any load.

use crate::endpoint::{tls_config, Connector, Endpoint, Stream};
use crate::error::LoadError;
use crate::http1::{self, Kept};
use crate::settings::{HttpVersion, LoadSettings};
use bytes::BytesMut;
use plumb_flow::{FlowPlan, ResponseView};
use rand::SeedableRng;
use std::time::{Duration, Instant};

/// The most bytes of a request body shown.
const SHOWN_BODY: usize = 2048;

/// What a dry run did.
#[derive(Debug, Clone, Default)]
pub struct DryRun {
    /// One session per selected flow.
    pub sessions: Vec<DrySession>,
}

/// One session of a dry run.
#[derive(Debug, Clone, Default)]
pub struct DrySession {
    /// The flow.
    pub flow: String,
    /// Its steps, as far as the session got.
    pub steps: Vec<DryStep>,
}

/// One step of a dry run.
#[derive(Debug, Clone, Default)]
pub struct DryStep {
    /// The step's name.
    pub name: String,
    /// Its line in the flow file.
    pub line: usize,
    /// The request as sent (the body cut at 2 KiB).
    pub request: String,
    /// The response's status, when one came.
    pub status: Option<u16>,
    /// Response bytes.
    pub bytes: u64,
    /// How long the exchange took.
    pub took: Duration,
    /// Why no response came, or why the request could not be built.
    pub error: Option<String>,
    /// One line per capture and check.
    pub trace: Vec<String>,
    /// Checks that failed.
    pub checks_failed: u32,
    /// The capture that matched nothing, by name and line: the session stopped here.
    pub missing_capture: Option<(String, usize)>,
}

impl DryRun {
    /// Whether every check passed and every capture matched.
    pub fn passed(&self) -> bool {
        self.sessions
            .iter()
            .flat_map(|s| &s.steps)
            .all(|s| s.checks_failed == 0 && s.missing_capture.is_none() && s.error.is_none())
    }
}

/// Flows speak HTTP/1.1 only: `--http2` is refused before anything is sent, in the words of the
/// engine's own check (`engine::validate`, which a run goes through and a dry run does not).
pub(crate) fn flows_speak_http1(settings: &LoadSettings) -> Result<(), LoadError> {
    if settings.flows.is_some() && settings.http_version == HttpVersion::Http2 {
        return Err(LoadError::Settings {
            message: "flows (-f) speak HTTP/1.1 only in this version".into(),
            hint: "drop --http2 to run the flows, or load one URL over HTTP/2 without -f".into(),
        });
    }
    Ok(())
}

/// Run one session of each flow of `settings.flows` and return what happened.
pub fn dry_run(settings: &LoadSettings) -> Result<DryRun, LoadError> {
    let Some(plan) = settings.flows.as_deref() else {
        return Err(LoadError::Settings {
            message: "--dry-run needs flows".into(),
            hint: "give a flow file with -f FILE".into(),
        });
    };
    flows_speak_http1(settings)?;
    let endpoint = Endpoint::resolve(&settings.url)?;
    let tls = endpoint
        .tls
        .then(|| tls_config(&settings.tls, settings.http_version))
        .transpose()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(LoadError::Runtime)?;
    let connector = Connector::new(&endpoint, tls);
    let mut run = DryRun::default();
    for flow in 0..plan.flows.len() {
        let session = runtime.block_on(one_session(plan, flow, &connector, settings.timeout));
        run.sessions.push(session);
    }
    Ok(run)
}

async fn one_session(
    plan: &FlowPlan,
    flow_index: usize,
    connector: &Connector,
    timeout: Duration,
) -> DrySession {
    let flow = &plan.flows[flow_index];
    let mut out = DrySession {
        flow: flow.name.clone(),
        steps: Vec::new(),
    };
    let mut rng = rand::rngs::SmallRng::seed_from_u64(0);
    let Some(mut session) = plan.start_session(flow_index, 0, 0, &mut rng) else {
        out.steps.push(DryStep {
            error: Some("its data file has no row left".into()),
            ..DryStep::default()
        });
        return out;
    };
    let mut stream: Option<Stream> = None;
    let (mut request, mut body, mut buf) = (Vec::new(), Vec::new(), BytesMut::new());
    for step in &flow.steps {
        let mut dry = DryStep {
            name: step.name.clone(),
            line: step.line,
            ..DryStep::default()
        };
        if let Err(message) = plan.render_http1(step, &session, &mut request, &mut body) {
            dry.error = Some(message);
            out.steps.push(dry);
            return out;
        }
        dry.request = shown(&request, body.len());
        let mut kept = Kept {
            keep_body: true,
            keep_all_headers: true,
            ..Kept::default()
        };
        let started = Instant::now();
        let head = step.method.eq_ignore_ascii_case("HEAD");
        let result = tokio::time::timeout(timeout, async {
            if stream.is_none() {
                buf.clear();
                stream = Some(
                    connector
                        .connect()
                        .await
                        .map_err(|f| describe(f.class.name(), f.detail))?
                        .0,
                );
            }
            let Some(s) = stream.as_mut() else {
                return Err("no connection".to_string());
            };
            let exchanged = match s {
                Stream::Plain(tcp) => {
                    http1::exchange_keeping(tcp, &request, &mut buf, head, &mut kept).await
                }
                Stream::Tls(tls) => {
                    http1::exchange_keeping(&mut **tls, &request, &mut buf, head, &mut kept).await
                }
            };
            exchanged.map_err(|e| describe(e.class.name(), e.detail))
        })
        .await
        .unwrap_or_else(|_| Err("no complete response within --timeout".into()));
        dry.took = started.elapsed();
        match result {
            Err(message) => {
                dry.error = Some(message);
                out.steps.push(dry);
                return out;
            }
            Ok(response) => {
                if !response.keep_alive {
                    stream = None;
                }
                dry.status = Some(response.status);
                dry.bytes = response.bytes;
                let view = ResponseView {
                    status: response.status,
                    headers: &kept.headers,
                    body: &kept.body,
                };
                let outcome = plan.apply(step, &mut session, &view, Some(&mut dry.trace));
                dry.checks_failed = outcome.checks_failed;
                if outcome.failed_check == Some(plumb_flow::CheckKind::Status)
                    && outcome.checks_failed == 0
                {
                    dry.trace.push(format!(
                        "status {} is not 2xx or 3xx (no status check given)",
                        response.status
                    ));
                    dry.checks_failed = 1;
                }
                if let Some(i) = outcome.missing_capture() {
                    let capture = &step.captures[i];
                    dry.missing_capture = Some((capture.name.clone(), capture.line));
                    out.steps.push(dry);
                    return out;
                }
            }
        }
        out.steps.push(dry);
    }
    out
}

fn describe(class: &str, detail: Option<&str>) -> String {
    match detail {
        Some(detail) => format!("{class}: {detail}"),
        None => class.to_string(),
    }
}

/// The request as text, its body cut at [`SHOWN_BODY`] bytes.
fn shown(request: &[u8], body_len: usize) -> String {
    let head_len = request.len() - body_len;
    let shown_body = body_len.min(SHOWN_BODY);
    let mut text = String::from_utf8_lossy(&request[..head_len + shown_body]).into_owned();
    if body_len > shown_body {
        text.push_str(&format!("… ({} more bytes)", body_len - shown_body));
    }
    text
}
