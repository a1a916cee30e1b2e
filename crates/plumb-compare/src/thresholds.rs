//! Thresholds checked after the fact against a saved load result (`plumb gate --threshold`):
//! its histograms decoded once and read through `plumb_stats::LoadMetrics`, the same reading a
//! live run gets, without the HTTP engine. Tagged submetrics (`{step:}`, `{flow:}`, `{status:}`)
//! read the result's per-step histograms and status counts through `plumb_stats::tagged_value`,
//! as the live run does.

use plumb_schema::load::LoadResult;
use plumb_stats::{
    Aggregation, DurationHistogram, HistogramDecodeError, LoadMetrics, Metric, MetricSource, Tag,
    TaggedFigures, Threshold, WithDatabase,
};
use std::collections::BTreeMap;
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
    /// Each flow step's figures, with its flow's and its own name.
    steps: Vec<(String, String, TaggedFigures)>,
    /// Responses by status code.
    statuses: BTreeMap<u16, u64>,
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
            steps: saved_steps(result)?,
            statuses: s
                .status_codes
                .iter()
                .filter_map(|(code, n)| Some((code.parse().ok()?, *n)))
                .collect(),
        })
    }

    /// A submetric's value, read as the live run reads it.
    fn tagged(&self, metric: Metric, aggregation: Aggregation, tag: &Tag) -> Option<f64> {
        let steps = self
            .steps
            .iter()
            .map(|(flow, step, figures)| (flow.as_str(), step.as_str(), figures.view()));
        let status = |code: u16| self.statuses.get(&code).copied().unwrap_or(0);
        plumb_stats::tagged_value(tag, metric, aggregation, self.elapsed, steps, status)
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

/// The flow steps of a saved result, their latency histograms decoded.
fn saved_steps(
    result: &LoadResult,
) -> Result<Vec<(String, String, TaggedFigures)>, HistogramDecodeError> {
    let Some(flows) = &result.flows else {
        return Ok(Vec::new());
    };
    let mut steps = Vec::new();
    for flow in &flows.flows {
        for step in &flow.steps {
            let figures = TaggedFigures {
                latency: decode_or_empty(&step.latency_histogram)?,
                requests: step.requests,
                errors: step.errors,
                checks_passed: step.checks_passed,
                checks_failed: step.checks_failed,
            };
            steps.push((flow.name.clone(), step.name.clone(), figures));
        }
    }
    Ok(steps)
}

/// A histogram of a result; an empty string is an empty histogram (a step that never answered).
fn decode_or_empty(text: &str) -> Result<DurationHistogram, HistogramDecodeError> {
    if text.is_empty() {
        Ok(DurationHistogram::new())
    } else {
        DurationHistogram::from_base64(text)
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

/// A saved run as thresholds read it: whole-run figures (with the database's) and submetrics.
struct SavedSource<'a> {
    whole: WithDatabase<'a>,
    saved: &'a SavedLoadMetrics,
}

impl MetricSource for SavedSource<'_> {
    fn value(&self, metric: Metric, aggregation: Aggregation) -> Option<f64> {
        self.whole.value(metric, aggregation)
    }

    fn tagged_value(&self, metric: Metric, aggregation: Aggregation, tag: &Tag) -> Option<f64> {
        self.saved.tagged(metric, aggregation, tag)
    }
}

impl SavedSource<'_> {
    /// The value `threshold` reads, by its tag when it has one.
    fn read(&self, threshold: &Threshold) -> Option<f64> {
        match &threshold.tag {
            Some(tag) => self.tagged_value(threshold.metric, threshold.aggregation, tag),
            None => self.value(threshold.metric, threshold.aggregation),
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
    let cand = SavedSource {
        whole: candidate.with_database(&cand_http),
        saved: candidate,
    };
    let base = baseline.zip(base_http.as_ref()).map(|(b, m)| SavedSource {
        whole: b.with_database(m),
        saved: b,
    });
    thresholds
        .iter()
        .map(|t| {
            let evaluation = t.evaluate(&cand);
            SavedThreshold {
                expression: t.source.clone(),
                status: evaluation.status,
                observed: evaluation.observed,
                baseline: base.as_ref().and_then(|b| b.read(t)),
            }
        })
        .collect()
}
