//! `plumb report RUN [RUN...] --html FILE [--markdown FILE] [--csv FILE] [--json FILE]`.

use crate::exit::Outcome;
use anyhow::Context;
use plumb_cli::{OutputFormat, ReportArgs};
use plumb_ledger::{RunRecord, RunResult};
use plumb_report::html::ReportRun;
use std::fmt::Write;
use std::path::Path;

/// Run `plumb report`.
pub fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    if args.html.is_none() && args.markdown.is_none() && args.csv.is_none() && args.json.is_none() {
        anyhow::bail!(
            "nothing to write\nhint: add --html FILE (or --markdown, --csv, --json FILE)"
        );
    }
    let mut ledger = None;
    let records: Vec<RunRecord> = args
        .runs
        .iter()
        .map(|r| crate::runs::find(&mut ledger, &args.ledger, r))
        .collect::<anyhow::Result<_>>()?;
    let comparison = match records.as_slice() {
        [base, cand] if base.result.kind() == cand.result.kind() => {
            Some(super::compare::table(base, cand, args.tolerance)?)
        }
        _ => None,
    };
    if let Some(path) = &args.html {
        let runs: Vec<ReportRun<'_>> = records.iter().map(report_run).collect();
        write(
            path,
            "--html",
            &plumb_report::html::html(&runs, comparison.as_ref()),
        )?;
    }
    if let Some(path) = &args.markdown {
        let mut text = comparison
            .as_ref()
            .map(plumb_report::compare::markdown)
            .unwrap_or_default();
        for record in &records {
            let _ = write!(text, "\n## Run {}\n\n", record.id);
            text.push_str(&super::show::render(
                &record.result,
                OutputFormat::Markdown,
            )?);
        }
        write(path, "--markdown", &text)?;
    }
    if let Some(path) = &args.csv {
        write(path, "--csv", &csv(&records))?;
    }
    if let Some(path) = &args.json {
        let values: Vec<serde_json::Value> = records
            .iter()
            .map(|r| serde_json::json!({"id": r.id, "result": serde_json::from_str::<serde_json::Value>(&r.result.to_json()).unwrap_or_default()}))
            .collect();
        write(
            path,
            "--json",
            &(serde_json::to_string_pretty(&values)? + "\n"),
        )?;
    }
    Ok(Outcome::Passed)
}

fn report_run(record: &RunRecord) -> ReportRun<'_> {
    match &record.result {
        RunResult::Load(r) => ReportRun::Load(&record.id, r),
        RunResult::Bench(r) => ReportRun::Bench(&record.id, r),
    }
}

/// Long format: one row per value, `run,kind,series,x,value`.
fn csv(records: &[RunRecord]) -> String {
    let mut out = String::from("run,kind,series,x,value\n");
    for record in records {
        let id = &record.id;
        match &record.result {
            RunResult::Load(r) => {
                for w in &r.timeseries {
                    let t = w.t_s;
                    let _ = writeln!(out, "{id},load,requests,{t},{}", w.requests);
                    let _ = writeln!(out, "{id},load,errors,{t},{}", w.errors);
                    let _ = writeln!(out, "{id},load,latency_p50_ms,{t},{}", w.latency_p50_ms);
                    let _ = writeln!(out, "{id},load,latency_p99_ms,{t},{}", w.latency_p99_ms);
                }
            }
            RunResult::Bench(r) => {
                for b in &r.benchmarks {
                    let series = csv_field(&format!("{}: wall_seconds", b.name));
                    for (i, run) in b.runs.iter().enumerate() {
                        let _ = writeln!(out, "{id},bench,{series},{i},{}", run.wall_seconds);
                    }
                }
            }
        }
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn write(path: &Path, flag: &str, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| {
        format!(
            "cannot write {flag} file '{}'\nhint: check that its directory exists and is writable",
            path.display()
        )
    })
}
