//! The committed JSON Schemas are exactly what the types generate (run with UPDATE_SCHEMA=1 to
//! rewrite them after an intended change, and bump the schema version).

use plumb_schema::load::LoadResult;
use std::path::Path;

fn check(name: &str, generated: serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run UPDATE_SCHEMA=1 cargo test -p plumb-schema",
            path.display()
        )
    });
    assert_eq!(
        committed, text,
        "{name} is stale: run UPDATE_SCHEMA=1 cargo test -p plumb-schema"
    );
}

#[test]
fn load_schema_is_current() {
    check(
        "load.schema.json",
        plumb_schema::json_schema::<LoadResult>(),
    );
}

#[test]
fn profile_schema_is_current() {
    check(
        "profile.schema.json",
        plumb_schema::json_schema::<plumb_schema::profile::ProfileReport>(),
    );
}

#[test]
fn bench_schema_is_current() {
    check(
        "bench.schema.json",
        plumb_schema::bench::bench_report_schema(),
    );
}

#[test]
fn compare_schema_is_current() {
    check(
        "compare.schema.json",
        plumb_schema::json_schema::<plumb_schema::compare::ComparisonResult>(),
    );
}

#[test]
fn gate_schema_is_current() {
    check(
        "gate.schema.json",
        plumb_schema::json_schema::<plumb_schema::compare::GateResult>(),
    );
}

#[test]
fn db_schema_is_current() {
    check(
        "db.schema.json",
        plumb_schema::json_schema::<plumb_schema::db::DbReport>(),
    );
}

#[test]
fn db_explain_schema_is_current() {
    check(
        "db-explain.schema.json",
        plumb_schema::json_schema::<plumb_schema::db::ExplainResult>(),
    );
}

#[test]
fn capacity_schema_is_current() {
    check(
        "capacity.schema.json",
        plumb_schema::json_schema::<plumb_schema::capacity::CapacityResult>(),
    );
}

#[test]
fn plan_run_schema_is_current() {
    check(
        "plan-run.schema.json",
        plumb_schema::json_schema::<plumb_schema::plan::PlanRunResult>(),
    );
}

#[test]
fn page_schema_is_current() {
    check(
        "page.schema.json",
        plumb_schema::json_schema::<plumb_schema::page::PageResult>(),
    );
}
