//! plumb's ledger: every `plumb load` and `plumb bench` run kept in one SQLite database.
//!
//! This is the only crate that touches SQLite. [`Ledger::open`] creates the database on first use
//! (WAL mode, a busy timeout, schema migrations by `PRAGMA user_version`); [`Ledger::save`] stores a
//! [`NewRun`] in one transaction, so a process killed mid-save leaves every earlier run intact;
//! [`Ledger::resolve`] turns what a user types (`latest`, `latest~2`, `baseline:main`, an id
//! prefix) into a stored run. [`locate`] finds `.plumb/ledger.db` by walking up like `.git`, and
//! [`context`] gathers who/where facts (git commit, host fingerprint) to store with a run.

pub mod context;
mod error;
mod locate;
mod migrate;
mod monitor;
mod notes;
mod run;
mod store;

pub use context::{GitInfo, HostFingerprint};
pub use error::LedgerError;
pub use locate::{locate, LEDGER_DIR, LEDGER_FILE};
pub use migrate::SCHEMA_VERSION;
pub use monitor::{MonitorAlert, MonitorBucket};
pub use notes::Note;
pub use run::{Labels, NewRun, ReadResult, RunKind, RunRecord, RunResult, RunSummary};
pub use store::{Baseline, HistoryFilter, Ledger};
