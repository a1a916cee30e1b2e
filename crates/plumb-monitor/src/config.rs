//! What a monitor does, as plain serde types: the `[monitor]` section of `plumb.toml`
//! deserializes into [`MonitorConfig`], and `plumb monitor`'s flags resolve into the same type,
//! so flags and files cannot drift. Every value is bounded when it is read.

use crate::slo::SloSpec;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// The shortest probe interval.
pub const MIN_EVERY: Duration = Duration::from_millis(100);
/// The longest probe interval, timeout, or alert delay.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);
/// The most SLOs one monitor keeps.
pub const MAX_SLOS: usize = 16;

/// One monitor: a probe on a schedule, its SLOs, its alerts and where they go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MonitorConfig {
    /// The monitor's name: the key of its saved state, and a label of its metrics and alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The URL probed (`http://` or `https://`).
    pub url: String,
    /// Time between probes.
    #[serde(default = "default_every", with = "duration_text")]
    pub every: Duration,
    /// Each probe's timeout (connect and exchange each).
    #[serde(default = "default_timeout", with = "duration_text")]
    pub timeout: Duration,
    /// Probe with a session of these flows instead of one request: the flow file (its
    /// `[data]`, `[requests]` and `[flows]`, docs/flows.md); `url` is then their base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_file: Option<std::path::PathBuf>,
    /// With `flow-file`: the flows a probe picks from by weight (default: all of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flow: Vec<String>,
    /// Accepted status codes, e.g. `200` or `200-299,304`; none means any 2xx or 3xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<String>,
    /// Text the response body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_body: Option<String>,
    /// The objectives, e.g. `availability 99.9% 30d`, `latency 99% < 300ms 30d`.
    #[serde(default = "default_slos")]
    pub slo: Vec<SloSpec>,
    /// Alert when the p95 of the last `p95-window` of successful probes is above this.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_duration_text"
    )]
    pub p95_above: Option<Duration>,
    /// The recent window of the p95 and error-rate spike alerts (at least one probe interval).
    #[serde(default = "default_recent", with = "duration_text")]
    pub recent: Duration,
    /// Alert when the error rate of the recent window is this much (0.05 = 5 points) above
    /// its level over the hour before.
    #[serde(default = "default_spike")]
    pub spike: f64,
    /// Alert when the host's CPU or memory, or the watched processes', is above this share of
    /// the host (0.8 = 80%); none means no resource alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_above: Option<f64>,
    /// Processes whose CPU and memory are watched (with `resource-above`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watch_pid: Vec<u32>,
    /// Watch the `watch-pid` processes' descendants too (workers of a pre-forking server).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub watch_tree: bool,
    /// An alert resolves only once its condition has been clear this long (hysteresis);
    /// none means two probe intervals.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_duration_text"
    )]
    pub resolve_after: Option<Duration>,
    /// Alertmanager-format webhook receiving firing and resolved alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// A shell command run for each alert (the JSON on stdin, PLUMB_ALERT_* in its environment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_command: Option<String>,
    /// Where `/metrics` and the dashboard are served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// The token the dashboard and `/metrics` require (needed when `listen` is not loopback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

fn default_every() -> Duration {
    Duration::from_secs(10)
}
fn default_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_recent() -> Duration {
    Duration::from_secs(300)
}
fn default_spike() -> f64 {
    0.05
}
fn default_slos() -> Vec<SloSpec> {
    vec!["availability 99.9% 30d".parse().expect("a valid default")]
}

/// A setting that cannot be used: the key (or flag), what is wrong, the limit, what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {why}\nhint: {hint}")]
pub struct ConfigError {
    /// The setting, e.g. `every` (a plan file key) or `--every` (a flag).
    pub key: String,
    /// What is wrong, with the limit.
    pub why: String,
    /// What to do.
    pub hint: String,
}

impl ConfigError {
    /// An error about `key`.
    pub fn new(key: &str, why: impl Into<String>, hint: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.to_string(),
            why: why.into(),
            hint: hint.into(),
        }
    }
}

/// A plan file whose `[monitor]` section cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}\nhint: check the path given to --plan")]
    Read {
        /// The plan file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or `[monitor]` has a bad key or value.
    #[error("{path}:{line}:{column}: {message}\nhint: {hint}")]
    Parse {
        /// The plan file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
        /// What to do.
        hint: String,
    },
    /// The file has no `[monitor]` section.
    #[error("{path}: no [monitor] section\nhint: add one, e.g.\n  [monitor]\n  url = \"http://127.0.0.1:8080/health\"\n  slo = [\"availability 99.9% 30d\"]")]
    Missing {
        /// The plan file.
        path: String,
    },
}

#[derive(Deserialize)]
struct PlanFile {
    // Every other top-level key belongs to the plan's own reader and is ignored here.
    monitor: Option<MonitorConfig>,
}

impl MonitorConfig {
    /// The settings of a monitor of `url` with every default.
    pub fn new(url: impl Into<String>) -> MonitorConfig {
        MonitorConfig {
            name: None,
            url: url.into(),
            every: default_every(),
            timeout: default_timeout(),
            flow_file: None,
            flow: Vec::new(),
            expect_status: None,
            expect_body: None,
            slo: default_slos(),
            p95_above: None,
            recent: default_recent(),
            spike: default_spike(),
            resource_above: None,
            watch_pid: Vec::new(),
            watch_tree: false,
            resolve_after: None,
            webhook: None,
            alert_command: None,
            listen: None,
            token: None,
        }
    }

    /// Read the `[monitor]` section of the plan file at `path`, checked.
    pub fn from_plan(path: &Path) -> Result<MonitorConfig, PlanError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read {
            path: shown.clone(),
            source,
        })?;
        MonitorConfig::from_plan_text(&shown, &text)
    }

    /// [`MonitorConfig::from_plan`] on text already read; `path` names it in errors.
    pub fn from_plan_text(path: &str, text: &str) -> Result<MonitorConfig, PlanError> {
        let plan: PlanFile = toml::from_str(text).map_err(|e| {
            let (line, column) = line_col(text, e.span().map_or(0, |s| s.start));
            PlanError::Parse {
                path: path.to_string(),
                line,
                column,
                message: e.message().trim().to_string(),
                hint: "see docs/monitor.md for the keys of [monitor]".to_string(),
            }
        })?;
        let config = plan.monitor.ok_or_else(|| PlanError::Missing {
            path: path.to_string(),
        })?;
        config.validate().map_err(|e| {
            let (line, column) = key_position(text, &e.key);
            PlanError::Parse {
                path: path.to_string(),
                line,
                column,
                message: format!("{}: {}", e.key, e.why),
                hint: e.hint,
            }
        })?;
        Ok(config)
    }

    /// The monitor's name: `name`, else the URL.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.url)
    }

    /// The recent window in effect: `recent`, or one probe interval if that is longer.
    pub fn recent_window(&self) -> Duration {
        self.recent.max(self.every)
    }

    /// How long a clear condition waits before its alert resolves.
    pub fn resolve_delay(&self) -> Duration {
        self.resolve_after.unwrap_or(self.every * 2)
    }

    /// Check every value against its bound.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(ConfigError::new(
                "url",
                format!("'{}' is not an http:// or https:// URL", self.url),
                "e.g. url = \"http://127.0.0.1:8080/health\"",
            ));
        }
        within(
            "every",
            self.every,
            MIN_EVERY,
            MAX_WAIT,
            "e.g. every = \"10s\"",
        )?;
        within(
            "timeout",
            self.timeout,
            Duration::from_millis(1),
            MAX_WAIT,
            "e.g. timeout = \"5s\"",
        )?;
        within(
            "recent",
            self.recent,
            Duration::from_secs(1),
            MAX_WAIT,
            "e.g. recent = \"5m\" (a recent window shorter than a probe interval is one interval)",
        )?;
        if self.recent.as_millis() / self.every.as_millis().max(1) > 10_000 {
            return Err(ConfigError::new(
                "recent",
                format!(
                    "{} holds more than 10000 probes every {}",
                    humantime::format_duration(self.recent),
                    humantime::format_duration(self.every)
                ),
                "shorten recent or probe less often",
            ));
        }
        if let Some(d) = self.resolve_after {
            within(
                "resolve-after",
                d,
                Duration::ZERO,
                MAX_WAIT,
                "e.g. resolve-after = \"1m\"",
            )?;
        }
        if let Some(d) = self.p95_above {
            within(
                "p95-above",
                d,
                Duration::from_micros(1),
                MAX_WAIT,
                "e.g. p95-above = \"250ms\"",
            )?;
        }
        if !(self.spike > 0.0 && self.spike <= 1.0) {
            return Err(ConfigError::new(
                "spike",
                format!("{} is not above 0 and at most 1", self.spike),
                "a share of probes: spike = 0.05 alerts at 5 points above the last hour's error rate",
            ));
        }
        if let Some(share) = self.resource_above {
            if !(share > 0.0 && share <= 1.0) {
                return Err(ConfigError::new(
                    "resource-above",
                    format!("{share} is not above 0 and at most 1"),
                    "a share of the host: resource-above = 0.8 alerts above 80% CPU or memory",
                ));
            }
        }
        if !self.watch_pid.is_empty() && self.resource_above.is_none() {
            return Err(ConfigError::new(
                "watch-pid",
                "watches processes for resource alerts, and resource-above is not set".to_owned(),
                "add resource-above = 0.8 (--resource-above 80%)",
            ));
        }
        if self.slo.len() > MAX_SLOS {
            return Err(ConfigError::new(
                "slo",
                format!(
                    "{} objectives, more than the {MAX_SLOS} a monitor keeps",
                    self.slo.len()
                ),
                "split them over several monitors",
            ));
        }
        if let Some(addr) = self.listen {
            if !addr.ip().is_loopback() && self.token.as_deref().is_none_or(str::is_empty) {
                return Err(ConfigError::new(
                    "token",
                    format!("is required to listen on {addr}, which is not loopback"),
                    "give --token (or PLUMB_MONITOR_TOKEN), or listen on 127.0.0.1",
                ));
            }
        }
        self.checks()?;
        Ok(())
    }

    /// The response checks, as the HTTP engine takes them.
    pub fn checks(&self) -> Result<plumb_load::Checks, ConfigError> {
        let expect_status = match &self.expect_status {
            None => Vec::new(),
            Some(text) => parse_statuses(text)?,
        };
        Ok(plumb_load::Checks {
            expect_status,
            expect_body: self.expect_body.clone(),
        })
    }
}

fn within(
    key: &str,
    value: Duration,
    min: Duration,
    max: Duration,
    hint: &str,
) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::new(
            key,
            format!(
                "{} is outside {} to {}",
                humantime::format_duration(value),
                humantime::format_duration(min),
                humantime::format_duration(max)
            ),
            hint,
        ));
    }
    Ok(())
}

/// `200`, `200-299,304`: inclusive ranges of codes from 100 to 599.
pub fn parse_statuses(text: &str) -> Result<Vec<plumb_load::StatusRange>, ConfigError> {
    let bad = |why: String| {
        ConfigError::new(
            "expect-status",
            why,
            "codes from 100 to 599, ranges and lists: e.g. 200, or 200-299,304",
        )
    };
    let code = |part: &str| match part.trim().parse::<u16>() {
        Ok(c) if (100..=599).contains(&c) => Ok(c),
        _ => Err(bad(format!("'{}' is not a status code", part.trim()))),
    };
    text.split(',')
        .map(|part| {
            let (from, to) = match part.split_once('-') {
                Some((a, b)) => (code(a)?, code(b)?),
                None => (code(part)?, code(part)?),
            };
            if from > to {
                return Err(bad(format!("'{}' runs backwards", part.trim())));
            }
            Ok(plumb_load::StatusRange { from, to })
        })
        .collect()
}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

/// Where `key = ...` sits in the `[monitor]` section (its header if the key is absent).
fn key_position(text: &str, key: &str) -> (usize, usize) {
    let section = text.find("[monitor]").unwrap_or(0);
    let mut offset = section;
    for line in text[section..].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with(key) && trimmed[key.len()..].trim_start().starts_with('=') {
            return line_col(text, offset + (line.len() - trimmed.len()));
        }
        offset += line.len();
    }
    line_col(text, section)
}

/// Durations as humantime text (`10s`, `1h 30m`) in plan files.
mod duration_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(text.trim()).map_err(|e| {
            serde::de::Error::custom(format!("'{text}' is not a duration ({e}); e.g. \"10s\""))
        })
    }
}

mod opt_duration_text {
    use serde::{Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::duration_text::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        super::duration_text::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_error(text: &str) -> String {
        MonitorConfig::from_plan_text("plumb.toml", text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_only_the_monitor_section_and_ignores_other_keys() {
        let text = "name = \"shop\"\n[scenario.a]\nx = 1\n[monitor]\nurl = \"http://127.0.0.1:1/\"\nevery = \"30s\"\nslo = [\"latency 99% < 300ms 30d\"]\n";
        let config = MonitorConfig::from_plan_text("plumb.toml", text).unwrap();
        assert_eq!(config.every, Duration::from_secs(30));
        assert_eq!(config.slo[0].to_string(), "latency 99% < 300ms 30d");
    }

    #[test]
    fn unknown_keys_inside_monitor_are_refused_with_their_place() {
        let e = plan_error("[monitor]\nurl = \"http://127.0.0.1:1/\"\nevry = \"1s\"\n");
        assert!(e.starts_with("plumb.toml:3:1: unknown field `evry`"), "{e}");
        assert!(e.contains("hint:"), "{e}");
    }

    #[test]
    fn out_of_bounds_values_name_the_key_the_limit_and_the_line() {
        let e = plan_error("[monitor]\nurl = \"http://127.0.0.1:1/\"\nevery = \"1ms\"\n");
        assert!(
            e.starts_with("plumb.toml:3:1: every: 1ms is outside 100ms to 1day"),
            "{e}"
        );
        let e = plan_error(
            "[monitor]\nurl = \"http://127.0.0.1:1/\"\nslo = [\"availability 100% 30d\"]\n",
        );
        assert!(e.starts_with("plumb.toml:3:7:"), "{e}");
        assert!(e.contains("hint:"), "{e}");
    }

    #[test]
    fn statuses_are_bounded() {
        assert!(parse_statuses("200-299,304").is_ok());
        assert!(parse_statuses("99").is_err());
        assert!(parse_statuses("300-200").is_err());
    }
}
