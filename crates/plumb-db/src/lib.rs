//! PostgreSQL analysis behind `plumb db`: connect (a `postgres://` URL or libpq's variables,
//! rustls by `sslmode`, bounded timeouts, read-only by default), check what the server offers
//! and say how to turn on what is missing, then report slow statements, N+1 suspects,
//! missing/unused/duplicate/invalid indexes, unindexed foreign keys, cache hit ratios,
//! connections, long-running and blocked queries, bloat and overdue maintenance; EXPLAIN a
//! statement safely with insights read from its plan; and snapshot the statistics around a load.
//!
//! Nothing here prints: every function returns a `plumb-schema` value or a [`DbError`] with a
//! hint. Nothing writes to the database but [`reset_stats`], which its caller must be asked for.

mod activity;
mod capability;
mod catalog;
mod connect;
mod error;
mod explain;
mod health;
mod indexes;
mod missing;
mod plan;
mod report;
mod snapshot;
mod statements;
mod tls;

pub use catalog::{Catalog, Table};
pub use connect::{redact, Access, ConnectOptions, Session, MARKER};
pub use error::DbError;
pub use explain::{explain, ExplainSettings};
pub use report::{bytes, report, ReportSettings};
pub use snapshot::{difference, is_control, load_stats, snapshot, LoadWatch, Snapshot};
pub use statements::looks_like_lookup;

/// Reset pg_stat_statements (all of this server's statements). Needs a session with
/// [`Access::ReadWrite`], and a user who said so (`plumb db reset-stats --yes`).
pub fn reset_stats(session: &Session) -> Result<(), DbError> {
    session
        .rows(
            "resetting pg_stat_statements",
            "SELECT pg_stat_statements_reset()",
        )
        .map(|_| ())
}
