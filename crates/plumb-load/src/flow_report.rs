//! The flows' part of a load result: each flow's sessions and each step's figures, named from
//! the plan, and the warnings a reader of a flow run needs (a capture that never matched).

use crate::flow_metrics::StepStats;
use crate::recorder::{ErrorClass, Recorder};
use crate::report::percentiles;
use plumb_flow::FlowPlan;
use plumb_schema::load::{FlowResult, FlowsResult, StepResult};
use plumb_stats::{Aggregation, Metric, MetricSource, Tag, TagKey};
use std::time::Duration;

/// The flows' figures of a run, when it ran flows.
pub(crate) fn result(totals: &Recorder, plan: Option<&FlowPlan>) -> Option<FlowsResult> {
    let plan = plan?;
    let recorded = totals.flows.as_deref();
    let flows = plan
        .flows
        .iter()
        .enumerate()
        .map(|(i, flow)| {
            let stats = recorded
                .and_then(|r| r.flows.get(i))
                .cloned()
                .unwrap_or_default();
            FlowResult {
                name: flow.name.clone(),
                weight: flow.weight,
                sessions_started: stats.started,
                sessions_completed: stats.completed,
                sessions_failed: stats.failed,
                completion_rate: ratio(stats.completed, stats.started),
                session_duration_ms: percentiles(&stats.duration),
                session_duration_histogram: stats.duration.to_base64(),
                steps: flow
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(j, step)| {
                        step_result(step, &stats.steps.get(j).cloned().unwrap_or_default())
                    })
                    .collect(),
            }
        })
        .collect();
    Some(FlowsResult {
        file: plan.path.display().to_string(),
        flows,
    })
}

fn step_result(step: &plumb_flow::Step, s: &StepStats) -> StepResult {
    StepResult {
        name: step.name.clone(),
        line: step.line as u64,
        requests: s.requests,
        errors: s.errors,
        errors_by_class: ErrorClass::ALL
            .iter()
            .filter(|c| s.errors_of(**c) > 0)
            .map(|c| (c.name().to_string(), s.errors_of(*c)))
            .collect(),
        checks_passed: s.checks_passed,
        checks_failed: s.checks_failed,
        latency_ms: percentiles(&s.latency),
        latency_histogram: s.latency.to_base64(),
        captures_missed: step
            .captures
            .iter()
            .zip(&s.capture_misses)
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| (c.name.clone(), *n))
            .collect(),
    }
}

/// Captures that matched nothing in every response of their step: almost always a wrong path,
/// regex or name, so the file and line are named.
pub(crate) fn warnings(totals: &Recorder, plan: Option<&FlowPlan>) -> Vec<String> {
    let (Some(plan), Some(recorded)) = (plan, totals.flows.as_deref()) else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    for (flow, stats) in plan.flows.iter().zip(&recorded.flows) {
        for (step, s) in flow.steps.iter().zip(&stats.steps) {
            let answered = s.requests - transport_errors(s);
            for (capture, misses) in step.captures.iter().zip(&s.capture_misses) {
                if answered > 0 && *misses == answered {
                    warnings.push(format!(
                        "{}:{}: capture '{}' ({}) of step '{}' matched nothing in any of its {} responses; its sessions ended there (check it with --dry-run)",
                        plan.path.display(), capture.line, capture.name, capture.source_text, step.name, answered
                    ));
                }
            }
        }
    }
    warnings
}

/// Requests of a step that got no response at all.
fn transport_errors(s: &StepStats) -> u64 {
    ErrorClass::ALL
        .iter()
        .filter(|c| {
            !matches!(
                c,
                ErrorClass::Status | ErrorClass::Body | ErrorClass::Check | ErrorClass::Capture
            )
        })
        .map(|c| s.errors_of(*c))
        .sum()
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// A submetric's value (`http_req_duration{step:login}`): from the figures of the steps of that
/// name (in every flow), of that flow's steps, or, for `{status:N}`, the count of that status.
pub(crate) fn tagged_value(
    totals: &Recorder,
    elapsed: Duration,
    metric: Metric,
    aggregation: Aggregation,
    tag: &Tag,
) -> Option<f64> {
    if tag.key == TagKey::Status {
        let code: u16 = tag.value.parse().ok()?;
        let count = totals
            .statuses()
            .find(|(c, _)| *c == code)
            .map_or(0, |(_, n)| n);
        return match (metric, aggregation) {
            (Metric::HttpReqs, Aggregation::Count) => Some(count as f64),
            (Metric::HttpReqs, Aggregation::Rate) => {
                Some(count as f64 / elapsed.as_secs_f64().max(1e-9))
            }
            _ => None,
        };
    }
    let recorded = totals.flows.as_deref()?;
    let plan = recorded.plan.as_deref()?;
    let mut merged = StepStats::default();
    let mut found = false;
    for (flow, stats) in plan.flows.iter().zip(&recorded.flows) {
        for (step, s) in flow.steps.iter().zip(&stats.steps) {
            let selected = match tag.key {
                TagKey::Step => step.name == tag.value,
                TagKey::Flow => flow.name == tag.value,
                TagKey::Status => false,
            };
            if selected {
                found = true;
                merged.latency.merge(&s.latency);
                merged.requests += s.requests;
                merged.errors += s.errors;
                merged.checks_passed += s.checks_passed;
                merged.checks_failed += s.checks_failed;
            }
        }
    }
    if !found || merged.requests == 0 {
        return None;
    }
    let checks = merged.checks_passed + merged.checks_failed;
    match metric {
        Metric::HttpReqDuration => {
            let empty = plumb_stats::DurationHistogram::new();
            let metrics = plumb_stats::LoadMetrics {
                latency: &merged.latency,
                service: &empty,
                ttfb: &empty,
                connect: &empty,
                requests: merged.requests,
                errors: merged.errors,
                bytes_sent: 0,
                bytes_received: 0,
                elapsed,
            };
            metrics.value(metric, aggregation)
        }
        Metric::HttpReqFailed => Some(ratio(merged.errors, merged.requests)),
        Metric::Checks if checks > 0 => Some(ratio(merged.checks_passed, checks)),
        Metric::HttpReqs => Some(match aggregation {
            Aggregation::Rate => merged.requests as f64 / elapsed.as_secs_f64().max(1e-9),
            _ => merged.requests as f64,
        }),
        _ => None,
    }
}
