//! `plumb history`: the ledger's runs, newest first, as a table on stdout.

use crate::exit::Outcome;
use plumb_cli::HistoryArgs;
use plumb_ledger::{HistoryFilter, RunSummary};
use std::io::Write;

/// Run `plumb history`.
pub fn run(args: HistoryArgs) -> anyhow::Result<Outcome> {
    let ledger = crate::runs::open(&args.ledger)?;
    let filter = HistoryFilter {
        name: args.name,
        labels: args.labels.into_iter().collect(),
        limit: (args.limit > 0).then_some(args.limit),
    };
    let runs = ledger.history(&filter).map_err(crate::runs::explained)?;
    let mut out = std::io::stdout().lock();
    if runs.is_empty() {
        eprintln!(
            "no runs in {} yet\nhint: `plumb load` and `plumb bench` save every run",
            ledger.path().display()
        );
        return Ok(Outcome::Passed);
    }
    writeln!(
        out,
        "{:<20}  {:<5}  {:<24}  {:<12}  {:<16}  SUMMARY",
        "ID", "KIND", "STARTED", "COMMIT", "NAME"
    )?;
    for run in &runs {
        writeln!(out, "{}", line(run))?;
    }
    out.flush()?;
    Ok(Outcome::Passed)
}

fn line(run: &RunSummary) -> String {
    let commit = run.git.as_ref().map_or("-".to_owned(), |g| {
        let short: String = g.commit.chars().take(10).collect();
        if g.dirty {
            format!("{short}+")
        } else {
            short
        }
    });
    let mut name = run.name.clone().unwrap_or_else(|| "-".into());
    for (k, v) in &run.labels {
        name.push_str(&format!(" {k}={v}"));
    }
    let interrupted = if run.interrupted {
        " (interrupted)"
    } else {
        ""
    };
    format!(
        "{:<20}  {:<5}  {:<24}  {:<12}  {:<16}  {}{interrupted}",
        run.id,
        run.kind.as_str(),
        run.started_at,
        commit,
        name,
        run.headline
    )
}
