//! `plumb db explain`: plans without running, `--analyze` rolled back under a timeout, insights
//! with their share, and clear errors for bad statements.

use crate::cluster::{self, cluster_or_skip};
use plumb_db::{explain, ConnectOptions, ExplainSettings, Session};
use plumb_schema::db::InsightKind;
use std::time::Duration;

fn settings(sql: &str, analyze: bool) -> ExplainSettings {
    ExplainSettings {
        sql: sql.to_owned(),
        analyze,
    }
}

fn accounts(pg: &plumb_test::Postgres) -> String {
    pg.psql("shop", "SELECT count(*) FROM accounts WHERE id = 5")
}

#[test]
fn a_parameterized_statement_gets_its_generic_plan_and_the_index_to_create() {
    let pg = cluster_or_skip!();
    let session = cluster::session(pg, "shop");
    let result = explain(
        &session,
        &settings("SELECT id, total FROM orders WHERE reference = $1", false),
    )
    .unwrap();
    assert!(result.generic_plan && !result.analyzed);
    let insight = &result.insights[0];
    assert_eq!(
        insight.kind,
        InsightKind::SeqScanFilter,
        "{:#?}",
        result.insights
    );
    assert_eq!(insight.node, "Seq Scan on public.orders");
    assert!(insight.cost_share > 0.9, "{insight:?}");
    assert!(
        insight
            .fix
            .starts_with("CREATE INDEX ON public.orders (reference);"),
        "{}",
        insight.fix
    );
}

#[test]
fn explain_without_analyze_runs_nothing_and_analyze_is_rolled_back() {
    let pg = cluster_or_skip!();
    let session = cluster::session(pg, "shop");
    let plain = explain(
        &session,
        &settings("DELETE FROM accounts WHERE id = 5", false),
    )
    .unwrap();
    assert!(!plain.analyzed && plain.execution_ms.is_none());
    assert_eq!(accounts(pg), "1");
    let analyzed = explain(
        &session,
        &settings("DELETE FROM accounts WHERE id = 5;", true),
    )
    .unwrap();
    assert!(
        analyzed.analyzed && analyzed.execution_ms.is_some(),
        "{analyzed:?}"
    );
    assert_eq!(accounts(pg), "1", "the DELETE was rolled back");
}

#[test]
fn an_analyzed_join_shows_the_unindexed_join_key() {
    let pg = cluster_or_skip!();
    let session = cluster::session(pg, "shop");
    let sql = "SELECT c.region, count(*) FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.region";
    let result = explain(&session, &settings(sql, true)).unwrap();
    let join = result
        .insights
        .iter()
        .find(|i| i.kind == InsightKind::UnindexedJoinKey);
    let join = join.unwrap_or_else(|| panic!("{:#?}\n{:#?}", result.insights, result.outline));
    assert!(
        join.detail
            .starts_with("the join key public.orders.customer_id"),
        "{}",
        join.detail
    );
    assert!(
        join.fix
            .starts_with("CREATE INDEX ON public.orders (customer_id);"),
        "{}",
        join.fix
    );
    assert!(join.cost_share > 0.0 && join.cost_share <= 1.0, "{join:?}");
}

#[test]
fn bad_statements_are_named_with_a_hint() {
    let pg = cluster_or_skip!();
    let session = cluster::session(pg, "shop");
    let error = explain(&session, &settings("SELEC id FROM orders", false)).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("syntax error at or near \"SELEC\" at character 1"),
        "{error}"
    );
    assert!(error.hint().contains("syntax"), "{}", error.hint());
    let error = explain(&session, &settings("SELECT 1; DELETE FROM accounts", true)).unwrap_err();
    assert!(error.to_string().contains("multiple commands"), "{error}");
    assert_eq!(accounts(pg), "1");
    let error = explain(&session, &settings("SELECT * FROM nosuch", false)).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("relation \"nosuch\" does not exist"),
        "{error}"
    );
    let error = explain(
        &session,
        &settings("SELECT * FROM orders WHERE id = $1", true),
    )
    .unwrap_err();
    assert!(
        error.hint().contains("leave out --analyze"),
        "{}",
        error.hint()
    );
}

#[test]
fn analyze_stops_at_the_statement_timeout() {
    let pg = cluster_or_skip!();
    let mut options = ConnectOptions::new(Some(pg.url("shop")));
    options.statement_timeout = Duration::from_millis(300);
    let session = Session::connect(&options).unwrap();
    let error = explain(&session, &settings("SELECT pg_sleep(5)", true)).unwrap_err();
    assert!(error.to_string().contains("statement timeout"), "{error}");
    assert!(
        error.hint().contains("--statement-timeout"),
        "{}",
        error.hint()
    );
}
