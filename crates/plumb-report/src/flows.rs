//! The flows section of a load result (`plumb load -f FILE`): per flow its sessions and
//! completion rate, per step its requests, errors by class, check pass rate and latency.

use crate::format::{count, ms, percent};
use plumb_schema::load::{FlowsResult, StepResult};
use std::fmt::{self, Write};

/// The section as text, under the latency table.
pub fn write_text(out: &mut impl Write, flows: &FlowsResult) -> fmt::Result {
    writeln!(out)?;
    writeln!(out, "  flows of {}", flows.file)?;
    for flow in &flows.flows {
        writeln!(
            out,
            "  {} (weight {}): {} sessions, {} completed ({}), {} ended early; session p50 {} p95 {}",
            flow.name,
            flow.weight,
            count(flow.sessions_started),
            count(flow.sessions_completed),
            percent(flow.completion_rate),
            count(flow.sessions_failed),
            ms(flow.session_duration_ms.p50),
            ms(flow.session_duration_ms.p95),
        )?;
        writeln!(
            out,
            "    {:<24} {:>9} {:>9} {:>11} {:>9} {:>9} {:>9}",
            "step", "requests", "errors", "checks", "p50 ms", "p95 ms", "p99 ms"
        )?;
        for step in &flow.steps {
            writeln!(
                out,
                "    {:<24} {:>9} {:>9} {:>11} {:>9} {:>9} {:>9}{}",
                step.name,
                count(step.requests),
                count(step.errors),
                checks(step),
                ms(step.latency_ms.p50),
                ms(step.latency_ms.p95),
                ms(step.latency_ms.p99),
                classes(step),
            )?;
        }
    }
    Ok(())
}

/// The section as Markdown: one table per flow.
pub fn write_markdown(out: &mut impl Write, flows: &FlowsResult) -> fmt::Result {
    for flow in &flows.flows {
        writeln!(
            out,
            "\n**Flow {}** (weight {}): {} sessions, {} completed ({}), {} ended early\n",
            flow.name,
            flow.weight,
            count(flow.sessions_started),
            count(flow.sessions_completed),
            percent(flow.completion_rate),
            count(flow.sessions_failed)
        )?;
        writeln!(
            out,
            "| step | requests | errors | checks passed | p50 ms | p95 ms | p99 ms |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|---:|")?;
        for step in &flow.steps {
            writeln!(
                out,
                "| {} | {} | {}{} | {} | {} | {} | {} |",
                step.name,
                count(step.requests),
                count(step.errors),
                classes(step),
                checks(step),
                ms(step.latency_ms.p50),
                ms(step.latency_ms.p95),
                ms(step.latency_ms.p99)
            )?;
        }
    }
    Ok(())
}

/// `12/12` checks passed, or `-` for a step without checks.
fn checks(step: &StepResult) -> String {
    let total = step.checks_passed + step.checks_failed;
    if total == 0 {
        "-".to_string()
    } else {
        format!("{}/{}", count(step.checks_passed), count(total))
    }
}

/// ` (status 3, capture 2)` when the step had errors.
fn classes(step: &StepResult) -> String {
    if step.errors_by_class.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = step
        .errors_by_class
        .iter()
        .map(|(class, n)| format!("{class} {}", count(*n)))
        .collect();
    format!(" ({})", parts.join(", "))
}
