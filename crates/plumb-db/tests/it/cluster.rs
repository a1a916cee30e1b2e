//! The shared cluster: database `shop` with planted problems and a workload that shows them,
//! database `bare` without extensions, and role `watcher` without pg_read_all_stats.

use plumb_db::{ConnectOptions, Session};
use plumb_test::Postgres;
use std::sync::OnceLock;

/// The watcher role's password.
pub const WATCHER_PASSWORD: &str = "watcher-pw";

/// Rounds of the N+1 workload: one list of 20 orders, then each order's customer.
pub const N_PLUS_ONE_REQUESTS: usize = 30;
/// Orders per list.
pub const ORDERS_PER_LIST: usize = 20;
/// Runs of the statement filtering orders on the unindexed `reference`.
pub const REFERENCE_LOOKUPS: usize = 20;

const SCHEMA: &str = "
CREATE EXTENSION pg_stat_statements;
CREATE EXTENSION hypopg;
CREATE TABLE categories (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE products (id int PRIMARY KEY, category_id int NOT NULL REFERENCES categories (id),
                       sku text NOT NULL UNIQUE, price numeric NOT NULL);
CREATE INDEX products_category_id_idx ON products (category_id);
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, region text NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id),
                     reference text NOT NULL, status text NOT NULL, total numeric NOT NULL,
                     created_at timestamptz NOT NULL);
CREATE TABLE accounts (id int PRIMARY KEY, balance numeric NOT NULL);
INSERT INTO categories SELECT g, 'category ' || g FROM generate_series(1, 20) g;
INSERT INTO products SELECT g, 1 + g % 20, 'SKU-' || g, g % 100 + 0.99 FROM generate_series(1, 400) g;
INSERT INTO customers SELECT g, 'customer ' || g, 'customer' || g || '@example.com', 'region-' || g % 10
  FROM generate_series(1, 20000) g;
INSERT INTO orders SELECT g, 1 + (g * 7919) % 20000, 'REF-' || lpad(g::text, 8, '0'),
  (ARRAY['new', 'paid', 'shipped', 'done'])[1 + g % 4], g % 500 + 0.5,
  timestamptz '2026-01-01' + g * interval '1 minute'
  FROM generate_series(1, 200000) g;
INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 10) g;
-- planted: never used
CREATE INDEX orders_created_at_idx ON orders (created_at);
-- planted: the same index twice
CREATE INDEX customers_email_idx ON customers (email);
CREATE INDEX customers_email_idx2 ON customers (email);
CREATE ROLE watcher LOGIN PASSWORD 'watcher-pw';
GRANT SELECT ON ALL TABLES IN SCHEMA public TO watcher;
";

/// The cluster, seeded once; `None` (after a loud message) only when PostgreSQL is not installed.
pub fn cluster() -> Option<&'static Postgres> {
    static CLUSTER: OnceLock<Option<Postgres>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| {
            let pg = Postgres::start()?;
            seed(&pg);
            Some(pg)
        })
        .as_ref()
}

fn seed(pg: &Postgres) {
    pg.psql("postgres", "CREATE DATABASE shop; CREATE DATABASE bare;");
    pg.psql(
        "bare",
        "CREATE TABLE notes (id int PRIMARY KEY, body text);",
    );
    pg.psql("shop", SCHEMA);
    // planted: a unique index built concurrently over duplicates fails and stays invalid
    let error = pg.psql_error(
        "shop",
        "CREATE UNIQUE INDEX CONCURRENTLY customers_region_key ON customers (region);",
    );
    assert!(error.contains("could not create unique index"), "{error}");
    // Statistics start now (the separate session has flushed the seeding's counters).
    pg.psql(
        "shop",
        "SELECT pg_stat_reset(); VACUUM ANALYZE; SELECT pg_stat_statements_reset();",
    );
    pg.psql("shop", &workload());
}

/// The N+1 pattern and the unindexed filter, each as separate top-level statements.
fn workload() -> String {
    let mut sql = String::new();
    for request in 0..N_PLUS_ONE_REQUESTS {
        let after = request * 1000;
        sql.push_str(&format!(
            "SELECT id, customer_id FROM orders WHERE id > {after} ORDER BY id LIMIT {ORDERS_PER_LIST};\n"
        ));
        for order in 0..ORDERS_PER_LIST {
            let customer = 1 + ((after + order + 1) * 7919) % 20000;
            sql.push_str(&format!(
                "SELECT name, email FROM customers WHERE id = {customer};\n"
            ));
        }
    }
    for i in 0..REFERENCE_LOOKUPS {
        sql.push_str(&format!(
            "SELECT id, total FROM orders WHERE reference = 'REF-{:08}';\n",
            1000 + i * 7
        ));
    }
    sql
}

/// A read-only session on `database` as the superuser.
pub fn session(pg: &Postgres, database: &str) -> Session {
    Session::connect(&ConnectOptions::new(Some(pg.url(database)))).expect("connect")
}

/// Skip the test with a loud message when PostgreSQL is not installed.
macro_rules! cluster_or_skip {
    () => {
        match crate::cluster::cluster() {
            Some(pg) => pg,
            None => {
                eprintln!("SKIPPED: PostgreSQL is not installed");
                return;
            }
        }
    };
}
pub(crate) use cluster_or_skip;
