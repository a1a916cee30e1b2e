//! Rendering of `plumb db` results: the PostgreSQL report, an EXPLAIN with its insights, and the
//! database section of a load run (`plumb load --db`), as text and Markdown. Each finding is a
//! headline, its evidence and its fix; text and Markdown render the same list.

use plumb_schema::db::{
    Backend, CapabilityStatus, DbReport, ExplainResult, LoadDbStats, Statement,
};
use std::fmt::{self, Write};

/// A cache hit ratio below this is flagged.
const CACHE_HIT_TARGET: f64 = 0.99;

/// Sections that are one summary line, not a list of findings.
const SUMMARIES: [&str; 2] = ["Cache hit ratios", "Connections"];

/// One finding.
struct Item {
    headline: String,
    evidence: Option<String>,
    fix: Option<String>,
}

fn item(headline: String, evidence: Option<String>, fix: Option<String>) -> Item {
    Item {
        headline,
        evidence,
        fix,
    }
}

/// The report as text for a terminal.
pub fn render_report_text(report: &DbReport) -> String {
    let mut out = String::new();
    write_report_text(&mut out, report).expect("writing to a String cannot fail");
    out
}

/// The report as Markdown.
pub fn render_report_markdown(report: &DbReport) -> String {
    let mut out = String::new();
    write_report_markdown(&mut out, report).expect("writing to a String cannot fail");
    out
}

fn write_report_text(out: &mut impl Write, report: &DbReport) -> fmt::Result {
    writeln!(out, "{}", headline(report))?;
    writeln!(out, "\nCapabilities")?;
    for c in &report.capabilities {
        writeln!(out, "  {:<8} {:<22} {}", status(c.status), c.name, c.detail)?;
        if let Some(hint) = &c.hint {
            writeln!(out, "  {:<8} {:<22} hint: {hint}", "", "")?;
        }
    }
    if let Some(stats) = &report.statements {
        writeln!(
            out,
            "\nStatements by total time ({:.1} ms in {} calls in all)",
            stats.total_ms, stats.total_calls
        )?;
        write_statements_text(out, &stats.by_total_time)?;
        writeln!(out, "\nStatements by mean time")?;
        write_statements_text(out, &stats.by_mean_time)?;
    }
    for (title, items) in sections(report) {
        write_section_text(out, &title, &items)?;
    }
    Ok(())
}

fn write_report_markdown(out: &mut impl Write, report: &DbReport) -> fmt::Result {
    writeln!(out, "# plumb db\n\n{}\n", headline(report))?;
    writeln!(
        out,
        "## Capabilities\n\n| | check | found | to turn it on |\n|---|---|---|---|"
    )?;
    for c in &report.capabilities {
        let hint = c
            .hint
            .as_deref()
            .map_or(String::new(), |h| format!("`{}`", cell(h)));
        writeln!(
            out,
            "| {} | {} | {} | {hint} |",
            status(c.status),
            c.name,
            cell(&c.detail)
        )?;
    }
    if let Some(stats) = &report.statements {
        writeln!(
            out,
            "\n## Statements by total time\n\n{:.1} ms in {} calls in all.\n",
            stats.total_ms, stats.total_calls
        )?;
        write_statements_markdown(out, &stats.by_total_time)?;
        writeln!(out, "\n## Statements by mean time\n")?;
        write_statements_markdown(out, &stats.by_mean_time)?;
    }
    for (title, items) in sections(report) {
        write_section_markdown(out, &title, &items)?;
    }
    Ok(())
}

fn headline(report: &DbReport) -> String {
    let s = &report.server;
    let since = match (&s.stats_since, s.stats_age_secs) {
        (Some(at), Some(age)) => format!("statistics since {at} ({})", age_text(age)),
        _ => "statistics never reset".to_owned(),
    };
    format!(
        "PostgreSQL {} · database {} as {} · {since}",
        s.version, s.database, s.user
    )
}

fn age_text(secs: f64) -> String {
    match secs {
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7200.0 => format!("{:.0} min", s / 60.0),
        s if s < 172_800.0 => format!("{:.0} h", s / 3600.0),
        s => format!("{:.0} days", s / 86400.0),
    }
}

fn status(status: CapabilityStatus) -> &'static str {
    match status {
        CapabilityStatus::Ok => "ok",
        CapabilityStatus::Limited => "limited",
        CapabilityStatus::Missing => "missing",
    }
}

fn write_statements_text(out: &mut impl Write, statements: &[Statement]) -> fmt::Result {
    if statements.is_empty() {
        return writeln!(out, "  none");
    }
    writeln!(
        out,
        "  {:>10} {:>6} {:>8} {:>9} {:>9} {:>10} {:>8} {:>6}  query",
        "total ms", "share", "calls", "mean ms", "rows", "blks hit", "read", "temp"
    )?;
    for s in statements {
        writeln!(
            out,
            "  {:>10.1} {:>5.1}% {:>8} {:>9.3} {:>9} {:>10} {:>8} {:>6}  {}",
            s.total_ms,
            100.0 * s.time_share,
            s.calls,
            s.mean_ms,
            s.rows,
            s.shared_blks_hit,
            s.shared_blks_read,
            s.temp_blks_read + s.temp_blks_written,
            shorten(&s.query, 100)
        )?;
    }
    Ok(())
}

fn write_statements_markdown(out: &mut impl Write, statements: &[Statement]) -> fmt::Result {
    if statements.is_empty() {
        return writeln!(out, "None.");
    }
    writeln!(out, "| total ms | share | calls | mean ms | rows | blocks hit | read | temp | query |\n|---:|---:|---:|---:|---:|---:|---:|---:|---|")?;
    for s in statements {
        writeln!(
            out,
            "| {:.1} | {:.1}% | {} | {:.3} | {} | {} | {} | {} | `{}` |",
            s.total_ms,
            100.0 * s.time_share,
            s.calls,
            s.mean_ms,
            s.rows,
            s.shared_blks_hit,
            s.shared_blks_read,
            s.temp_blks_read + s.temp_blks_written,
            cell(&shorten(&s.query, 200))
        )?;
    }
    Ok(())
}

fn write_section_text(out: &mut impl Write, title: &str, items: &[Item]) -> fmt::Result {
    write_section_indented(out, "", title, items)
}

/// A section whose title starts at `indent`, its items two spaces further in.
fn write_section_indented(
    out: &mut impl Write,
    indent: &str,
    title: &str,
    items: &[Item],
) -> fmt::Result {
    if items.is_empty() {
        return writeln!(out, "\n{indent}{title}: none");
    }
    if SUMMARIES.contains(&title) {
        writeln!(out, "\n{indent}{title}")?;
    } else {
        writeln!(out, "\n{indent}{title} ({})", items.len())?;
    }
    for i in items {
        writeln!(out, "{indent}  {}", i.headline)?;
        if let Some(evidence) = &i.evidence {
            writeln!(out, "{indent}      evidence: {evidence}")?;
        }
        if let Some(fix) = &i.fix {
            writeln!(out, "{indent}      fix: {fix}")?;
        }
    }
    Ok(())
}

fn write_section_markdown(out: &mut impl Write, title: &str, items: &[Item]) -> fmt::Result {
    writeln!(out, "\n## {title}\n")?;
    if items.is_empty() {
        return writeln!(out, "None.");
    }
    for i in items {
        writeln!(out, "- **{}**", i.headline.replace('*', "\\*"))?;
        if let Some(evidence) = &i.evidence {
            writeln!(out, "  - evidence: {evidence}")?;
        }
        if let Some(fix) = &i.fix {
            writeln!(out, "  - fix: {}", code_or_prose(fix))?;
        }
    }
    Ok(())
}

fn sections(report: &DbReport) -> Vec<(String, Vec<Item>)> {
    vec![
        ("N+1 suspects".to_owned(), n_plus_one(report)),
        ("Missing indexes".to_owned(), missing_indexes(report)),
        ("Unused indexes".to_owned(), unused_indexes(report)),
        ("Duplicate indexes".to_owned(), duplicate_indexes(report)),
        ("Invalid indexes".to_owned(), invalid_indexes(report)),
        ("Unindexed foreign keys".to_owned(), foreign_keys(report)),
        ("Cache hit ratios".to_owned(), cache(report)),
        ("Connections".to_owned(), vec![connections(report)]),
        (
            "Long-running queries".to_owned(),
            report.long_running.iter().map(long_running).collect(),
        ),
        ("Blocked queries".to_owned(), blocked(report)),
        ("Bloat".to_owned(), bloat(report)),
        ("Vacuum and analyze".to_owned(), maintenance(report)),
        ("Skipped".to_owned(), skipped(report)),
    ]
}

fn n_plus_one(report: &DbReport) -> Vec<Item> {
    report
        .n_plus_one
        .iter()
        .map(|s| {
            item(
                shorten(&s.statement.query, 160),
                Some(s.evidence.clone()),
                Some(s.fix.clone()),
            )
        })
        .collect()
}

fn missing_indexes(report: &DbReport) -> Vec<Item> {
    report
        .missing_indexes
        .iter()
        .map(|m| {
            let what = m.suggested_index.clone().unwrap_or_else(|| {
                format!("{}: sequential scans of {} rows", m.table, m.live_rows)
            });
            item(what, Some(m.evidence.clone()), Some(m.fix.clone()))
        })
        .collect()
}

fn unused_indexes(report: &DbReport) -> Vec<Item> {
    report
        .unused_indexes
        .iter()
        .map(|u| {
            item(
                format!("{} on {} ({})", u.index, u.table, bytes(u.size_bytes)),
                Some(u.evidence.clone()),
                Some(u.fix.clone()),
            )
        })
        .collect()
}

fn duplicate_indexes(report: &DbReport) -> Vec<Item> {
    report
        .duplicate_indexes
        .iter()
        .map(|d| {
            item(
                format!(
                    "{} is covered by {} ({} to save)",
                    d.index,
                    d.covered_by,
                    bytes(d.size_bytes)
                ),
                Some(format!("{} / {}", d.definition, d.covering_definition)),
                Some(d.fix.clone()),
            )
        })
        .collect()
}

fn invalid_indexes(report: &DbReport) -> Vec<Item> {
    report
        .invalid_indexes
        .iter()
        .map(|i| {
            item(
                format!("{} on {}", i.index, i.table),
                Some(i.definition.clone()),
                Some(i.fix.clone()),
            )
        })
        .collect()
}

fn foreign_keys(report: &DbReport) -> Vec<Item> {
    report
        .unindexed_foreign_keys
        .iter()
        .map(|f| {
            item(
                format!(
                    "{} ({}) on {} references {}",
                    f.constraint,
                    f.columns.join(", "),
                    f.table,
                    f.references
                ),
                Some(format!(
                    "no index starts with ({}); {} is {}",
                    f.columns.join(", "),
                    f.table,
                    bytes(f.table_bytes)
                )),
                Some(f.fix.clone()),
            )
        })
        .collect()
}

fn cache(report: &DbReport) -> Vec<Item> {
    let ratio =
        |r: Option<f64>| r.map_or("no reads yet".to_owned(), |r| format!("{:.2}%", 100.0 * r));
    let low = [report.cache.table, report.cache.index]
        .iter()
        .any(|r| r.is_some_and(|r| r < CACHE_HIT_TARGET));
    let fix = low.then(|| "below 99%: the working set does not fit in shared_buffers; raise shared_buffers (and the machine's memory), or read less (indexes, fewer columns)".to_owned());
    vec![item(
        format!(
            "tables {}, indexes {}",
            ratio(report.cache.table),
            ratio(report.cache.index)
        ),
        None,
        fix,
    )]
}

fn connections(report: &DbReport) -> Item {
    let c = &report.connections;
    let share = if c.max_connections > 0 {
        100.0 * c.total as f64 / c.max_connections as f64
    } else {
        0.0
    };
    let fix = (c.idle_in_transaction_over_5m > 0 || share > 80.0).then(|| {
        "close transactions promptly (idle_in_transaction_session_timeout), and put a pooler (PgBouncer) in front when clients near max_connections".to_owned()
    });
    item(
        format!(
            "{} of {} ({share:.0}%): {} active, {} idle, {} idle in transaction ({} over 5 min), {} waiting on a lock",
            c.total, c.max_connections, c.active, c.idle, c.idle_in_transaction, c.idle_in_transaction_over_5m, c.waiting_on_lock
        ),
        None,
        fix,
    )
}

fn backend_text(b: &Backend) -> String {
    let running = b
        .query_secs
        .map_or(String::new(), |s| format!(", query {s:.1} s"));
    let transaction = b
        .transaction_secs
        .map_or(String::new(), |s| format!(", transaction {s:.1} s"));
    let wait = b
        .wait
        .as_deref()
        .map_or(String::new(), |w| format!(", waiting on {w}"));
    format!(
        "pid {} ({}{running}{transaction}{wait}): {}",
        b.pid,
        b.state.as_deref().unwrap_or("?"),
        shorten(b.query.as_deref().unwrap_or(""), 120)
    )
}

fn long_running(b: &Backend) -> Item {
    item(
        backend_text(b),
        b.user.as_ref().map(|u| format!("role {u}, application {}", b.application.as_deref().unwrap_or(""))),
        Some(format!("SELECT pg_cancel_backend({}); cancels its query, pg_terminate_backend ends the session", b.pid)),
    )
}

fn blocked(report: &DbReport) -> Vec<Item> {
    report
        .blocked
        .iter()
        .map(|q| {
            let mut blockers: Vec<String> = q
                .blockers
                .iter()
                .map(|b| format!("blocked by {}", backend_text(b)))
                .collect();
            if blockers.is_empty() {
                let pids: Vec<String> = q.blocked_by.iter().map(i32::to_string).collect();
                blockers.push(format!(
                    "blocked by pid {} (gone by the time it was read)",
                    pids.join(", ")
                ));
            }
            item(
                backend_text(&q.waiting),
                Some(blockers.join("; ")),
                Some(q.fix.clone()),
            )
        })
        .collect()
}

fn bloat(report: &DbReport) -> Vec<Item> {
    report
        .bloat
        .iter()
        .map(|b| {
            item(
                format!(
                    "{}: ~{} of {} wasted",
                    b.table,
                    bytes(b.estimated_bloat_bytes),
                    bytes(b.table_bytes)
                ),
                Some(format!(
                    "{} dead rows beside {} live ones",
                    b.dead_rows, b.live_rows
                )),
                Some(b.fix.clone()),
            )
        })
        .collect()
}

fn maintenance(report: &DbReport) -> Vec<Item> {
    report
        .maintenance
        .iter()
        .map(|m| {
            let what = match m.kind {
                plumb_schema::db::MaintenanceKind::Vacuum => "vacuum overdue",
                plumb_schema::db::MaintenanceKind::Analyze => "analyze overdue",
            };
            let subject = match m.kind {
                plumb_schema::db::MaintenanceKind::Vacuum => "dead rows",
                plumb_schema::db::MaintenanceKind::Analyze => "rows changed since the last analyze",
            };
            item(
                format!("{}: {what}", m.table),
                Some(format!(
                    "{} {subject}, past autovacuum's threshold of {}; last run {}",
                    m.rows,
                    m.threshold,
                    m.last_run.as_deref().unwrap_or("never")
                )),
                Some(m.fix.clone()),
            )
        })
        .collect()
}

fn skipped(report: &DbReport) -> Vec<Item> {
    report
        .skipped
        .iter()
        .map(|s| item(format!("{}: {}", s.section, s.reason), None, s.hint.clone()))
        .collect()
}

/// An EXPLAIN as text.
pub fn render_explain_text(result: &ExplainResult) -> String {
    let mut out = String::new();
    write_explain(&mut out, result, false).expect("writing to a String cannot fail");
    out
}

/// An EXPLAIN as Markdown.
pub fn render_explain_markdown(result: &ExplainResult) -> String {
    let mut out = String::new();
    write_explain(&mut out, result, true).expect("writing to a String cannot fail");
    out
}

fn write_explain(out: &mut impl Write, result: &ExplainResult, markdown: bool) -> fmt::Result {
    let how = match (result.analyzed, result.generic_plan) {
        (true, _) => "run with ANALYZE in a transaction that was rolled back",
        (false, true) => "generic plan of the parameterized statement, not run",
        (false, false) => "plan only, not run",
    };
    let times = match (result.planning_ms, result.execution_ms) {
        (Some(p), Some(e)) => format!(", planning {p:.3} ms, execution {e:.3} ms"),
        _ => String::new(),
    };
    if markdown {
        writeln!(
            out,
            "# plumb db explain\n\n```sql\n{}\n```\n\n{how}; total cost {:.2}{times}\n\n```",
            result.sql, result.total_cost
        )?;
    } else {
        writeln!(
            out,
            "{}\n{how}; total cost {:.2}{times}\n",
            result.sql, result.total_cost
        )?;
    }
    for line in &result.outline {
        writeln!(out, "  {line}")?;
    }
    let items: Vec<Item> = result
        .insights
        .iter()
        .map(|i| {
            item(
                format!("{:.0}% {}: {}", 100.0 * i.cost_share, i.node, i.detail),
                None,
                Some(i.fix.clone()),
            )
        })
        .collect();
    if markdown {
        writeln!(out, "```")?;
        write_section_markdown(out, "Insights", &items)
    } else {
        write_section_text(out, "Insights", &items)
    }
}

/// The database section of a load run, as text lines.
pub fn render_load_db_text(db: &LoadDbStats) -> String {
    let mut out = String::new();
    write_load_db(&mut out, db, false).expect("writing to a String cannot fail");
    out
}

/// The database section of a load run, as Markdown.
pub fn render_load_db_markdown(db: &LoadDbStats) -> String {
    let mut out = String::new();
    write_load_db(&mut out, db, true).expect("writing to a String cannot fail");
    out
}

fn write_load_db(out: &mut impl Write, db: &LoadDbStats, markdown: bool) -> fmt::Result {
    let per_request =
        |v: Option<f64>, unit: &str| v.map_or("n/a".to_owned(), |v| format!("{v:.2}{unit}"));
    let share = db.latency_share.map_or(String::new(), |s| {
        format!(" ({:.0}% of the mean latency)", 100.0 * s)
    });
    let cache = db.cache_hit_ratio.map_or("no block reads".to_owned(), |r| {
        format!("{:.2}%", 100.0 * r)
    });
    let c = &db.connections;
    let lines = [
        format!(
            "queries per request: {} ({} statements for {} requests)",
            per_request(db.queries_per_request, ""),
            db.queries,
            db.requests
        ),
        format!(
            "database time per request: {}{share}",
            per_request(db.db_time_per_request_ms, " ms")
        ),
        format!("cache hit ratio: {cache}"),
        format!(
            "connections: at most {} ({} active, {} idle in transaction) of {}",
            c.max_total, c.max_active, c.max_idle_in_transaction, c.max_connections
        ),
    ];
    if markdown {
        writeln!(out, "\n## Database ({})\n", db.target)?;
        for line in &lines {
            writeln!(out, "- {line}")?;
        }
        writeln!(out, "\n### Top statements during the run\n")?;
        write_statements_markdown(out, &db.top_statements)?;
    } else {
        writeln!(out, "\nDatabase ({})", db.target)?;
        for line in &lines {
            writeln!(out, "  {line}")?;
        }
        writeln!(out, "  top statements during the run:")?;
        write_statements_text(out, &db.top_statements)?;
    }
    let items: Vec<Item> = db
        .n_plus_one
        .iter()
        .map(|s| {
            item(
                shorten(&s.statement.query, 160),
                Some(s.evidence.clone()),
                Some(s.fix.clone()),
            )
        })
        .collect();
    let notes: Vec<Item> = db
        .notes
        .iter()
        .map(|n| item(n.clone(), None, None))
        .collect();
    if markdown {
        write_section_markdown(out, "N+1 suspects in this load", &items)?;
        if !notes.is_empty() {
            write_section_markdown(out, "Database notes", &notes)?;
        }
        Ok(())
    } else {
        write_section_indented(out, "  ", "N+1 suspects in this load", &items)?;
        if !notes.is_empty() {
            write_section_indented(out, "  ", "database notes", &notes)?;
        }
        Ok(())
    }
}

/// `4.4 MB`, `12 kB`, `512 B`.
fn bytes(n: i64) -> String {
    let n = n as f64;
    match n {
        n if n >= 1024.0 * 1024.0 * 1024.0 => format!("{:.1} GB", n / (1024.0 * 1024.0 * 1024.0)),
        n if n >= 1024.0 * 1024.0 => format!("{:.1} MB", n / (1024.0 * 1024.0)),
        n if n >= 1024.0 => format!("{:.0} kB", n / 1024.0),
        n => format!("{n:.0} B"),
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max - 1).collect();
    format!("{kept}…")
}

/// SQL in backticks, words as they are.
fn code_or_prose(fix: &str) -> String {
    const SQL: [&str; 9] = [
        "CREATE ", "DROP ", "SELECT ", "VACUUM ", "ANALYZE ", "REINDEX ", "GRANT ", "ALTER ",
        "SET ",
    ];
    if SQL.iter().any(|k| fix.starts_with(k)) {
        format!("`{fix}`")
    } else {
        fix.to_owned()
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_schema::db::*;

    fn statement(query: &str, calls: i64, total_ms: f64, rows: i64) -> Statement {
        Statement {
            queryid: 42,
            query: query.to_owned(),
            calls,
            total_ms,
            mean_ms: total_ms / calls as f64,
            rows,
            shared_blks_hit: 900,
            shared_blks_read: 12,
            temp_blks_read: 0,
            temp_blks_written: 0,
            time_share: 0.75,
        }
    }

    fn suspect() -> NPlusOneSuspect {
        NPlusOneSuspect {
            statement: statement("SELECT name FROM customers WHERE id = $1", 600, 3.0, 600),
            rows_per_call: 1.0,
            calls_per_request: None,
            evidence: "600 calls returning 1.00 rows each".to_owned(),
            fix: "fetch the rows in one statement".to_owned(),
        }
    }

    fn report() -> DbReport {
        DbReport {
            schema_version: DB_SCHEMA_VERSION,
            kind: "db".to_owned(),
            server: ServerInfo {
                version: "15.18".to_owned(),
                version_num: 150018,
                database: "shop".to_owned(),
                user: "postgres".to_owned(),
                stats_since: Some("2026-12-01 10:00:00+00".to_owned()),
                stats_age_secs: Some(7200.0),
            },
            capabilities: vec![Capability {
                name: "hypopg".to_owned(),
                status: CapabilityStatus::Missing,
                detail: "not installed".to_owned(),
                hint: Some("CREATE EXTENSION hypopg;".to_owned()),
            }],
            statements: Some(StatementStats {
                total_ms: 4.0,
                total_calls: 620,
                by_total_time: vec![statement(
                    "SELECT name FROM customers WHERE id = $1",
                    600,
                    3.0,
                    600,
                )],
                by_mean_time: vec![],
            }),
            n_plus_one: vec![suspect()],
            missing_indexes: vec![MissingIndex {
                table: "public.orders".to_owned(),
                live_rows: 200_000,
                seq_scans: 20,
                seq_rows_read: 4_000_000,
                idx_scans: 0,
                columns: vec!["reference".to_owned()],
                statement: Some("SELECT id FROM orders WHERE reference = $1".to_owned()),
                suggested_index: Some("CREATE INDEX ON public.orders (reference)".to_owned()),
                hypothetical: Some(HypotheticalCost {
                    cost_before: 4319.0,
                    cost_after: 8.06,
                    index_used: true,
                }),
                evidence: "20 sequential scans".to_owned(),
                fix: "CREATE INDEX CONCURRENTLY ON public.orders (reference);".to_owned(),
            }],
            unused_indexes: vec![],
            duplicate_indexes: vec![],
            invalid_indexes: vec![],
            unindexed_foreign_keys: vec![],
            cache: CacheHitRatios {
                table: Some(0.95),
                index: None,
            },
            connections: Connections {
                total: 5,
                max_connections: 100,
                active: 1,
                idle: 2,
                idle_in_transaction: 1,
                idle_in_transaction_over_5m: 0,
                waiting_on_lock: 1,
            },
            long_running: vec![],
            blocked: vec![BlockedQuery {
                waiting: Backend {
                    pid: 11,
                    user: Some("app".to_owned()),
                    application: None,
                    state: Some("active".to_owned()),
                    query_secs: Some(3.0),
                    transaction_secs: Some(3.0),
                    wait: Some("Lock: transactionid".to_owned()),
                    query: Some(
                        "UPDATE accounts SET balance = balance - 1 WHERE id = 1".to_owned(),
                    ),
                },
                blocked_by: vec![10],
                blockers: vec![],
                fix: "SELECT pg_terminate_backend(10);".to_owned(),
            }],
            bloat: vec![],
            maintenance: vec![],
            skipped: vec![],
        }
    }

    #[test]
    fn the_report_as_text_and_markdown() {
        insta::assert_snapshot!("db_report_text", render_report_text(&report()));
        insta::assert_snapshot!("db_report_markdown", render_report_markdown(&report()));
    }

    #[test]
    fn the_database_part_of_a_load() {
        let mut n_plus_one = suspect();
        n_plus_one.calls_per_request = Some(10.0);
        let db = LoadDbStats {
            schema_version: DB_SCHEMA_VERSION,
            target: "postgres://app:***@db/shop".to_owned(),
            requests: 60,
            queries: 660,
            transaction_statements: 0,
            queries_per_request: Some(11.0),
            db_time_ms: 6.0,
            db_time_per_request_ms: Some(0.1),
            latency_share: Some(0.04),
            top_statements: vec![n_plus_one.statement.clone()],
            n_plus_one: vec![n_plus_one],
            cache_hit_ratio: Some(0.99),
            connections: ConnectionsUsed {
                max_total: 2,
                max_active: 1,
                max_idle_in_transaction: 0,
                max_connections: 100,
                samples: 5,
            },
            notes: vec![],
        };
        insta::assert_snapshot!("db_load_text", render_load_db_text(&db));
    }
}
