//! Versioned, serde-only result types of plumb, with their JSON Schema.

pub mod profile;
