//! A ledger written by an older plumb (schema v1, made here by hand) opens and is migrated, with
//! its runs intact; a ledger from a newer plumb is refused.

use crate::new_run;
use plumb_ledger::{Ledger, LedgerError, SCHEMA_VERSION};

const V1: &str = "CREATE TABLE runs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT, started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL, command_line TEXT NOT NULL, settings TEXT NOT NULL,
    plumb_version TEXT NOT NULL, git_commit TEXT, git_dirty INTEGER, host TEXT NOT NULL,
    interrupted INTEGER NOT NULL, headline TEXT NOT NULL, result TEXT NOT NULL);
  CREATE TABLE labels (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));
  PRAGMA user_version = 1;";

#[test]
fn a_v1_ledger_is_migrated_to_the_current_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let result = crate::new_run(None, &[], 0).result.to_json();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(V1).unwrap();
        conn.execute(
            "INSERT INTO runs VALUES ('00018bcfe5680deadbeef', 'bench', 'old', '2023-11-14T22:13:20.000Z',
             '2023-11-14T22:13:21.000Z', 'plumb bench x', '{}', '0.0.9', NULL, NULL, '{}', 0, 'x', ?1)",
            [&result],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO labels VALUES ('00018bcfe5680deadbeef', 'k', 'v')",
            [],
        )
        .unwrap();
    }
    let mut ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.schema_version().unwrap(), SCHEMA_VERSION);
    const { assert!(SCHEMA_VERSION >= 2) };
    let old = ledger.resolve("latest").unwrap();
    assert_eq!(old.name.as_deref(), Some("old"));
    assert_eq!(old.labels.get("k").map(String::as_str), Some("v"));
    assert_eq!(
        old.host, None,
        "an unreadable fingerprint is unknown, not an error"
    );
    // v2's table works on the migrated file.
    ledger.set_baseline("main", "latest").unwrap();
    let new = ledger.save(&new_run(None, &[], 5)).unwrap();
    assert_eq!(ledger.resolve_id("latest").unwrap(), new);
    drop(ledger);
    // Opening again is a no-op.
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.count().unwrap(), 2);
}

#[test]
fn a_ledger_from_a_newer_plumb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    let err = Ledger::open(&path).unwrap_err();
    assert!(
        matches!(err, LedgerError::TooNew { found: 99, .. }),
        "{err}"
    );
    assert!(err.hint().contains("upgrade"));
}
