//! Finding the ledger and the runs that subcommands name: shared by `history`, `show`,
//! `baseline`, `compare`, `gate` and `report`. Commands that only read open the ledger read-only,
//! so a ledger on a read-only disk (or owned by someone else) can still be read.

use plumb_cli::LedgerPath;
use plumb_ledger::{Ledger, LedgerError, RunRecord};
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
    reading(ledger, path, reference)?
        .resolve(reference)
        .map_err(explained)
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
            Err(LedgerError::UnknownRun { .. }) => Err(anyhow::anyhow!(
                "no baseline named '{reference}', and no run matches '{reference}'\nhint: `plumb baseline list` shows the \
                 baselines and `plumb history` the runs; --baseline takes a baseline's name or \
                 any run reference (an id prefix, latest~1, a JSON result file)"
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
