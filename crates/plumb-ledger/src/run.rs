//! What a run is in the ledger: the result itself ([`RunResult`], a load or bench result exactly as
//! `--json` writes it) and the facts kept around it ([`NewRun`] to save, [`RunRecord`] read back,
//! [`RunSummary`] for `plumb history`).

use crate::context::{GitInfo, HostFingerprint};
use crate::LedgerError;
use plumb_schema::run::ParseError;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

/// User labels of a run (`--label key=value`), sorted by key.
pub type Labels = BTreeMap<String, String>;

pub use plumb_schema::run::{RunKind, RunResult};

/// Reading a [`RunResult`] from JSON text or a file, with errors that name where it came from.
pub trait ReadResult: Sized {
    /// Parse a load or bench JSON result; `origin` (a path or run id) names it in errors.
    fn from_json(origin: &str, text: &str) -> Result<Self, LedgerError>;
    /// Read a JSON result file.
    fn from_file(path: &Path) -> Result<Self, LedgerError>;
}

impl ReadResult for RunResult {
    fn from_json(origin: &str, text: &str) -> Result<RunResult, LedgerError> {
        RunResult::parse(text).map_err(|error| match error {
            ParseError::Invalid(reason) => LedgerError::BadResult {
                origin: origin.to_owned(),
                reason,
            },
            ParseError::Newer { found, supported } => LedgerError::NewerResult {
                origin: origin.to_owned(),
                found,
                supported,
            },
        })
    }

    fn from_file(path: &Path) -> Result<RunResult, LedgerError> {
        let text = std::fs::read_to_string(path).map_err(|source| LedgerError::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
        RunResult::from_json(&path.display().to_string(), &text)
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
            RunResult::Profile(r) => (String::new(), r.plumb_version.clone()),
            RunResult::Capacity(r) => (r.started_at.clone(), r.plumb_version.clone()),
            RunResult::Page(r) => (r.started_at.clone(), r.plumb_version.clone()),
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
