//! pg_stat_statements: read this database's top-level statements (plumb's own left out), rank
//! them by total and by mean time, and find N+1 suspects: many calls, few rows per call, and the
//! shape of a lookup (one table, filtered by equality on a parameter).

use crate::connect::{Session, MARKER};
use crate::error::DbError;
use plumb_schema::db::{NPlusOneSuspect, Statement, StatementStats};

/// Longest statement text kept.
const TEXT_LIMIT: usize = 2000;

/// One pg_stat_statements entry, keyed for diffs.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// (userid, queryid): one entry of pg_stat_statements in this database.
    pub key: (i64, i64),
    /// The figures, `time_share` left at 0.
    pub statement: Statement,
}

/// Read every top-level statement of this database.
pub fn read(session: &Session, version: i32) -> Result<Vec<Entry>, DbError> {
    let toplevel = if version >= 140000 {
        "AND s.toplevel"
    } else {
        ""
    };
    let sql = format!(
        "SELECT s.userid::int8, s.queryid, left(regexp_replace(s.query, '\\s+', ' ', 'g'), {TEXT_LIMIT}), \
         s.calls, (s.total_plan_time + s.total_exec_time)::float8, s.rows, s.shared_blks_hit, \
         s.shared_blks_read, s.temp_blks_read, s.temp_blks_written \
         FROM pg_stat_statements s \
         WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND s.calls > 0 {toplevel} AND s.query NOT LIKE '{MARKER}%' AND s.queryid IS NOT NULL"
    );
    let rows = session.rows("reading pg_stat_statements", &sql)?;
    Ok(rows
        .iter()
        .map(|row| {
            let calls: i64 = row.get(3);
            let total_ms: f64 = row.get(4);
            Entry {
                key: (row.get(0), row.get(1)),
                statement: Statement {
                    queryid: row.get(1),
                    query: row.get(2),
                    calls,
                    total_ms,
                    mean_ms: total_ms / calls.max(1) as f64,
                    rows: row.get(5),
                    shared_blks_hit: row.get(6),
                    shared_blks_read: row.get(7),
                    temp_blks_read: row.get(8),
                    temp_blks_written: row.get(9),
                    time_share: 0.0,
                },
            }
        })
        .collect())
}

/// Rank the statements: `top` by total time and `top` by mean time, with each one's share.
pub fn rank(entries: &[Entry], top: usize) -> StatementStats {
    let total_ms: f64 = entries.iter().map(|e| e.statement.total_ms).sum();
    let total_calls = entries.iter().map(|e| e.statement.calls).sum();
    let shared = |e: &Entry| {
        let mut s = e.statement.clone();
        s.time_share = if total_ms > 0.0 {
            s.total_ms / total_ms
        } else {
            0.0
        };
        s
    };
    let mut by_total: Vec<Statement> = entries.iter().map(shared).collect();
    by_total.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    let mut by_mean: Vec<Statement> = by_total.iter().filter(|s| s.calls >= 2).cloned().collect();
    by_mean.sort_by(|a, b| b.mean_ms.total_cmp(&a.mean_ms));
    by_total.truncate(top);
    by_mean.truncate(top);
    StatementStats {
        total_ms,
        total_calls,
        by_total_time: by_total,
        by_mean_time: by_mean,
    }
}

/// What makes a statement an N+1 suspect.
#[derive(Debug, Clone, Copy)]
pub struct Suspicion {
    /// Fewest calls (over the statistics' life, or during a load).
    pub min_calls: i64,
    /// Most rows per call.
    pub max_rows_per_call: f64,
}

/// The N+1 suspects among `statements`, most calls first; `requests` (of a load) adds calls
/// per request, and a suspect must then run at least 3 times per request.
pub fn n_plus_one(
    statements: &[Statement],
    suspicion: Suspicion,
    requests: Option<u64>,
) -> Vec<NPlusOneSuspect> {
    let mut suspects: Vec<NPlusOneSuspect> = statements
        .iter()
        .filter(|s| s.calls >= suspicion.min_calls && looks_like_lookup(&s.query))
        .filter_map(|s| {
            let rows_per_call = s.rows as f64 / s.calls as f64;
            let per_request = requests
                .filter(|&r| r > 0)
                .map(|r| s.calls as f64 / r as f64);
            let enough = per_request.is_none_or(|p| p >= 3.0);
            (rows_per_call <= suspicion.max_rows_per_call && enough)
                .then(|| suspect(s, rows_per_call, per_request))
        })
        .collect();
    suspects.sort_by_key(|s| std::cmp::Reverse(s.statement.calls));
    suspects
}

fn suspect(s: &Statement, rows_per_call: f64, per_request: Option<f64>) -> NPlusOneSuspect {
    let per_request_text =
        per_request.map_or(String::new(), |p| format!("{p:.1} calls per request, "));
    NPlusOneSuspect {
        statement: s.clone(),
        rows_per_call,
        calls_per_request: per_request,
        evidence: format!(
            "{per_request_text}{} calls returning {rows_per_call:.2} rows each, {:.3} ms per call, {:.1} ms in all: one row looked up at a time",
            s.calls, s.mean_ms, s.total_ms
        ),
        fix: "fetch the rows in one statement: WHERE key = ANY($1) with all the keys, or a JOIN with the statement that produced them (the ORM's preload / includes / select_related / JOIN FETCH)".to_owned(),
    }
}

/// A single-table SELECT filtered by equality with a parameter: what an ORM's lazy load sends.
pub fn looks_like_lookup(query: &str) -> bool {
    let q = strip_leading_comments(&query.to_ascii_lowercase());
    if !q.starts_with("select ") {
        return false;
    }
    let Some(from) = q.find(" from ") else {
        return false;
    };
    let after_from = &q[from + 6..];
    let Some(where_at) = after_from.find(" where ") else {
        return false;
    };
    let tables = &after_from[..where_at];
    let condition = &after_from[where_at + 7..];
    let single_table = !tables.contains(',') && !tables.contains(" join ") && !tables.contains('(');
    let by_parameter = condition.replace(' ', "").contains("=$") || condition.contains("= any ($");
    single_table && by_parameter && !q.contains(" union ")
}

fn strip_leading_comments(q: &str) -> String {
    let mut rest = q.trim_start();
    while let Some(after) = rest.strip_prefix("/*") {
        rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
    }
    rest.to_owned()
}

#[cfg(test)]
mod tests {
    use super::looks_like_lookup;

    #[test]
    fn lookups_are_told_from_other_statements() {
        assert!(looks_like_lookup(
            "SELECT name FROM customers WHERE id = $1"
        ));
        assert!(looks_like_lookup(
            "/* app */ SELECT * FROM public.users u WHERE u.id=$1 LIMIT $2"
        ));
        assert!(!looks_like_lookup(
            "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1"
        ));
        assert!(!looks_like_lookup("SELECT count(*) FROM orders"));
        assert!(!looks_like_lookup(
            "UPDATE accounts SET balance = $1 WHERE id = $2"
        ));
        assert!(!looks_like_lookup(
            "SELECT * FROM orders WHERE created_at > $1"
        ));
    }
}
