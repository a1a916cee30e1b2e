//! HAR 1.2 (<http://www.softwareishard.com/blog/har-12-spec/>) from a page result: one page per
//! run, every request an entry with its headers, sizes and phases, so DevTools, WebPageTest's
//! viewer or `plumb import har` can read what plumb measured.

use plumb_schema::page::{PageRequest, PageResult, PageRun};
use serde_json::{json, Value};

/// The HAR log of every run of `result`.
pub fn har(result: &PageResult) -> Value {
    let pages: Vec<Value> = result
        .runs
        .iter()
        .enumerate()
        .map(|(i, run)| page(i, run, &result.url))
        .collect();
    let entries: Vec<Value> = result
        .runs
        .iter()
        .enumerate()
        .flat_map(|(i, run)| run.requests.iter().map(move |r| entry(i, run, r)))
        .collect();
    let (name, version) = result
        .browser
        .split_once('/')
        .unwrap_or((result.browser.as_str(), ""));
    json!({
        "log": {
            "version": "1.2",
            "creator": { "name": "plumb", "version": result.plumb_version },
            "browser": { "name": name, "version": version },
            "pages": pages,
            "entries": entries,
        }
    })
}

fn page(index: usize, run: &PageRun, url: &str) -> Value {
    json!({
        "startedDateTime": rfc3339_ms(run.started_unix_ms),
        "id": format!("run_{}", index + 1),
        "title": url,
        "pageTimings": { "onContentLoad": run.dom_content_loaded_ms, "onLoad": run.load_ms },
    })
}

fn entry(index: usize, run: &PageRun, request: &PageRequest) -> Value {
    let headers = |list: &[(String, String)]| -> Vec<Value> {
        list.iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect()
    };
    let version = request.protocol.clone().unwrap_or_default();
    let timings = request.timings.as_ref().map_or_else(
        || json!({ "send": 0, "wait": request.end_ms - request.start_ms, "receive": 0 }),
        |t| {
            json!({
                "blocked": t.blocked, "dns": t.dns, "connect": t.connect, "ssl": t.ssl,
                "send": t.send, "wait": t.wait, "receive": t.receive,
            })
        },
    );
    json!({
        "pageref": format!("run_{}", index + 1),
        "startedDateTime": rfc3339_ms(run.started_unix_ms + request.start_ms),
        "time": request.end_ms - request.start_ms,
        "request": {
            "method": request.method, "url": request.url, "httpVersion": version,
            "cookies": [], "headers": headers(&request.request_headers), "queryString": [],
            "headersSize": -1, "bodySize": -1,
        },
        "response": {
            "status": request.status, "statusText": "", "httpVersion": version,
            "cookies": [], "headers": headers(&request.response_headers),
            "content": {
                "size": request.decoded_bytes,
                "compression": request.decoded_bytes as i64 - request.transfer_bytes as i64,
                "mimeType": request.mime_type.clone().unwrap_or_default(),
            },
            "redirectURL": "", "headersSize": -1, "bodySize": request.transfer_bytes,
            "_transferSize": request.transfer_bytes,
            "_error": request.failed,
        },
        "cache": {},
        "timings": timings,
        "_resourceType": request.resource_type,
        "_renderBlocking": request.render_blocking,
    })
}

/// Milliseconds since the Unix epoch as `2026-12-01T13:24:05.123Z`.
pub fn rfc3339_ms(unix_ms: f64) -> String {
    let total_ms = unix_ms.max(0.0).round() as i64;
    let (days, ms_of_day) = (
        total_ms.div_euclid(86_400_000),
        total_ms.rem_euclid(86_400_000),
    );
    let (year, month, day) = civil_from_days(days);
    let seconds = ms_of_day / 1000;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        ms_of_day % 1000
    )
}

/// Days since 1970-01-01 as (year, month, day) in the proleptic Gregorian calendar (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::rfc3339_ms;

    #[test]
    fn wall_times_are_rfc3339_with_milliseconds() {
        assert_eq!(rfc3339_ms(0.0), "1970-01-01T00:00:00.000Z");
        // 2024-02-29T12:34:56.789Z
        assert_eq!(rfc3339_ms(1_709_210_096_789.0), "2024-02-29T12:34:56.789Z");
    }
}
