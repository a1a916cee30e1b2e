//! The requests of one load, built from the DevTools `Network.*` events: what was sent, what came
//! back, the bytes on the wire and decoded, and each request's phases (the waterfall and HAR).

use plumb_schema::page::{PageRequest, RequestTimings, TypeWeight};
use serde_json::Value;
use std::collections::HashMap;

/// One request as the events describe it so far.
#[derive(Debug, Clone)]
struct Entry {
    request: PageRequest,
    /// `Network.requestWillBeSent`'s timestamp (monotonic seconds).
    sent_s: f64,
    /// When it finished or failed (monotonic seconds).
    end_s: Option<f64>,
    /// Resource Timing's `requestTime` and offsets, in the event's shape.
    timing: Option<Value>,
}

/// The requests of a load, in the order sent.
#[derive(Debug, Default)]
pub struct Network {
    entries: Vec<Entry>,
    /// DevTools' requestId → index of its latest entry (a redirect adds an entry).
    by_id: HashMap<String, usize>,
    /// The document request's timestamp: the waterfall's zero.
    zero_s: Option<f64>,
    /// Monotonic seconds of the last request started or finished.
    pub last_change_s: f64,
    /// The document request's wall time, in ms since the Unix epoch.
    pub started_unix_ms: f64,
}

impl Network {
    /// Take in one event; others than `Network.*` are ignored.
    pub fn on_event(&mut self, method: &str, params: &Value) {
        let id = params["requestId"].as_str().unwrap_or_default().to_owned();
        let at = params["timestamp"].as_f64();
        if let Some(at) = at {
            if method != "Network.dataReceived" {
                self.last_change_s = self.last_change_s.max(at);
            }
        }
        match method {
            "Network.requestWillBeSent" => self.sent(id, params),
            "Network.responseReceived" => self.responded(&id, params),
            "Network.dataReceived" => {
                if let Some(entry) = self.entry(&id) {
                    entry.request.decoded_bytes += params["dataLength"].as_u64().unwrap_or(0);
                }
            }
            "Network.loadingFinished" => self.finished(&id, params, None),
            "Network.loadingFailed" => {
                let reason = params["errorText"].as_str().unwrap_or("failed").to_owned();
                self.finished(&id, params, Some(reason));
            }
            _ => {}
        }
    }

    fn entry(&mut self, id: &str) -> Option<&mut Entry> {
        let index = *self.by_id.get(id)?;
        self.entries.get_mut(index)
    }

    fn sent(&mut self, id: String, params: &Value) {
        if let Some(redirect) = params.get("redirectResponse") {
            // The request that was redirected ends here, with the redirect's response.
            let end = params["timestamp"].as_f64().unwrap_or(0.0);
            if let Some(entry) = self.entry(&id) {
                apply_response(entry, redirect);
                entry.end_s = Some(end);
            }
        }
        let sent_s = params["timestamp"].as_f64().unwrap_or(0.0);
        let request = &params["request"];
        let resource_type = params["type"].as_str().unwrap_or("Other");
        if self.zero_s.is_none() && resource_type == "Document" {
            self.zero_s = Some(sent_s);
            self.started_unix_ms = params["wallTime"].as_f64().unwrap_or(0.0) * 1e3;
        }
        let entry = Entry {
            request: PageRequest {
                url: request["url"].as_str().unwrap_or_default().to_owned(),
                method: request["method"].as_str().unwrap_or("GET").to_owned(),
                resource_type: type_name(resource_type).to_owned(),
                request_headers: headers(&request["headers"]),
                ..empty_request()
            },
            sent_s,
            end_s: None,
            timing: None,
        };
        self.by_id.insert(id, self.entries.len());
        self.entries.push(entry);
    }

    fn responded(&mut self, id: &str, params: &Value) {
        let resource_type = params["type"].as_str().map(type_name);
        if let Some(entry) = self.entry(id) {
            apply_response(entry, &params["response"]);
            if let Some(kind) = resource_type {
                entry.request.resource_type = kind.to_owned();
            }
        }
    }

    fn finished(&mut self, id: &str, params: &Value, failed: Option<String>) {
        if let Some(entry) = self.entry(id) {
            entry.end_s = Some(params["timestamp"].as_f64().unwrap_or(entry.sent_s));
            if let Some(bytes) = params["encodedDataLength"].as_f64() {
                entry.request.transfer_bytes = bytes.max(0.0) as u64;
            }
            entry.request.failed = failed;
        }
    }

    /// DevTools' id of the latest request for each URL, to ask for its body.
    pub fn id_of(&self, url: &str) -> Option<&str> {
        self.by_id
            .iter()
            .filter(|(_, &index)| self.entries[index].request.url == url)
            .max_by_key(|(_, &index)| index)
            .map(|(id, _)| id.as_str())
    }

    /// Requests sent and not yet finished.
    pub fn in_flight(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.end_s.is_none())
            .map(|e| e.request.url.as_str())
            .collect()
    }

    /// The requests, in the order sent, with times from the document's request in ms;
    /// `render_blocking` marks the URLs Resource Timing called blocking.
    pub fn requests(&self, render_blocking: &[String]) -> Vec<PageRequest> {
        let zero = self.zero_s.unwrap_or(0.0);
        self.entries
            .iter()
            .map(|entry| {
                let mut request = entry.request.clone();
                let end_s = entry.end_s.unwrap_or(self.last_change_s);
                request.start_ms = (entry.sent_s - zero) * 1e3;
                request.end_ms = ((end_s - zero) * 1e3).max(request.start_ms);
                if let Some(timing) = &entry.timing {
                    let phases = phases(timing, entry.sent_s, end_s);
                    request.response_ms = timing["requestTime"].as_f64().map(|t| {
                        (t - zero) * 1e3 + timing["receiveHeadersEnd"].as_f64().unwrap_or(0.0)
                    });
                    request.timings = Some(phases);
                }
                request.render_blocking = render_blocking.contains(&request.url);
                request
            })
            .collect()
    }
}

fn apply_response(entry: &mut Entry, response: &Value) {
    let request = &mut entry.request;
    request.status = response["status"].as_u64().unwrap_or(0).min(999) as u16;
    request.protocol = response["protocol"].as_str().map(str::to_owned);
    request.mime_type = response["mimeType"].as_str().map(str::to_owned);
    request.response_headers = headers(&response["headers"]);
    request.content_encoding = header(&request.response_headers, "content-encoding");
    request.cache_control = header(&request.response_headers, "cache-control");
    entry.timing = response.get("timing").cloned();
}

/// HAR's phases from Resource Timing (offsets in ms from `requestTime`, -1 when absent).
fn phases(timing: &Value, sent_s: f64, end_s: f64) -> RequestTimings {
    let at = |name: &str| timing[name].as_f64().unwrap_or(-1.0);
    let span = |start: &str, end: &str| {
        if at(start) >= 0.0 && at(end) >= 0.0 {
            at(end) - at(start)
        } else {
            -1.0
        }
    };
    let request_time = timing["requestTime"].as_f64().unwrap_or(sent_s);
    let first = [at("dnsStart"), at("connectStart"), at("sendStart")]
        .into_iter()
        .find(|v| *v >= 0.0)
        .unwrap_or(0.0);
    let headers_end = at("receiveHeadersEnd").max(0.0);
    RequestTimings {
        blocked: ((request_time - sent_s) * 1e3 + first).max(0.0),
        dns: span("dnsStart", "dnsEnd"),
        connect: span("connectStart", "connectEnd"),
        ssl: span("sslStart", "sslEnd"),
        send: span("sendStart", "sendEnd").max(0.0),
        wait: (headers_end - at("sendEnd").max(0.0)).max(0.0),
        receive: ((end_s - request_time) * 1e3 - headers_end).max(0.0),
    }
}

fn headers(value: &Value) -> Vec<(String, String)> {
    let Some(map) = value.as_object() else {
        return Vec::new();
    };
    map.iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_owned()))
        .collect()
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// DevTools' resource type as results name it.
fn type_name(devtools: &str) -> &'static str {
    match devtools {
        "Document" => "document",
        "Stylesheet" => "stylesheet",
        "Image" => "image",
        "Media" => "media",
        "Font" => "font",
        "Script" => "script",
        "XHR" => "xhr",
        "Fetch" => "fetch",
        _ => "other",
    }
}

fn empty_request() -> PageRequest {
    PageRequest {
        url: String::new(),
        method: String::new(),
        resource_type: String::new(),
        status: 0,
        protocol: None,
        mime_type: None,
        start_ms: 0.0,
        response_ms: None,
        end_ms: 0.0,
        transfer_bytes: 0,
        decoded_bytes: 0,
        content_encoding: None,
        cache_control: None,
        render_blocking: false,
        failed: None,
        timings: None,
        request_headers: Vec::new(),
        response_headers: Vec::new(),
    }
}

/// Bytes and requests by resource type, heaviest first.
pub fn by_type(requests: &[PageRequest]) -> Vec<TypeWeight> {
    let mut types: Vec<TypeWeight> = Vec::new();
    for request in requests {
        let index = match types
            .iter()
            .position(|t| t.resource_type == request.resource_type)
        {
            Some(i) => i,
            None => {
                types.push(TypeWeight {
                    resource_type: request.resource_type.clone(),
                    requests: 0,
                    transfer_bytes: 0,
                    decoded_bytes: 0,
                });
                types.len() - 1
            }
        };
        let weight = &mut types[index];
        weight.requests += 1;
        weight.transfer_bytes += request.transfer_bytes;
        weight.decoded_bytes += request.decoded_bytes;
    }
    types.sort_by_key(|t| std::cmp::Reverse(t.transfer_bytes));
    types
}
