//! The flow file as written: serde types of the `[data.NAME]`, `[requests.NAME]` and
//! `[flows.NAME]` sections, every value kept with its place in the file so later errors can name
//! the line. Unknown keys inside these sections are refused; other top-level keys (the plan's
//! `[goals]`, `[scenarios]`, ...) belong to other readers and are ignored here.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The sections of a TOML file that describe traffic.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FileSpec {
    /// Data files, by name: `{{NAME.column}}` in a template reads the session's row.
    #[serde(default)]
    pub data: BTreeMap<String, Spanned<DataSpec>>,
    /// Named requests a step can start from (`request = "NAME"`).
    #[serde(default)]
    pub requests: BTreeMap<String, Spanned<StepSpec>>,
    /// Flows, by name: each a sequence of steps, picked by weight.
    #[serde(default)]
    pub flows: BTreeMap<String, Spanned<FlowSpec>>,
}

/// One flow: its weight in the mix and its steps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSpec {
    /// Relative weight in the mix of flows (default 1).
    pub weight: Option<Spanned<u32>>,
    /// Think time after each step that gives none: `"1s"`, `"uniform(1s, 3s)"`,
    /// `"exp(mean=2s, max=10s)"`.
    pub think: Option<Spanned<String>>,
    /// Constant variables of every session of this flow.
    #[serde(default)]
    pub vars: BTreeMap<String, Spanned<String>>,
    /// The steps, in order.
    #[serde(default)]
    pub steps: Vec<Spanned<StepSpec>>,
}

/// One request of a flow (or a named request in `[requests.NAME]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// The step's name: metrics are keyed by it (default: the method and the URL as written).
    pub name: Option<Spanned<String>>,
    /// Start from this `[requests.NAME]`; the step's own keys override it.
    pub request: Option<Spanned<String>>,
    /// HTTP method (default GET).
    pub method: Option<Spanned<String>>,
    /// URL template, absolute or relative to the base URL.
    pub url: Option<Spanned<String>>,
    /// Header templates.
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<String>>,
    /// A JSON body; its strings are templates (values JSON-escaped).
    pub json: Option<Spanned<toml::Value>>,
    /// A form body (`application/x-www-form-urlencoded`); values are templates.
    pub form: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// A raw body template.
    pub body: Option<Spanned<String>>,
    /// A file read once as the raw body template (relative to the flow file).
    pub body_file: Option<Spanned<String>>,
    /// Captures into variables: `"json:$.token"`, `"regex:sid=(\\w+)"`, `"header:X-CSRF"`,
    /// `"cookie:session"`.
    #[serde(default)]
    pub capture: BTreeMap<String, Spanned<String>>,
    /// Checks of the response.
    pub check: Option<Spanned<CheckSpec>>,
    /// Think time after this step.
    pub think: Option<Spanned<String>>,
}

/// What a response must satisfy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Accepted status codes: `200`, `[200, 201]`, `"200-299"` or `["200-204", 302]`.
    pub status: Option<Spanned<toml::Value>>,
    /// Text the body must contain.
    pub body_contains: Option<Spanned<String>>,
    /// JSON paths and the values they must equal.
    #[serde(default)]
    pub json: BTreeMap<String, Spanned<toml::Value>>,
}

/// A data file read by the sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// The file (relative to the flow file): CSV with a header line, or JSON lines.
    pub file: Spanned<String>,
    /// `csv` or `jsonl` (default: from the extension, else csv).
    pub format: Option<DataFormat>,
    /// Which row each session takes.
    #[serde(default)]
    pub order: Order,
    /// What happens after the last row.
    #[serde(default)]
    pub on_eof: OnEof,
    /// Whether each worker thread reads its own part of the file.
    #[serde(default)]
    pub partition: Partition,
}

/// Formats of data files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataFormat {
    /// Comma-separated values, the first line naming the columns.
    Csv,
    /// One JSON object per line; its keys are the columns.
    Jsonl,
}

/// The order sessions take rows in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Order {
    /// File order, each row once per pass.
    #[default]
    Sequential,
    /// A row drawn at random for each session (rows may repeat).
    Random,
    /// Every row once per pass, in an order shuffled per pass.
    Shuffle,
}

/// What happens after the last row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnEof {
    /// Start again from the first row.
    #[default]
    Recycle,
    /// Start no more sessions that need a row: the run ends when they are done.
    Stop,
}

/// How the rows are split between worker threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Partition {
    /// All workers share one sequence of rows.
    #[default]
    None,
    /// Worker `w` of `W` takes rows `w, w + W, ...` only.
    ByWorker,
}
