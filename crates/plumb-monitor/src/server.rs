//! The monitor's HTTP server: `/metrics` (OpenMetrics text), `/api/status` (the
//! [`MonitorStatus`] as JSON) and `/` (the one-page dashboard: inline SVG and script, no CDN,
//! no request beyond this server). Loopback by default; with a token, every path asks for it
//! (`Authorization: Bearer TOKEN` or `?token=TOKEN`), and a non-loopback address needs one.

use crate::config::MonitorConfig;
use crate::metrics::{Metrics, CONTENT_TYPE};
use crate::monitor::MonitorStatus;
use crate::probe::ProbeResult;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

const DASHBOARD: &str = include_str!("dashboard.html");

/// What the loop publishes and the server reads.
pub struct Shared {
    metrics: Metrics,
    status: Mutex<Option<MonitorStatus>>,
    token: Option<String>,
}

impl Shared {
    /// Empty until the first probe.
    pub fn new(config: &MonitorConfig) -> Shared {
        Shared {
            metrics: Metrics::new(config),
            status: Mutex::new(None),
            token: config.token.clone(),
        }
    }

    /// Publish a probe and the status after it.
    pub fn publish(&self, probe: &ProbeResult, status: &MonitorStatus) {
        self.metrics.update(probe, status);
        if let Ok(mut slot) = self.status.lock() {
            *slot = Some(status.clone());
        }
    }

    /// The exposition text.
    pub fn metrics_text(&self) -> Result<String, std::fmt::Error> {
        self.metrics.render()
    }

    fn status_json(&self) -> String {
        let status = self.status.lock().ok().and_then(|s| s.clone());
        serde_json::to_string(&status).unwrap_or_else(|_| "null".to_string())
    }

    fn authorized(&self, request: &Request<Incoming>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let bearer = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let query = request.uri().query().unwrap_or("");
        let in_query = query
            .split('&')
            .any(|kv| kv.strip_prefix("token=") == Some(token));
        bearer == Some(token.as_str()) || in_query
    }
}

/// A running server; dropped or [`Server::shutdown`], it stops.
pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop serving and wait for the thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Listen on `addr` (bound before returning, so a taken port is an error here) and serve.
pub fn serve(addr: SocketAddr, shared: Arc<Shared>) -> std::io::Result<Server> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new()
        .name("plumb-monitor-http".to_string())
        .spawn(move || runtime.block_on(accept(listener, shared, stopped)))?;
    Ok(Server {
        addr,
        stop,
        thread: Some(thread),
    })
}

async fn accept(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    // Bounded by the stop channel.
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let shared = Arc::clone(&shared);
                        async move { Ok::<_, std::convert::Infallible>(respond(&shared, &request)) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

fn respond(shared: &Shared, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    if !shared.authorized(request) {
        return reply(
            StatusCode::UNAUTHORIZED,
            "text/plain",
            "a token is required: ?token=TOKEN or Authorization: Bearer TOKEN\n".into(),
        );
    }
    match request.uri().path() {
        "/metrics" => match shared.metrics_text() {
            Ok(text) => reply(StatusCode::OK, CONTENT_TYPE, text),
            Err(_) => reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                "the metrics cannot be encoded\n".into(),
            ),
        },
        "/api/status" => reply(StatusCode::OK, "application/json", shared.status_json()),
        "/" => reply(
            StatusCode::OK,
            "text/html; charset=utf-8",
            DASHBOARD.to_string(),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /, /metrics or /api/status\n".into(),
        ),
    }
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}
