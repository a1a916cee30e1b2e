//! Missing-index candidates: large tables that sequential scans read again and again
//! (pg_stat_user_tables), and the slow statements whose generic plans filter a large table in a
//! sequential scan (pg_stat_statements + EXPLAIN). A statement's filter names the columns, hence
//! the index to create; with HypoPG, the plan is costed again with that index as a hypothetical
//! one (session-local: nothing is written, and `hypopg_reset()` drops it at once).

use crate::catalog::{Catalog, LiveCatalog, Table};
use crate::connect::Session;
use crate::error::DbError;
use crate::explain::{parameter_count, planned};
use crate::indexes::qualified;
use crate::plan::{self, filter_columns, filtered_scan, suggested_index};
use plumb_schema::db::{HypotheticalCost, MissingIndex, Statement};
use serde_json::Value;

/// Sequential scans of a table before its scans alone make it a candidate.
const REPEATED_SCANS: i64 = 10;
/// Statements whose plans are read: the slowest by total time.
const PLANS_READ: usize = 10;
/// Slowest mean time of a statement worth reading the plan of.
const SLOW_ENOUGH_MS: f64 = 1.0;

/// A table's scan statistics.
struct TableScans {
    table: String,
    live_rows: i64,
    seq_scans: i64,
    seq_rows_read: i64,
    idx_scans: i64,
}

/// The candidates: from statements' plans first (they name columns), then from scans alone.
/// `notes` collects the statements whose plans could not be read.
pub fn candidates(
    session: &Session,
    statements: &[Statement],
    hypopg: bool,
    notes: &mut Vec<String>,
) -> Result<Vec<MissingIndex>, DbError> {
    let scans = table_scans(session)?;
    let catalog = LiveCatalog::new(session);
    let mut found: Vec<MissingIndex> = Vec::new();
    for statement in slow_reads(statements) {
        let plan = match plan_of(session, &statement.query) {
            Ok(plan) => plan,
            Err(e) => {
                notes.push(format!(
                    "could not read the plan of `{}`: {e}",
                    short(&statement.query)
                ));
                continue;
            }
        };
        for candidate in from_plan(&plan, &statement.query, &catalog, &scans) {
            if !found
                .iter()
                .any(|f| f.table == candidate.table && f.columns == candidate.columns)
            {
                found.push(candidate);
            }
        }
    }
    for scan in scans.iter().filter(|s| s.seq_scans >= REPEATED_SCANS) {
        if !found.iter().any(|f| f.table == scan.table) {
            found.push(from_scans(scan));
        }
    }
    if hypopg {
        for candidate in &mut found {
            candidate.hypothetical = hypothetical(session, candidate)?;
            add_cost_evidence(candidate);
        }
    }
    Ok(found)
}

fn short(query: &str) -> String {
    query.chars().take(80).collect()
}

fn slow_reads(statements: &[Statement]) -> impl Iterator<Item = &Statement> {
    let mut slow: Vec<&Statement> = statements
        .iter()
        .filter(|s| s.mean_ms >= SLOW_ENOUGH_MS && is_read_or_dml(&s.query))
        .collect();
    slow.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    slow.into_iter().take(PLANS_READ)
}

fn is_read_or_dml(query: &str) -> bool {
    let q = query.trim_start().to_ascii_lowercase();
    ["select ", "update ", "delete ", "with "]
        .iter()
        .any(|p| q.starts_with(p))
}

fn plan_of(session: &Session, query: &str) -> Result<Value, DbError> {
    planned(session, query, parameter_count(query))
}

fn table_scans(session: &Session) -> Result<Vec<TableScans>, DbError> {
    let sql = format!(
        "SELECT {}, n_live_tup, seq_scan, seq_tup_read, coalesce(idx_scan, 0) \
         FROM pg_stat_user_tables \
         WHERE n_live_tup >= {} AND seq_scan > 0 AND seq_tup_read / seq_scan >= n_live_tup / 2 \
         ORDER BY seq_tup_read DESC",
        qualified("relid"),
        plan::LARGE_TABLE as i64
    );
    let rows = session.rows("reading sequential scans", &sql)?;
    Ok(rows
        .iter()
        .map(|row| TableScans {
            table: row.get(0),
            live_rows: row.get(1),
            seq_scans: row.get(2),
            seq_rows_read: row.get(3),
            idx_scans: row.get(4),
        })
        .collect())
}

fn from_plan(
    plan: &Value,
    query: &str,
    catalog: &dyn Catalog,
    scans: &[TableScans],
) -> Vec<MissingIndex> {
    let Some(root) = plan::root(plan) else {
        return Vec::new();
    };
    let mut nodes = Vec::new();
    plan::walk(root, 0, &mut nodes);
    nodes
        .iter()
        .filter_map(|(_, node)| {
            let scan = filtered_scan(*node, catalog)?;
            let columns = filter_columns(&scan.filter, &catalog.columns(&scan.table));
            let index = suggested_index(&scan.table, &columns, catalog)?;
            Some(candidate(
                &scan.table,
                columns,
                index,
                query,
                &scan.filter,
                scan.read,
                scan.kept,
                scans,
            ))
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn candidate(
    table: &Table,
    columns: Vec<String>,
    index: String,
    query: &str,
    filter: &str,
    read: f64,
    kept: f64,
    scans: &[TableScans],
) -> MissingIndex {
    let name = table.to_string();
    let stats = scans.iter().find(|s| s.table == name);
    let scans_text = stats.map_or(String::new(), |s| {
        format!(
            "{} sequential scans read {} rows in all; ",
            s.seq_scans, s.seq_rows_read
        )
    });
    MissingIndex {
        evidence: format!(
            "{scans_text}the plan of `{}` reads ~{read:.0} rows of {name} in a Seq Scan to keep ~{kept:.0} (filter {filter})",
            short(query)
        ),
        fix: format!("{};", index.replacen("CREATE INDEX", "CREATE INDEX CONCURRENTLY", 1)),
        table: name,
        live_rows: stats.map_or(read as i64, |s| s.live_rows),
        seq_scans: stats.map_or(0, |s| s.seq_scans),
        seq_rows_read: stats.map_or(0, |s| s.seq_rows_read),
        idx_scans: stats.map_or(0, |s| s.idx_scans),
        columns,
        statement: Some(query.to_owned()),
        suggested_index: Some(index),
        hypothetical: None,
    }
}

fn from_scans(scan: &TableScans) -> MissingIndex {
    MissingIndex {
        table: scan.table.clone(),
        live_rows: scan.live_rows,
        seq_scans: scan.seq_scans,
        seq_rows_read: scan.seq_rows_read,
        idx_scans: scan.idx_scans,
        columns: Vec::new(),
        statement: None,
        suggested_index: None,
        hypothetical: None,
        evidence: format!(
            "{} sequential scans read {} rows in all (~{} per scan of {} live rows), against {} index scans",
            scan.seq_scans,
            scan.seq_rows_read,
            scan.seq_rows_read / scan.seq_scans.max(1),
            scan.live_rows,
            scan.idx_scans
        ),
        fix: format!("find the statements that scan {} (pg_stat_statements by total time), then `plumb db explain` them: the filter in their plan names the columns to index", scan.table),
    }
}

/// The statement's plan cost without and with the suggested index as a hypothetical one.
fn hypothetical(
    session: &Session,
    candidate: &MissingIndex,
) -> Result<Option<HypotheticalCost>, DbError> {
    let (Some(statement), Some(index)) = (&candidate.statement, &candidate.suggested_index) else {
        return Ok(None);
    };
    let Ok(before) = plan_of(session, statement) else {
        return Ok(None);
    };
    let rows = session.rows_with(
        "creating a hypothetical index",
        "SELECT indexname::text FROM hypopg_create_index($1)",
        &[index],
    )?;
    let name: Option<String> = rows.first().map(|r| r.get(0));
    let after = plan_of(session, statement);
    session.rows("dropping the hypothetical index", "SELECT hypopg_reset()")?;
    let Ok(after) = after else {
        return Ok(None);
    };
    let cost = |plan: &Value| {
        plan::root(plan)
            .and_then(|r| r.0.get("Total Cost").and_then(Value::as_f64))
            .unwrap_or(0.0)
    };
    Ok(Some(HypotheticalCost {
        cost_before: cost(&before),
        cost_after: cost(&after),
        index_used: name.is_some_and(|n| after.to_string().contains(&n)),
    }))
}

fn add_cost_evidence(candidate: &mut MissingIndex) {
    if let Some(h) = &candidate.hypothetical {
        let used = if h.index_used {
            "uses it"
        } else {
            "does not use it"
        };
        candidate.evidence.push_str(&format!(
            "; with it as a hypothetical index (HypoPG) the plan {used}, and its cost goes from {:.2} to {:.2}",
            h.cost_before, h.cost_after
        ));
    }
}
