//! `plumb import har FILE`: a browser's recording (HAR 1.2) as one flow. Requests to other hosts
//! than the first request's (analytics, CDNs) are dropped; the recorded gaps become think times;
//! and correlation is found: a value of a JSON response (a string of 6 or more characters, or an
//! integer of 4 or more digits) that the client had not sent before and that reappears in a later
//! request's URL, headers or body becomes a capture (`json:$.path`) of the step that received it,
//! and its later uses become `{{name}}`, so the replay sends the live value, not the recorded one.

use super::{dropped_header, split_url, ImportError, Imported, ImportedStep};
use serde_json::Value;
use std::time::SystemTime;

/// The most entries imported.
const MAX_ENTRIES: usize = 10_000;
/// Longest think time kept from a gap (longer gaps are the recorder idling).
const MAX_THINK_MS: u64 = 60_000;

/// How to import a HAR.
#[derive(Debug, Clone, Default)]
pub struct HarOptions {
    /// Keep requests to this origin (`http://host:port`); default: the first request's.
    pub origin: Option<String>,
    /// The flow's name (default `recorded`).
    pub flow: Option<String>,
}

/// One request and response of the recording, as far as the import needs them.
struct Entry {
    step: ImportedStep,
    started: Option<SystemTime>,
    took_ms: f64,
    response: Option<Value>,
}

/// Import a HAR document.
pub fn har(text: &str, options: &HarOptions) -> Result<Imported, ImportError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        ImportError::new(
            format!("the file is not JSON: {e}"),
            "export the recording from the browser's network panel as HAR",
        )
    })?;
    let entries = doc
        .pointer("/log/entries")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ImportError::new(
                "the file has no log.entries",
                "a HAR file is {\"log\": {\"entries\": [...]}}",
            )
        })?;
    if entries.len() > MAX_ENTRIES {
        return Err(ImportError::new(
            format!(
                "the recording has {} entries, above the limit of {MAX_ENTRIES}",
                entries.len()
            ),
            "record a shorter session",
        ));
    }
    let mut origin = options.origin.clone();
    let mut kept = Vec::new();
    let mut dropped: Vec<String> = Vec::new();
    for (i, raw) in entries.iter().enumerate() {
        let entry = entry(raw, i)?;
        let (entry_origin, _) = entry.0;
        let chosen = origin.get_or_insert_with(|| entry_origin.clone());
        if entry_origin == *chosen {
            kept.push(entry.1);
        } else if !dropped.contains(&entry_origin) {
            dropped.push(entry_origin);
        }
    }
    let origin = origin.ok_or_else(|| {
        ImportError::new(
            "the recording has no entries",
            "record at least one request",
        )
    })?;
    if kept.is_empty() {
        return Err(ImportError::new(
            format!("no request of the recording goes to {origin}"),
            "give an origin the recording has",
        ));
    }
    set_think_times(&mut kept);
    let correlated = correlate(&mut kept);
    unique_names(&mut kept);
    let mut notes = Vec::new();
    if !dropped.is_empty() {
        notes.push(format!(
            "Dropped the requests to other origins: {}.",
            dropped.join(", ")
        ));
    }
    for (name, path, step) in &correlated {
        notes.push(format!(
            "Correlated: {{{{{name}}}}} is captured from step '{step}' ({path})."
        ));
    }
    Ok(Imported {
        base_url: origin,
        flow: options.flow.clone().unwrap_or_else(|| "recorded".into()),
        source: "a HAR recording".into(),
        steps: kept.into_iter().map(|e| e.step).collect(),
        notes,
    })
}

/// One entry: its origin and what the import keeps of it.
fn entry(raw: &Value, index: usize) -> Result<((String, String), Entry), ImportError> {
    let bad = |what: &str| {
        ImportError::new(
            format!("entry {index} has no {what}"),
            "each HAR entry has request.method and request.url",
        )
    };
    let request = raw.get("request").ok_or_else(|| bad("request"))?;
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("request.method"))?;
    let url = request
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("request.url"))?;
    let (origin, path) = split_url(url).ok_or_else(|| bad("http(s) request.url"))?;
    let headers = request
        .get("headers")
        .and_then(Value::as_array)
        .map(|hs| {
            hs.iter()
                .filter_map(|h| {
                    Some((
                        h.get("name")?.as_str()?.to_string(),
                        h.get("value")?.as_str()?.to_string(),
                    ))
                })
                .filter(|(n, _)| !dropped_header(n))
                .collect()
        })
        .unwrap_or_default();
    let body = request
        .pointer("/postData/text")
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|b| !b.is_empty());
    let status = raw
        .pointer("/response/status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..=599).contains(s));
    let response = raw
        .pointer("/response/content/text")
        .and_then(Value::as_str)
        .and_then(|t| serde_json::from_str(t).ok());
    let step = ImportedStep {
        name: format!("{method} {}", path.split('?').next().unwrap_or("/")),
        method: method.to_string(),
        url: path.clone(),
        headers,
        body,
        captures: Vec::new(),
        status,
        think_ms: None,
    };
    let started = raw
        .get("startedDateTime")
        .and_then(Value::as_str)
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok());
    let took_ms = raw
        .get("time")
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
        .max(0.0);
    Ok((
        (origin, path),
        Entry {
            step,
            started,
            took_ms,
            response,
        },
    ))
}

/// The gap from each response's end to the next request's start, in whole milliseconds.
fn set_think_times(entries: &mut [Entry]) {
    for i in 1..entries.len() {
        let (Some(prev), Some(next)) = (entries[i - 1].started, entries[i].started) else {
            continue;
        };
        let Ok(gap) = next.duration_since(prev) else {
            continue;
        };
        let gap_ms = (gap.as_secs_f64() * 1e3 - entries[i - 1].took_ms).max(0.0) as u64;
        entries[i - 1].step.think_ms = Some(gap_ms.min(MAX_THINK_MS));
    }
}

/// A value of a response, where it was, and the variable name it would get.
struct Candidate {
    value: String,
    path: String,
    name: String,
    step: usize,
}

/// Find values of responses that later requests send back; capture them and template their uses.
/// Returns (variable, path, step name) of each correlation.
fn correlate(entries: &mut [Entry]) -> Vec<(String, String, String)> {
    let mut candidates: Vec<Candidate> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if let Some(response) = &entry.response {
            let mut found = Vec::new();
            walk(response, "$".to_string(), "value", &mut found);
            for (path, key, value) in found {
                let sent_before = entries[..=i].iter().any(|e| sends(&e.step, &value));
                if !sent_before && !candidates.iter().any(|c| c.value == value) {
                    candidates.push(Candidate {
                        value,
                        path,
                        name: key,
                        step: i,
                    });
                }
            }
        }
    }
    // Longest first, so a token is never replaced inside a longer one.
    candidates.sort_by_key(|c| std::cmp::Reverse(c.value.len()));
    let mut used: Vec<(usize, String, String)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for c in &candidates {
        let later_uses = entries
            .iter()
            .skip(c.step + 1)
            .filter(|e| sends(&e.step, &c.value))
            .count();
        if later_uses == 0 {
            continue;
        }
        let name = unique(&sanitize(&c.name), &names);
        names.push(name.clone());
        for e in entries.iter_mut().skip(c.step + 1) {
            replace(&mut e.step, &c.value, &format!("{{{{{name}}}}}"));
        }
        entries[c.step]
            .step
            .captures
            .push((name.clone(), format!("json:{}", c.path)));
        used.push((c.step, name, c.path.clone()));
    }
    used.sort();
    used.into_iter()
        .map(|(step, name, path)| (name, path, entries[step].step.name.clone()))
        .collect()
}

/// Strings of 6+ characters and integers of 4+ digits, with their RFC 9535 paths.
fn walk(value: &Value, path: String, key: &str, out: &mut Vec<(String, String, String)>) {
    match value {
        Value::String(s) if s.len() >= 6 && !s.contains(['{', '}']) => {
            out.push((path, key.to_string(), s.clone()))
        }
        Value::Number(n) if n.as_u64().is_some_and(|n| n >= 1000) => {
            out.push((path, key.to_string(), n.to_string()))
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate().take(100) {
                walk(item, format!("{path}[{i}]"), key, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter().take(200) {
                let child = if k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    && !k.is_empty()
                    && !k.as_bytes()[0].is_ascii_digit()
                {
                    format!("{path}.{k}")
                } else {
                    format!("{path}['{}']", k.replace('\\', "\\\\").replace('\'', "\\'"))
                };
                walk(v, child, k, out);
            }
        }
        _ => {}
    }
}

fn sends(step: &ImportedStep, value: &str) -> bool {
    step.url.contains(value)
        || step.headers.iter().any(|(_, v)| v.contains(value))
        || step.body.as_deref().is_some_and(|b| b.contains(value))
}

fn replace(step: &mut ImportedStep, value: &str, with: &str) {
    step.url = step.url.replace(value, with);
    for (_, v) in &mut step.headers {
        *v = v.replace(value, with);
    }
    if let Some(body) = &mut step.body {
        *body = body.replace(value, with);
    }
}

fn sanitize(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "value".into()
    } else {
        clean
    }
}

fn unique(name: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == name) {
        return name.to_string();
    }
    (2..)
        .map(|i| format!("{name}_{i}"))
        .find(|n| !taken.contains(n))
        .unwrap_or_else(|| name.to_string())
}

/// Step names made unique with `#2`, `#3` (metrics are keyed by them).
fn unique_names(entries: &mut [Entry]) {
    let mut seen: Vec<String> = Vec::new();
    for e in entries.iter_mut() {
        let base = e.step.name.clone();
        let mut name = base.clone();
        let mut n = 1;
        while seen.contains(&name) {
            n += 1;
            name = format!("{base} #{n}");
        }
        seen.push(name.clone());
        e.step.name = name;
    }
}
