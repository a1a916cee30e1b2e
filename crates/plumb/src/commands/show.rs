//! `plumb show RUN`: a saved run's summary again, in any output format.

use crate::exit::Outcome;
use plumb_cli::{OutputFormat, ShowArgs};
use plumb_ledger::{RunRecord, RunResult};
use plumb_report::bench::Colors;

/// Run `plumb show`.
pub fn run(args: ShowArgs) -> anyhow::Result<Outcome> {
    let record = crate::runs::find(&mut None, &args.ledger, &args.run)?;
    let mut text = if args.output == OutputFormat::Text {
        header(&record)
    } else {
        String::new()
    };
    text.push_str(&render(&record.result, args.output)?);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    crate::output::stdout(text.as_bytes())?;
    Ok(Outcome::Passed)
}

/// The result in `format`.
pub fn render(result: &RunResult, format: OutputFormat) -> anyhow::Result<String> {
    Ok(match (result, format) {
        (RunResult::Load(r), OutputFormat::Text) => plumb_report::load::text(r),
        (RunResult::Load(r), OutputFormat::Json) => plumb_report::load::json(r),
        (RunResult::Load(r), OutputFormat::Markdown) => plumb_report::load::markdown(r),
        (RunResult::Bench(r), OutputFormat::Text) => plumb_report::bench::text(r, Colors::Never),
        (RunResult::Bench(r), OutputFormat::Json) => plumb_report::bench::json(r)?,
        (RunResult::Bench(r), OutputFormat::Markdown) => plumb_report::bench::markdown(r),
        (RunResult::Profile(r), OutputFormat::Text) => plumb_report::profile::render_profile(r, 15),
        (RunResult::Profile(r), OutputFormat::Json) => serde_json::to_string_pretty(r)? + "\n",
        (RunResult::Profile(r), OutputFormat::Markdown) => plumb_report::profile::markdown(r, 15),
        (RunResult::Capacity(r), OutputFormat::Text) => plumb_report::capacity::text(r),
        (RunResult::Capacity(r), OutputFormat::Json) => serde_json::to_string_pretty(r)? + "\n",
        (RunResult::Capacity(r), OutputFormat::Markdown) => plumb_report::capacity::markdown(r),
        (RunResult::Page(r), OutputFormat::Text) => plumb_report::page::text(r),
        (RunResult::Page(r), OutputFormat::Json) => serde_json::to_string_pretty(r)? + "\n",
        (RunResult::Page(r), OutputFormat::Markdown) => plumb_report::page::markdown(r),
    })
}

/// Who/where/when of a run, above its text summary.
fn header(record: &RunRecord) -> String {
    let mut out = format!("run      {}\n", record.id);
    let mut line = |key: &str, value: &str| {
        if !value.is_empty() {
            out.push_str(&format!("{key:<8} {value}\n"));
        }
    };
    line("name", record.name.as_deref().unwrap_or(""));
    let labels: Vec<String> = record
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    line("labels", &labels.join(" "));
    line("started", &record.started_at);
    line("command", &record.command_line);
    let commit = record.git.as_ref().map_or(String::new(), |g| {
        format!("{}{}", g.commit, if g.dirty { " (dirty)" } else { "" })
    });
    line("commit", &commit);
    let host = record.host.as_ref().map_or(String::new(), |h| {
        format!(
            "{} ({}, {} cores, kernel {})",
            h.hostname, h.cpu_model, h.cores, h.kernel
        )
    });
    line("host", &host);
    out.push('\n');
    out
}
