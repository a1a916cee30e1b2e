//! Importers that write a flow file a person can read and edit: `plumb import har` (a browser's
//! recording: third-party hosts dropped, think times from the recorded gaps, values of a response
//! that reappear in later requests turned into captures), `plumb import curl` and
//! `plumb import openapi` (one step per operation, with example values).
//!
//! Each importer builds [`ImportedStep`]s; [`write_toml`] renders them, so every importer writes
//! the same layout.

mod curl;
mod har;
mod openapi;

pub use curl::curl;
pub use har::{har, HarOptions};
pub use openapi::{openapi, DocFormat};

use std::fmt::Write;

/// Why a recording or command cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}\nhint: {hint}")]
pub struct ImportError {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

impl ImportError {
    pub(crate) fn new(message: impl Into<String>, hint: impl Into<String>) -> ImportError {
        ImportError {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// One step as imported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportedStep {
    /// Its name.
    pub name: String,
    /// HTTP method.
    pub method: String,
    /// Path and query (relative to the base URL), with `{{captures}}` where correlated.
    pub url: String,
    /// Headers kept, in order.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<String>,
    /// Captures: variable name and source (`json:$.token`).
    pub captures: Vec<(String, String)>,
    /// The recorded status, checked.
    pub status: Option<u16>,
    /// Think time after the step, in milliseconds.
    pub think_ms: Option<u64>,
}

/// An imported flow: its base URL (for the comment and the command line) and steps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    /// Where the flow was recorded against (`http://host:port`).
    pub base_url: String,
    /// The flow's name.
    pub flow: String,
    /// What it was imported from, for the header comment.
    pub source: String,
    /// The steps.
    pub steps: Vec<ImportedStep>,
    /// Notes for the reader (dropped hosts, correlations found).
    pub notes: Vec<String>,
}

/// Render an imported flow as a flow file.
pub fn write_toml(imported: &Imported) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = render(imported, &mut out);
    out
}

fn render(imported: &Imported, out: &mut String) -> std::fmt::Result {
    writeln!(out, "# Imported by plumb from {}.", imported.source)?;
    writeln!(
        out,
        "# Run it: plumb load -f THIS_FILE {} --dry-run",
        imported.base_url
    )?;
    for note in &imported.notes {
        writeln!(out, "# {note}")?;
    }
    let flow = &imported.flow;
    writeln!(out, "\n[flows.{}]", key(flow))?;
    for step in &imported.steps {
        writeln!(out, "\n[[flows.{}.steps]]", key(flow))?;
        writeln!(out, "name = {}", quote(&step.name))?;
        writeln!(out, "method = {}", quote(&step.method))?;
        writeln!(out, "url = {}", quote(&step.url))?;
        if !step.headers.is_empty() {
            let pairs: Vec<String> = step
                .headers
                .iter()
                .map(|(n, v)| format!("{} = {}", key(n), quote(v)))
                .collect();
            writeln!(out, "headers = {{ {} }}", pairs.join(", "))?;
        }
        if let Some(body) = &step.body {
            writeln!(out, "body = {}", quote(body))?;
        }
        if !step.captures.is_empty() {
            let pairs: Vec<String> = step
                .captures
                .iter()
                .map(|(n, s)| format!("{} = {}", key(n), quote(s)))
                .collect();
            writeln!(out, "capture = {{ {} }}", pairs.join(", "))?;
        }
        if let Some(status) = step.status {
            writeln!(out, "check = {{ status = {status} }}")?;
        }
        if let Some(ms) = step.think_ms.filter(|ms| *ms > 0) {
            writeln!(out, "think = \"{ms}ms\"")?;
        }
    }
    Ok(())
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    // JSON string escapes are TOML basic string escapes.
    serde_json::to_string(text).unwrap_or_default()
}

/// A TOML key: bare when it can be, quoted otherwise.
fn key(text: &str) -> String {
    let bare = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        text.to_string()
    } else {
        quote(text)
    }
}

/// Split `http://host:port/path?q` into the origin and the path and query.
pub(crate) fn split_url(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = path.split('#').next().unwrap_or("/");
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    Some((format!("{scheme}://{authority}"), path))
}

/// Headers a replay must not copy: the connection's own, what the session computes (cookies,
/// lengths), and HTTP/2 pseudo-headers.
pub(crate) fn dropped_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with(':')
        || matches!(
            lower.as_str(),
            "host"
                | "content-length"
                | "cookie"
                | "connection"
                | "keep-alive"
                | "transfer-encoding"
                | "accept-encoding"
                | "upgrade"
                | "te"
        )
}
