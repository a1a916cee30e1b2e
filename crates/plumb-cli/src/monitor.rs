//! Flags of `plumb monitor`, resolved into [`plumb_monitor::MonitorConfig`] (the same type the
//! plan file's `[monitor]` section reads into) plus what only a command line says: where to
//! write rules, and how long to run.

use crate::ledger::LedgerPath;
use crate::parse::{parse_duration, parse_run_duration, CliError};
use clap::Args;
use plumb_monitor::{ConfigError, MonitorConfig, SloSpec};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `plumb monitor`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  plumb monitor http://127.0.0.1:8080/health --every 10s --slo 'availability 99.9% 30d'\n  plumb monitor http://127.0.0.1:8080/ --slo 'latency 99% < 300ms 30d' --webhook http://127.0.0.1:9093/api/v2/alerts\n  plumb monitor --plan plumb.toml --listen 127.0.0.1:9464\n  plumb monitor http://127.0.0.1:8080/ --rules slo-rules.yml\n\nSee docs/monitor.md."
)]
pub struct MonitorArgs {
    /// The URL to probe (or give --plan)
    pub url: Option<String>,

    /// Read the monitor from the [monitor] section of this plan file
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// The monitor's name (the key of its saved state) [default: the URL]
    #[arg(long)]
    pub name: Option<String>,

    /// Time between probes (100ms to 1d) [default: 10s]
    #[arg(long, value_name = "DURATION")]
    pub every: Option<String>,

    /// Each probe's timeout [default: 5s]
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Accepted status codes, e.g. 200 or 200-299,304 [default: 2xx and 3xx]
    #[arg(long, value_name = "CODES")]
    pub expect_status: Option<String>,

    /// Text the response body must contain
    #[arg(long, value_name = "TEXT")]
    pub expect_body: Option<String>,

    /// An objective, repeatable: 'availability 99.9% 30d' or 'latency 99% < 300ms 30d'
    /// [default: availability 99.9% 30d]
    #[arg(long = "slo", value_name = "SLO")]
    pub slos: Vec<String>,

    /// Alert when the p95 of the recent window's passed probes is above this, e.g. 250ms
    #[arg(long, value_name = "DURATION")]
    pub p95_above: Option<String>,

    /// Probe with one session of this flow file's flows instead of one request (the URL is
    /// their base URL; see docs/flows.md)
    #[arg(long, value_name = "FILE")]
    pub flow_file: Option<PathBuf>,

    /// With --flow-file: the flow a probe runs (repeatable: picked by weight) [default: all]
    #[arg(long, value_name = "NAME", requires = "flow_file")]
    pub flow: Vec<String>,

    /// Alert when the host's CPU or memory (and the --watch-pid processes') is above this share
    /// of the host, e.g. 80%
    #[arg(long, value_name = "PERCENT", value_parser = parse_share)]
    pub resource_above: Option<f64>,

    /// Watch this process's CPU and memory for --resource-above (repeatable)
    #[arg(long, value_name = "PID")]
    pub watch_pid: Vec<u32>,

    /// With --watch-pid: its descendants too (workers of a pre-forking server)
    #[arg(long)]
    pub watch_tree: bool,

    /// How long the condition of a firing alert must stay clear before it resolves
    /// [default: two probe intervals]
    #[arg(long, value_name = "DURATION")]
    pub resolve_after: Option<String>,

    /// POST firing and resolved alerts here in Alertmanager's webhook format
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,

    /// Run this shell command for each alert (JSON on stdin, PLUMB_ALERT_* in its environment)
    #[arg(long, value_name = "CMD")]
    pub alert_command: Option<String>,

    /// Serve /metrics and the dashboard here, e.g. 127.0.0.1:9464
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// The token /metrics and the dashboard require (needed off loopback)
    #[arg(
        long,
        value_name = "TOKEN",
        env = "PLUMB_MONITOR_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// Write Prometheus recording and alerting rules for the SLOs to FILE, then exit
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Stop after this long (at most 7 days) [default: until Ctrl-C or SIGTERM]
    #[arg(long = "for", value_name = "DURATION")]
    pub run_for: Option<String>,

    /// Print the final status as JSON on stdout
    #[arg(long)]
    pub json: bool,

    /// Where the ledger is (the monitor's windows and alert states are kept there).
    #[command(flatten)]
    pub ledger: LedgerPath,
}

/// A resolved `plumb monitor`.
#[derive(Debug, Clone)]
pub struct MonitorPlan {
    /// What to monitor.
    pub config: MonitorConfig,
    /// `--rules FILE`.
    pub rules: Option<PathBuf>,
    /// `--for`.
    pub run_for: Option<Duration>,
}

impl MonitorArgs {
    /// The monitor's settings: the plan's `[monitor]` section (or the URL), then the flags.
    pub fn resolve(&self) -> anyhow::Result<MonitorPlan> {
        let mut config = match (&self.plan, &self.url) {
            (Some(plan), None) => MonitorConfig::from_plan(plan)?,
            (None, Some(url)) => MonitorConfig::new(url),
            (Some(_), Some(_)) => {
                return Err(CliError::flag(
                    "URL",
                    self.url.as_deref().unwrap_or(""),
                    "is given with --plan",
                    "give the URL in the plan's [monitor] section, or drop --plan",
                )
                .into())
            }
            (None, None) => {
                return Err(CliError::flag(
                    "URL",
                    "",
                    "is missing",
                    "e.g. plumb monitor http://127.0.0.1:8080/health, or --plan plumb.toml",
                )
                .into())
            }
        };
        self.apply(&mut config)?;
        config.validate().map_err(as_flag)?;
        Ok(MonitorPlan {
            config,
            rules: self.rules.clone(),
            run_for: self
                .run_for
                .as_deref()
                .map(|t| parse_run_duration("--for", t))
                .transpose()?,
        })
    }

    fn apply(&self, config: &mut MonitorConfig) -> Result<(), CliError> {
        let duration = |flag: &str, text: &Option<String>| {
            text.as_deref().map(|t| parse_duration(flag, t)).transpose()
        };
        if let Some(name) = &self.name {
            config.name = Some(name.clone());
        }
        if let Some(d) = duration("--every", &self.every)? {
            config.every = d;
        }
        if let Some(d) = duration("--timeout", &self.timeout)? {
            config.timeout = d;
        }
        if let Some(d) = duration("--p95-above", &self.p95_above)? {
            config.p95_above = Some(d);
        }
        if let Some(d) = duration("--resolve-after", &self.resolve_after)? {
            config.resolve_after = Some(d);
        }
        if self.flow_file.is_some() {
            config.flow_file.clone_from(&self.flow_file);
        }
        if !self.flow.is_empty() {
            config.flow.clone_from(&self.flow);
        }
        if self.resource_above.is_some() {
            config.resource_above = self.resource_above;
        }
        if !self.watch_pid.is_empty() {
            config.watch_pid.clone_from(&self.watch_pid);
        }
        config.watch_tree |= self.watch_tree;
        if !self.slos.is_empty() {
            config.slo = self
                .slos
                .iter()
                .map(|s| parse_slo(s))
                .collect::<Result<_, _>>()?;
        }
        let set = |slot: &mut Option<String>, value: &Option<String>| {
            if value.is_some() {
                slot.clone_from(value);
            }
        };
        set(&mut config.expect_status, &self.expect_status);
        set(&mut config.expect_body, &self.expect_body);
        set(&mut config.webhook, &self.webhook);
        set(&mut config.alert_command, &self.alert_command);
        set(&mut config.token, &self.token);
        if self.listen.is_some() {
            config.listen = self.listen;
        }
        Ok(())
    }
}

/// `80%` or `0.8`: above 0 and at most 100%.
fn parse_share(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, scale) = match trimmed.strip_suffix('%') {
        Some(number) => (number.trim(), 0.01),
        None => (trimmed, 1.0),
    };
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v * scale > 0.0 && v * scale <= 1.0 => Ok(v * scale),
        _ => Err("expected a share of the host above 0% and at most 100%\nhint: e.g. --resource-above 80%".to_owned()),
    }
}

fn parse_slo(text: &str) -> Result<SloSpec, CliError> {
    text.parse::<SloSpec>()
        .map_err(|e| CliError::flag("--slo", text, &e.why, "write 'availability 99.9% 30d' or 'latency 99% < 300ms 30d' (objective below 100%, period 1h to 366d)"))
}

/// A monitor setting's error, named after its flag (keys only a plan file has keep their name).
fn as_flag(mut e: ConfigError) -> ConfigError {
    e.key = match e.key.as_str() {
        "url" => "URL".to_string(),
        "recent" | "spike" => e.key,
        key => format!("--{key}"),
    };
    e
}
