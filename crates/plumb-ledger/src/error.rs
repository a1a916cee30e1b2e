//! Errors of the ledger, each naming the database, run or file concerned, with a hint for users.

use std::path::PathBuf;

/// Everything that can go wrong when opening, writing or reading the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// SQLite refused an operation on the database at `path`.
    #[error("ledger '{path}': {action} failed: {}", cause(source))]
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
    #[error("cannot create the ledger directory '{path}': {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A command that only reads found no ledger at `path`.
    #[error("there is no ledger at '{path}' yet")]
    Missing {
        /// Where the ledger was looked for.
        path: PathBuf,
    },
    /// A result (file or stored run) has a newer `schema_version` than this plumb reads.
    #[error("'{origin}' was written by a newer plumb (schema {found}, this plumb reads up to {supported})")]
    NewerResult {
        /// The file path or run id.
        origin: String,
        /// The `schema_version` found.
        found: u64,
        /// The newest this build reads.
        supported: u32,
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
    #[error("cannot read the result file '{path}': {source}")]
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
            LedgerError::Sqlite { source, .. } => sqlite_hint(source).into(),
            LedgerError::Missing { .. } => {
                "`plumb load` and `plumb bench` save every run there; pass --ledger PATH (or set \
                 PLUMB_LEDGER) to read another ledger"
                    .into()
            }
            LedgerError::NewerResult { .. } => {
                "upgrade plumb to read it (or read it with the plumb that wrote it)".into()
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

/// SQLite's error in words: the cause a user can act on.
fn cause(error: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode as Code;
    let words = match error.sqlite_error_code() {
        Some(Code::DiskFull) => "the disk is full",
        Some(Code::ReadOnly) => "the ledger is read-only",
        Some(Code::NotADatabase) => "the file is not a plumb ledger (not an SQLite database)",
        Some(Code::CannotOpen) => "the file cannot be opened",
        Some(Code::PermissionDenied) => "permission denied",
        Some(Code::DatabaseBusy) | Some(Code::DatabaseLocked) => {
            "another process held the ledger past the busy timeout"
        }
        Some(Code::SystemIoFailure) => "an I/O error (a full or failing disk?)",
        _ => return error.to_string(),
    };
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => format!("{words} ({message})"),
        _ => words.to_owned(),
    }
}

/// What to do about SQLite's error.
fn sqlite_hint(error: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode as Code;
    match error.sqlite_error_code() {
        Some(Code::DiskFull) | Some(Code::SystemIoFailure) => {
            "free some space, or point --ledger (PLUMB_LEDGER) at another disk; --no-save skips saving"
        }
        Some(Code::ReadOnly) | Some(Code::PermissionDenied) | Some(Code::CannotOpen) => {
            "check the permissions of the file and its directory, or pass --ledger PATH; \
             --no-save skips saving"
        }
        Some(Code::NotADatabase) => {
            "pass --ledger PATH to a plumb ledger, or to a new file to start one"
        }
        Some(Code::DatabaseBusy) | Some(Code::DatabaseLocked) => {
            "retry once the other plumb has finished saving"
        }
        _ => "check that the file is a plumb ledger and writable, or pass --ledger PATH",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32, action: &'static str) -> LedgerError {
        LedgerError::Sqlite {
            path: "l.db".into(),
            action,
            source: rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None),
        }
    }

    #[test]
    fn a_full_disk_is_named_as_such() {
        let error = sqlite(rusqlite::ffi::SQLITE_FULL, "switch to WAL mode");
        assert_eq!(
            error.to_string(),
            "ledger 'l.db': switch to WAL mode failed: the disk is full"
        );
        assert!(
            error.hint().starts_with("free some space"),
            "{}",
            error.hint()
        );
    }

    #[test]
    fn read_only_and_not_a_database_get_their_own_hints() {
        let read_only = sqlite(rusqlite::ffi::SQLITE_READONLY, "save a run");
        assert!(read_only.to_string().contains("the ledger is read-only"));
        assert!(read_only.hint().starts_with("check the permissions"));
        let garbage = sqlite(rusqlite::ffi::SQLITE_NOTADB, "open");
        assert!(garbage.to_string().contains("not a plumb ledger"));
        assert!(garbage
            .hint()
            .starts_with("pass --ledger PATH to a plumb ledger"));
    }
}
