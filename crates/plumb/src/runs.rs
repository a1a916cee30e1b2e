//! Finding the ledger and the runs that subcommands name: shared by `history`, `show`,
//! `baseline`, `compare` and `gate`.

use plumb_cli::LedgerPath;
use plumb_ledger::{Ledger, LedgerError, RunRecord};
use std::path::Path;

/// Open the ledger named by `--ledger`/`PLUMB_LEDGER`, or found from the working directory.
pub fn open(path: &LedgerPath) -> anyhow::Result<Ledger> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let location = plumb_ledger::locate(path.ledger.as_deref(), &cwd);
    Ledger::open(&location).map_err(explained)
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
    if ledger.is_none() {
        *ledger = Some(open(path)?);
    }
    let ledger = ledger.as_ref().expect("opened above");
    ledger.resolve(reference).map_err(explained)
}

/// A ledger error as one message with its cause and a `hint:` line.
pub fn explained(error: LedgerError) -> anyhow::Error {
    let cause = std::error::Error::source(&error)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    anyhow::anyhow!("{error}{cause}\nhint: {}", error.hint())
}
