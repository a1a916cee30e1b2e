//! A run's result of either kind ([`RunResult`]: a load result or a bench report, exactly as
//! `--json` writes it), and reading one back from JSON with its schema version checked. The
//! ledger stores these; `compare`, `gate` and `report` read them.

use crate::bench::{BenchReport, BENCH_SCHEMA_VERSION};
use crate::load::{LoadResult, LOAD_SCHEMA_VERSION};

/// Which engine produced a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// `plumb load`.
    Load,
    /// `plumb bench`.
    Bench,
}

impl RunKind {
    /// The name stored in the ledger and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Load => "load",
            RunKind::Bench => "bench",
        }
    }

    /// Parse a stored kind.
    pub fn parse(text: &str) -> Option<RunKind> {
        match text {
            "load" => Some(RunKind::Load),
            "bench" => Some(RunKind::Bench),
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
        }
    }

    /// Whether the run was stopped early.
    pub fn interrupted(&self) -> bool {
        match self {
            RunResult::Load(result) => result.interrupted,
            RunResult::Bench(report) => report.interrupted,
        }
    }

    /// The result as JSON text.
    pub fn to_json(&self) -> String {
        let value = match self {
            RunResult::Load(result) => serde_json::to_string(result),
            RunResult::Bench(report) => serde_json::to_string(report),
        };
        value.expect("results always serialize")
    }

    /// The resolved settings of the run, as JSON text.
    pub fn settings_json(&self) -> String {
        let value = match self {
            RunResult::Load(result) => serde_json::to_string(&result.settings),
            RunResult::Bench(report) => serde_json::to_string(&report.settings),
        };
        value.expect("settings always serialize")
    }

    /// Parse a load or bench JSON result, refusing a layout newer than this plumb reads.
    pub fn parse(text: &str) -> Result<RunResult, ParseError> {
        let invalid = |e: serde_json::Error| ParseError::Invalid(e.to_string());
        let value: serde_json::Value = serde_json::from_str(text).map_err(invalid)?;
        let is_load = value.get("kind").and_then(|k| k.as_str()) == Some("load");
        let supported = if is_load {
            LOAD_SCHEMA_VERSION
        } else {
            BENCH_SCHEMA_VERSION
        };
        let found = value.get("schema_version").and_then(|v| v.as_u64());
        if let Some(found) = found.filter(|&v| v > u64::from(supported)) {
            return Err(ParseError::Newer { found, supported });
        }
        if is_load {
            Ok(RunResult::Load(Box::new(
                serde_json::from_value(value).map_err(invalid)?,
            )))
        } else if value.get("benchmarks").is_some() {
            Ok(RunResult::Bench(Box::new(
                serde_json::from_value(value).map_err(invalid)?,
            )))
        } else {
            Err(ParseError::Invalid(
                "neither a load result (`\"kind\": \"load\"`) nor a bench result (`\"benchmarks\"`)"
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
        }
    }
}
