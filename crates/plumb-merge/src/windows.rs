//! The per-second series of the merged test: segments' windows aligned by `t_s` (every segment
//! counts seconds from the agreed `start_at`), counts added, and each second's percentiles read
//! from its merged latency and service-time histograms.

use crate::summary::ms;
use crate::{hist, MergeError, Part};
use plumb_schema::load::SecondWindow;
use plumb_stats::DurationHistogram;
use std::collections::BTreeMap;

/// One second being merged.
#[derive(Default)]
struct Second {
    requests: u64,
    errors: u64,
    bytes_received: u64,
    latency: DurationHistogram,
    service: DurationHistogram,
}

/// Every second of any segment, in order.
pub fn merge(parts: &[Part]) -> Result<Vec<SecondWindow>, MergeError> {
    let mut seconds: BTreeMap<u64, Second> = BTreeMap::new();
    for part in parts {
        for w in &part.result.timeseries {
            add(seconds.entry(w.t_s).or_default(), &part.name, w)?;
        }
    }
    Ok(seconds
        .into_iter()
        .map(|(t_s, s)| window(t_s, &s))
        .collect())
}

/// A segment's window into the second. A window without a histogram completed nothing that
/// the histogram records (a segment run writes both whenever they have samples).
fn add(second: &mut Second, name: &str, w: &SecondWindow) -> Result<(), MergeError> {
    second.requests += w.requests;
    second.errors += w.errors;
    second.bytes_received += w.bytes_received;
    if let Some(text) = &w.latency_histogram {
        let what = format!("second {} latency", w.t_s);
        second.latency.merge(&hist::decode(name, &what, text)?);
    }
    if let Some(text) = &w.service_histogram {
        let what = format!("second {} service time", w.t_s);
        second.service.merge(&hist::decode(name, &what, text)?);
    }
    Ok(())
}

/// The merged second, as one process would have written it.
fn window(t_s: u64, s: &Second) -> SecondWindow {
    SecondWindow {
        t_s,
        requests: s.requests,
        errors: s.errors,
        latency_p50_ms: ms(s.latency.percentile(50.0)),
        latency_p99_ms: ms(s.latency.percentile(99.0)),
        latency_max_ms: ms(s.latency.max()),
        service_p50_ms: ms(s.service.percentile(50.0)),
        bytes_received: s.bytes_received,
        latency_histogram: (!s.latency.is_empty()).then(|| s.latency.to_base64()),
        service_histogram: None,
    }
}
