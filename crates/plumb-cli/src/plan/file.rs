//! The plan file's TOML shape, exactly as written: serde types with spans, unknown keys refused.
//! [`super::Plan::parse`] turns it into a checked plan. The flow sections (`[flows]`, `[data]`,
//! `[requests]`) belong to plumb-flow and `[monitor]` to plumb-monitor; here they are only
//! accepted, and the flows' names read so a scenario naming a missing flow is caught early.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlan {
    #[serde(default)]
    pub plan: RawPlanSection,
    pub target: Option<RawTarget>,
    #[serde(default)]
    pub goals: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub scenarios: BTreeMap<String, Spanned<RawScenario>>,
    #[serde(default)]
    pub presets: RawPresets,
    pub flows: Option<Spanned<toml::Table>>,
    #[allow(dead_code)] // plumb-flow reads it
    pub data: Option<toml::Value>,
    #[allow(dead_code)] // plumb-flow reads it
    pub requests: Option<toml::Value>,
    #[allow(dead_code)] // plumb-monitor reads it
    pub monitor: Option<toml::Value>,
}

/// `[plan]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlanSection {
    pub name: Option<Spanned<String>>,
    pub baseline: Option<Spanned<String>>,
    pub normal: Option<Spanned<String>>,
    pub threshold_window: Option<Spanned<String>>,
}

/// `[target]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    pub url: Spanned<String>,
}

/// A number as TOML writes it: `200` or `2.5`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub(super) enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn text(self) -> String {
        match self {
            Number::Int(i) => i.to_string(),
            Number::Float(f) => f.to_string(),
        }
    }

    pub fn value(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// `[scenarios.NAME]`: a load (a URL or flows) or a benchmark of commands.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub description: Option<String>,
    pub url: Option<Spanned<String>>,
    pub flow: Option<Spanned<String>>,
    pub flows: Option<Vec<Spanned<String>>>,
    pub bench: Option<Vec<Spanned<String>>>,
    pub runs: Option<Spanned<Number>>,
    pub warmup: Option<Spanned<Number>>,
    pub rate: Option<Spanned<Number>>,
    pub connections: Option<Spanned<Number>>,
    pub duration: Option<Spanned<String>>,
    pub stages: Option<Spanned<String>>,
    pub requests: Option<Spanned<Number>>,
    pub threads: Option<Spanned<Number>>,
    pub method: Option<Spanned<String>>,
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<String>>,
    pub body: Option<Spanned<String>>,
    pub body_file: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub http2: bool,
    #[serde(default)]
    pub insecure: bool,
    pub expect_status: Option<Spanned<String>>,
    pub expect_body: Option<Spanned<String>>,
    pub goals: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub thresholds: Vec<Spanned<String>>,
    #[serde(default)]
    pub abort_on_fail: bool,
    pub threshold_window: Option<Spanned<String>>,
    pub db: Option<Spanned<String>>,
    #[serde(default)]
    pub watch_pid: Vec<Spanned<Number>>,
    #[serde(default)]
    pub watch_tree: bool,
    pub watch_cgroup: Option<Spanned<String>>,
}

/// `[presets]`: how the classic test types derive from the normal scenario.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPresets {
    #[serde(default)]
    pub stress: RawStress,
    #[serde(default)]
    pub soak: RawSoak,
    #[serde(default)]
    pub spike: RawSpike,
}

/// `[presets.stress]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStress {
    pub factors: Option<Spanned<Vec<Number>>>,
    pub step: Option<Spanned<String>>,
    #[serde(default)]
    pub all_steps: bool,
}

/// `[presets.soak]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSoak {
    pub duration: Option<Spanned<String>>,
}

/// `[presets.spike]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpike {
    pub factor: Option<Spanned<Number>>,
    pub before: Option<Spanned<String>>,
    pub hold: Option<Spanned<String>>,
    pub after: Option<Spanned<String>>,
}

/// Every top-level key the plan file knows (for the unknown-key hint).
pub(super) const TOP_LEVEL_KEYS: &str =
    "plan, target, goals, scenarios, presets, flows, data, requests, monitor";
