//! pg_stat_activity: client connections by state against max_connections, queries and
//! transactions running past a threshold, and queries waiting on a lock with their blockers.

use crate::connect::Session;
use crate::error::DbError;
use plumb_schema::db::{Backend, BlockedQuery, Connections};
use std::time::Duration;

/// Client connections by state.
pub fn connections(session: &Session) -> Result<Connections, DbError> {
    let rows = session.rows(
        "counting connections",
        "SELECT count(*), current_setting('max_connections')::int8, \
         count(*) FILTER (WHERE state = 'active'), count(*) FILTER (WHERE state = 'idle'), \
         count(*) FILTER (WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')), \
         count(*) FILTER (WHERE state IN ('idle in transaction', 'idle in transaction (aborted)') \
                          AND now() - state_change > interval '5 minutes'), \
         count(*) FILTER (WHERE wait_event_type = 'Lock') \
         FROM pg_stat_activity WHERE backend_type = 'client backend'",
    )?;
    let row = &rows[0];
    Ok(Connections {
        total: row.get(0),
        max_connections: row.get(1),
        active: row.get(2),
        idle: row.get(3),
        idle_in_transaction: row.get(4),
        idle_in_transaction_over_5m: row.get(5),
        waiting_on_lock: row.get(6),
    })
}

const BACKEND_COLUMNS: &str = "pid, usename::text, application_name, state, \
    extract(epoch FROM now() - query_start)::float8, extract(epoch FROM now() - xact_start)::float8, \
    CASE WHEN wait_event_type IS NULL THEN NULL ELSE wait_event_type || ': ' || wait_event END, \
    left(regexp_replace(query, '\\s+', ' ', 'g'), 1000)";

fn backend(row: &tokio_postgres::Row) -> Backend {
    Backend {
        pid: row.get(0),
        user: row.get(1),
        application: row.get(2),
        state: row.get(3),
        query_secs: row.get(4),
        transaction_secs: row.get(5),
        wait: row.get(6),
        query: row.get(7),
    }
}

/// Client sessions whose query (or open transaction) has lasted longer than `threshold`.
pub fn long_running(session: &Session, threshold: Duration) -> Result<Vec<Backend>, DbError> {
    let sql = format!(
        "SELECT {BACKEND_COLUMNS} FROM pg_stat_activity \
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state <> 'idle' \
         AND (now() - query_start > $1::float8 * interval '1 second' \
              OR now() - xact_start > $1::float8 * interval '1 second') \
         ORDER BY least(query_start, xact_start)"
    );
    let secs = threshold.as_secs_f64();
    let rows = session.rows_with("finding long-running queries", &sql, &[&secs])?;
    Ok(rows.iter().map(backend).collect())
}

/// Sessions waiting on a lock, each with the sessions it waits for.
pub fn blocked(session: &Session) -> Result<Vec<BlockedQuery>, DbError> {
    let sql = format!(
        "SELECT {BACKEND_COLUMNS}, pg_blocking_pids(pid) FROM pg_stat_activity \
         WHERE pid <> pg_backend_pid() AND cardinality(pg_blocking_pids(pid)) > 0 ORDER BY query_start"
    );
    let rows = session.rows("finding blocked queries", &sql)?;
    let mut found = Vec::new();
    for row in &rows {
        let blocked_by: Vec<i32> = row.get(8);
        let blockers = blockers(session, &blocked_by)?;
        let fix = fix_for(&blockers);
        found.push(BlockedQuery {
            waiting: backend(row),
            blocked_by,
            blockers,
            fix,
        });
    }
    Ok(found)
}

fn blockers(session: &Session, pids: &[i32]) -> Result<Vec<Backend>, DbError> {
    let sql =
        format!("SELECT {BACKEND_COLUMNS} FROM pg_stat_activity WHERE pid = ANY($1) ORDER BY pid");
    let rows = session.rows_with("reading the blocking sessions", &sql, &[&pids])?;
    Ok(rows.iter().map(backend).collect())
}

fn fix_for(blockers: &[Backend]) -> String {
    let idle = blockers.iter().find(|b| {
        b.state
            .as_deref()
            .is_some_and(|s| s.starts_with("idle in transaction"))
    });
    match idle {
        Some(b) => format!(
            "session {} holds the lock while idle in a transaction: have its application commit or roll back promptly (set idle_in_transaction_session_timeout); end it now with SELECT pg_terminate_backend({});",
            b.pid, b.pid
        ),
        None => "shorten the blocking transactions, or take locks in one order everywhere; pg_cancel_backend(pid) ends a blocker's query".to_owned(),
    }
}
