//! Submetrics by tag (`http_req_duration{step:login}`, `{flow:checkout}`, `{status:200}`): which
//! steps a tag selects and what a threshold reads from their merged figures. One owner for the
//! live run (plumb-load's flow recorder), its rolling windows, and a saved result
//! (`plumb gate --threshold`), so they cannot disagree.

use crate::{Aggregation, DurationHistogram, LoadMetrics, Metric, MetricSource, Tag, TagKey};
use std::time::Duration;

impl Tag {
    /// Whether this tag selects the step `step` of the flow `flow` (`{step:NAME}` merges the
    /// steps of that name in every flow; `{status:N}` selects no step).
    pub fn selects(&self, flow: &str, step: &str) -> bool {
        match self.key {
            TagKey::Step => step == self.value,
            TagKey::Flow => flow == self.value,
            TagKey::Status => false,
        }
    }
}

/// The merged figures of the steps a tag selects.
#[derive(Debug, Clone, Default)]
pub struct TaggedFigures {
    /// Step latency.
    pub latency: DurationHistogram,
    /// Requests (answered or failed).
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Checks that passed.
    pub checks_passed: u64,
    /// Checks that failed.
    pub checks_failed: u64,
}

/// One step's figures, borrowed from wherever they live.
#[derive(Debug, Clone, Copy)]
pub struct StepFigures<'a> {
    /// Step latency.
    pub latency: &'a DurationHistogram,
    /// Requests (answered or failed).
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Checks that passed.
    pub checks_passed: u64,
    /// Checks that failed.
    pub checks_failed: u64,
}

impl TaggedFigures {
    /// These figures, borrowed.
    pub fn view(&self) -> StepFigures<'_> {
        StepFigures {
            latency: &self.latency,
            requests: self.requests,
            errors: self.errors,
            checks_passed: self.checks_passed,
            checks_failed: self.checks_failed,
        }
    }

    /// Add one step's figures.
    pub fn add(&mut self, step: StepFigures<'_>) {
        self.latency.merge(step.latency);
        self.requests += step.requests;
        self.errors += step.errors;
        self.checks_passed += step.checks_passed;
        self.checks_failed += step.checks_failed;
    }

    /// The value a threshold on these requests reads over `elapsed`: `http_req_duration`,
    /// `http_req_failed`, `http_reqs` and `checks`; `None` (no data) for no requests, no checks,
    /// or another metric.
    pub fn value(
        &self,
        metric: Metric,
        aggregation: Aggregation,
        elapsed: Duration,
    ) -> Option<f64> {
        if self.requests == 0 {
            return None;
        }
        let checks = self.checks_passed + self.checks_failed;
        match metric {
            Metric::HttpReqDuration => {
                let empty = DurationHistogram::new();
                let metrics = LoadMetrics {
                    latency: &self.latency,
                    service: &empty,
                    ttfb: &empty,
                    connect: &empty,
                    requests: self.requests,
                    errors: self.errors,
                    bytes_sent: 0,
                    bytes_received: 0,
                    elapsed,
                };
                metrics.value(metric, aggregation)
            }
            Metric::HttpReqFailed => Some(self.errors as f64 / self.requests as f64),
            Metric::Checks if checks > 0 => Some(self.checks_passed as f64 / checks as f64),
            Metric::HttpReqs => Some(match aggregation {
                Aggregation::Rate => self.requests as f64 / elapsed.as_secs_f64().max(1e-9),
                _ => self.requests as f64,
            }),
            _ => None,
        }
    }
}

/// `http_reqs{status:N}`: the count of responses of that status, or its rate over `elapsed`;
/// any other metric by status has no data.
pub fn status_value(
    count: u64,
    metric: Metric,
    aggregation: Aggregation,
    elapsed: Duration,
) -> Option<f64> {
    match (metric, aggregation) {
        (Metric::HttpReqs, Aggregation::Count) => Some(count as f64),
        (Metric::HttpReqs, Aggregation::Rate) => {
            Some(count as f64 / elapsed.as_secs_f64().max(1e-9))
        }
        _ => None,
    }
}

/// The value of a submetric over named steps: `steps` yields each step's (flow, step, figures);
/// `status_count` the count of one status code. `None` when the tag selects no step, or its
/// steps sent nothing.
pub fn tagged_value<'a>(
    tag: &Tag,
    metric: Metric,
    aggregation: Aggregation,
    elapsed: Duration,
    steps: impl Iterator<Item = (&'a str, &'a str, StepFigures<'a>)>,
    status_count: impl FnOnce(u16) -> u64,
) -> Option<f64> {
    if tag.key == TagKey::Status {
        let code: u16 = tag.value.parse().ok()?;
        return status_value(status_count(code), metric, aggregation, elapsed);
    }
    let mut merged = TaggedFigures::default();
    for (flow, step, figures) in steps {
        if tag.selects(flow, step) {
            merged.add(figures);
        }
    }
    merged.value(metric, aggregation, elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(ms: &[u64], errors: u64, checks: (u64, u64)) -> TaggedFigures {
        let mut f = TaggedFigures::default();
        for m in ms {
            f.latency.record(Duration::from_millis(*m));
        }
        f.requests = ms.len() as u64;
        f.errors = errors;
        (f.checks_passed, f.checks_failed) = checks;
        f
    }

    #[test]
    fn a_tag_merges_the_steps_it_selects() {
        let login_a = figures(&[10, 20], 1, (2, 0));
        let login_b = figures(&[30], 0, (0, 1));
        let cart = figures(&[500], 0, (0, 0));
        let steps = [
            ("a", "login", &login_a),
            ("b", "login", &login_b),
            ("a", "cart", &cart),
        ];
        let value = |tag: &str, metric, aggregation| {
            let (key, v) = tag.split_once(':').unwrap();
            let key = match key {
                "step" => TagKey::Step,
                "flow" => TagKey::Flow,
                _ => TagKey::Status,
            };
            let tag = Tag {
                key,
                value: v.into(),
            };
            let steps = steps.iter().map(|(f, s, x)| (*f, *s, x.view()));
            tagged_value(
                &tag,
                metric,
                aggregation,
                Duration::from_secs(2),
                steps,
                |c| {
                    if c == 200 {
                        8
                    } else {
                        0
                    }
                },
            )
        };
        assert_eq!(
            value("step:login", Metric::HttpReqs, Aggregation::Count),
            Some(3.0)
        );
        assert_eq!(
            value("step:login", Metric::HttpReqFailed, Aggregation::Rate),
            Some(1.0 / 3.0)
        );
        assert_eq!(
            value("step:login", Metric::Checks, Aggregation::Rate),
            Some(2.0 / 3.0)
        );
        assert_eq!(
            value("flow:a", Metric::HttpReqs, Aggregation::Rate),
            Some(1.5)
        );
        assert_eq!(value("step:cart", Metric::Checks, Aggregation::Rate), None);
        assert_eq!(
            value("step:nope", Metric::HttpReqs, Aggregation::Count),
            None
        );
        assert_eq!(
            value("status:200", Metric::HttpReqs, Aggregation::Rate),
            Some(4.0)
        );
        assert_eq!(
            value("status:200", Metric::HttpReqFailed, Aggregation::Rate),
            None
        );
        let max = value("flow:a", Metric::HttpReqDuration, Aggregation::Max).unwrap();
        assert!((max - 500.0).abs() < 1.0, "{max}");
    }
}
