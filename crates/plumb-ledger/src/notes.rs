//! The optimization log: a note on a run (`plumb note "add an index on orders(user_id)"`), kept
//! in the order notes were written, so `plumb log` can list every change with its measured impact.

use crate::{Ledger, LedgerError};
use rusqlite::params;
use std::time::SystemTime;

/// A note on a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The note's number, in the order notes were written.
    pub id: i64,
    /// The run it is about.
    pub run_id: String,
    /// When it was written, RFC 3339 UTC.
    pub created_at: String,
    /// What changed.
    pub text: String,
}

impl Ledger {
    /// Attach `text` to the run `reference` resolves to; returns the run's id.
    pub fn add_note(&mut self, reference: &str, text: &str) -> Result<String, LedgerError> {
        let id = self.resolve_id(reference)?;
        let created_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        self.conn
            .execute(
                "INSERT INTO notes (run_id, created_at, text) VALUES (?1, ?2, ?3)",
                params![id, created_at, text],
            )
            .map_err(self.sqlite("add a note"))?;
        Ok(id)
    }

    /// Every note, oldest first.
    pub fn notes(&self) -> Result<Vec<Note>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, run_id, created_at, text FROM notes ORDER BY id")
            .map_err(self.sqlite("list notes"))?;
        let rows = stmt
            .query_map([], |row| {
                Ok(Note {
                    id: row.get(0)?,
                    run_id: row.get(1)?,
                    created_at: row.get(2)?,
                    text: row.get(3)?,
                })
            })
            .map_err(self.sqlite("list notes"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.sqlite("list notes"))
    }
}
