//! Saving a finished `plumb load` or `plumb bench` run to the ledger, first thing after the run
//! (before any file is written or anything printed, so that no output failure can lose it). A
//! failure here is a warning on stderr, never a lost result: the result is still written and
//! printed.

use plumb_cli::LedgerArgs;
use plumb_ledger::{GitInfo, HostFingerprint, Ledger, LedgerError, NewRun, RunResult};
use std::time::SystemTime;

/// Save `result` unless `--no-save`, and return its run id; warn on stderr when it cannot be
/// saved.
pub fn save(args: &LedgerArgs, result: RunResult, started_at: SystemTime) -> Option<String> {
    if args.no_save {
        return None;
    }
    match try_save(args, result, started_at) {
        Ok(id) => Some(id),
        Err(error) => {
            crate::output::log(&format!(
                "warning: the run was not saved to the ledger: {error}\nhint: {}",
                error.hint()
            ));
            None
        }
    }
}

fn try_save(
    args: &LedgerArgs,
    result: RunResult,
    started_at: SystemTime,
) -> Result<String, LedgerError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let path = plumb_ledger::locate(args.ledger.as_deref(), &cwd);
    let mut ledger = Ledger::open(&path)?;
    let run = NewRun {
        name: args.run_name.clone(),
        labels: args.label_map(),
        started_at,
        ended_at: SystemTime::now(),
        command_line: command_line(),
        plumb_version: env!("CARGO_PKG_VERSION").to_owned(),
        git: GitInfo::of(&cwd),
        host: HostFingerprint::current(),
        result,
    };
    ledger.save(&run)
}

/// This process's command line as `plumb ARGS`, each argument quoted when a shell would need it.
fn command_line() -> String {
    std::iter::once("plumb".to_owned())
        .chain(std::env::args().skip(1).map(|arg| without_password(&arg)))
        .map(|arg| {
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
            if plain {
                arg
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A URL's password (`postgres://user:secret@host`, libpq's `password=secret`) as `***`, so
/// the ledger never stores it.
fn without_password(arg: &str) -> String {
    if arg.contains("://") || arg.contains("password=") {
        plumb_db::redact(arg)
    } else {
        arg.to_owned()
    }
}
