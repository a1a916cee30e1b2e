//! `plumb log`: the optimization log. Every note (`plumb note`), oldest first, with its run
//! compared against the run before it: the newest earlier run of the same kind and target
//! (the same URL, commands, profiled command or capacity goal). The comparison is
//! `plumb compare`'s, so an impact in the log always matches `plumb compare BEFORE AFTER`.

use crate::exit::Outcome;
use plumb_cli::{LogArgs, OutputFormat};
use plumb_ledger::{HistoryFilter, Ledger, Note, RunRecord, RunResult};
use plumb_report::compare::ComparisonTable;
use std::fmt::Write;

/// Rows of each comparison shown in the log: the verdicts first.
const IMPACT_ROWS: usize = 3;

/// One entry of the log.
struct Entry {
    note: Note,
    run: RunRecord,
    before: Option<RunRecord>,
    table: Option<ComparisonTable>,
}

/// Run `plumb log`.
pub fn run(args: LogArgs) -> anyhow::Result<Outcome> {
    let html = args
        .html
        .as_deref()
        .map(|path| crate::output::Destination::check("--html", path, false))
        .transpose()?;
    let ledger = crate::runs::open(&args.ledger)?;
    let notes = ledger.notes().map_err(crate::runs::explained)?;
    if notes.is_empty() {
        crate::output::log("no notes yet\nhint: after a change, run the measurement and `plumb note \"what changed\"`");
        return Ok(Outcome::Passed);
    }
    let entries = notes
        .into_iter()
        .map(|note| entry(&ledger, note, args.tolerance))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let text = match args.output {
        OutputFormat::Text => text(&entries),
        OutputFormat::Markdown => markdown(&entries),
        OutputFormat::Json => json(&entries)?,
    };
    let written = html.map_or(Ok(()), |d| d.write(html_page(&entries).as_bytes()));
    crate::output::stdout(text.as_bytes())?;
    written?;
    Ok(Outcome::Passed)
}

fn entry(ledger: &Ledger, note: Note, tolerance: f64) -> anyhow::Result<Entry> {
    let run = ledger.get(&note.run_id).map_err(crate::runs::explained)?;
    let before = run_before(ledger, &run)?;
    let table = before.as_ref().and_then(|b| {
        super::compare::table(
            std::slice::from_ref(b),
            std::slice::from_ref(&run),
            tolerance,
        )
        .ok()
    });
    Ok(Entry {
        note,
        run,
        before,
        table,
    })
}

/// The newest run older than `run` of the same kind and target.
fn run_before(ledger: &Ledger, run: &RunRecord) -> anyhow::Result<Option<RunRecord>> {
    let history = ledger
        .history(&HistoryFilter::default())
        .map_err(crate::runs::explained)?;
    let key = target(&run.result);
    for summary in history
        .iter()
        .filter(|s| s.started_at < run.started_at && s.kind == run.result.kind())
    {
        let candidate = ledger.get(&summary.id).map_err(crate::runs::explained)?;
        if target(&candidate.result) == key {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// What a run measured, for matching it with the run before it.
fn target(result: &RunResult) -> String {
    match result {
        RunResult::Load(r) => format!("{} {}", r.settings.method, r.settings.url),
        RunResult::Bench(r) => r
            .benchmarks
            .iter()
            .map(|b| b.command.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        RunResult::Profile(r) => r
            .target
            .command
            .as_ref()
            .map_or_else(|| "attached".to_string(), |c| c.join(" ")),
        RunResult::Capacity(r) => format!("{} {}", r.url, r.goal),
        RunResult::Page(r) => format!("{} ({} throttling)", r.url, r.settings.throttle.preset),
    }
}

/// The comparison's most telling rows: verdicts first, then in their order.
fn impact(table: &ComparisonTable) -> Vec<String> {
    let mut rows: Vec<&plumb_compare::Row> = table.comparison.rows.iter().collect();
    rows.sort_by_key(|r| match r.verdict {
        plumb_compare::Verdict::Regressed | plumb_compare::Verdict::Improved => 0,
        plumb_compare::Verdict::Equivalent => 1,
        _ => 2,
    });
    rows.iter()
        .take(IMPACT_ROWS)
        .map(|row| {
            let cells = plumb_report::compare::row_cells(row);
            format!(
                "{}: {} -> {} ({}, {})",
                cells[0], cells[2], cells[3], cells[4], cells[6]
            )
        })
        .collect()
}

fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

fn text(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        let _ = writeln!(
            out,
            "{}  {}\n    run {} ({})",
            e.note.created_at,
            e.note.text,
            short(&e.run.id),
            e.run.result.kind().as_str()
        );
        match (&e.before, &e.table) {
            (Some(before), Some(table)) => {
                let _ = writeln!(out, "    against {}:", short(&before.id));
                for line in impact(table) {
                    let _ = writeln!(out, "      {line}");
                }
            }
            (Some(before), None) => {
                let _ = writeln!(out, "    against {}: not comparable", short(&before.id));
            }
            (None, _) => {
                let _ = writeln!(
                    out,
                    "    no earlier run of the same target to measure it against"
                );
            }
        }
    }
    out
}

fn markdown(entries: &[Entry]) -> String {
    let mut out = String::from("## Optimization log\n\n| When | Change | Run | Against | Impact |\n|---|---|---|---|---|\n");
    for e in entries {
        let impact = e
            .table
            .as_ref()
            .map(|t| impact(t).join("<br>"))
            .unwrap_or_else(|| "no earlier run to compare".into());
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} | {} |",
            e.note.created_at,
            e.note.text.replace('|', "\\|"),
            short(&e.run.id),
            e.before
                .as_ref()
                .map_or("-".to_string(), |b| format!("`{}`", short(&b.id))),
            impact.replace('|', "\\|")
        );
    }
    out
}

fn json(entries: &[Entry]) -> anyhow::Result<String> {
    let values: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            let comparison = e
                .table
                .as_ref()
                .map(|t| serde_json::to_value(plumb_report::compare::result(t)))
                .transpose()?;
            Ok(serde_json::json!({
                "note": e.note.text,
                "created_at": e.note.created_at,
                "run": e.run.id,
                "before": e.before.as_ref().map(|b| b.id.clone()),
                "comparison": comparison,
            }))
        })
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(serde_json::to_string_pretty(&values)? + "\n")
}

/// The log as a page: one row per note, its impact's rows coloured by verdict.
fn html_page(entries: &[Entry]) -> String {
    use plumb_report::layout::{Cell, Section, Table, Tone};
    let mut table = Table::new("log", &["when", "change", "run", "against", "impact"]);
    for e in entries {
        let impact = match &e.table {
            Some(t) => {
                let worst = t.comparison.rows.iter().fold(Tone::Neutral, |tone, row| {
                    tone.worst(match row.verdict {
                        plumb_compare::Verdict::Regressed => Tone::Bad,
                        plumb_compare::Verdict::Improved => Tone::Good,
                        _ => Tone::Neutral,
                    })
                });
                Cell::text(impact(t).join("; ")).tone(worst)
            }
            None => Cell::text("no earlier run of the same target to compare"),
        };
        table.push(vec![
            Cell::text(&e.note.created_at),
            Cell::text(&e.note.text),
            Cell::code(short(&e.run.id)),
            Cell::code(e.before.as_ref().map_or("-".to_owned(), |b| short(&b.id))),
            impact,
        ]);
    }
    let section = Section::new("log", "Optimization log")
        .note("Each change against the run before it, as `plumb compare` judges it.")
        .table(table);
    plumb_report::layout::page("plumb log", &[section.render()])
}
