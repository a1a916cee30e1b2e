//! Prometheus remote write (protocol 1.0) of a load test's per-second figures, so load tests
//! appear on a team's dashboards: a `WriteRequest` protobuf, snappy-compressed (the block
//! format the protocol names), POSTed through plumb's HTTP engine. The protobuf is four small
//! messages, so it is encoded here by hand (fields 1 and 2 of each, as `remote.proto` numbers
//! them) rather than through generated code.

use crate::probe::one_request;
use plumb_load::{StopSignal, Unobserved};
use plumb_schema::load::LoadResult;
use std::time::{Duration, UNIX_EPOCH};

/// Seconds of a load sent per request (5 series each: at most 2,500 samples a request).
const SECONDS_PER_REQUEST: usize = 500;

/// One time series: its labels (`__name__` included) and (ms, value) samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Labels, sorted by name as the protocol requires.
    pub labels: Vec<(String, String)>,
    /// (timestamp ms since the epoch, value).
    pub samples: Vec<(i64, f64)>,
}

/// A remote write that failed.
#[derive(Debug, thiserror::Error)]
#[error("remote write to {url}: {why}")]
pub struct RemoteWriteError {
    /// The endpoint.
    pub url: String,
    /// What happened.
    pub why: String,
}

/// The series of a load result: requests, errors, and p50, p99 and max latency per second,
/// labelled `job="plumb-load"`, the target URL, and `run`.
pub fn load_series(result: &LoadResult, run: &str) -> Vec<Series> {
    let start = humantime::parse_rfc3339_weak(&result.started_at)
        .or_else(|_| humantime::parse_rfc3339(&result.started_at))
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .unwrap_or(Duration::ZERO)
        .as_millis() as i64;
    type Pick = fn(&plumb_schema::load::SecondWindow) -> f64;
    let metrics: [(&str, Pick); 5] = [
        ("plumb_load_requests", |w| w.requests as f64),
        ("plumb_load_errors", |w| w.errors as f64),
        ("plumb_load_latency_p50_seconds", |w| {
            w.latency_p50_ms / 1000.0
        }),
        ("plumb_load_latency_p99_seconds", |w| {
            w.latency_p99_ms / 1000.0
        }),
        ("plumb_load_latency_max_seconds", |w| {
            w.latency_max_ms / 1000.0
        }),
    ];
    metrics
        .iter()
        .map(|(name, pick)| {
            let mut labels = vec![
                ("__name__".to_string(), name.to_string()),
                ("job".to_string(), "plumb-load".to_string()),
                ("run".to_string(), run.to_string()),
                ("target".to_string(), result.settings.url.clone()),
            ];
            labels.sort();
            Series {
                labels,
                samples: result
                    .timeseries
                    .iter()
                    // A second's figures are stamped at its end, when they were known.
                    .map(|w| (start + (w.t_s as i64 + 1) * 1000, pick(w)))
                    .collect(),
            }
        })
        .collect()
}

/// The `WriteRequest` protobuf of `series`.
pub fn encode(series: &[Series]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in series {
        let mut ts = Vec::new();
        for (name, value) in &s.labels {
            let mut label = Vec::new();
            field_bytes(&mut label, 1, name.as_bytes());
            field_bytes(&mut label, 2, value.as_bytes());
            field_bytes(&mut ts, 1, &label);
        }
        for (at, value) in &s.samples {
            let mut sample = vec![(1 << 3) | 1];
            sample.extend_from_slice(&value.to_le_bytes());
            sample.push(2 << 3);
            varint(&mut sample, *at as u64);
            field_bytes(&mut ts, 2, &sample);
        }
        field_bytes(&mut out, 1, &ts);
    }
    out
}

fn field_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    // Bounded: at most ten bytes of seven bits.
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Send `series` to a remote-write endpoint, in requests of at most 500 samples per series.
pub fn push(url: &str, series: &[Series]) -> Result<(), RemoteWriteError> {
    let longest = series.iter().map(|s| s.samples.len()).max().unwrap_or(0);
    for from in (0..longest.max(1)).step_by(SECONDS_PER_REQUEST) {
        let chunk: Vec<Series> = series
            .iter()
            .map(|s| Series {
                labels: s.labels.clone(),
                samples: s
                    .samples
                    .iter()
                    .skip(from)
                    .take(SECONDS_PER_REQUEST)
                    .copied()
                    .collect(),
            })
            .filter(|s| !s.samples.is_empty())
            .collect();
        if !chunk.is_empty() {
            post(url, &encode(&chunk))?;
        }
    }
    Ok(())
}

fn post(url: &str, protobuf: &[u8]) -> Result<(), RemoteWriteError> {
    let fail = |why: String| RemoteWriteError {
        url: url.to_string(),
        why,
    };
    let body = snap::raw::Encoder::new()
        .compress_vec(protobuf)
        .map_err(|e| fail(e.to_string()))?;
    let mut settings = one_request(
        url,
        Duration::from_secs(10),
        plumb_load::Checks {
            expect_status: vec![plumb_load::StatusRange { from: 200, to: 299 }],
            expect_body: None,
        },
    );
    settings.method = "POST".to_string();
    settings.headers = vec![
        ("Content-Encoding".to_string(), "snappy".to_string()),
        (
            "Content-Type".to_string(),
            "application/x-protobuf".to_string(),
        ),
        (
            "X-Prometheus-Remote-Write-Version".to_string(),
            "0.1.0".to_string(),
        ),
    ];
    settings.body = body;
    let report = plumb_load::run(&settings, &mut Unobserved, &StopSignal::new())
        .map_err(|e| fail(e.to_string()))?;
    if report.totals.errors > 0 || report.totals.requests == 0 {
        let statuses: Vec<String> = report
            .totals
            .statuses()
            .map(|(c, _)| c.to_string())
            .collect();
        return Err(fail(if statuses.is_empty() {
            "no response".to_string()
        } else {
            format!("answered {}", statuses.join(", "))
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_protobuf_fields_by_hand() {
        let s = Series {
            labels: vec![("__name__".into(), "x".into())],
            samples: vec![(300, 1.0)],
        };
        let bytes = encode(&[s]);
        // timeseries(1) { labels(1) { name(1)="__name__" value(2)="x" } samples(2) { value(1) timestamp(2)=300 } }
        let label = [&[0x0a, 8][..], b"__name__", &[0x12, 1], b"x"].concat();
        let mut sample = vec![0x09];
        sample.extend_from_slice(&1.0f64.to_le_bytes());
        sample.extend_from_slice(&[0x10, 0xac, 0x02]);
        let ts = [
            &[0x0a, label.len() as u8][..],
            &label,
            &[0x12, sample.len() as u8],
            &sample,
        ]
        .concat();
        assert_eq!(bytes, [&[0x0a, ts.len() as u8][..], &ts].concat());
    }
}
