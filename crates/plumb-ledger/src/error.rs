//! Errors of the ledger, each naming the database, run or file concerned, with a hint for users.

use std::path::PathBuf;

/// Everything that can go wrong when opening, writing or reading the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// SQLite refused an operation on the database at `path`.
    #[error("ledger '{path}': {action} failed")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What was being done ("open", "save a run", ...).
        action: &'static str,
        /// SQLite's own error.
        #[source]
        source: rusqlite::Error,
    },
    /// The ledger's directory could not be created.
    #[error("cannot create the ledger directory '{path}'")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The database was written by a newer plumb.
    #[error("ledger '{path}' has schema version {found}, newer than this plumb's {supported}")]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// No run matched what the user typed.
    #[error("no run matches '{reference}'")]
    UnknownRun {
        /// What the user typed.
        reference: String,
    },
    /// An id prefix matched several runs.
    #[error("run id prefix '{reference}' is ambiguous: it matches {candidates}")]
    AmbiguousRun {
        /// What the user typed.
        reference: String,
        /// A few of the matching ids, comma-separated.
        candidates: String,
    },
    /// `baseline:NAME` names no baseline.
    #[error("no baseline named '{name}'")]
    UnknownBaseline {
        /// The baseline's name.
        name: String,
    },
    /// A result file could not be read.
    #[error("cannot read the result file '{path}'")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A result file (or a stored result) is not a plumb load or bench result.
    #[error("'{origin}' is not a plumb load or bench JSON result: {reason}")]
    BadResult {
        /// The file path or run id.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl LedgerError {
    /// What the user can do about this error.
    pub fn hint(&self) -> String {
        match self {
            LedgerError::Sqlite { .. } => {
                "check that the file is a plumb ledger and writable, or pass --ledger PATH".into()
            }
            LedgerError::CreateDir { .. } => {
                "pass --ledger PATH (or set PLUMB_LEDGER) to a writable location, or use --no-save"
                    .into()
            }
            LedgerError::TooNew { .. } => "upgrade plumb to read this ledger".into(),
            LedgerError::UnknownRun { .. } => {
                "`plumb history` lists the runs; RUN is an id prefix, `latest`, `latest~N`, \
                 `baseline:NAME` or a JSON result file"
                    .into()
            }
            LedgerError::AmbiguousRun { .. } => "type more characters of the id".into(),
            LedgerError::UnknownBaseline { .. } => {
                "`plumb baseline list` shows the baselines; `plumb baseline set NAME RUN` makes one"
                    .into()
            }
            LedgerError::ReadFile { .. } => "check the path".into(),
            LedgerError::BadResult { .. } => {
                "pass a file written by `plumb load --json` or `plumb bench --json`".into()
            }
        }
    }
}
