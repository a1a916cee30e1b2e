//! Per-flow and per-step figures of a flow run, keyed by index (the names live in the
//! [`plumb_flow::FlowPlan`]), so their number is bounded by the file, never by rendered URLs.
//! They ride in each worker's [`crate::Recorder`] and merge with it.

use crate::recorder::ErrorClass;
use plumb_flow::FlowPlan;
use plumb_stats::DurationHistogram;
use std::sync::Arc;
use std::time::Duration;

/// Figures of every flow and step of a plan.
#[derive(Debug, Clone, Default)]
pub struct FlowRecorder {
    /// One per flow of the plan, in order.
    pub flows: Vec<FlowStats>,
    /// The plan the figures are of (their names), shared.
    pub plan: Option<Arc<FlowPlan>>,
}

/// Figures of one flow.
#[derive(Debug, Clone, Default)]
pub struct FlowStats {
    /// Sessions started.
    pub started: u64,
    /// Sessions that ran every step to a response without a transport error or missed capture.
    pub completed: u64,
    /// Sessions ended early: a request failed before its response, or a capture matched nothing.
    pub failed: u64,
    /// From the session's intended start (open model) or its first send to its last response,
    /// think times included, for completed sessions.
    pub duration: DurationHistogram,
    /// One per step, in order.
    pub steps: Vec<StepStats>,
}

/// Figures of one step.
#[derive(Debug, Clone, Default)]
pub struct StepStats {
    /// Latency: the first step's from the session's intended start, others' from their send.
    pub latency: DurationHistogram,
    /// Requests that got a response or failed.
    pub requests: u64,
    /// Requests counted as failed (any class).
    pub errors: u64,
    /// Failed requests by class.
    pub errors_by_class: [u64; ErrorClass::ALL.len()],
    /// Checks (as written in the file) that passed.
    pub checks_passed: u64,
    /// Checks that failed.
    pub checks_failed: u64,
    /// Per capture of the step: responses in which it matched nothing.
    pub capture_misses: Vec<u64>,
}

impl FlowRecorder {
    /// Empty figures shaped like `plan`.
    pub fn for_plan(plan: &Arc<FlowPlan>) -> FlowRecorder {
        FlowRecorder {
            plan: Some(Arc::clone(plan)),
            flows: plan
                .flows
                .iter()
                .map(|flow| FlowStats {
                    steps: flow
                        .steps
                        .iter()
                        .map(|step| StepStats {
                            capture_misses: vec![0; step.captures.len()],
                            ..StepStats::default()
                        })
                        .collect(),
                    ..FlowStats::default()
                })
                .collect(),
        }
    }

    /// Empty figures of the same shape.
    pub fn empty_like(&self) -> FlowRecorder {
        let mut copy = self.clone();
        copy.clear();
        copy
    }

    /// Forget the counts, keeping the shape and the histograms' memory.
    pub fn clear(&mut self) {
        for flow in &mut self.flows {
            flow.started = 0;
            flow.completed = 0;
            flow.failed = 0;
            flow.duration.clear();
            for step in &mut flow.steps {
                step.latency.clear();
                step.requests = 0;
                step.errors = 0;
                step.errors_by_class = [0; ErrorClass::ALL.len()];
                step.checks_passed = 0;
                step.checks_failed = 0;
                step.capture_misses.iter_mut().for_each(|m| *m = 0);
            }
        }
    }

    /// Add everything `other` counted (the same plan's shape).
    pub fn merge(&mut self, other: &FlowRecorder) {
        for (mine, theirs) in self.flows.iter_mut().zip(&other.flows) {
            mine.started += theirs.started;
            mine.completed += theirs.completed;
            mine.failed += theirs.failed;
            mine.duration.merge(&theirs.duration);
            for (a, b) in mine.steps.iter_mut().zip(&theirs.steps) {
                a.latency.merge(&b.latency);
                a.requests += b.requests;
                a.errors += b.errors;
                for (x, y) in a.errors_by_class.iter_mut().zip(b.errors_by_class) {
                    *x += y;
                }
                a.checks_passed += b.checks_passed;
                a.checks_failed += b.checks_failed;
                for (x, y) in a.capture_misses.iter_mut().zip(&b.capture_misses) {
                    *x += y;
                }
            }
        }
    }

    /// Count a step's response or failure.
    pub(crate) fn record_step(
        &mut self,
        flow: usize,
        step: usize,
        latency: Option<Duration>,
        failed: Option<ErrorClass>,
    ) -> Option<&mut StepStats> {
        let stats = self.flows.get_mut(flow)?.steps.get_mut(step)?;
        if let Some(latency) = latency {
            stats.latency.record(latency);
        }
        stats.requests += 1;
        if let Some(class) = failed {
            stats.errors += 1;
            stats.errors_by_class[class.index()] += 1;
        }
        Some(stats)
    }
}

impl StepStats {
    /// Failed requests of one class.
    pub fn errors_of(&self, class: ErrorClass) -> u64 {
        self.errors_by_class[class.index()]
    }
}
