//! The plan file, `plumb.toml`: goals (named thresholds), scenarios (a load of a URL or of flows,
//! or a benchmark of commands) and the presets that derive the classic test types from the normal
//! scenario. Found like `.plumb/` (walking up from the working directory) or named by `-f`.
//!
//! A scenario becomes the very command line a person would type (`plumb load URL --rate 200 ...`),
//! parsed by the same clap definitions and resolved by the same code as that command, so a plan
//! and the flags can never drift apart; an error names the file, the line, the column and the key
//! that produced the faulty flag.

mod file;
mod presets;
mod scenario;
mod starter;

pub use presets::{Preset, PresetRun, Presets, Spike, Stress};
pub use scenario::{Arg, Scenario, ScenarioKind};
pub use starter::{starter_for_command, starter_for_url};

use file::RawPlan;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The name the plan file is found by.
pub const PLAN_FILE: &str = "plumb.toml";
/// The largest plan file read, in bytes.
pub const MAX_PLAN_BYTES: u64 = 4 << 20;

/// A plan file that cannot be used: where, which key, what is wrong, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line and column of the fault, when it has a place.
    pub at: Option<(usize, usize)>,
    /// The key at fault, e.g. `scenarios.normal.rate`.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some((line, column)) = self.at {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        write!(f, "{}\nhint: {}", self.message, self.hint)
    }
}

impl std::error::Error for PlanError {}

/// A named goal: a threshold in k6's syntax that every load scenario is judged by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    /// The goal's name in `[goals]`.
    pub name: String,
    /// The threshold, e.g. `http_req_duration: p(95)<200ms`.
    pub expression: String,
}

/// A checked plan file.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The file it was read from.
    pub path: PathBuf,
    /// The plan's name (`[plan] name`, else the directory's name), labelling its runs.
    pub name: String,
    /// The baseline the before/after table compares with (`[plan] baseline`).
    pub baseline: Option<String>,
    /// The goals, in the file's order.
    pub goals: Vec<Goal>,
    /// The scenarios, in the file's order.
    pub scenarios: Vec<Scenario>,
    /// The scenario the presets derive from.
    pub normal: Option<String>,
    /// How the presets derive from it.
    pub presets: Presets,
}

/// Where a piece of text lies in the file, for error messages.
#[derive(Debug, Clone)]
pub(crate) struct Source<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl Source<'_> {
    /// An error at byte range `span` of the file, about `key`.
    pub fn error(
        &self,
        span: Option<Range<usize>>,
        key: Option<&str>,
        message: &str,
        hint: &str,
    ) -> PlanError {
        PlanError {
            path: self.path.to_path_buf(),
            at: span.map(|s| line_and_column(self.text, s.start)),
            key: key.map(str::to_owned),
            message: message.to_owned(),
            hint: hint.to_owned(),
        }
    }
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The plan file to use: `explicit` (`-f`), else `plumb.toml` in `cwd` or the nearest directory
/// above it.
pub fn locate(explicit: Option<&Path>, cwd: &Path) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    cwd.ancestors()
        .map(|dir| dir.join(PLAN_FILE))
        .find(|candidate| candidate.is_file())
}

impl Plan {
    /// Read and check the plan file at `path`.
    pub fn load(path: &Path) -> Result<Plan, PlanError> {
        let unreadable = |message: String, hint: &str| PlanError {
            path: path.to_path_buf(),
            at: None,
            key: None,
            message,
            hint: hint.to_owned(),
        };
        let size = std::fs::metadata(path)
            .map_err(|e| {
                unreadable(
                    format!("cannot read the plan file: {e}"),
                    "write one with `plumb init URL`, or name it with -f FILE",
                )
            })?
            .len();
        if size > MAX_PLAN_BYTES {
            return Err(unreadable(
                format!("is {size} bytes, above the limit of {MAX_PLAN_BYTES} bytes"),
                "a plan holds goals and scenarios; keep test data in [data] files",
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            unreadable(
                format!("cannot read the plan file: {e}"),
                "the plan file must be UTF-8 TOML",
            )
        })?;
        Plan::parse(&text, path)
    }

    /// Check the plan file's `text`, read from `path` (relative paths in it are relative to its
    /// directory).
    pub fn parse(text: &str, path: &Path) -> Result<Plan, PlanError> {
        let source = Source { path, text };
        let raw: RawPlan = toml::from_str(text).map_err(|e| toml_error(&source, &e))?;
        let goals = goals(&source, &raw)?;
        let flows: Vec<String> = raw
            .flows
            .as_ref()
            .map(|t| t.get_ref().keys().cloned().collect())
            .unwrap_or_default();
        let context = scenario::Context {
            source: &source,
            base_url: raw.target.as_ref().map(|t| t.url.clone()),
            goals: &goals,
            flows: &flows,
            threshold_window: raw.plan.threshold_window.clone(),
        };
        let mut in_file_order: Vec<_> = raw.scenarios.iter().collect();
        in_file_order.sort_by_key(|(_, scenario)| scenario.span().start);
        let scenarios = in_file_order
            .into_iter()
            .map(|(name, spanned)| Scenario::check(&context, name, spanned))
            .collect::<Result<Vec<_>, _>>()?;
        let normal = normal_scenario(&source, &raw, &scenarios)?;
        let presets = Presets::check(&source, &raw.presets)?;
        Ok(Plan {
            path: path.to_path_buf(),
            name: raw
                .plan
                .name
                .as_ref()
                .map(|n| n.get_ref().clone())
                .unwrap_or_else(|| directory_name(path)),
            baseline: raw.plan.baseline.as_ref().map(|b| b.get_ref().clone()),
            goals,
            scenarios,
            normal,
            presets,
        })
    }

    /// The scenario called `name`.
    pub fn scenario(&self, name: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    /// The normal scenario the presets derive from.
    pub fn normal_scenario(&self) -> Option<&Scenario> {
        self.normal.as_deref().and_then(|n| self.scenario(n))
    }
}

/// The name of the directory holding the plan file.
fn directory_name(path: &Path) -> String {
    std::fs::canonicalize(path)
        .ok()
        .and_then(|p| {
            p.parent()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "plan".to_owned())
}

/// toml's error (unknown key, wrong type, bad syntax) with its place in the file.
fn toml_error(source: &Source<'_>, error: &toml::de::Error) -> PlanError {
    let message = error.message().trim().replace(
        "data did not match any variant of untagged enum Number",
        "expected a number (e.g. 200 or 2.5)",
    );
    let hint = if message.contains("unknown field") {
        format!(
            "check the key's spelling; docs/plan.md lists every key (top-level sections: {})",
            file::TOP_LEVEL_KEYS
        )
    } else if message.contains("invalid type") {
        "give the key a value of the type docs/plan.md shows (strings in quotes: duration = \"30s\")".to_owned()
    } else {
        "the plan file is TOML: see docs/plan.md for a worked example".to_owned()
    };
    source.error(error.span(), error_key(error).as_deref(), &message, &hint)
}

/// The dotted key toml's error is about (`scenarios.normal.rate`), which it shows only when it
/// has no input to quote.
fn error_key(error: &toml::de::Error) -> Option<String> {
    let mut bare = error.clone();
    bare.set_input(None);
    let shown = bare.to_string();
    let key = shown
        .lines()
        .find_map(|l| l.strip_prefix("in `")?.strip_suffix('`'))?;
    (!key.is_empty()).then(|| key.to_owned())
}

/// `[goals]`, each parsed as a threshold.
fn goals(source: &Source<'_>, raw: &RawPlan) -> Result<Vec<Goal>, PlanError> {
    let mut in_file_order: Vec<_> = raw.goals.iter().collect();
    in_file_order.sort_by_key(|(_, expression)| expression.span().start);
    in_file_order
        .into_iter()
        .map(|(name, written)| {
            let expression = slo_goal(written.get_ref()).unwrap_or_else(|| written.get_ref().clone());
            plumb_stats::Threshold::parse(&expression).map_err(|e| {
                source.error(
                    Some(written.span()),
                    Some(&format!("goals.{name}")),
                    &e.to_string().replace("\nhint: ", "\n  hint: "),
                    "a goal is a threshold in k6's syntax (\"http_req_duration: p(95)<200ms\") or an SLO (\"99.9% available\", \"99% under 300ms\")",
                )
            })?;
            Ok(Goal {
                name: name.clone(),
                expression,
            })
        })
        .collect()
}

/// An SLO-style goal as the threshold it means: `99.9% available` is
/// `http_req_failed: rate<=0.1%`, `99% under 300ms` (or `99% < 300ms`) is
/// `http_req_duration: p(99)<300ms`. `None` for anything else (a threshold, or a mistake the
/// threshold parser then explains).
fn slo_goal(text: &str) -> Option<String> {
    let (share, rest) = text.trim().split_once('%')?;
    let share: f64 = share.trim().parse().ok()?;
    if !(share > 0.0 && share < 100.0) {
        return None;
    }
    let rest = rest.trim();
    if rest == "available" {
        let failed = ((100.0 - share) * 1e6).round() / 1e6;
        return Some(format!("http_req_failed: rate<={failed}%"));
    }
    let bound = rest
        .strip_prefix("under")
        .or_else(|| rest.strip_prefix('<'))?
        .trim();
    bound
        .ends_with('s')
        .then(|| format!("http_req_duration: p({share})<{bound}"))
}

/// `[plan] normal`, else the only load scenario, else one called `normal`.
fn normal_scenario(
    source: &Source<'_>,
    raw: &RawPlan,
    scenarios: &[Scenario],
) -> Result<Option<String>, PlanError> {
    if let Some(named) = &raw.plan.normal {
        let found = scenarios
            .iter()
            .any(|s| &s.name == named.get_ref() && s.is_load());
        if !found {
            return Err(source.error(
                Some(named.span()),
                Some("plan.normal"),
                &format!("names no load scenario: '{}'", named.get_ref()),
                &format!("name one of the load scenarios: {}", load_names(scenarios)),
            ));
        }
        return Ok(Some(named.get_ref().clone()));
    }
    let loads: Vec<&Scenario> = scenarios.iter().filter(|s| s.is_load()).collect();
    Ok(match loads.as_slice() {
        [only] => Some(only.name.clone()),
        _ => loads
            .iter()
            .find(|s| s.name == "normal")
            .map(|s| s.name.clone()),
    })
}

fn load_names(scenarios: &[Scenario]) -> String {
    let names: Vec<&str> = scenarios
        .iter()
        .filter(|s| s.is_load())
        .map(|s| s.name.as_str())
        .collect();
    if names.is_empty() {
        "(none: add a [scenarios.NAME] with a url)".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests;
