//! `plumb report RUN [RUN...] --html FILE [--markdown FILE] [--csv FILE] [--json FILE]`.

use crate::exit::Outcome;
use crate::output::Destination;
use plumb_cli::{OutputFormat, ReportArgs};
use plumb_ledger::{RunRecord, RunResult};
use plumb_report::html::{Entry, ReportRun, RunContext};
use std::fmt::Write;
use std::path::Path;

/// Run `plumb report`.
pub fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    if args.html.is_none() && args.markdown.is_none() && args.csv.is_none() && args.json.is_none() {
        anyhow::bail!(
            "nothing to write\nhint: add --html FILE (or --markdown, --csv, --json FILE)"
        );
    }
    let outputs = Outputs::check(&args)?;
    let mut ledger = None;
    let records: Vec<RunRecord> = args
        .runs
        .iter()
        .map(|r| crate::runs::find(&mut ledger, &args.ledger, r))
        .collect::<anyhow::Result<_>>()?;
    let comparison = match records.as_slice() {
        [base, cand] if base.result.kind() == cand.result.kind() => Some(super::compare::table(
            std::slice::from_ref(base),
            std::slice::from_ref(cand),
            args.tolerance,
        )?),
        _ => None,
    };
    if let Some(html) = &outputs.html {
        let flamegraphs: Vec<Option<Vec<u8>>> = records.iter().map(flamegraph_of).collect();
        let entries: Vec<Entry<'_>> = records
            .iter()
            .zip(&flamegraphs)
            .map(|(record, svg)| Entry {
                run: report_run(record, svg.as_deref()),
                context: context_of(record),
            })
            .collect();
        html.write(plumb_report::html::report(&entries, comparison.as_ref()).as_bytes())?;
    }
    if let Some(markdown) = &outputs.markdown {
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
        markdown.write(plumb_report::markdown::fit_comment(&text).as_bytes())?;
    }
    if let Some(csv_out) = &outputs.csv {
        csv_out.write(csv(&records).as_bytes())?;
    }
    if let Some(json) = &outputs.json {
        json.write(json_of(&records)?.as_bytes())?;
    }
    Ok(Outcome::Passed)
}

/// The files (or `-`, stdout, for one of them) that the flags name, checked before any run is read.
struct Outputs {
    html: Option<Destination>,
    markdown: Option<Destination>,
    csv: Option<Destination>,
    json: Option<Destination>,
}

impl Outputs {
    fn check(args: &ReportArgs) -> anyhow::Result<Outputs> {
        let check = |flag, path: &Option<std::path::PathBuf>| {
            path.as_deref()
                .map(|p: &Path| Destination::check(flag, p, true))
                .transpose()
        };
        let outputs = Outputs {
            html: check("--html", &args.html)?,
            markdown: check("--markdown", &args.markdown)?,
            csv: check("--csv", &args.csv)?,
            json: check("--json", &args.json)?,
        };
        let on_stdout = [
            &outputs.html,
            &outputs.markdown,
            &outputs.csv,
            &outputs.json,
        ]
        .into_iter()
        .flatten()
        .filter(|d| d.is_stdout())
        .count();
        if on_stdout > 1 {
            anyhow::bail!(
                "more than one of --html/--markdown/--csv/--json is '-' (stdout)\n\
                 hint: send at most one to '-' and the others to files"
            );
        }
        Ok(outputs)
    }
}

/// `[{"id": ..., "result": ...}, ...]`, one entry per run.
fn json_of(records: &[RunRecord]) -> anyhow::Result<String> {
    let values = records
        .iter()
        .map(|r| {
            let result: serde_json::Value = serde_json::from_str(&r.result.to_json())?;
            Ok(serde_json::json!({"id": r.id, "result": result}))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(serde_json::to_string_pretty(&values)? + "\n")
}

fn report_run<'a>(record: &'a RunRecord, flamegraph: Option<&'a [u8]>) -> ReportRun<'a> {
    match &record.result {
        RunResult::Load(r) => ReportRun::Load(&record.id, r),
        RunResult::Bench(r) => ReportRun::Bench(&record.id, r),
        RunResult::Profile(r) => ReportRun::Profile(&record.id, r, flamegraph),
        RunResult::Capacity(r) => ReportRun::Capacity(&record.id, r),
        RunResult::Page(r) => ReportRun::Page(&record.id, r),
    }
}

/// What the ledger knows of a run: name, start, command line, commit, host; and the flamegraph of
/// the server a load watched with `--profile-pid`.
fn context_of(record: &RunRecord) -> RunContext {
    let commit = record.git.as_ref().map(|g| {
        let short: String = g.commit.chars().take(12).collect();
        if g.dirty {
            format!("{short}+dirty")
        } else {
            short
        }
    });
    let host = record.host.as_ref().map(|h| {
        format!(
            "{} · {} · {} cores · {}",
            h.hostname,
            h.cpu_model,
            h.cores,
            plumb_report::format::bytes(h.memory_bytes)
        )
    });
    RunContext {
        name: record.name.clone(),
        started_at: record.started_at.clone(),
        command_line: record.command_line.clone(),
        commit,
        host,
        server_flamegraph: server_flamegraph_of(record),
    }
}

/// The flamegraph of the server a load run profiled (`--profile-pid`).
fn server_flamegraph_of(record: &RunRecord) -> Option<Vec<u8>> {
    let RunResult::Load(load) = &record.result else {
        return None;
    };
    let Some(plumb_schema::profile::CpuOutcome::Sampled(cpu)) = load.server.as_ref()?.cpu.as_ref()
    else {
        return None;
    };
    if cpu.folded.is_empty() {
        return None;
    }
    let mut svg = Vec::new();
    let title = format!("server during plumb load {}", record.id);
    plumb_profile::write_flamegraph(&cpu.folded, &title, &mut svg).ok()?;
    Some(svg)
}

/// A profile's flamegraph SVG, when it sampled the CPU.
fn flamegraph_of(record: &RunRecord) -> Option<Vec<u8>> {
    let RunResult::Profile(report) = &record.result else {
        return None;
    };
    let plumb_schema::profile::CpuOutcome::Sampled(cpu) = &report.cpu else {
        return None;
    };
    if cpu.folded.is_empty() {
        return None;
    }
    let mut svg = Vec::new();
    let title = format!("plumb profile {}", record.id);
    plumb_profile::write_flamegraph(&cpu.folded, &title, &mut svg).ok()?;
    Some(svg)
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
            RunResult::Profile(r) => {
                for p in &r.resources.points {
                    let t = p.t_secs;
                    let cpu = p.cpu_user_percent + p.cpu_system_percent;
                    let _ = writeln!(out, "{id},profile,cpu_percent,{t},{cpu}");
                    let _ = writeln!(out, "{id},profile,rss_bytes,{t},{}", p.rss_bytes);
                }
            }
            RunResult::Capacity(r) => {
                for (i, step) in r.steps.iter().enumerate() {
                    let _ = writeln!(out, "{id},capacity,offered_rps,{i},{}", step.rate);
                    let _ = writeln!(out, "{id},capacity,achieved_rps,{i},{}", step.achieved_rps);
                    if let Some(p99) = step.p99_ms {
                        let _ = writeln!(out, "{id},capacity,latency_p99_ms,{i},{p99}");
                    }
                }
            }
            RunResult::Page(r) => {
                for m in &r.summary {
                    let values = plumb_page::summary::values(&r.runs, &m.metric);
                    for (i, v) in values.iter().enumerate() {
                        let _ = writeln!(out, "{id},page,{},{i},{v}", m.metric);
                    }
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
