//! What the load engine runs: the selected flows with their URLs joined to the base, the shared
//! data sets, a weighted mix per worker, and per session its variables, data rows and cookies.
//!
//! A request is rendered into a buffer the worker reuses: the literals were split at load, so
//! rendering is copies of bytes and of the session's values, escaped for where they land.

use crate::capture::{CheckKind, LazyJson, ResponseView};
use crate::compile::{Flow, Step};
use crate::data::DataSet;
use crate::template::{Escape, Values, VarRef};
use csv::ByteRecord;
use rand::Rng;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

/// The most cookies a session keeps (more are dropped, oldest first).
const MAX_COOKIES: usize = 64;

/// The base URL that relative step URLs join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `http` or `https`.
    pub scheme: String,
    /// `host:port` as written.
    pub authority: String,
    /// The path prefix, without a trailing `/` (empty for the root).
    pub prefix: String,
}

impl BaseUrl {
    /// Parse `scheme://authority[/prefix]`.
    pub fn parse(url: &str) -> Result<BaseUrl, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or("it has no scheme: write http://HOST:PORT")?;
        if scheme != "http" && scheme != "https" {
            return Err(format!("the scheme '{scheme}' is not http or https"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err("it names no host".into());
        }
        if path.contains('?') || path.contains('#') {
            return Err(
                "a base URL holds no query or fragment: put them in the steps' URLs".into(),
            );
        }
        Ok(BaseUrl {
            scheme: scheme.to_string(),
            authority: authority.to_string(),
            prefix: path.trim_end_matches('/').to_string(),
        })
    }

    fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }
}

/// The flows of one run, ready for the workers (shared read-only: `Arc<FlowPlan>`).
#[derive(Debug)]
pub struct FlowPlan {
    /// The flow file.
    pub path: PathBuf,
    /// The base URL.
    pub base: BaseUrl,
    /// The selected flows.
    pub flows: Vec<Flow>,
    /// The data sets, by index (`VarRef::Column::data`).
    pub data: Vec<Arc<DataSet>>,
}

impl FlowPlan {
    /// Join every step's URL to the base; an absolute URL must be on the base's origin.
    pub(crate) fn new(
        path: PathBuf,
        base: BaseUrl,
        mut flows: Vec<Flow>,
        data: Vec<Arc<DataSet>>,
    ) -> Result<FlowPlan, (usize, String, String)> {
        let origin = base.origin();
        for flow in &mut flows {
            for step in &mut flow.steps {
                let prefix = step.url.literal_prefix().to_vec();
                let text = String::from_utf8_lossy(&prefix).to_string();
                let url = std::mem::take(&mut step.url);
                step.url = if text.starts_with("http://") || text.starts_with("https://") {
                    let Some(path) = text.strip_prefix(origin.as_str()) else {
                        return Err((
                            step.line,
                            format!("step '{}': its URL '{}' is not on the base URL's origin {origin}", step.name, step.url_text),
                            "plumb loads one origin per run: make the URL relative (\"/path\") or change the base URL".into(),
                        ));
                    };
                    let path = if path.is_empty() { "/" } else { path };
                    let joined = format!("{}{}", base.prefix, path);
                    url.with_prefix(joined.as_bytes(), prefix.len())
                } else {
                    url.with_prefix(base.prefix.as_bytes(), 0)
                };
            }
        }
        Ok(FlowPlan {
            path,
            base,
            flows,
            data,
        })
    }

    /// A fresh mix for one worker: flows in proportion to their weights, interleaved (smooth
    /// weighted round robin), so any stretch of sessions holds the mix to within one session.
    pub fn mixer(&self) -> Mixer {
        Mixer {
            weights: self.flows.iter().map(|f| i64::from(f.weight)).collect(),
            current: vec![0; self.flows.len()],
        }
    }

    /// A new session of flow `flow` on worker `worker`, or `None` when a data file it reads ran
    /// out (`on_eof = "stop"`).
    pub fn start_session(
        &self,
        flow: usize,
        worker: usize,
        id: u64,
        rng: &mut impl Rng,
    ) -> Option<Session> {
        let spec = &self.flows[flow];
        let mut rows = vec![None; self.data.len()];
        for &d in &spec.data_used {
            rows[usize::from(d)] = Some(self.data[usize::from(d)].take(worker, rng)?);
        }
        let mut vars = vec![None; spec.slots];
        for (slot, value) in &spec.vars {
            vars[usize::from(*slot)] = Some(value.clone());
        }
        Some(Session {
            flow,
            vars,
            rows,
            cookies: Vec::new(),
            id,
        })
    }

    /// Render `step` of the session's flow as an HTTP/1.1 request into `out` (`body` is scratch
    /// space). A variable without a value (a capture that failed earlier) is an error naming it.
    pub fn render_http1(
        &self,
        step: &Step,
        session: &Session,
        out: &mut Vec<u8>,
        body: &mut Vec<u8>,
    ) -> Result<(), String> {
        let unset = |var: VarRef| self.describe(session.flow, &var);
        out.clear();
        body.clear();
        out.extend_from_slice(step.method.as_bytes());
        out.push(b' ');
        step.url.render(session, Escape::Url, out).map_err(unset)?;
        out.extend_from_slice(b" HTTP/1.1\r\n");
        let has = |name: &str| {
            step.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        if !has("host") {
            push_header(out, "Host", self.base.authority.as_bytes());
        }
        if !has("user-agent") {
            push_header(
                out,
                "User-Agent",
                concat!("plumb/", env!("CARGO_PKG_VERSION")).as_bytes(),
            );
        }
        for (name, value) in &step.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            value.render(session, Escape::Header, out).map_err(unset)?;
            out.extend_from_slice(b"\r\n");
        }
        if let (Some(kind), false) = (step.content_type, has("content-type")) {
            push_header(out, "Content-Type", kind.as_bytes());
        }
        if !session.cookies.is_empty() && !has("cookie") {
            out.extend_from_slice(b"Cookie: ");
            for (i, (name, value)) in session.cookies.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b"; ");
                }
                out.extend_from_slice(name);
                out.push(b'=');
                out.extend_from_slice(value);
            }
            out.extend_from_slice(b"\r\n");
        }
        if let Some((template, escape)) = &step.body {
            template.render(session, *escape, body).map_err(unset)?;
        }
        let method_has_body =
            !matches!(step.method.as_str(), "GET" | "HEAD" | "DELETE" | "OPTIONS");
        if (step.body.is_some() || method_has_body) && !has("content-length") {
            // Writing into a Vec cannot fail.
            let _ = write!(out, "Content-Length: {}\r\n", body.len());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        Ok(())
    }

    /// The name a variable reference was written as, for messages.
    fn describe(&self, flow: usize, var: &VarRef) -> String {
        match var {
            VarRef::Slot(slot) => {
                let flow = &self.flows[flow];
                let name = flow
                    .steps
                    .iter()
                    .flat_map(|s| &s.captures)
                    .find(|c| c.slot == *slot)
                    .map(|c| c.name.clone());
                format!(
                    "variable '{}' has no value (its capture did not match)",
                    name.unwrap_or_else(|| format!("#{slot}"))
                )
            }
            VarRef::Column { data, column } => {
                let set = &self.data[usize::from(*data)];
                format!(
                    "{}.{} has no value in this row",
                    set.name,
                    set.columns
                        .get(usize::from(*column))
                        .map_or("?", String::as_str)
                )
            }
            VarRef::Session => "$session".into(),
        }
    }

    /// Apply a response of `step` to the session: keep its cookies, set its captures, run its
    /// checks. `trace` collects a line per capture and check (`--dry-run`).
    pub fn apply(
        &self,
        step: &Step,
        session: &mut Session,
        response: &ResponseView<'_>,
        mut trace: Option<&mut Vec<String>>,
    ) -> StepOutcome {
        session.keep_cookies(response);
        let mut json = LazyJson::default();
        let mut outcome = StepOutcome::default();
        for (i, capture) in step.captures.iter().enumerate() {
            let value = capture.source.extract(response, &mut json);
            if let Some(trace) = trace.as_deref_mut() {
                trace.push(match &value {
                    Some(v) => format!(
                        "capture {} = {:?} ({})",
                        capture.name,
                        String::from_utf8_lossy(v),
                        capture.source_text
                    ),
                    None => format!(
                        "capture {} MATCHED NOTHING ({}, line {})",
                        capture.name, capture.source_text, capture.line
                    ),
                });
            }
            match value {
                Some(v) => session.vars[usize::from(capture.slot)] = Some(v),
                None => outcome.missed_captures.push(i),
            }
        }
        let mut status_checked = false;
        for check in &step.checks {
            let passed = check.passes(response, &mut json);
            status_checked |= check.kind() == CheckKind::Status;
            if let Some(trace) = trace.as_deref_mut() {
                trace.push(format!(
                    "check {}: {}",
                    check.describe(),
                    if passed { "passed" } else { "FAILED" }
                ));
            }
            if passed {
                outcome.checks_passed += 1;
            } else {
                outcome.checks_failed += 1;
                outcome.failed_check.get_or_insert(check.kind());
            }
        }
        if !status_checked && !(200..400).contains(&response.status) {
            // No status check given: any 2xx or 3xx passes, as for a single URL.
            outcome.failed_check = Some(CheckKind::Status);
        }
        outcome
    }
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// What one response did to its session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepOutcome {
    /// Checks that passed.
    pub checks_passed: u32,
    /// Checks that failed.
    pub checks_failed: u32,
    /// The first failed check's kind (or `Status` for a non-2xx/3xx without a status check).
    pub failed_check: Option<CheckKind>,
    /// Every capture that matched nothing, by index, in order (empty on the usual path, so
    /// nothing is allocated): the session cannot go on, and each one counts as missed.
    pub missed_captures: Vec<usize>,
}

impl StepOutcome {
    /// The first capture that matched nothing: where the session stopped.
    pub fn missing_capture(&self) -> Option<usize> {
        self.missed_captures.first().copied()
    }
}

/// One session's state: its variables, its data rows and its cookies.
#[derive(Debug, Clone)]
pub struct Session {
    /// The flow's index in the plan.
    pub flow: usize,
    vars: Vec<Option<Vec<u8>>>,
    rows: Vec<Option<ByteRecord>>,
    cookies: Vec<(Vec<u8>, Vec<u8>)>,
    id: u64,
}

impl Session {
    fn keep_cookies(&mut self, response: &ResponseView<'_>) {
        for (name, value) in response.set_cookies() {
            match self.cookies.iter_mut().find(|(n, _)| n == name) {
                Some(kept) => kept.1 = value.to_vec(),
                None => {
                    if self.cookies.len() == MAX_COOKIES {
                        self.cookies.remove(0);
                    }
                    self.cookies.push((name.to_vec(), value.to_vec()));
                }
            }
        }
    }

    /// The cookies the session holds, as (name, value).
    pub fn cookies(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.cookies
    }
}

impl Values for Session {
    fn value(&self, var: &VarRef) -> Option<&[u8]> {
        match var {
            VarRef::Slot(slot) => self.vars.get(usize::from(*slot))?.as_deref(),
            VarRef::Column { data, column } => self
                .rows
                .get(usize::from(*data))?
                .as_ref()?
                .get(usize::from(*column)),
            VarRef::Session => None,
        }
    }

    fn session(&self) -> u64 {
        self.id
    }
}

/// Picks the flow of each new session by weight (smooth weighted round robin, as nginx's
/// upstreams): deterministic, and exact over every whole cycle of the weights.
#[derive(Debug, Clone)]
pub struct Mixer {
    weights: Vec<i64>,
    current: Vec<i64>,
}

impl Mixer {
    /// The index of the next session's flow.
    pub fn next_flow(&mut self) -> usize {
        let total: i64 = self.weights.iter().sum();
        let mut best = 0;
        for (i, w) in self.weights.iter().enumerate() {
            self.current[i] += w;
            if self.current[i] > self.current[best] {
                best = i;
            }
        }
        self.current[best] -= total;
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_parse() {
        let b = BaseUrl::parse("http://127.0.0.1:8080/api/").unwrap();
        assert_eq!(
            (b.authority.as_str(), b.prefix.as_str()),
            ("127.0.0.1:8080", "/api")
        );
        assert_eq!(BaseUrl::parse("http://h").unwrap().prefix, "");
        assert!(BaseUrl::parse("ftp://h").is_err());
        assert!(BaseUrl::parse("h:80").is_err());
        assert!(BaseUrl::parse("http://h/?q").is_err());
    }

    #[test]
    fn the_mix_follows_the_weights_in_every_cycle() {
        let mut mixer = Mixer {
            weights: vec![5, 3, 2],
            current: vec![0; 3],
        };
        let mut counts = [0; 3];
        for _ in 0..1000 {
            counts[mixer.next_flow()] += 1;
        }
        assert_eq!(counts, [500, 300, 200]);
    }
}
