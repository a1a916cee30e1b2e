//! `plumb load --db` end to end: a real PostgreSQL (plumb-test's throwaway cluster), an HTTP app
//! whose `/n-plus-one` endpoint loads a page of orders and then each order's customer, and whose
//! `/joined` endpoint does it in one statement. plumb must count the statements per request
//! exactly, name the repeated statement, judge a `db_queries_per_request` threshold, and
//! `plumb compare` must show the fix as an improvement of "DB queries per request".

use plumb_test::{accept_each, Background, Postgres};
use std::path::Path;
use std::process::{Command, Output};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PAGE: usize = 10;
const REQUESTS: &str = "200";

fn plumb(ledger: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("PLUMB_LEDGER", ledger)
        .env_remove("PLUMB_NO_SAVE")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("plumb runs")
}

fn seed(pg: &Postgres) -> String {
    pg.psql("postgres", "CREATE DATABASE app;");
    pg.psql(
        "app",
        "CREATE EXTENSION pg_stat_statements;
         CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
         CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id));
         INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 1000) g;
         INSERT INTO orders SELECT g, 1 + (g * 37) % 1000 FROM generate_series(1, 1000) g;
         ANALYZE;",
    );
    pg.url("app")
}

/// The app: HTTP/1.1 keep-alive, one database connection per HTTP connection.
fn app(database: String) -> Background {
    Background::start(move |listener, stop| {
        accept_each(listener, stop, move |stream| {
            serve(stream, database.clone())
        })
    })
}

async fn serve(mut stream: tokio::net::TcpStream, database: String) {
    let Ok((client, connection)) = tokio_postgres::connect(&database, tokio_postgres::NoTls).await
    else {
        return;
    };
    tokio::task::spawn_local(connection);
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut page = 0i32;
    loop {
        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
        buffer.drain(..end + 4);
        page = (page + 1) % 90;
        let body = if head.starts_with("GET /joined") {
            joined(&client, page).await
        } else {
            n_plus_one(&client, page).await
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn n_plus_one(client: &tokio_postgres::Client, page: i32) -> String {
    let orders = client
        .query(
            "SELECT id, customer_id FROM orders WHERE id > $1 ORDER BY id LIMIT 10",
            &[&(page * 10)],
        )
        .await
        .unwrap();
    let mut names = Vec::new();
    for order in orders {
        let customer: i32 = order.get(1);
        let row = client
            .query_one("SELECT name FROM customers WHERE id = $1", &[&customer])
            .await
            .unwrap();
        names.push(row.get::<_, String>(0));
    }
    names.join(",")
}

async fn joined(client: &tokio_postgres::Client, page: i32) -> String {
    let rows = client
        .query(
            "SELECT c.name FROM orders o JOIN customers c ON c.id = o.customer_id \
             WHERE o.id > $1 ORDER BY o.id LIMIT 10",
            &[&(page * 10)],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join(",")
}

fn load(ledger: &Path, url: &str, database: &str, threshold: &str) -> (Output, serde_json::Value) {
    let output = plumb(
        ledger,
        &[
            "load",
            url,
            "-c",
            "2",
            "-n",
            REQUESTS,
            "-q",
            "--db",
            database,
            "-o",
            "json",
            "--threshold",
            threshold,
        ],
    );
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output, json)
}

/// One cluster for this file's tests, seeded once; `None` only without PostgreSQL.
fn cluster() -> Option<&'static (Postgres, String)> {
    static CLUSTER: std::sync::OnceLock<Option<(Postgres, String)>> = std::sync::OnceLock::new();
    CLUSTER
        .get_or_init(|| {
            let pg = Postgres::start()?;
            let url = seed(&pg);
            Some((pg, url))
        })
        .as_ref()
}

fn validate(json: &serde_json::Value, schema: &str) {
    let schema: serde_json::Value = serde_json::from_str(schema).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator.iter_errors(json).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn db_report_and_explain_from_the_command_line() {
    let Some((_, database)) = cluster() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let report = plumb(&ledger, &["db", database, "-o", "json"]);
    assert_eq!(
        report.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    validate(
        &json,
        include_str!("../../../plumb-schema/schema/db.schema.json"),
    );
    assert_eq!(
        json["unindexed_foreign_keys"][0]["constraint"],
        "orders_customer_id_fkey"
    );
    let text = plumb(&ledger, &["db", database]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Unindexed foreign keys (1)"), "{text}");

    let sql =
        "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.customer_id = $1";
    let explained = plumb(&ledger, &["db", "explain", database, sql, "-o", "json"]);
    assert_eq!(
        explained.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&explained.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&explained.stdout).unwrap();
    validate(
        &json,
        include_str!("../../../plumb-schema/schema/db-explain.schema.json"),
    );
    assert_eq!(json["generic_plan"], true);
}

#[test]
fn db_errors_exit_2_with_a_hint_and_reset_stats_needs_yes() {
    let Some((pg, database)) = cluster() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let wrong = pg.url_as("postgres", "wrong", "app");
    for (args, says, hint) in [
        (
            vec!["db", wrong.as_str()],
            "refused role postgres",
            "hint: check the password for role postgres",
        ),
        (
            vec!["db", "explain", database.as_str(), "SELEC 1"],
            "syntax error at or near \"SELEC\" at character 1",
            "hint: check the statement's syntax",
        ),
        (
            vec!["db", "reset-stats", database.as_str()],
            "writes to the database",
            "hint: add --yes",
        ),
        (
            vec!["db", "mysql://a@b/c"],
            "bad database URL",
            "hint: write it as postgres://",
        ),
    ] {
        let out = plumb(&ledger, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(says) && stderr.contains(hint),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("wrong"),
            "{args:?} shows the password: {stderr}"
        );
    }
}

#[test]
fn load_with_db_counts_queries_per_request_and_names_the_n_plus_one() {
    let Some((_, database)) = cluster() else {
        return;
    };
    let database = database.clone();
    let server = app(database.clone());
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let threshold = "db_queries_per_request: avg<5";

    let (output, before) = load(
        &ledger,
        &format!("{}n-plus-one", server.url()),
        &database,
        threshold,
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "the threshold fails: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let db = &before["db"];
    let per_request = db["queries_per_request"].as_f64().unwrap();
    assert!(
        (per_request - (1 + PAGE) as f64).abs() <= 0.05 * (1 + PAGE) as f64,
        "{db:#}"
    );
    assert_eq!(
        db["n_plus_one"][0]["statement"]["query"], "SELECT name FROM customers WHERE id = $1",
        "{db:#}"
    );
    assert_eq!(
        db["n_plus_one"][0]["calls_per_request"].as_f64(),
        Some(PAGE as f64),
        "{db:#}"
    );
    assert_eq!(before["thresholds"][0]["status"], "failed");
    assert_eq!(
        before["thresholds"][0]["observed"].as_f64(),
        Some(per_request)
    );
    assert!(
        db["connections"]["max_total"].as_i64().unwrap() >= 1,
        "{db:#}"
    );

    let (output, after) = load(
        &ledger,
        &format!("{}joined", server.url()),
        &database,
        threshold,
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        after["db"]["queries_per_request"].as_f64(),
        Some(1.0),
        "{:#}",
        after["db"]
    );
    assert_eq!(after["db"]["n_plus_one"].as_array().map(Vec::len), Some(0));

    let compared = plumb(&ledger, &["compare", "latest~1", "latest"]);
    let text = String::from_utf8_lossy(&compared.stdout);
    let row = text.lines().find(|l| l.contains("DB queries per request"));
    let row = row.unwrap_or_else(|| {
        panic!(
            "no DB row:\n{text}\n{}",
            String::from_utf8_lossy(&compared.stderr)
        )
    });
    assert!(row.contains("improved"), "{row}");
    // The threshold read back from saved runs: the fixed run passes, the N+1 one fails.
    plumb(&ledger, &["baseline", "set", "n-plus-one", "latest~1"]);
    let gate = |run: &str| {
        plumb(
            &ledger,
            &[
                "gate",
                "--baseline",
                "n-plus-one",
                run,
                "--threshold",
                threshold,
                "-o",
                "json",
            ],
        )
    };
    let (fixed, broken) = (gate("latest"), gate("latest~1"));
    let fixed: serde_json::Value = serde_json::from_slice(&fixed.stdout).unwrap();
    let checked = &fixed["thresholds"][0];
    assert_eq!(checked["status"], "passed", "{fixed:#}");
    assert_eq!(checked["observed"].as_f64(), Some(1.0), "{fixed:#}");
    assert_eq!(checked["baseline"].as_f64(), Some(per_request), "{fixed:#}");
    assert_eq!(
        broken.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&broken.stdout)
    );
    let shown = plumb(&ledger, &["show", "latest~1"]);
    let summary = String::from_utf8_lossy(&shown.stdout);
    assert!(summary.contains("queries per request: 11.00"), "{summary}");
    // The command line saved in the ledger hides the database's password.
    assert!(
        summary.contains("--db 'postgres://postgres:***@"),
        "{summary}"
    );
    assert!(
        !summary.contains(plumb_test::POSTGRES_PASSWORD),
        "{summary}"
    );
    // The HTML report shows what the database did during the load, the N+1 named.
    let html = dir.path().join("report.html");
    let report = plumb(
        &ledger,
        &["report", "latest~1", "--html", html.to_str().unwrap()],
    );
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Database during the load"), "no DB section");
    assert!(page.contains("11 queries per request") || page.contains("11.0 queries per request"));
    assert!(page.contains("N+1 suspect: <code>SELECT name FROM customers WHERE id = $1</code>"));
    eprintln!("queries per request before and after the fix: {per_request} / 1\n{row}");
}
