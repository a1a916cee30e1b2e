//! Index findings from the catalog and the statistics: unused indexes (never scanned, not
//! backing a constraint), duplicates (another index of the same kind starts with the same
//! columns), invalid indexes, and foreign keys whose columns lead no index.

use crate::connect::Session;
use crate::error::DbError;
use plumb_schema::db::{DuplicateIndex, InvalidIndex, UnindexedForeignKey, UnusedIndex};

/// Schemas that are the system's, never the user's.
pub const USER_SCHEMAS: &str =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'";

/// SQL naming the relation `oid` as `schema.name`, quoted where needed.
pub fn qualified(oid: &str) -> String {
    format!(
        "(SELECT quote_ident(qn.nspname) || '.' || quote_ident(qc.relname) FROM pg_class qc \
         JOIN pg_namespace qn ON qn.oid = qc.relnamespace WHERE qc.oid = {oid})"
    )
}

/// Non-unique indexes of at least 32 kB with no scan since the statistics were reset.
pub fn unused(session: &Session, stats_since: Option<&str>) -> Result<Vec<UnusedIndex>, DbError> {
    let sql = format!(
        "SELECT {}, {}, \
         pg_relation_size(ui.indexrelid), ui.idx_scan, \
         coalesce(t.n_tup_ins + t.n_tup_upd + t.n_tup_del, 0) \
         FROM pg_stat_user_indexes ui JOIN pg_index i ON i.indexrelid = ui.indexrelid \
         JOIN pg_stat_user_tables t ON t.relid = ui.relid \
         WHERE NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid AND ui.idx_scan = 0 \
         AND pg_relation_size(ui.indexrelid) >= 32768 \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ui.indexrelid) \
         ORDER BY pg_relation_size(ui.indexrelid) DESC, 2",
        qualified("ui.relid"),
        qualified("ui.indexrelid")
    );
    let rows = session.rows("finding unused indexes", &sql)?;
    let since = stats_since.map_or_else(
        || "since the statistics began (never reset)".to_owned(),
        |s| format!("since the statistics were reset at {s}"),
    );
    Ok(rows
        .iter()
        .map(|row| {
            let index: String = row.get(1);
            let size: i64 = row.get(2);
            let writes: i64 = row.get(4);
            UnusedIndex {
                table: row.get(0),
                fix: format!("DROP INDEX CONCURRENTLY {index}; (first check that no replica uses it: statistics are per server)"),
                evidence: format!(
                    "0 scans {since}; {} on disk, updated by each of the table's {writes} writes",
                    crate::report::bytes(size)
                ),
                index,
                size_bytes: size,
                scans: row.get(3),
                table_writes: writes,
            }
        })
        .collect())
}

/// Indexes whose columns (and operator classes, expressions, predicate) another index of the
/// same access method already starts with.
pub fn duplicates(session: &Session) -> Result<Vec<DuplicateIndex>, DbError> {
    let sql = format!(
        "WITH idx AS ( \
           SELECT i.indexrelid, i.indrelid, i.indisunique, i.indisprimary, c.relam, \
                  string_to_array(i.indkey::text, ' ')::int2[] AS cols, \
                  coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs, \
                  coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred, \
                  string_to_array(i.indclass::text, ' ')::oid[] AS opcls \
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE i.indisvalid AND {USER_SCHEMAS}) \
         SELECT {}, {}, {}, \
                pg_get_indexdef(a.indexrelid), pg_get_indexdef(b.indexrelid), pg_relation_size(a.indexrelid) \
         FROM idx a JOIN idx b ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid \
           AND a.relam = b.relam AND a.exprs = b.exprs AND a.pred = b.pred \
           AND cardinality(a.cols) <= cardinality(b.cols) \
           AND b.cols[1:cardinality(a.cols)] = a.cols AND b.opcls[1:cardinality(a.cols)] = a.opcls \
         WHERE NOT a.indisprimary \
           AND (NOT a.indisunique OR (b.indisunique AND cardinality(a.cols) = cardinality(b.cols))) \
           AND (cardinality(a.cols) < cardinality(b.cols) OR b.indisprimary \
                OR (b.indisunique AND NOT a.indisunique) \
                OR (a.indisunique = b.indisunique AND a.indexrelid > b.indexrelid)) \
         ORDER BY 1, 2",
        qualified("a.indrelid"),
        qualified("a.indexrelid"),
        qualified("b.indexrelid")
    );
    let rows = session.rows("finding duplicate indexes", &sql)?;
    let mut found: Vec<DuplicateIndex> = Vec::new();
    for row in &rows {
        let index: String = row.get(1);
        // One covering index is enough to name.
        if found.iter().any(|d| d.index == index) {
            continue;
        }
        let covered_by: String = row.get(2);
        found.push(DuplicateIndex {
            table: row.get(0),
            fix: format!("DROP INDEX CONCURRENTLY {index}; ({covered_by} serves the same lookups)"),
            index,
            covered_by,
            definition: row.get(3),
            covering_definition: row.get(4),
            size_bytes: row.get(5),
        });
    }
    Ok(found)
}

/// Indexes marked invalid.
pub fn invalid(session: &Session) -> Result<Vec<InvalidIndex>, DbError> {
    let sql = format!(
        "SELECT {}, {}, pg_get_indexdef(i.indexrelid) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT i.indisvalid AND {USER_SCHEMAS} ORDER BY 2",
        qualified("i.indrelid"),
        qualified("i.indexrelid")
    );
    let rows = session.rows("finding invalid indexes", &sql)?;
    Ok(rows
        .iter()
        .map(|row| {
            let index: String = row.get(1);
            InvalidIndex {
                table: row.get(0),
                fix: format!("REINDEX INDEX CONCURRENTLY {index}; or DROP INDEX CONCURRENTLY {index}; (a failed CREATE INDEX CONCURRENTLY leaves it; it is written on every insert and never read)"),
                index,
                definition: row.get(2),
            }
        })
        .collect())
}

/// Foreign keys with no valid, non-partial index whose leading columns are the key's columns.
pub fn unindexed_foreign_keys(session: &Session) -> Result<Vec<UnindexedForeignKey>, DbError> {
    let sql = format!(
        "SELECT {}, fk.conname::text, \
         ARRAY(SELECT a.attname::text FROM unnest(fk.conkey) WITH ORDINALITY k(attnum, ord) \
               JOIN pg_attribute a ON a.attrelid = fk.conrelid AND a.attnum = k.attnum ORDER BY k.ord), \
         {}, pg_relation_size(fk.conrelid) \
         FROM pg_constraint fk \
         WHERE fk.contype = 'f' AND NOT EXISTS ( \
           SELECT 1 FROM pg_index i \
           WHERE i.indrelid = fk.conrelid AND i.indisvalid AND i.indpred IS NULL \
             AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(fk.conkey)] @> fk.conkey \
             AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(fk.conkey)] <@ fk.conkey) \
         ORDER BY pg_relation_size(fk.conrelid) DESC, 2",
        qualified("fk.conrelid"),
        qualified("fk.confrelid")
    );
    let rows = session.rows("finding unindexed foreign keys", &sql)?;
    Ok(rows
        .iter()
        .map(|row| {
            let table: String = row.get(0);
            let columns: Vec<String> = row.get(2);
            let references: String = row.get(3);
            UnindexedForeignKey {
                fix: format!(
                    "CREATE INDEX CONCURRENTLY ON {table} ({}); (joins on it, and each delete or key update on {references}, scan {table} without it)",
                    columns.join(", ")
                ),
                table,
                constraint: row.get(1),
                columns,
                references,
                table_bytes: row.get(4),
            }
        })
        .collect())
}
