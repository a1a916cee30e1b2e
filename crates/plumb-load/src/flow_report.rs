//! The flows' part of a load result: each flow's sessions and each step's figures, named from
//! the plan, and the warnings a reader of a flow run needs (a capture that never matched).

use crate::flow_metrics::{FlowRecorder, StepStats};
use crate::recorder::{ErrorClass, Recorder};
use crate::report::percentiles;
use plumb_flow::FlowPlan;
use plumb_schema::load::{FlowResult, FlowsResult, StepResult};
use plumb_stats::{Aggregation, Metric, StepFigures, Tag};
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
/// name (in every flow), of that flow's steps, or, for `{status:N}`, the count of that status
/// (`plumb_stats::tagged_value` decides, for live runs, windows and saved results alike).
pub(crate) fn tagged_value(
    totals: &Recorder,
    elapsed: Duration,
    metric: Metric,
    aggregation: Aggregation,
    tag: &Tag,
) -> Option<f64> {
    let status_count = |code: u16| {
        totals
            .statuses()
            .find(|(c, _)| *c == code)
            .map_or(0, |(_, n)| n)
    };
    let recorded = totals.flows.as_deref();
    let steps = recorded
        .and_then(|r| Some((r.plan.as_deref()?, r)))
        .into_iter()
        .flat_map(|(plan, recorded)| named_steps(plan, recorded));
    plumb_stats::tagged_value(tag, metric, aggregation, elapsed, steps, status_count)
}

/// Every step's figures with its flow's and its own name.
pub(crate) fn named_steps<'a>(
    plan: &'a FlowPlan,
    recorded: &'a FlowRecorder,
) -> impl Iterator<Item = (&'a str, &'a str, StepFigures<'a>)> {
    plan.flows
        .iter()
        .zip(&recorded.flows)
        .flat_map(|(flow, stats)| {
            flow.steps.iter().zip(&stats.steps).map(|(step, s)| {
                let figures = StepFigures {
                    latency: &s.latency,
                    requests: s.requests,
                    errors: s.errors,
                    checks_passed: s.checks_passed,
                    checks_failed: s.checks_failed,
                };
                (flow.name.as_str(), step.name.as_str(), figures)
            })
        })
}
