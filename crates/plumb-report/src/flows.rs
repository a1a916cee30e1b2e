//! The flows section of a load result (`plumb load -f FILE`): per flow its sessions and
//! completion rate, per step its requests, errors by class, check pass rate, missed captures
//! (responses in which a capture matched nothing, named per capture) and latency.

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
            "    {:<24} {:>9} {:>9} {:>11} {:>9} {:>9} {:>9} {:>9}",
            "step", "requests", "errors", "checks", "missed", "p50 ms", "p95 ms", "p99 ms"
        )?;
        for step in &flow.steps {
            writeln!(
                out,
                "    {:<24} {:>9} {:>9} {:>11} {:>9} {:>9} {:>9} {:>9}{}",
                step.name,
                count(step.requests),
                count(step.errors),
                checks(step),
                missed(step),
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
            "| step | requests | errors | checks passed | captures missed | p50 ms | p95 ms | p99 ms |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
        for step in &flow.steps {
            writeln!(
                out,
                "| {} | {} | {}{} | {} | {} | {} | {} | {} |",
                step.name,
                count(step.requests),
                count(step.errors),
                classes(step),
                checks(step),
                missed(step),
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

/// Missed captures of the step (a response in which two captures missed counts twice), or `-`.
fn missed(step: &StepResult) -> String {
    let total: u64 = step.captures_missed.values().sum();
    if total == 0 {
        "-".to_string()
    } else {
        count(total)
    }
}

/// ` (status 3, capture 2; missed token 2)` when the step had errors or missed captures.
fn classes(step: &StepResult) -> String {
    let errors: Vec<String> = step
        .errors_by_class
        .iter()
        .map(|(class, n)| format!("{class} {}", count(*n)))
        .collect();
    let misses: Vec<String> = step
        .captures_missed
        .iter()
        .map(|(capture, n)| format!("{capture} {}", count(*n)))
        .collect();
    match (errors.is_empty(), misses.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" ({})", errors.join(", ")),
        (true, false) => format!(" (missed {})", misses.join(", ")),
        (false, false) => format!(" ({}; missed {})", errors.join(", "), misses.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_schema::load::FlowResult;

    fn flows() -> FlowsResult {
        let mut login = StepResult {
            name: "login".into(),
            requests: 20,
            errors: 5,
            checks_passed: 20,
            checks_failed: 0,
            ..StepResult::default()
        };
        login.errors_by_class.insert("capture".into(), 5);
        login.captures_missed.insert("sid".into(), 5);
        login.captures_missed.insert("token".into(), 5);
        let me = StepResult {
            name: "me".into(),
            requests: 15,
            ..StepResult::default()
        };
        FlowsResult {
            file: "f.toml".into(),
            flows: vec![FlowResult {
                name: "buy".into(),
                weight: 1,
                sessions_started: 20,
                sessions_completed: 15,
                sessions_failed: 5,
                completion_rate: 0.75,
                steps: vec![login, me],
                ..FlowResult::default()
            }],
        }
    }

    #[test]
    fn the_text_table_shows_missed_captures() {
        let mut out = String::new();
        write_text(&mut out, &flows()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[3],
            "    step                      requests    errors      checks    missed    p50 ms    p95 ms    p99 ms"
        );
        assert!(
            lines[4].starts_with(
                "    login                           20         5       20/20        10 "
            ),
            "{out}"
        );
        assert!(
            lines[4].ends_with(" (capture 5; missed sid 5, token 5)"),
            "{out}"
        );
        assert!(
            lines[5].starts_with(
                "    me                              15         0           -         - "
            ),
            "{out}"
        );
    }

    #[test]
    fn the_markdown_table_shows_missed_captures() {
        let mut out = String::new();
        write_markdown(&mut out, &flows()).unwrap();
        assert!(
            out.contains("| login | 20 | 5 (capture 5; missed sid 5, token 5) | 20/20 | 10 |"),
            "{out}"
        );
        assert!(out.contains("| me | 15 | 0 | - | - |"), "{out}");
    }
}
