//! Thresholds checked after the fact against a saved load result (`plumb gate --threshold`):
//! its histograms decoded once and read through `plumb_stats::LoadMetrics`, the same reading a
//! live run gets, without the HTTP engine.

use plumb_schema::load::LoadResult;
use plumb_stats::{
    DurationHistogram, HistogramDecodeError, LoadMetrics, MetricSource, Threshold, WithDatabase,
};
use std::time::Duration;

/// A saved load result's figures, decoded.
pub struct SavedLoadMetrics {
    latency: DurationHistogram,
    service: DurationHistogram,
    ttfb: DurationHistogram,
    connect: DurationHistogram,
    requests: u64,
    errors: u64,
    bytes_sent: u64,
    bytes_received: u64,
    elapsed: Duration,
    db_queries_per_request: Option<f64>,
    db_time_per_request_ms: Option<f64>,
}

impl SavedLoadMetrics {
    /// Decode the result's histograms once.
    pub fn from_result(result: &LoadResult) -> Result<SavedLoadMetrics, HistogramDecodeError> {
        let h = &result.histograms;
        let s = &result.summary;
        Ok(SavedLoadMetrics {
            latency: DurationHistogram::from_base64(&h.latency)?,
            service: DurationHistogram::from_base64(&h.service_time)?,
            ttfb: DurationHistogram::from_base64(&h.ttfb)?,
            connect: DurationHistogram::from_base64(&h.connect)?,
            requests: s.requests,
            errors: s.errors,
            bytes_sent: s.bytes_sent,
            bytes_received: s.bytes_received,
            elapsed: Duration::from_secs_f64(s.duration_s.max(1e-9)),
            db_queries_per_request: result.db.as_ref().and_then(|d| d.queries_per_request),
            db_time_per_request_ms: result.db.as_ref().and_then(|d| d.db_time_per_request_ms),
        })
    }

    /// The figures as thresholds read them.
    pub fn metrics(&self) -> LoadMetrics<'_> {
        LoadMetrics {
            latency: &self.latency,
            service: &self.service,
            ttfb: &self.ttfb,
            connect: &self.connect,
            requests: self.requests,
            errors: self.errors,
            bytes_sent: self.bytes_sent,
            bytes_received: self.bytes_received,
            elapsed: self.elapsed,
        }
    }
}

impl SavedLoadMetrics {
    /// The HTTP figures with the database's per-request figures beside them (`--db`).
    fn with_database<'a>(&self, http: &'a LoadMetrics<'a>) -> WithDatabase<'a> {
        WithDatabase {
            load: http,
            queries_per_request: self.db_queries_per_request,
            time_per_request_ms: self.db_time_per_request_ms,
        }
    }
}

/// One threshold checked against a saved run (and, for reference, the baseline's value).
#[derive(Debug, Clone, PartialEq)]
pub struct SavedThreshold {
    /// The threshold as the user wrote it.
    pub expression: String,
    /// Passed, failed or no data.
    pub status: plumb_stats::ThresholdStatus,
    /// The candidate's value, when it has one.
    pub observed: Option<f64>,
    /// The baseline's value of the same metric, when it has one.
    pub baseline: Option<f64>,
}

/// Check `thresholds` against the candidate, with the baseline's values beside them.
pub fn check_saved(
    thresholds: &[Threshold],
    candidate: &SavedLoadMetrics,
    baseline: Option<&SavedLoadMetrics>,
) -> Vec<SavedThreshold> {
    let (cand_http, base_http) = (candidate.metrics(), baseline.map(SavedLoadMetrics::metrics));
    let cand = candidate.with_database(&cand_http);
    let base = baseline
        .zip(base_http.as_ref())
        .map(|(b, m)| b.with_database(m));
    thresholds
        .iter()
        .map(|t| {
            let evaluation = t.evaluate(&cand);
            SavedThreshold {
                expression: t.source.clone(),
                status: evaluation.status,
                observed: evaluation.observed,
                baseline: base.as_ref().and_then(|b| b.value(t.metric, t.aggregation)),
            }
        })
        .collect()
}
