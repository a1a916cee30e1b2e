//! `plumb load -f FILE --dry-run`: one session of each selected flow, every request, capture and
//! check printed on stdout. Exit 0 when all passed, 1 when a check failed, 2 (an error naming the
//! file and line) when a capture matched nothing or a request got no response.

use crate::exit::Outcome;
use crate::output;
use plumb_cli::LoadPlan;
use plumb_load::{DryRun, DryStep};
use std::fmt::Write as _;

/// Run and print the dry run of `plan`.
pub fn run(plan: &LoadPlan) -> anyhow::Result<Outcome> {
    let dry = plumb_load::dry_run(&plan.settings)?;
    let mut text = String::new();
    render(&dry, &mut text)?;
    output::stdout(text.as_bytes())?;
    let file = plan
        .settings
        .flows
        .as_ref()
        .map(|f| f.path.display().to_string())
        .unwrap_or_default();
    for step in dry.sessions.iter().flat_map(|s| &s.steps) {
        if let Some((capture, line)) = &step.missing_capture {
            anyhow::bail!(
                "{file}:{line}: capture '{capture}' of step '{}' matched nothing in the response\nhint: compare the capture with the response above (a JSON path such as $.token, a regex group, a header or cookie name)",
                step.name
            );
        }
        if let Some(error) = &step.error {
            anyhow::bail!(
                "{file}:{}: step '{}' got no response: {error}\nhint: check that the base URL's server is running and the step's URL is right",
                step.line,
                step.name
            );
        }
    }
    Ok(if dry.passed() {
        Outcome::Passed
    } else {
        Outcome::ThresholdFailed
    })
}

fn render(dry: &DryRun, out: &mut String) -> std::fmt::Result {
    for session in &dry.sessions {
        writeln!(out, "flow {}", session.flow)?;
        for step in &session.steps {
            render_step(step, out)?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{}",
        if dry.passed() {
            "dry run: every check passed and every capture matched"
        } else {
            "dry run: FAILED (see above)"
        }
    )
}

fn render_step(step: &DryStep, out: &mut String) -> std::fmt::Result {
    writeln!(out, "  step {} (line {})", step.name, step.line)?;
    for line in step.request.lines() {
        writeln!(out, "    > {line}")?;
    }
    match (step.status, &step.error) {
        (Some(status), _) => writeln!(
            out,
            "    < {status} ({} bytes in {:.1} ms)",
            step.bytes,
            step.took.as_secs_f64() * 1e3
        )?,
        (None, Some(error)) => writeln!(out, "    < no response: {error}")?,
        (None, None) => {}
    }
    for line in &step.trace {
        writeln!(out, "    {line}")?;
    }
    Ok(())
}
