//! What a load cost the database (`plumb load --db`): pg_stat_statements read before and after
//! the run (no reset: the difference of the cumulative counters, an entry whose counters went
//! down counted from zero), and pg_stat_activity sampled during it on a thread of its own.

use crate::connect::{redact, ConnectOptions, Session};
use crate::error::DbError;
use crate::statements::{self, Entry, Suspicion};
use plumb_schema::db::{ConnectionsUsed, LoadDbStats, Statement, DB_SCHEMA_VERSION};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often pg_stat_activity is sampled during a load: often enough that a load of a few
/// hundred milliseconds is seen (at 200 ms a 150 ms load was sampled only before it began).
const SAMPLE_EVERY: Duration = Duration::from_millis(25);
/// Statements listed as the load's top.
const TOP: usize = 10;
/// An N+1 suspect of a load: at least 3 calls per request (checked with the requests), at most
/// 2 rows per call.
const LOAD_SUSPICION: Suspicion = Suspicion {
    min_calls: 3,
    max_rows_per_call: 2.0,
};

/// pg_stat_statements at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    entries: HashMap<(i64, i64), Statement>,
    reset_at: Option<String>,
    /// Entries pg_stat_statements evicted (it was full) since its reset (PG14+).
    evicted: Option<i64>,
}

/// Read pg_stat_statements now.
pub fn snapshot(session: &Session) -> Result<Snapshot, DbError> {
    let version = server_version(session)?;
    let entries = statements::read(session, version)?;
    let info = info(session, version);
    Ok(Snapshot {
        entries: entries
            .into_iter()
            .map(|Entry { key, statement }| (key, statement))
            .collect(),
        reset_at: info.as_ref().and_then(|(at, _)| at.clone()),
        evicted: info.map(|(_, evicted)| evicted),
    })
}

fn server_version(session: &Session) -> Result<i32, DbError> {
    let rows = session.rows(
        "reading the server's version",
        "SELECT current_setting('server_version_num')::int4",
    )?;
    Ok(rows[0].get(0))
}

/// pg_stat_statements_info's reset time and evicted entries (PG14+).
fn info(session: &Session, version: i32) -> Option<(Option<String>, i64)> {
    if version < 140000 {
        return None;
    }
    let rows = session
        .rows(
            "reading pg_stat_statements_info",
            "SELECT stats_reset::text, dealloc FROM pg_stat_statements_info",
        )
        .ok()?;
    rows.first().map(|r| (r.get(0), r.get(1)))
}

/// The change of each statement from `before` to `after`, statements that did not run left out.
pub fn difference(before: &Snapshot, after: &Snapshot) -> Vec<Statement> {
    let mut changed: Vec<Statement> = after
        .entries
        .iter()
        .filter_map(|(key, now)| {
            let delta = match before.entries.get(key) {
                Some(then) if now.calls >= then.calls => minus(now, then),
                _ => now.clone(),
            };
            (delta.calls > 0).then_some(delta)
        })
        .collect();
    changed.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    changed
}

fn minus(now: &Statement, then: &Statement) -> Statement {
    let calls = now.calls - then.calls;
    let total_ms = (now.total_ms - then.total_ms).max(0.0);
    Statement {
        queryid: now.queryid,
        query: now.query.clone(),
        calls,
        total_ms,
        mean_ms: total_ms / calls.max(1) as f64,
        rows: now.rows - then.rows,
        shared_blks_hit: now.shared_blks_hit - then.shared_blks_hit,
        shared_blks_read: now.shared_blks_read - then.shared_blks_read,
        temp_blks_read: now.temp_blks_read - then.temp_blks_read,
        temp_blks_written: now.temp_blks_written - then.temp_blks_written,
        time_share: 0.0,
    }
}

/// Transaction and session control: run by the database, not queries of the application.
pub fn is_control(query: &str) -> bool {
    let first = query
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == ';')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(
        first.as_str(),
        "begin"
            | "start"
            | "commit"
            | "end"
            | "rollback"
            | "abort"
            | "savepoint"
            | "release"
            | "set"
            | "reset"
            | "show"
            | "discard"
            | "deallocate"
    )
}

/// The load's figures from the statements' changes.
pub fn load_stats(
    target: &str,
    changed: &[Statement],
    requests: u64,
    mean_latency_ms: Option<f64>,
    connections: ConnectionsUsed,
) -> LoadDbStats {
    let (control, queries): (Vec<&Statement>, Vec<&Statement>) =
        changed.iter().partition(|s| is_control(&s.query));
    let query_count: i64 = queries.iter().map(|s| s.calls).sum();
    let db_time_ms: f64 = changed.iter().map(|s| s.total_ms).sum();
    let per = |v: f64| (requests > 0).then(|| v / requests as f64);
    let per_request_ms = per(db_time_ms);
    let (hit, read) = changed.iter().fold((0i64, 0i64), |(h, r), s| {
        (h + s.shared_blks_hit, r + s.shared_blks_read)
    });
    let owned: Vec<Statement> = queries.iter().map(|s| (*s).clone()).collect();
    let mut top = owned.clone();
    for s in &mut top {
        s.time_share = if db_time_ms > 0.0 {
            s.total_ms / db_time_ms
        } else {
            0.0
        };
    }
    top.truncate(TOP);
    LoadDbStats {
        schema_version: DB_SCHEMA_VERSION,
        target: target.to_owned(),
        requests,
        queries: query_count,
        transaction_statements: control.iter().map(|s| s.calls).sum(),
        queries_per_request: per(query_count as f64),
        db_time_ms,
        db_time_per_request_ms: per_request_ms,
        latency_share: per_request_ms
            .zip(mean_latency_ms.filter(|m| *m > 0.0))
            .map(|(d, m)| d / m),
        top_statements: top,
        n_plus_one: statements::n_plus_one(&owned, LOAD_SUSPICION, Some(requests)),
        cache_hit_ratio: (hit + read > 0).then(|| hit as f64 / (hit + read) as f64),
        connections,
        notes: Vec::new(),
    }
}

/// pg_stat_statements and pg_stat_activity watched around a load.
pub struct LoadWatch {
    session: Session,
    target: String,
    before: Snapshot,
    stop: Arc<AtomicBool>,
    used: Arc<Mutex<ConnectionsUsed>>,
    sampler: Option<std::thread::JoinHandle<()>>,
}

impl LoadWatch {
    /// Connect (twice: snapshots, and the sampler), check pg_stat_statements, take the first
    /// snapshot and start sampling connections.
    pub fn start(options: &ConnectOptions) -> Result<LoadWatch, DbError> {
        let session = Session::connect(options)?;
        let before = snapshot(&session).map_err(explain_missing)?;
        let sampler = Session::connect(options)?;
        let own = own_pid(&session)?;
        let stop = Arc::new(AtomicBool::new(false));
        let used = Arc::new(Mutex::new(ConnectionsUsed {
            max_total: 0,
            max_active: 0,
            max_idle_in_transaction: 0,
            max_connections: 0,
            samples: 0,
        }));
        let thread = {
            let (stop, used) = (stop.clone(), used.clone());
            std::thread::spawn(move || sample(&sampler, own, &stop, &used))
        };
        Ok(LoadWatch {
            target: options
                .url
                .as_deref()
                .map_or_else(|| session.target().to_owned(), redact),
            session,
            before,
            stop,
            used,
            sampler: Some(thread),
        })
    }

    /// Stop sampling, take the second snapshot, and divide by the load's requests.
    pub fn finish(
        mut self,
        requests: u64,
        mean_latency_ms: Option<f64>,
    ) -> Result<LoadDbStats, DbError> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.sampler.take() {
            let _ = thread.join();
        }
        let after = snapshot(&self.session)?;
        let changed = difference(&self.before, &after);
        let used = self
            .used
            .lock()
            .map(|u| u.clone())
            .unwrap_or_else(|e| e.into_inner().clone());
        let mut stats = load_stats(&self.target, &changed, requests, mean_latency_ms, used);
        if self.before.reset_at != after.reset_at {
            stats.notes.push("pg_stat_statements was reset during the run: statements are counted from the reset".to_owned());
        }
        if let (Some(before), Some(after)) = (self.before.evicted, after.evicted) {
            if after > before {
                stats.notes.push(format!(
                    "pg_stat_statements evicted {} entries during the run (it was full): statements of evicted entries are undercounted; raise pg_stat_statements.max",
                    after - before
                ));
            }
        }
        if stats.connections.samples == 0 {
            stats
                .notes
                .push("pg_stat_activity could not be sampled: connections are unknown".to_owned());
        }
        Ok(stats)
    }
}

impl Drop for LoadWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn explain_missing(error: DbError) -> DbError {
    match &error {
        DbError::Query { code: Some(code), message, .. } if code == "42P01" || code == "55000" => {
            DbError::Refusal(
                format!("--db needs pg_stat_statements, which cannot be read: {message}"),
                "add pg_stat_statements to shared_preload_libraries (restart), then CREATE EXTENSION pg_stat_statements; in this database (`plumb db URL` checks it all)".to_owned(),
            )
        }
        _ => error,
    }
}

fn own_pid(session: &Session) -> Result<i32, DbError> {
    let rows = session.rows("reading plumb's backend pid", "SELECT pg_backend_pid()")?;
    Ok(rows[0].get(0))
}

fn sample(session: &Session, other: i32, stop: &AtomicBool, used: &Mutex<ConnectionsUsed>) {
    let sql = "SELECT count(*), count(*) FILTER (WHERE state = 'active'), \
               count(*) FILTER (WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')), \
               current_setting('max_connections')::int8 \
               FROM pg_stat_activity WHERE backend_type = 'client backend' \
               AND pid <> pg_backend_pid() AND pid <> $1";
    while !stop.load(Ordering::Relaxed) {
        if let Ok(rows) = session.rows_with("sampling connections", sql, &[&other]) {
            let row = &rows[0];
            if let Ok(mut u) = used.lock() {
                u.max_total = u.max_total.max(row.get(0));
                u.max_active = u.max_active.max(row.get(1));
                u.max_idle_in_transaction = u.max_idle_in_transaction.max(row.get(2));
                u.max_connections = row.get(3);
                u.samples += 1;
            }
        }
        std::thread::sleep(SAMPLE_EVERY);
    }
}

#[cfg(test)]
mod tests {
    use super::is_control;

    #[test]
    fn transaction_control_is_not_a_query() {
        assert!(is_control("BEGIN"));
        assert!(is_control("commit"));
        assert!(is_control("SET application_name = $1"));
        assert!(!is_control("SELECT 1"));
        assert!(!is_control("settle"));
    }
}
