//! `plumb db` on the seeded database: every planted problem is reported with its evidence and
//! fix, the clean tables appear nowhere, and nothing is written.

use crate::cluster::{self, cluster_or_skip, N_PLUS_ONE_REQUESTS, ORDERS_PER_LIST};
use plumb_db::{report, ReportSettings};
use plumb_schema::db::{CapabilityStatus, DbReport};
use plumb_test::Postgres;
use std::time::{Duration, Instant};

const CLEAN_TABLES: [&str; 2] = ["public.products", "public.categories"];

/// A session idle in a transaction holding a row lock, and another waiting for it.
struct Blocked {
    _blocker: plumb_test::PsqlSession,
    _waiter: plumb_test::PsqlSession,
    blocker_pid: i32,
    waiter_pid: i32,
}

fn plant_blocked_query(pg: &Postgres) -> Blocked {
    let mut blocker = pg.session("shop", "plumb-test-blocker");
    blocker.send("BEGIN; UPDATE accounts SET balance = balance + 1 WHERE id = 1;");
    let blocker_pid = wait_for_pid(pg, "plumb-test-blocker", "state = 'idle in transaction'");
    let mut waiter = pg.session("shop", "plumb-test-waiter");
    waiter.send("UPDATE accounts SET balance = balance - 1 WHERE id = 1;");
    let waiter_pid = wait_for_pid(pg, "plumb-test-waiter", "wait_event_type = 'Lock'");
    Blocked {
        _blocker: blocker,
        _waiter: waiter,
        blocker_pid,
        waiter_pid,
    }
}

fn wait_for_pid(pg: &Postgres, application: &str, condition: &str) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pid = pg.psql(
            "shop",
            &format!("SELECT pid FROM pg_stat_activity WHERE application_name = '{application}' AND {condition}"),
        );
        if let Ok(pid) = pid.parse() {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "{application} never reached {condition}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn names_a_clean_table(report: &DbReport) -> Vec<String> {
    let json = serde_json::to_string(&report.missing_indexes).unwrap()
        + &serde_json::to_string(&report.unused_indexes).unwrap()
        + &serde_json::to_string(&report.duplicate_indexes).unwrap()
        + &serde_json::to_string(&report.unindexed_foreign_keys).unwrap()
        + &serde_json::to_string(&report.bloat).unwrap()
        + &serde_json::to_string(&report.maintenance).unwrap();
    CLEAN_TABLES
        .iter()
        .filter(|t| json.contains(*t))
        .map(|t| t.to_string())
        .collect()
}

#[test]
fn every_planted_problem_is_reported_and_nothing_else() {
    let pg = cluster_or_skip!();
    let blocked = plant_blocked_query(pg);
    let session = cluster::session(pg, "shop");
    let started = Instant::now();
    let report = report(&session, &ReportSettings::default()).expect("report");
    let took = started.elapsed();
    drop(blocked_sessions(blocked, &report));

    assert!(
        report
            .capabilities
            .iter()
            .all(|c| c.status == CapabilityStatus::Ok),
        "{:#?}",
        report.capabilities
    );
    assert!(report.skipped.is_empty(), "{:#?}", report.skipped);
    check_n_plus_one(&report);
    check_missing_index(&report);
    check_indexes(&report);
    assert_eq!(
        names_a_clean_table(&report),
        Vec::<String>::new(),
        "{report:#?}"
    );
    assert!(report.bloat.is_empty(), "{:#?}", report.bloat);
    assert!(report.maintenance.is_empty(), "{:#?}", report.maintenance);
    assert!(
        report.cache.table.is_some_and(|r| r > 0.5),
        "{:?}",
        report.cache
    );
    assert!(took < Duration::from_secs(20), "the report took {took:?}");
}

fn blocked_sessions(blocked: Blocked, report: &DbReport) -> Blocked {
    assert_eq!(report.blocked.len(), 1, "{:#?}", report.blocked);
    let found = &report.blocked[0];
    assert_eq!(found.waiting.pid, blocked.waiter_pid);
    assert_eq!(found.blocked_by, [blocked.blocker_pid]);
    assert_eq!(
        found.blockers[0].state.as_deref(),
        Some("idle in transaction")
    );
    assert!(
        found
            .fix
            .contains(&format!("pg_terminate_backend({})", blocked.blocker_pid)),
        "{}",
        found.fix
    );
    assert!(
        report.connections.idle_in_transaction >= 1,
        "{:?}",
        report.connections
    );
    assert!(
        report.connections.waiting_on_lock >= 1,
        "{:?}",
        report.connections
    );
    assert!(
        report.connections.max_connections == 60,
        "{:?}",
        report.connections
    );
    blocked
}

fn check_n_plus_one(report: &DbReport) {
    let lookups = (N_PLUS_ONE_REQUESTS * ORDERS_PER_LIST) as i64;
    let suspects: Vec<&str> = report
        .n_plus_one
        .iter()
        .map(|s| s.statement.query.as_str())
        .collect();
    assert_eq!(
        suspects,
        ["SELECT name, email FROM customers WHERE id = $1"],
        "{:#?}",
        report.n_plus_one
    );
    let suspect = &report.n_plus_one[0];
    assert_eq!(suspect.statement.calls, lookups);
    assert_eq!(suspect.rows_per_call, 1.0);
    assert!(
        suspect.evidence.contains(&format!("{lookups} calls")),
        "{}",
        suspect.evidence
    );
    assert!(suspect.fix.contains("ANY($1)"), "{}", suspect.fix);
}

fn check_missing_index(report: &DbReport) {
    assert_eq!(
        report.missing_indexes.len(),
        1,
        "{:#?}",
        report.missing_indexes
    );
    let missing = &report.missing_indexes[0];
    assert_eq!(missing.table, "public.orders");
    assert_eq!(missing.columns, ["reference"]);
    assert_eq!(
        missing.suggested_index.as_deref(),
        Some("CREATE INDEX ON public.orders (reference)")
    );
    assert_eq!(
        missing.fix,
        "CREATE INDEX CONCURRENTLY ON public.orders (reference);"
    );
    // At least the planted lookups (`explain --analyze` tests may scan it too).
    assert!(
        missing.seq_scans >= crate::cluster::REFERENCE_LOOKUPS as i64,
        "{missing:#?}"
    );
    let cost = missing.hypothetical.as_ref().expect("costed with HypoPG");
    assert!(cost.index_used, "{cost:?}");
    assert!(cost.cost_after * 10.0 < cost.cost_before, "{cost:?}");
    eprintln!(
        "plan cost without / with the hypothetical index: {:.2} / {:.2}",
        cost.cost_before, cost.cost_after
    );
}

fn check_indexes(report: &DbReport) {
    let unused: Vec<&str> = report
        .unused_indexes
        .iter()
        .map(|u| u.index.as_str())
        .collect();
    assert!(
        unused.contains(&"public.orders_created_at_idx"),
        "{unused:?}"
    );
    let duplicates: Vec<(&str, &str)> = report
        .duplicate_indexes
        .iter()
        .map(|d| (d.index.as_str(), d.covered_by.as_str()))
        .collect();
    assert_eq!(
        duplicates,
        [("public.customers_email_idx2", "public.customers_email_idx")]
    );
    let invalid: Vec<&str> = report
        .invalid_indexes
        .iter()
        .map(|i| i.index.as_str())
        .collect();
    assert_eq!(invalid, ["public.customers_region_key"]);
    let fks: Vec<(&str, &str, Vec<String>)> = report
        .unindexed_foreign_keys
        .iter()
        .map(|f| (f.table.as_str(), f.constraint.as_str(), f.columns.clone()))
        .collect();
    assert_eq!(
        fks,
        [(
            "public.orders",
            "orders_customer_id_fkey",
            vec!["customer_id".to_owned()]
        )]
    );
    assert_eq!(report.unindexed_foreign_keys[0].fix, "CREATE INDEX CONCURRENTLY ON public.orders (customer_id); (joins on it, and each delete or key update on public.customers, scan public.orders without it)");
}

#[test]
fn the_report_session_cannot_write() {
    let pg = cluster_or_skip!();
    let session = cluster::session(pg, "shop");
    let error = session
        .execute("a write", "CREATE TABLE plumb_should_not_exist (a int)")
        .unwrap_err();
    assert!(
        error.to_string().contains("read-only transaction"),
        "{error}"
    );
}

#[test]
fn a_database_without_pg_stat_statements_still_gets_a_report() {
    let pg = cluster_or_skip!();
    let report = report(&cluster::session(pg, "bare"), &ReportSettings::default()).expect("report");
    let check = report
        .capabilities
        .iter()
        .find(|c| c.name == "pg_stat_statements")
        .unwrap();
    assert_eq!(check.status, CapabilityStatus::Missing);
    assert_eq!(
        check.hint.as_deref(),
        Some("CREATE EXTENSION pg_stat_statements; (as a superuser, in this database)")
    );
    let hypopg = report
        .capabilities
        .iter()
        .find(|c| c.name == "hypopg")
        .unwrap();
    assert!(
        hypopg
            .hint
            .as_deref()
            .unwrap()
            .starts_with("CREATE EXTENSION hypopg;"),
        "{hypopg:?}"
    );
    assert!(report.statements.is_none());
    assert_eq!(report.skipped[0].section, "statements and N+1 suspects");
}

#[test]
fn a_role_without_pg_read_all_stats_is_told_what_to_grant() {
    let pg = cluster_or_skip!();
    let url = pg.url_as("watcher", crate::cluster::WATCHER_PASSWORD, "shop");
    let session = plumb_db::Session::connect(&plumb_db::ConnectOptions::new(Some(url))).unwrap();
    let report = report(&session, &ReportSettings::default()).expect("report");
    let check = report
        .capabilities
        .iter()
        .find(|c| c.name == "statistics privileges")
        .unwrap();
    assert_eq!(check.status, CapabilityStatus::Limited);
    assert_eq!(
        check.hint.as_deref(),
        Some("GRANT pg_read_all_stats TO watcher; (or pg_monitor)")
    );
    assert!(
        check.detail.contains("<insufficient privilege>"),
        "{}",
        check.detail
    );
}
