//! What a run is in the ledger: the result itself ([`RunResult`], a load or bench result exactly as
//! `--json` writes it) and the facts kept around it ([`NewRun`] to save, [`RunRecord`] read back,
//! [`RunSummary`] for `plumb history`).

use crate::context::{GitInfo, HostFingerprint};
use crate::LedgerError;
use plumb_schema::bench::{BenchReport, BENCH_SCHEMA_VERSION};
use plumb_schema::load::{LoadResult, LOAD_SCHEMA_VERSION};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

/// User labels of a run (`--label key=value`), sorted by key.
pub type Labels = BTreeMap<String, String>;

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

    /// Parse a load or bench JSON result; `origin` (a path or run id) names it in errors.
    pub fn from_json(origin: &str, text: &str) -> Result<RunResult, LedgerError> {
        let bad = |reason: String| LedgerError::BadResult {
            origin: origin.to_owned(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let is_load = value.get("kind").and_then(|k| k.as_str()) == Some("load");
        let supported = if is_load {
            LOAD_SCHEMA_VERSION
        } else {
            BENCH_SCHEMA_VERSION
        };
        let found = value.get("schema_version").and_then(|v| v.as_u64());
        if let Some(found) = found.filter(|&v| v > u64::from(supported)) {
            return Err(LedgerError::NewerResult {
                origin: origin.to_owned(),
                found,
                supported,
            });
        }
        if is_load {
            let result = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
            Ok(RunResult::Load(Box::new(result)))
        } else if value.get("benchmarks").is_some() {
            let report = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
            Ok(RunResult::Bench(Box::new(report)))
        } else {
            Err(bad("neither a load result (`\"kind\": \"load\"`) nor a bench result (`\"benchmarks\"`)".into()))
        }
    }

    /// Read a JSON result file.
    pub fn from_file(path: &Path) -> Result<RunResult, LedgerError> {
        let text = std::fs::read_to_string(path).map_err(|source| LedgerError::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
        RunResult::from_json(&path.display().to_string(), &text)
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

/// A run about to be saved.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// `--name`.
    pub name: Option<String>,
    /// `--label key=value`.
    pub labels: Labels,
    /// When the run started.
    pub started_at: SystemTime,
    /// When it ended.
    pub ended_at: SystemTime,
    /// The command line, arguments joined by spaces (quoted where needed).
    pub command_line: String,
    /// The version of plumb that ran it.
    pub plumb_version: String,
    /// The git state of the working directory, when inside a repository.
    pub git: Option<GitInfo>,
    /// The machine it ran on.
    pub host: HostFingerprint,
    /// The result.
    pub result: RunResult,
}

/// A run read back from the ledger (or from a JSON result file).
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The run's id (the file path for a result read from a file).
    pub id: String,
    /// `--name`.
    pub name: Option<String>,
    /// `--label key=value`.
    pub labels: Labels,
    /// Start, RFC 3339 UTC (empty when unknown).
    pub started_at: String,
    /// End, RFC 3339 UTC (empty when unknown).
    pub ended_at: String,
    /// The command line.
    pub command_line: String,
    /// The version of plumb that ran it.
    pub plumb_version: String,
    /// The git state, when known.
    pub git: Option<GitInfo>,
    /// The machine, when known (not for a result file).
    pub host: Option<HostFingerprint>,
    /// The result.
    pub result: RunResult,
}

impl RunRecord {
    /// A record for a result read from a file: only what the file itself says.
    pub fn from_file(path: &Path) -> Result<RunRecord, LedgerError> {
        let result = RunResult::from_file(path)?;
        let (started_at, plumb_version) = match &result {
            RunResult::Load(r) => (r.started_at.clone(), r.plumb_version.clone()),
            RunResult::Bench(r) => (String::new(), r.plumb_version.clone()),
        };
        Ok(RunRecord {
            id: path.display().to_string(),
            name: None,
            labels: Labels::new(),
            started_at,
            ended_at: String::new(),
            command_line: String::new(),
            plumb_version,
            git: None,
            host: None,
            result,
        })
    }
}

/// One line of `plumb history`.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The run's id.
    pub id: String,
    /// Load or bench.
    pub kind: RunKind,
    /// `--name`.
    pub name: Option<String>,
    /// `--label key=value`.
    pub labels: Labels,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// The git state, when known.
    pub git: Option<GitInfo>,
    /// Whether the run was stopped early.
    pub interrupted: bool,
    /// A one-line summary of the result.
    pub headline: String,
}
