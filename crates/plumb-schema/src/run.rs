//! A run's result of any kind ([`RunResult`]: a load result, a bench report or a profile, exactly
//! as `--json` writes it), and reading one back from JSON with its schema version checked. The
//! ledger stores these; `compare`, `gate` and `report` read them.

use crate::bench::{BenchReport, BENCH_SCHEMA_VERSION};
use crate::capacity::{CapacityResult, CAPACITY_SCHEMA_VERSION};
use crate::load::{LoadResult, LOAD_SCHEMA_VERSION};
use crate::page::{PageResult, PAGE_SCHEMA_VERSION};
use crate::profile::{ProfileReport, PROFILE_SCHEMA_VERSION};

/// Which engine produced a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// `plumb load`.
    Load,
    /// `plumb bench`.
    Bench,
    /// `plumb profile`.
    Profile,
    /// `plumb capacity`.
    Capacity,
    /// `plumb page`.
    Page,
}

impl RunKind {
    /// The name stored in the ledger and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Load => "load",
            RunKind::Bench => "bench",
            RunKind::Profile => "profile",
            RunKind::Capacity => "capacity",
            RunKind::Page => "page",
        }
    }

    /// Parse a stored kind.
    pub fn parse(text: &str) -> Option<RunKind> {
        match text {
            "load" => Some(RunKind::Load),
            "bench" => Some(RunKind::Bench),
            "profile" => Some(RunKind::Profile),
            "capacity" => Some(RunKind::Capacity),
            "page" => Some(RunKind::Page),
            _ => None,
        }
    }
}

/// A run's result, as the engines produce it and `--json` writes it.
#[derive(Debug, Clone)]
pub enum RunResult {
    /// A `plumb load` result.
    Load(Box<LoadResult>),
    /// A `plumb bench` result.
    Bench(Box<BenchReport>),
    /// A `plumb profile` result.
    Profile(Box<ProfileReport>),
    /// A `plumb capacity` result.
    Capacity(Box<CapacityResult>),
    /// A `plumb page` result.
    Page(Box<PageResult>),
}

/// Why a text is not a result this plumb can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON, or JSON of the wrong shape.
    Invalid(String),
    /// Written by a newer plumb, in a layout this one does not know.
    Newer {
        /// The result's `schema_version`.
        found: u64,
        /// The newest version this plumb reads.
        supported: u32,
    },
}

impl RunResult {
    /// Which engine produced it.
    pub fn kind(&self) -> RunKind {
        match self {
            RunResult::Load(_) => RunKind::Load,
            RunResult::Bench(_) => RunKind::Bench,
            RunResult::Profile(_) => RunKind::Profile,
            RunResult::Capacity(_) => RunKind::Capacity,
            RunResult::Page(_) => RunKind::Page,
        }
    }

    /// Whether the run was stopped early.
    pub fn interrupted(&self) -> bool {
        match self {
            RunResult::Load(result) => result.interrupted,
            RunResult::Bench(report) => report.interrupted,
            RunResult::Profile(report) => report.interrupted,
            RunResult::Capacity(result) => result.interrupted,
            RunResult::Page(result) => result.interrupted,
        }
    }

    /// The result as JSON text.
    pub fn to_json(&self) -> String {
        let value = match self {
            RunResult::Load(result) => serde_json::to_string(result),
            RunResult::Bench(report) => serde_json::to_string(report),
            RunResult::Profile(report) => serde_json::to_string(report),
            RunResult::Capacity(result) => serde_json::to_string(result),
            RunResult::Page(result) => serde_json::to_string(result),
        };
        value.expect("results always serialize")
    }

    /// The resolved settings of the run, as JSON text.
    pub fn settings_json(&self) -> String {
        let value = match self {
            RunResult::Load(result) => serde_json::to_string(&result.settings),
            RunResult::Bench(report) => serde_json::to_string(&report.settings),
            RunResult::Profile(report) => serde_json::to_string(&report.target),
            RunResult::Capacity(result) => serde_json::to_string(&serde_json::json!({
                "url": result.url,
                "goal": result.goal,
                "max_error_rate": result.max_error_rate,
                "settle_s": result.settle_s,
                "measure_s": result.measure_s,
                "precision": result.precision,
            })),
            RunResult::Page(result) => serde_json::to_string(&serde_json::json!({
                "url": result.url,
                "settings": result.settings,
            })),
        };
        value.expect("settings always serialize")
    }

    /// Parse a load, bench or profile JSON result, refusing a layout newer than this plumb reads.
    pub fn parse(text: &str) -> Result<RunResult, ParseError> {
        let invalid = |e: serde_json::Error| ParseError::Invalid(e.to_string());
        let value: serde_json::Value = serde_json::from_str(text).map_err(invalid)?;
        let kind = Self::kind_of(&value)?;
        let supported = match kind {
            RunKind::Load => LOAD_SCHEMA_VERSION,
            RunKind::Bench => BENCH_SCHEMA_VERSION,
            RunKind::Profile => PROFILE_SCHEMA_VERSION,
            RunKind::Capacity => CAPACITY_SCHEMA_VERSION,
            RunKind::Page => PAGE_SCHEMA_VERSION,
        };
        let found = value.get("schema_version").and_then(|v| v.as_u64());
        if let Some(found) = found.filter(|&v| v > u64::from(supported)) {
            return Err(ParseError::Newer { found, supported });
        }
        Ok(match kind {
            RunKind::Load => RunResult::Load(serde_json::from_value(value).map_err(invalid)?),
            RunKind::Bench => RunResult::Bench(serde_json::from_value(value).map_err(invalid)?),
            RunKind::Profile => RunResult::Profile(serde_json::from_value(value).map_err(invalid)?),
            RunKind::Capacity => {
                RunResult::Capacity(serde_json::from_value(value).map_err(invalid)?)
            }
            RunKind::Page => RunResult::Page(serde_json::from_value(value).map_err(invalid)?),
        })
    }

    /// Which kind of result a JSON value is, by the fields only that kind has.
    fn kind_of(value: &serde_json::Value) -> Result<RunKind, ParseError> {
        let kind = value.get("kind").and_then(|k| k.as_str());
        if kind == Some("load") {
            Ok(RunKind::Load)
        } else if kind == Some("capacity") {
            Ok(RunKind::Capacity)
        } else if kind == Some("page") {
            Ok(RunKind::Page)
        } else if value.get("benchmarks").is_some() {
            Ok(RunKind::Bench)
        } else if value.get("cpu").is_some() && value.get("resources").is_some() {
            Ok(RunKind::Profile)
        } else {
            Err(ParseError::Invalid(
                "neither a load result (`\"kind\": \"load\"`), a bench result (`\"benchmarks\"`) nor a profile (`\"cpu\"` and `\"resources\"`)"
                    .into(),
            ))
        }
    }

    /// A one-line summary for `plumb history`.
    pub fn headline(&self) -> String {
        match self {
            RunResult::Load(r) => format!(
                "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {:.2}% errors",
                r.summary.rps,
                r.summary.latency_ms.p50,
                r.summary.latency_ms.p99,
                r.summary.error_rate * 100.0
            ),
            RunResult::Bench(r) => r
                .benchmarks
                .iter()
                .map(|b| format!("{}: {:.3} ms", b.name, b.stats.wall.median_seconds * 1e3))
                .collect::<Vec<_>>()
                .join("; "),
            RunResult::Profile(r) => r.headline(),
            RunResult::Capacity(r) => r.headline.clone(),
            RunResult::Page(r) => r.headline(),
        }
    }
}
