//! Finding the ledger and the runs that subcommands name: shared by `history`, `show`,
//! `baseline`, `compare`, `gate` and `report`. Commands that only read open the ledger read-only,
//! so a ledger on a read-only disk (or owned by someone else) can still be read.

use plumb_cli::LedgerPath;
use plumb_ledger::{HistoryFilter, Ledger, LedgerError, RunRecord};
use std::path::{Path, PathBuf};

/// Where the ledger named by `--ledger`/`PLUMB_LEDGER`, or found from the working directory, is.
pub fn location(path: &LedgerPath) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    plumb_ledger::locate(path.ledger.as_deref(), &cwd)
}

/// Open the ledger to change it (created on first use).
pub fn open(path: &LedgerPath) -> anyhow::Result<Ledger> {
    Ledger::open(&location(path)).map_err(explained)
}

/// Open the ledger to read it: read-only, and nothing is created.
pub fn open_read_only(path: &LedgerPath) -> Result<Ledger, LedgerError> {
    Ledger::open_read_only(&location(path))
}

/// The run `reference` names: a JSON result file when such a file exists, else a ledger run.
pub fn find(
    ledger: &mut Option<Ledger>,
    path: &LedgerPath,
    reference: &str,
) -> anyhow::Result<RunRecord> {
    let file = Path::new(reference);
    if file.is_file() {
        return RunRecord::from_file(file).map_err(explained);
    }
    let opened = reading(ledger, path, reference)?;
    match opened.resolve(reference) {
        Err(LedgerError::UnknownRun { .. }) => by_name(opened, reference),
        found => found.map_err(explained),
    }
}

/// The newest run saved with `--run-name NAME`.
fn by_name(ledger: &Ledger, name: &str) -> anyhow::Result<RunRecord> {
    let filter = HistoryFilter {
        name: Some(name.to_owned()),
        limit: Some(1),
        ..HistoryFilter::default()
    };
    match ledger.history(&filter).map_err(explained)?.first() {
        Some(newest) => ledger.get(&newest.id).map_err(explained),
        None => Err(explained(LedgerError::UnknownRun {
            reference: name.to_owned(),
        })),
    }
}

/// The most runs one side of a comparison pools.
const MAX_RUNS_A_SIDE: u64 = 1000;

/// Every run `selector` names, for one side of a comparison (pooled, as benchstat does):
/// a list `A,B,C` of run references, a range `latest~4..latest`, `name:NAME` (every run saved with
/// that `--run-name`), `label:KEY=VALUE` (every run carrying the label), or one run reference.
pub fn find_many(
    ledger: &mut Option<Ledger>,
    path: &LedgerPath,
    selector: &str,
) -> anyhow::Result<Vec<RunRecord>> {
    if selector.contains(',') {
        if selector.split(',').any(|one| one.trim().is_empty()) {
            anyhow::bail!(
                "'{selector}' has an empty run reference\nhint: write a list of runs as A,B,C (no empty items)"
            );
        }
        return selector
            .split(',')
            .map(|one| find_many(ledger, path, one.trim()))
            .collect::<anyhow::Result<Vec<Vec<RunRecord>>>>()
            .map(|lists| lists.into_iter().flatten().collect());
    }
    if let Some((from, to)) = selector.split_once("..") {
        return range(ledger, path, selector, from, to);
    }
    let filter = if let Some(name) = selector.strip_prefix("name:") {
        HistoryFilter {
            name: Some(name.to_owned()),
            ..HistoryFilter::default()
        }
    } else if let Some(label) = selector.strip_prefix("label:") {
        let (key, value) = label.split_once('=').ok_or_else(|| {
            anyhow::anyhow!(
                "'{selector}' is not a label selector\nhint: write label:KEY=VALUE, e.g. label:branch=main"
            )
        })?;
        HistoryFilter {
            labels: [(key.to_owned(), value.to_owned())].into(),
            ..HistoryFilter::default()
        }
    } else {
        return Ok(vec![find(ledger, path, selector)?]);
    };
    let opened = reading(ledger, path, selector)?;
    let filter = HistoryFilter {
        limit: Some(MAX_RUNS_A_SIDE),
        ..filter
    };
    let found = opened.history(&filter).map_err(explained)?;
    if found.is_empty() {
        anyhow::bail!(
            "no run matches '{selector}'\nhint: `plumb history` lists the runs with their names and labels"
        );
    }
    found
        .iter()
        .rev()
        .map(|summary| opened.get(&summary.id).map_err(explained))
        .collect()
}

/// `latest~A..latest~B` (either end may be `latest`): the runs between, oldest first.
fn range(
    ledger: &mut Option<Ledger>,
    path: &LedgerPath,
    selector: &str,
    from: &str,
    to: &str,
) -> anyhow::Result<Vec<RunRecord>> {
    let back = |end: &str| -> Option<u64> {
        match end.trim().strip_prefix("latest")? {
            "" => Some(0),
            rest => rest.strip_prefix('~')?.parse().ok(),
        }
    };
    let (Some(a), Some(b)) = (back(from), back(to)) else {
        anyhow::bail!(
            "'{selector}' is not a range of runs\nhint: write latest~N..latest~M, e.g. latest~4..latest for the last five runs"
        );
    };
    let (oldest, newest) = (a.max(b), a.min(b));
    if oldest - newest >= MAX_RUNS_A_SIDE {
        anyhow::bail!(
            "'{selector}' spans {} runs, more than the {MAX_RUNS_A_SIDE} one side may pool\nhint: narrow the range",
            oldest - newest + 1
        );
    }
    (newest..=oldest)
        .rev()
        .map(|k| find(ledger, path, &format!("latest~{k}")))
        .collect()
}

/// What `gate --baseline` names: a baseline's name, or any other run reference (`latest~1`, an id
/// prefix, `baseline:NAME`, a JSON result file).
pub fn find_baseline(
    ledger: &mut Option<Ledger>,
    path: &LedgerPath,
    reference: &str,
) -> anyhow::Result<RunRecord> {
    if reference.contains(':') || Path::new(reference).is_file() {
        return find(ledger, path, reference);
    }
    let opened = reading(ledger, path, reference)?;
    match opened.resolve(&format!("baseline:{reference}")) {
        Err(LedgerError::UnknownBaseline { .. }) => match opened.resolve(reference) {
            Err(LedgerError::UnknownRun { .. }) => by_name(opened, reference).map_err(|_| anyhow::anyhow!(
                "no baseline named '{reference}', and no run matches '{reference}'\nhint: `plumb baseline list` shows the \
                 baselines and `plumb history` the runs; --baseline takes a baseline's name or \
                 any run reference (an id prefix, latest~1, a --run-name, a JSON result file)"
            )),
            found => found.map_err(explained),
        },
        found => found.map_err(explained),
    }
}

/// The ledger, opened read-only on first use to look up `reference`.
fn reading<'a>(
    ledger: &'a mut Option<Ledger>,
    path: &LedgerPath,
    reference: &str,
) -> anyhow::Result<&'a Ledger> {
    if ledger.is_none() {
        let opened = open_read_only(path).map_err(|error| match &error {
            LedgerError::Missing { path } => {
                let unknown = match reference.strip_prefix("baseline:") {
                    Some(name) => LedgerError::UnknownBaseline { name: name.into() },
                    None => LedgerError::UnknownRun {
                        reference: reference.into(),
                    },
                };
                anyhow::anyhow!(
                    "{unknown}: there is no ledger at '{}' yet\nhint: {}",
                    path.display(),
                    error.hint()
                )
            }
            _ => explained(error),
        })?;
        *ledger = Some(opened);
    }
    Ok(ledger.as_ref().expect("opened above"))
}

/// A ledger error as one message (its cause included) and a `hint:` line.
pub fn explained(error: LedgerError) -> anyhow::Error {
    anyhow::anyhow!("{error}\nhint: {}", error.hint())
}
