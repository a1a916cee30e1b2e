//! `plumb db`: check the capabilities, then run each section with what is there. A section that
//! fails (a privilege, a missing view) is recorded as skipped with its reason and hint; the
//! others still run. The session is read-only throughout.

use crate::capability::{self, Capabilities};
use crate::connect::Session;
use crate::error::DbError;
use crate::statements::{self, Suspicion};
use crate::{activity, health, indexes, missing};
use plumb_schema::db::{
    CacheHitRatios, Connections, DbReport, Skipped, StatementStats, DB_SCHEMA_VERSION,
};
use std::time::Duration;

/// What the report shows.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// Statements listed by total and by mean time.
    pub top: usize,
    /// A query or transaction running longer than this is listed.
    pub long_running: Duration,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            top: 10,
            long_running: Duration::from_secs(60),
        }
    }
}

/// An N+1 suspect over the statistics' life: at least 100 calls of at most 2 rows each.
pub const LIFETIME_SUSPICION: Suspicion = Suspicion {
    min_calls: 100,
    max_rows_per_call: 2.0,
};

/// Build the report.
pub fn report(session: &Session, settings: &ReportSettings) -> Result<DbReport, DbError> {
    let caps = capability::check(session)?;
    let mut skipped = Vec::new();
    let mut notes = Vec::new();
    let entries = statement_entries(session, &caps, &mut skipped);
    let all: Vec<_> = entries.iter().map(|e| e.statement.clone()).collect();
    let stats: Option<StatementStats> =
        (caps.statements).then(|| statements::rank(&entries, settings.top));
    let n_plus_one = statements::n_plus_one(&all, LIFETIME_SUSPICION, None);
    let mut section = |name: &str, e: DbError| skipped.push(skip(name, e));
    let missing_indexes = missing::candidates(session, &all, caps.hypopg, &mut notes)
        .unwrap_or_else(|e| {
            section("missing indexes", e);
            Vec::new()
        });
    let stats_since = caps.server.stats_since.clone();
    let unused_indexes = indexes::unused(session, stats_since.as_deref()).unwrap_or_else(|e| {
        section("unused indexes", e);
        Vec::new()
    });
    let duplicate_indexes = indexes::duplicates(session).unwrap_or_else(|e| {
        section("duplicate indexes", e);
        Vec::new()
    });
    let invalid_indexes = indexes::invalid(session).unwrap_or_else(|e| {
        section("invalid indexes", e);
        Vec::new()
    });
    let unindexed_foreign_keys = indexes::unindexed_foreign_keys(session).unwrap_or_else(|e| {
        section("foreign keys", e);
        Vec::new()
    });
    let cache = health::cache(session).unwrap_or_else(|e| {
        section("cache hit ratios", e);
        CacheHitRatios {
            table: None,
            index: None,
        }
    });
    let connections = activity::connections(session).unwrap_or_else(|e| {
        section("connections", e);
        no_connections()
    });
    let long_running = activity::long_running(session, settings.long_running).unwrap_or_else(|e| {
        section("long-running queries", e);
        Vec::new()
    });
    let blocked = activity::blocked(session).unwrap_or_else(|e| {
        section("blocked queries", e);
        Vec::new()
    });
    let bloat = health::bloat(session).unwrap_or_else(|e| {
        section("bloat", e);
        Vec::new()
    });
    let maintenance = health::maintenance(session).unwrap_or_else(|e| {
        section("vacuum and analyze", e);
        Vec::new()
    });
    skipped.extend(notes.into_iter().map(|reason| Skipped {
        section: "missing indexes".to_owned(),
        reason,
        hint: None,
    }));
    Ok(DbReport {
        schema_version: DB_SCHEMA_VERSION,
        kind: "db".to_owned(),
        server: caps.server,
        capabilities: caps.list,
        statements: stats,
        n_plus_one,
        missing_indexes,
        unused_indexes,
        duplicate_indexes,
        invalid_indexes,
        unindexed_foreign_keys,
        cache,
        connections,
        long_running,
        blocked,
        bloat,
        maintenance,
        skipped,
    })
}

fn statement_entries(
    session: &Session,
    caps: &Capabilities,
    skipped: &mut Vec<Skipped>,
) -> Vec<statements::Entry> {
    if !caps.statements {
        let hint = caps
            .list
            .iter()
            .find(|c| c.name == "pg_stat_statements")
            .and_then(|c| c.hint.clone());
        skipped.push(Skipped {
            section: "statements and N+1 suspects".to_owned(),
            reason: "pg_stat_statements cannot be read".to_owned(),
            hint,
        });
        return Vec::new();
    }
    match statements::read(session, caps.server.version_num) {
        Ok(entries) => entries,
        Err(e) => {
            skipped.push(skip("statements and N+1 suspects", e));
            Vec::new()
        }
    }
}

fn skip(section: &str, error: DbError) -> Skipped {
    Skipped {
        section: section.to_owned(),
        hint: Some(error.hint()),
        reason: error.to_string(),
    }
}

fn no_connections() -> Connections {
    Connections {
        total: 0,
        max_connections: 0,
        active: 0,
        idle: 0,
        idle_in_transaction: 0,
        idle_in_transaction_over_5m: 0,
        waiting_on_lock: 0,
    }
}

/// `4.4 MB`, `12 kB`, `512 B`.
pub fn bytes(n: i64) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} GB", n / (1024.0 * 1024.0 * 1024.0))
    } else if n >= 1024.0 * 1024.0 {
        format!("{:.1} MB", n / (1024.0 * 1024.0))
    } else if n >= 1024.0 {
        format!("{:.0} kB", n / 1024.0)
    } else {
        format!("{n:.0} B")
    }
}
