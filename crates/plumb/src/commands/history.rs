//! `plumb history`: the ledger's runs, newest first, as a table on stdout.

use crate::exit::Outcome;
use crate::output;
use plumb_cli::HistoryArgs;
use plumb_ledger::{HistoryFilter, Ledger, LedgerError, RunSummary};

/// Run `plumb history`.
pub fn run(args: HistoryArgs) -> anyhow::Result<Outcome> {
    let ledger = match crate::runs::open_read_only(&args.ledger) {
        Err(LedgerError::Missing { path }) => {
            output::log(&format!(
                "no runs in {} yet\nhint: {NO_RUNS_HINT}",
                path.display()
            ));
            return Ok(Outcome::Passed);
        }
        opened => opened.map_err(crate::runs::explained)?,
    };
    let filter = HistoryFilter {
        name: args.name,
        labels: args.labels.into_iter().collect(),
        limit: (args.limit > 0).then_some(args.limit),
    };
    let runs = ledger.history(&filter).map_err(crate::runs::explained)?;
    if runs.is_empty() {
        output::log(&nothing_found(&ledger, &filter)?);
        return Ok(Outcome::Passed);
    }
    let mut table = format!(
        "{:<20}  {:<5}  {:<24}  {:<12}  {:<16}  SUMMARY\n",
        "ID", "KIND", "STARTED", "COMMIT", "NAME"
    );
    for run in &runs {
        table.push_str(&line(run));
        table.push('\n');
    }
    output::stdout(table.as_bytes())?;
    Ok(Outcome::Passed)
}

const NO_RUNS_HINT: &str = "`plumb load` and `plumb bench` save every run";

/// Why the list is empty: an empty ledger, or filters that match none of its runs.
fn nothing_found(ledger: &Ledger, filter: &HistoryFilter) -> anyhow::Result<String> {
    let total = ledger.count().map_err(crate::runs::explained)?;
    if total == 0 {
        return Ok(format!(
            "no runs in {} yet\nhint: {NO_RUNS_HINT}",
            ledger.path().display()
        ));
    }
    let mut wanted: Vec<String> = filter
        .name
        .iter()
        .map(|name| format!("--name {name}"))
        .collect();
    wanted.extend(
        filter
            .labels
            .iter()
            .map(|(k, v)| format!("--label {k}={v}")),
    );
    let runs = if total == 1 { "run" } else { "runs" };
    Ok(format!(
        "no run matches {} (the ledger {} holds {total} {runs})\n\
         hint: `plumb history` without filters lists them; names are those given with --run-name",
        wanted.join(" "),
        ledger.path().display()
    ))
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
