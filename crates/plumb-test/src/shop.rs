//! A small shop on 127.0.0.1 for flow tests: a login that hands out a token and a session cookie,
//! and pages that refuse any request without them, so a flow passes only if its captures and
//! cookies work. It counts what it served and remembers who logged in, in order.
//!
//! - `POST /login` (JSON or form `user`, `pw`): `pw` must be `secret`; answers
//!   `{"ok":true,"token":"tok-USER"}` and `Set-Cookie: sid=s-USER`, else 401.
//! - `GET /items`: needs `Authorization: Bearer tok-USER`; answers two items.
//! - `POST /cart`: needs the bearer token and the `sid` cookie of the same user.
//! - `GET /track/CODE`: remembers CODE. `GET /` and anything else: 200 `welcome`.

use crate::{accept_each, Background};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::net::TcpStream;

/// What the shop saw.
#[derive(Debug, Default, Clone)]
pub struct ShopLog {
    /// Users logged in, in order.
    pub logins: Vec<String>,
    /// Tracking codes, in order.
    pub tracked: Vec<String>,
    /// Responses by (path, status).
    pub served: BTreeMap<(String, u16), u64>,
}

/// The running shop; stops when dropped.
pub struct Shop {
    server: Background,
    log: Arc<Mutex<ShopLog>>,
}

impl Shop {
    /// Start it on 127.0.0.1:0.
    pub fn start() -> Shop {
        let log = Arc::new(Mutex::new(ShopLog::default()));
        let shared = Arc::clone(&log);
        let server = Background::start(move |listener, stop| {
            accept_each(listener, stop, move |stream: TcpStream| {
                serve(stream, Arc::clone(&shared))
            })
        });
        Shop { server, log }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash: the base URL of a flow).
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// A copy of what it saw so far.
    pub fn log(&self) -> ShopLog {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Responses of `path` with `status`.
    pub fn served(&self, path: &str, status: u16) -> u64 {
        self.log()
            .served
            .get(&(path.to_string(), status))
            .copied()
            .unwrap_or(0)
    }
}

async fn serve(stream: TcpStream, log: Arc<Mutex<ShopLog>>) {
    let service = hyper::service::service_fn(move |request| {
        let log = Arc::clone(&log);
        async move { Ok::<_, std::convert::Infallible>(answer(request, &log).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn answer(request: Request<Incoming>, log: &Mutex<ShopLog>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let bearer =
        header("authorization").and_then(|v| v.strip_prefix("Bearer tok-").map(str::to_string));
    let cookie = header("cookie").and_then(|c| {
        c.split(';')
            .find_map(|p| p.trim().strip_prefix("sid=s-").map(str::to_string))
    });
    let content_type = header("content-type").unwrap_or_default();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let (status, text, cookie_out) = match (method.as_str(), path.as_str()) {
        ("POST", "/login") => login(&body, &content_type, log),
        ("GET", "/items") => match bearer {
            Some(_) => (
                200,
                r#"{"items":[{"id":"i1","price":3},{"id":"i2","price":5}],"count":2}"#.to_string(),
                None,
            ),
            None => (401, r#"{"error":"no token"}"#.to_string(), None),
        },
        ("POST", "/cart") => match (bearer, cookie) {
            (Some(user), Some(sid)) if user == sid => {
                (200, format!(r#"{{"cart":"c-{user}","ok":true}}"#), None)
            }
            _ => (401, r#"{"error":"no session"}"#.to_string(), None),
        },
        ("GET", p) if p.starts_with("/track/") => {
            if let Ok(mut l) = log.lock() {
                l.tracked.push(p["/track/".len()..].to_string());
            }
            (200, "tracked".to_string(), None)
        }
        _ => (200, "welcome".to_string(), None),
    };
    if let Ok(mut l) = log.lock() {
        *l.served.entry((path, status)).or_default() += 1;
    }
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Some(cookie) = cookie_out {
        if let Ok(value) = hyper::header::HeaderValue::from_str(&cookie) {
            response.headers_mut().insert("set-cookie", value);
        }
    }
    response
}

fn login(body: &[u8], content_type: &str, log: &Mutex<ShopLog>) -> (u16, String, Option<String>) {
    let fields: BTreeMap<String, String> = if content_type.starts_with("application/json") {
        serde_json::from_slice::<BTreeMap<String, serde_json::Value>>(body)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
            .collect()
    } else {
        String::from_utf8_lossy(body)
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), v.replace('+', " ").replace("%40", "@")))
            .collect()
    };
    match (fields.get("user"), fields.get("pw").map(String::as_str)) {
        (Some(user), Some("secret")) => {
            if let Ok(mut l) = log.lock() {
                l.logins.push(user.clone());
            }
            (
                200,
                format!(r#"{{"ok":true,"token":"tok-{user}"}}"#),
                Some(format!("sid=s-{user}; Path=/; HttpOnly")),
            )
        }
        _ => (401, r#"{"ok":false}"#.to_string(), None),
    }
}
