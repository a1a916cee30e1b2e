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
    /// Durations in milliseconds; `None` (no data) for a histogram without samples, for every
    /// metric when no request completed, and for counts and rates when no response arrived (a
    /// count of refused requests that happens to pass is not data).
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
        // Requests that all failed before a response still make a failure rate (100%, measured);
        // a count or rate of them passing `http_reqs: count>10` against a dead server is no data.
        if self.latency.is_empty()
            && matches!(
                metric,
                Metric::HttpReqs | Metric::DataReceived | Metric::DataSent
            )
        {
            return None;
        }
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

/// A load run's metrics with the database's per-request figures (`plumb load --db`) beside
/// them: `db_queries_per_request` and `db_time_per_request` (milliseconds) come from here,
/// every other metric from `load`.
pub struct WithDatabase<'a> {
    /// The HTTP engine's figures.
    pub load: &'a dyn MetricSource,
    /// Statements per completed request, when known.
    pub queries_per_request: Option<f64>,
    /// Database milliseconds per completed request, when known.
    pub time_per_request_ms: Option<f64>,
}

impl MetricSource for WithDatabase<'_> {
    fn value(&self, metric: Metric, aggregation: Aggregation) -> Option<f64> {
        match (metric, aggregation) {
            (Metric::DbQueriesPerRequest, Aggregation::Avg) => self.queries_per_request,
            (Metric::DbTimePerRequest, Aggregation::Avg) => self.time_per_request_ms,
            (Metric::DbQueriesPerRequest | Metric::DbTimePerRequest, _) => None,
            _ => self.load.value(metric, aggregation),
        }
    }

    fn tagged_value(
        &self,
        metric: Metric,
        aggregation: Aggregation,
        tag: &crate::Tag,
    ) -> Option<f64> {
        self.load.tagged_value(metric, aggregation, tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_requests_are_a_failure_rate_but_no_count() {
        let empty = DurationHistogram::new();
        let refused = LoadMetrics {
            latency: &empty,
            service: &empty,
            ttfb: &empty,
            connect: &empty,
            requests: 100,
            errors: 100,
            bytes_sent: 0,
            bytes_received: 0,
            elapsed: Duration::from_secs(2),
        };
        assert_eq!(
            refused.value(Metric::HttpReqFailed, Aggregation::Rate),
            Some(1.0)
        );
        assert_eq!(refused.value(Metric::Checks, Aggregation::Rate), Some(0.0));
        for metric in [Metric::HttpReqs, Metric::DataReceived, Metric::DataSent] {
            assert_eq!(refused.value(metric, Aggregation::Rate), None, "{metric:?}");
            assert_eq!(
                refused.value(metric, Aggregation::Count),
                None,
                "{metric:?}"
            );
        }
        assert_eq!(
            refused.value(Metric::HttpReqDuration, Aggregation::Med),
            None
        );
    }
}
