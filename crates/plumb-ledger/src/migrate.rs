//! The ledger's schema, versioned by `PRAGMA user_version`: migration *k* takes a database from
//! version *k* to *k + 1*, inside the same transaction that bumps the version, so a crash leaves
//! either the old schema or the new one.

use rusqlite::{Connection, TransactionBehavior};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `MIGRATIONS[k]` upgrades version `k` to `k + 1`.
const MIGRATIONS: [&str; 4] = [
    // v1: runs and their labels.
    "CREATE TABLE runs (
        id            TEXT PRIMARY KEY,
        kind          TEXT NOT NULL,
        name          TEXT,
        started_at    TEXT NOT NULL,
        ended_at      TEXT NOT NULL,
        command_line  TEXT NOT NULL,
        settings      TEXT NOT NULL,
        plumb_version TEXT NOT NULL,
        git_commit    TEXT,
        git_dirty     INTEGER,
        host          TEXT NOT NULL,
        interrupted   INTEGER NOT NULL,
        headline      TEXT NOT NULL,
        result        TEXT NOT NULL
    );
    CREATE TABLE labels (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key    TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
    );",
    // v2: named baselines, and an index for `plumb history --name`.
    "CREATE TABLE baselines (
        name   TEXT PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id),
        set_at TEXT NOT NULL
    );
    CREATE INDEX runs_by_name ON runs(name, id);",
    // v3: the optimization log: notes on runs (`plumb note`), in the order they were written.
    "CREATE TABLE notes (
        id         INTEGER PRIMARY KEY,
        run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        text       TEXT NOT NULL
    );
    CREATE INDEX notes_by_run ON notes(run_id);",
    // v4: `plumb monitor`'s state: event counts per time bucket and series (an SLO, the error
    // rate), pruned to each series' window, and each alert's phase, so a restart keeps the
    // budget and does not fire again.
    "CREATE TABLE monitor_buckets (
        monitor TEXT NOT NULL,
        series  TEXT NOT NULL,
        start   INTEGER NOT NULL,
        good    INTEGER NOT NULL,
        total   INTEGER NOT NULL,
        PRIMARY KEY (monitor, series, start)
    ) WITHOUT ROWID;
    CREATE TABLE monitor_alerts (
        monitor TEXT NOT NULL,
        alert   TEXT NOT NULL,
        state   TEXT NOT NULL,
        PRIMARY KEY (monitor, alert)
    ) WITHOUT ROWID;",
];

/// Outcome of [`migrate`]: the version found before upgrading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrated {
    /// Already at [`SCHEMA_VERSION`].
    Current,
    /// Upgraded from this version.
    From(i64),
    /// The file is newer than this build.
    TooNew(i64),
}

/// Bring the database to [`SCHEMA_VERSION`] in one immediate transaction (so two processes that
/// open a fresh ledger at once do not both create it).
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<Migrated> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current == SCHEMA_VERSION {
        return Ok(Migrated::Current);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Ok(Migrated::TooNew(found));
    }
    for sql in &MIGRATIONS[found as usize..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(if found == SCHEMA_VERSION {
        Migrated::Current
    } else {
        Migrated::From(found)
    })
}
