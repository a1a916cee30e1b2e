//! Versioned, serde-only result types of plumb, with their JSON Schema.
//!
//! These types are the product's file format: `--json` writes them, the ledger stores them, and
//! `plumb compare` reads them back. Every change bumps the module's schema version and is checked
//! against the committed JSON Schema in `schema/` by a test.

pub mod bench;
pub mod capacity;
pub mod compare;
pub mod db;
pub mod host;
pub mod load;
pub mod page;
pub mod plan;
pub mod profile;
pub mod run;

/// Generate the JSON Schema of a result type, as committed under `schema/`.
pub fn json_schema<T: schemars::JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("a JSON Schema always serializes")
}
