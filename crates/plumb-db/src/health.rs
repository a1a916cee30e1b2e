//! Table health: buffer cache hit ratios, dead-row bloat estimates, and vacuum or analyze
//! overdue by autovacuum's own thresholds.

use crate::connect::Session;
use crate::error::DbError;
use crate::indexes::qualified;
use plumb_schema::db::{CacheHitRatios, MaintenanceKind, StaleMaintenance, TableBloat};

/// Heap and index hit ratios over the user tables.
pub fn cache(session: &Session) -> Result<CacheHitRatios, DbError> {
    let rows = session.rows(
        "reading cache hit ratios",
        "SELECT (SELECT (sum(heap_blks_hit) / nullif(sum(heap_blks_hit) + sum(heap_blks_read), 0))::float8 \
                 FROM pg_statio_user_tables), \
                (SELECT (sum(idx_blks_hit) / nullif(sum(idx_blks_hit) + sum(idx_blks_read), 0))::float8 \
                 FROM pg_statio_user_indexes)",
    )?;
    Ok(CacheHitRatios {
        table: rows[0].get(0),
        index: rows[0].get(1),
    })
}

/// Tables of at least 1 MB whose dead rows are over 20% of their rows.
pub fn bloat(session: &Session) -> Result<Vec<TableBloat>, DbError> {
    let sql = format!(
        "SELECT {}, n_live_tup, n_dead_tup, pg_table_size(relid) \
         FROM pg_stat_user_tables \
         WHERE n_dead_tup > 1000 AND n_dead_tup > 0.2 * (n_live_tup + n_dead_tup) \
           AND pg_table_size(relid) >= 1048576 \
         ORDER BY pg_table_size(relid) * n_dead_tup / (n_live_tup + n_dead_tup) DESC",
        qualified("relid")
    );
    let rows = session.rows("estimating bloat", &sql)?;
    Ok(rows
        .iter()
        .map(|row| {
            let table: String = row.get(0);
            let live: i64 = row.get(1);
            let dead: i64 = row.get(2);
            let size: i64 = row.get(3);
            let share = dead as f64 / (live + dead).max(1) as f64;
            TableBloat {
                fix: format!("VACUUM (ANALYZE) {table}; makes the space reusable; VACUUM FULL (locks the table) or pg_repack gives it back to the OS"),
                table,
                live_rows: live,
                dead_rows: dead,
                table_bytes: size,
                estimated_bloat_bytes: (size as f64 * share) as i64,
            }
        })
        .collect())
}

/// Tables past autovacuum's vacuum or analyze threshold (base + scale factor × rows), by the
/// server's settings.
pub fn maintenance(session: &Session) -> Result<Vec<StaleMaintenance>, DbError> {
    let sql = format!(
        "WITH t AS (SELECT {}, s.n_dead_tup, s.n_mod_since_analyze, c.reltuples, \
           greatest(s.last_vacuum, s.last_autovacuum)::text AS last_vacuum, \
           greatest(s.last_analyze, s.last_autoanalyze)::text AS last_analyze, \
           (current_setting('autovacuum_vacuum_threshold')::float8 \
            + current_setting('autovacuum_vacuum_scale_factor')::float8 * greatest(c.reltuples, 0))::int8 AS vacuum_at, \
           (current_setting('autovacuum_analyze_threshold')::float8 \
            + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0))::int8 AS analyze_at \
           FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid) \
         SELECT * FROM t WHERE n_dead_tup > vacuum_at OR n_mod_since_analyze > analyze_at ORDER BY 1",
        qualified("s.relid")
    );
    let rows = session.rows("checking vacuum and analyze", &sql)?;
    let mut stale = Vec::new();
    for row in &rows {
        let table: String = row.get(0);
        let dead: i64 = row.get(1);
        let modified: i64 = row.get(2);
        let vacuum_at: i64 = row.get(6);
        let analyze_at: i64 = row.get(7);
        if dead > vacuum_at {
            stale.push(StaleMaintenance {
                table: table.clone(),
                kind: MaintenanceKind::Vacuum,
                rows: dead,
                threshold: vacuum_at,
                last_run: row.get(4),
                fix: format!("VACUUM (ANALYZE) {table}; and check that autovacuum is on and keeping up (autovacuum_max_workers, cost limits, long transactions holding back the xmin horizon)"),
            });
        }
        if modified > analyze_at {
            stale.push(StaleMaintenance {
                table: table.clone(),
                kind: MaintenanceKind::Analyze,
                rows: modified,
                threshold: analyze_at,
                last_run: row.get(5),
                fix: format!(
                    "ANALYZE {table}; the planner's row estimates come from these statistics"
                ),
            });
        }
    }
    Ok(stale)
}
