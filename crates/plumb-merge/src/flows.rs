//! The flows of a merged run of flows (`plumb load -f`): per flow its sessions added and its
//! session durations merged, per step its counts added and its latency histogram merged. The
//! segments' flows have the same shape ([`crate::check`] refused others).

use crate::summary::{percentiles, ratio};
use crate::{hist, MergeError, Part};
use plumb_schema::load::{FlowResult, FlowsResult, StepResult};
use std::collections::BTreeMap;

/// The merged flows, or none when the test ran a single URL.
pub fn merge(parts: &[Part]) -> Result<Option<FlowsResult>, MergeError> {
    let Some(first) = parts[0].result.flows.as_ref() else {
        return Ok(None);
    };
    let mut flows = Vec::with_capacity(first.flows.len());
    for (i, flow) in first.flows.iter().enumerate() {
        flows.push(merge_flow(parts, i, flow)?);
    }
    Ok(Some(FlowsResult {
        file: first.file.clone(),
        flows,
    }))
}

/// Flow number `i` of every part (each has it: the shapes were checked).
fn each_flow(parts: &[Part], i: usize) -> impl Iterator<Item = (&str, &FlowResult)> {
    parts.iter().filter_map(move |p| {
        let flow = p.result.flows.as_ref()?.flows.get(i)?;
        Some((p.name.as_str(), flow))
    })
}

fn merge_flow(parts: &[Part], i: usize, first: &FlowResult) -> Result<FlowResult, MergeError> {
    let mut merged = FlowResult {
        name: first.name.clone(),
        weight: first.weight,
        ..FlowResult::default()
    };
    let mut durations = plumb_stats::DurationHistogram::new();
    for (name, flow) in each_flow(parts, i) {
        merged.sessions_started += flow.sessions_started;
        merged.sessions_completed += flow.sessions_completed;
        merged.sessions_failed += flow.sessions_failed;
        let what = format!("flow {} session duration", flow.name);
        durations.merge(&hist::decode(
            name,
            &what,
            &flow.session_duration_histogram,
        )?);
    }
    merged.completion_rate = ratio(merged.sessions_completed, merged.sessions_started);
    merged.session_duration_ms = percentiles(&durations);
    merged.session_duration_histogram = durations.to_base64();
    for (s, step) in first.steps.iter().enumerate() {
        merged.steps.push(merge_step(parts, i, s, step)?);
    }
    Ok(merged)
}

fn merge_step(
    parts: &[Part],
    i: usize,
    s: usize,
    first: &StepResult,
) -> Result<StepResult, MergeError> {
    let mut merged = StepResult {
        name: first.name.clone(),
        line: first.line,
        ..StepResult::default()
    };
    let mut latency = plumb_stats::DurationHistogram::new();
    for (name, flow) in each_flow(parts, i) {
        let Some(step) = flow.steps.get(s) else {
            continue;
        };
        merged.requests += step.requests;
        merged.errors += step.errors;
        merged.checks_passed += step.checks_passed;
        merged.checks_failed += step.checks_failed;
        add_counts(&mut merged.errors_by_class, &step.errors_by_class);
        add_counts(&mut merged.captures_missed, &step.captures_missed);
        let what = format!("flow {} step {}", flow.name, step.name);
        latency.merge(&hist::decode(name, &what, &step.latency_histogram)?);
    }
    merged.latency_ms = percentiles(&latency);
    merged.latency_histogram = latency.to_base64();
    Ok(merged)
}

fn add_counts(total: &mut BTreeMap<String, u64>, more: &BTreeMap<String, u64>) {
    for (key, n) in more {
        *total.entry(key.clone()).or_insert(0) += n;
    }
}
