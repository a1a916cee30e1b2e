//! `plumb load --db`'s engine: snapshots around a simulated application's requests give its
//! exact queries per request, its N+1 statement with calls per request, and the connections.

use crate::cluster::cluster_or_skip;
use plumb_db::{ConnectOptions, LoadWatch};
use plumb_test::Postgres;
use std::sync::OnceLock;

const REQUESTS: u64 = 40;
const ORDERS_PER_PAGE: i32 = 10;

/// Its own database, so other tests' statements never mix into the counts.
fn database(pg: &Postgres) -> &'static str {
    static SEEDED: OnceLock<()> = OnceLock::new();
    SEEDED.get_or_init(|| {
        pg.psql("postgres", "CREATE DATABASE app;");
        pg.psql(
            "app",
            "CREATE EXTENSION pg_stat_statements;
             CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
             CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id));
             INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 10000) g;
             INSERT INTO orders SELECT g, 1 + (g * 37) % 10000 FROM generate_series(1, 10000) g;
             ANALYZE;",
        );
    });
    "app"
}

/// One request of an ORM-style endpoint: a page of orders, then each order's customer, in a
/// transaction every other time.
async fn request(client: &tokio_postgres::Client, n: i32) {
    let transaction = n % 2 == 0;
    if transaction {
        client.batch_execute("BEGIN").await.unwrap();
    }
    let page = client
        .query(
            "SELECT id, customer_id FROM orders WHERE id > $1 ORDER BY id LIMIT $2",
            &[&(n * 100), &i64::from(ORDERS_PER_PAGE)],
        )
        .await
        .unwrap();
    for order in page {
        let customer: i32 = order.get(1);
        client
            .query_one("SELECT name FROM customers WHERE id = $1", &[&customer])
            .await
            .unwrap();
    }
    if transaction {
        client.batch_execute("COMMIT").await.unwrap();
    }
}

fn run_app(url: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        // Keep it open long enough for the sampler to see it.
        for n in 0..REQUESTS as i32 {
            request(&client, n).await;
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    });
}

#[test]
fn queries_per_request_and_the_n_plus_one_statement_of_a_load() {
    let pg = cluster_or_skip!();
    let url = pg.url(database(pg));
    let watch = LoadWatch::start(&ConnectOptions::new(Some(url.clone()))).expect("start watching");
    run_app(&url);
    let stats = watch.finish(REQUESTS, Some(2.0)).expect("finish");
    let per_request = 1 + ORDERS_PER_PAGE as i64;
    assert_eq!(stats.queries, REQUESTS as i64 * per_request, "{stats:#?}");
    assert_eq!(stats.queries_per_request, Some(per_request as f64));
    assert_eq!(
        stats.transaction_statements, REQUESTS as i64,
        "BEGIN and COMMIT every other request"
    );
    assert_eq!(stats.n_plus_one.len(), 1, "{:#?}", stats.n_plus_one);
    let suspect = &stats.n_plus_one[0];
    assert_eq!(
        suspect.statement.query,
        "SELECT name FROM customers WHERE id = $1"
    );
    assert_eq!(suspect.calls_per_request, Some(ORDERS_PER_PAGE as f64));
    assert!(
        suspect.evidence.starts_with("10.0 calls per request"),
        "{}",
        suspect.evidence
    );
    assert_eq!(stats.top_statements.len(), 2, "{:#?}", stats.top_statements);
    let db_ms = stats.db_time_per_request_ms.unwrap();
    assert!(db_ms > 0.0 && (stats.latency_share.unwrap() - db_ms / 2.0).abs() < 1e-9);
    assert!(
        stats.cache_hit_ratio.is_some_and(|r| r > 0.9),
        "{:?}",
        stats.cache_hit_ratio
    );
    assert!(
        stats.connections.samples >= 1 && stats.connections.max_total >= 1,
        "{:?}",
        stats.connections
    );
    assert!(
        !stats.target.contains(plumb_test::POSTGRES_PASSWORD),
        "{}",
        stats.target
    );
    eprintln!(
        "queries per request {:?}, database time per request {db_ms:.3} ms",
        stats.queries_per_request
    );
}

#[test]
fn a_database_without_pg_stat_statements_is_refused_with_the_fix() {
    let pg = cluster_or_skip!();
    let error = match LoadWatch::start(&ConnectOptions::new(Some(pg.url("bare")))) {
        Ok(_) => panic!("watching a database without pg_stat_statements"),
        Err(e) => e,
    };
    assert!(
        error.to_string().contains("--db needs pg_stat_statements"),
        "{error}"
    );
    assert!(
        error.hint().contains("CREATE EXTENSION pg_stat_statements"),
        "{}",
        error.hint()
    );
}
