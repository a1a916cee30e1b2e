//! The values thresholds read from a load run: one owner for live runs (the engine's recorder)
//! and saved ones (a result's decoded histograms), so `plumb load --threshold` and
//! `plumb gate --threshold` can never disagree on what `p(95)` or `rate` means.

use crate::{Aggregation, DurationHistogram, Metric, MetricSource};
use std::time::Duration;

/// What a load run measured, borrowed from wherever it lives.
#[derive(Debug, Clone, Copy)]
pub struct LoadMetrics<'a> {
    /// Latency from the intended send time.
    pub latency: &'a DurationHistogram,
    /// Service time.
    pub service: &'a DurationHistogram,
    /// Time to first byte.
    pub ttfb: &'a DurationHistogram,
    /// Connect time.
    pub connect: &'a DurationHistogram,
    /// Completed requests, failed ones included.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Bytes written.
    pub bytes_sent: u64,
    /// Bytes read.
    pub bytes_received: u64,
    /// How long the load ran.
    pub elapsed: Duration,
}

impl MetricSource for LoadMetrics<'_> {
    /// Durations in milliseconds; `None` (no data) for a histogram without samples, and for
    /// counts and rates when no request completed (a 0 that happens to pass is not data).
    fn value(&self, metric: Metric, aggregation: Aggregation) -> Option<f64> {
        let histogram = match metric {
            Metric::HttpReqDuration => self.latency,
            Metric::HttpReqServiceTime => self.service,
            Metric::HttpReqWaiting => self.ttfb,
            Metric::HttpReqConnecting => self.connect,
            _ => return self.counted(metric, aggregation),
        };
        if histogram.is_empty() {
            return None;
        }
        let value = match aggregation {
            Aggregation::Avg => histogram.mean(),
            Aggregation::Min => histogram.min(),
            Aggregation::Med => histogram.percentile(50.0),
            Aggregation::Max => histogram.max(),
            Aggregation::Percentile(p) => histogram.percentile(p),
            Aggregation::Rate | Aggregation::Count => return None,
        };
        Some(value.as_secs_f64() * 1e3)
    }
}

impl LoadMetrics<'_> {
    fn counted(&self, metric: Metric, aggregation: Aggregation) -> Option<f64> {
        if self.requests == 0 {
            return None;
        }
        let failed = self.errors as f64 / self.requests as f64;
        let count = match metric {
            Metric::HttpReqFailed => return Some(failed),
            Metric::Checks => return Some(1.0 - failed),
            Metric::HttpReqs => self.requests,
            Metric::DataReceived => self.bytes_received,
            Metric::DataSent => self.bytes_sent,
            _ => return None,
        };
        Some(match aggregation {
            Aggregation::Rate => count as f64 / self.elapsed.as_secs_f64().max(1e-9),
            _ => count as f64,
        })
    }
}
