//! The whole-run figures of the merged test: histograms added bucket by bucket, counters summed,
//! percentiles read again from the merged histograms, the rate over the longest segment.

use crate::{hist, Part};
use plumb_schema::load::{ErrorDetail, GeneratorUsage, LoadHistograms, LoadSummary, Percentiles};
use plumb_stats::DurationHistogram;
use std::collections::BTreeMap;
use std::time::Duration;

/// The merged whole-run histograms, decoded.
pub struct Histograms {
    /// Latency from the intended send.
    pub latency: DurationHistogram,
    /// Service time.
    pub service: DurationHistogram,
    /// Connect time.
    pub connect: DurationHistogram,
    /// Time to first byte.
    pub ttfb: DurationHistogram,
    /// Send lag.
    pub send_lag: DurationHistogram,
}

impl Histograms {
    /// Every part's histograms added.
    pub fn of(parts: &[Part]) -> Result<Histograms, crate::MergeError> {
        Ok(Histograms {
            latency: hist::sum(parts, "latency", |r| &r.histograms.latency)?,
            service: hist::sum(parts, "service time", |r| &r.histograms.service_time)?,
            connect: hist::sum(parts, "connect", |r| &r.histograms.connect)?,
            ttfb: hist::sum(parts, "ttfb", |r| &r.histograms.ttfb)?,
            send_lag: hist::sum(parts, "send lag", |r| &r.histograms.send_lag)?,
        })
    }

    /// Encoded for the result.
    pub fn encoded(&self) -> LoadHistograms {
        LoadHistograms {
            latency: self.latency.to_base64(),
            service_time: self.service.to_base64(),
            connect: self.connect.to_base64(),
            ttfb: self.ttfb.to_base64(),
            send_lag: self.send_lag.to_base64(),
        }
    }
}

/// The merged summary.
pub fn summary(parts: &[Part], h: &Histograms) -> LoadSummary {
    let sum = |f: fn(&LoadSummary) -> u64| parts.iter().map(|p| f(&p.result.summary)).sum();
    let requests: u64 = sum(|s| s.requests);
    let errors: u64 = sum(|s| s.errors);
    let duration_s = parts
        .iter()
        .map(|p| p.result.summary.duration_s)
        .fold(0.0, f64::max);
    LoadSummary {
        requests,
        rps: if duration_s > 0.0 {
            requests as f64 / duration_s
        } else {
            0.0
        },
        errors,
        error_rate: ratio(errors, requests),
        duration_s,
        requested_rps: requested_rps(parts),
        latency_ms: percentiles(&h.latency),
        service_time_ms: percentiles(&h.service),
        connect_ms: percentiles(&h.connect),
        ttfb_ms: percentiles(&h.ttfb),
        send_lag_ms: (!h.send_lag.is_empty()).then(|| percentiles(&h.send_lag)),
        missed_sends: sum(|s| s.missed_sends),
        in_flight_at_end: sum(|s| s.in_flight_at_end),
        connections_opened: sum(|s| s.connections_opened),
        status_codes: counts(parts, |s| &s.status_codes),
        errors_by_class: counts(parts, |s| &s.errors_by_class),
        error_details: error_details(parts),
        retries: sum(|s| s.retries),
        bytes_sent: sum(|s| s.bytes_sent),
        bytes_received: sum(|s| s.bytes_received),
        generator: generator(parts),
    }
}

/// Each segment's share of the rate, added; none when no segment had one (stages, closed model).
fn requested_rps(parts: &[Part]) -> Option<f64> {
    let rates: Vec<f64> = parts
        .iter()
        .filter_map(|p| p.result.summary.requested_rps)
        .collect();
    (!rates.is_empty()).then(|| rates.iter().sum())
}

/// Maps of counts added key by key.
fn counts(
    parts: &[Part],
    map: fn(&LoadSummary) -> &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    let mut total = BTreeMap::new();
    for part in parts {
        for (key, n) in map(&part.result.summary) {
            *total.entry(key.clone()).or_insert(0) += n;
        }
    }
    total
}

/// Reasons of failure added by (class, reason), most frequent first as the engine orders them.
fn error_details(parts: &[Part]) -> Vec<ErrorDetail> {
    let mut total: BTreeMap<(String, String), u64> = BTreeMap::new();
    for d in parts.iter().flat_map(|p| &p.result.summary.error_details) {
        *total
            .entry((d.class.clone(), d.detail.clone()))
            .or_insert(0) += d.count;
    }
    let mut details: Vec<ErrorDetail> = total
        .into_iter()
        .map(|((class, detail), count)| ErrorDetail {
            class,
            detail,
            count,
        })
        .collect();
    details.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.detail.cmp(&b.detail)));
    details
}

/// The generators' CPU added; the busiest thread is the busiest of any segment.
fn generator(parts: &[Part]) -> GeneratorUsage {
    let g = parts.iter().map(|p| &p.result.summary.generator);
    GeneratorUsage {
        user_s: g.clone().map(|g| g.user_s).sum(),
        system_s: g.clone().map(|g| g.system_s).sum(),
        busiest_thread_load: g.clone().map(|g| g.busiest_thread_load).fold(0.0, f64::max),
        saturated: g.clone().any(|g| g.saturated),
    }
}

/// A histogram summarized in milliseconds, exactly as `plumb load` summarizes its own.
pub fn percentiles(h: &DurationHistogram) -> Percentiles {
    Percentiles::of(h)
}

/// Milliseconds, fractional.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `part / whole`, zero when there is no whole.
pub fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
