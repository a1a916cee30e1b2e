//! Flags of `plumb compare` and `plumb gate`, and the tolerance they judge changes against.

use crate::ledger::LedgerPath;
use crate::limits::{MAX_CONNECTIONS, MAX_REPEATS, MAX_ROUNDS, MAX_THREADS};
use crate::load::{LoadArgs, LoadPlan};
use crate::parse::parse_whole;
use crate::parse::CliError;
use clap::{Args, FromArgMatches};
use plumb_stats::NoData;
use std::path::PathBuf;

fn parse_rounds(text: &str) -> Result<u32, String> {
    parse_whole("--runs", text, 2..=MAX_ROUNDS, "e.g. --runs 20")
}

fn parse_repeats(text: &str) -> Result<u32, String> {
    parse_whole("--repeats", text, 1..=MAX_REPEATS, "e.g. --repeats 5")
}

/// Parse a tolerance: `2%`, `0.02` (a fraction) or `5 %`.
pub fn parse_tolerance(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, scale) = match trimmed.strip_suffix('%') {
        Some(number) => (number.trim(), 0.01),
        None => (trimmed, 1.0),
    };
    match number.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 && value * scale < 1.0 => Ok(value * scale),
        _ => Err(format!(
            "invalid tolerance '{text}': expected a percentage below 100%, e.g. 2% or 0.02"
        )),
    }
}

/// Output formats of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    /// A table for people.
    Text,
    /// A Markdown table (for pull requests).
    Markdown,
    /// The versioned JSON comparison (crates/plumb-schema/schema/compare.schema.json).
    Json,
}

/// Arguments of `plumb compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The baseline runs: a run (an id prefix, `latest~N`, `baseline:NAME`, a --run-name, a JSON
    /// result file) or several pooled (`A,B`, `latest~4..latest`, `name:NAME`, `label:K=V`);
    /// with --ab: the baseline command, or URL
    pub base: String,

    /// The candidate runs (same forms; with --ab: the candidate command, or URL)
    pub candidate: String,

    /// Run BASE and CAND now, in alternating rounds, and compare: two commands in shuffled
    /// order with paired rounds, or two URLs with 2 s loads (-c 10) each round (the design that
    /// survives noisy machines)
    #[arg(long)]
    pub ab: bool,

    /// Rounds of --ab (two URLs: at most 10)
    #[arg(short = 'r', long, value_name = "N", default_value_t = 20, requires = "ab",
          allow_negative_numbers = true, value_parser = parse_rounds)]
    pub runs: u32,

    /// Practical tolerance δ: changes within ±δ are "equivalent"
    #[arg(long, value_name = "PERCENT", default_value = "2%", value_parser = parse_tolerance)]
    pub tolerance: f64,

    /// Output format on stdout
    #[arg(short = 'o', long, value_enum, default_value_t = CompareFormat::Text)]
    pub output: CompareFormat,

    /// With profiles: write a differential flamegraph SVG to FILE (the candidate's stacks,
    /// red where a stack grew against the baseline and blue where it shrank)
    #[arg(long, value_name = "FILE", conflicts_with = "ab")]
    pub flamegraph: Option<std::path::PathBuf>,

    /// Where the ledger is.
    #[command(flatten)]
    pub ledger: LedgerPath,
}

/// Arguments of `plumb gate`.
#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// The run to check [default: the latest run]
    pub run: Option<String>,

    /// The baseline's name (`plumb baseline set NAME RUN`), or any run reference
    #[arg(long, value_name = "NAME")]
    pub baseline: String,

    /// Practical tolerance δ: only a change surely beyond δ fails the gate
    #[arg(long, value_name = "PERCENT", default_value = "5%", value_parser = parse_tolerance)]
    pub tolerance: f64,

    /// Also fail when a verdict is inconclusive
    #[arg(long)]
    pub strict: bool,

    /// Write a JUnit XML report to this file
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// What to print: markdown (for a pull-request comment), text, or json (versioned)
    #[arg(short = 'o', long, value_enum, default_value_t = CompareFormat::Markdown)]
    pub output: CompareFormat,

    /// Also check a load run against a threshold in k6 syntax, e.g. 'http_req_duration: p(95)<200ms'
    /// (repeatable)
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,

    /// Let a --threshold whose metric has no data pass (by default it fails: a run that measured
    /// nothing must not pass the gate)
    #[arg(long)]
    pub allow_no_data: bool,

    /// Where the ledger is.
    #[command(flatten)]
    pub ledger: LedgerPath,
}

impl GateArgs {
    /// What a threshold with no data counts as.
    pub fn no_data(&self) -> NoData {
        crate::no_data_policy(self.allow_no_data)
    }

    /// The `--threshold` expressions, parsed; the error points at the bad part.
    pub fn parsed_thresholds(&self) -> Result<Vec<plumb_stats::Threshold>, crate::CliError> {
        crate::parse_thresholds(&self.thresholds)
    }
}

/// Arguments of `plumb calibrate`.
#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// The command to run against itself (A/A), or a URL (http:// or https://) to load against
    /// itself in pairs of short load runs
    pub command: String,

    /// Rounds in each A/A comparison of a command [default: 20]
    #[arg(short = 'r', long, value_name = "N",
          allow_negative_numbers = true, value_parser = parse_rounds)]
    pub runs: Option<u32>,

    /// A/A comparisons to make
    #[arg(long, value_name = "N", default_value_t = 5,
          allow_negative_numbers = true, value_parser = parse_repeats)]
    pub repeats: u32,

    /// With a URL: connections, as `plumb load -c` [default: 10, or 1000 with --rate]
    #[arg(short = 'c', long, value_name = "N", allow_negative_numbers = true,
          value_parser = parse_calibrate_connections)]
    pub connections: Option<u32>,

    /// With a URL: requests per second on a schedule, as `plumb load --rate`
    #[arg(long, value_name = "R", allow_negative_numbers = true,
          value_parser = crate::parse::parse_rate)]
    pub rate: Option<f64>,

    /// With a URL: the length of each load run, as `plumb load -d` [default: 5s]
    #[arg(short = 'd', long, value_name = "DURATION", allow_hyphen_values = true)]
    pub duration: Option<String>,

    /// With a URL: worker threads, as `plumb load -t` [default: one per core]
    #[arg(short = 't', long, value_name = "N", allow_negative_numbers = true,
          value_parser = parse_calibrate_threads)]
    pub threads: Option<usize>,
}

/// Rounds of each A/A comparison of a command when `-r` is not given.
const CALIBRATE_ROUNDS: u32 = 20;
/// Connections of each A/A load run (closed model) when `-c` is not given.
const CALIBRATE_CONNECTIONS: u32 = 10;
/// Length of each A/A load run when `-d` is not given.
const CALIBRATE_DURATION: &str = "5s";

fn parse_calibrate_connections(text: &str) -> Result<u32, String> {
    parse_whole("-c", text, 1..=MAX_CONNECTIONS, "e.g. -c 10")
}

fn parse_calibrate_threads(text: &str) -> Result<usize, String> {
    parse_whole(
        "-t",
        text,
        1..=MAX_THREADS,
        "e.g. -t 2, or omit -t for one thread per core",
    )
}

impl CalibrateArgs {
    /// Whether the target is a URL (A/A load runs) rather than a command.
    pub fn is_url(&self) -> bool {
        let lower = self.command.to_ascii_lowercase();
        lower.starts_with("http://") || lower.starts_with("https://")
    }

    /// Rounds of each A/A comparison of a command.
    pub fn rounds(&self) -> u32 {
        self.runs.unwrap_or(CALIBRATE_ROUNDS)
    }

    /// With a URL: the plan of every A/A load run, resolved by `plumb load`'s own flags (the same
    /// defaults and checks, so a run here is the run `plumb load URL -c N -d D` makes). `None`
    /// for a command. A flag of the other mode is refused.
    pub fn load_plan(&self) -> Result<Option<LoadPlan>, CliError> {
        if !self.is_url() {
            return self.refuse_load_flags().map(|()| None);
        }
        if let Some(runs) = self.runs {
            return Err(CliError::flag(
                "--runs",
                &runs.to_string(),
                "counts a command's rounds; with a URL each A/A comparison is two load runs",
                "set the length of each run with -d (e.g. -d 10s), the comparisons with --repeats, a rate with --rate",
            ));
        }
        let argv = self.load_argv();
        let parsed = LoadArgs::augment_args(clap::Command::new("load"))
            .try_get_matches_from(&argv)
            .and_then(|matches| LoadArgs::from_arg_matches(&matches));
        match parsed {
            Ok(args) => args.resolve().map(Some),
            Err(error) => Err(CliError::flag(
                "URL",
                &self.command,
                error.to_string().lines().next().unwrap_or("refused"),
                "run the same settings with `plumb load` to see which one it refuses",
            )),
        }
    }

    /// The `plumb load` command line of each A/A run.
    fn load_argv(&self) -> Vec<String> {
        let mut argv = vec!["load".to_string(), self.command.clone()];
        let duration = self.duration.as_deref().unwrap_or(CALIBRATE_DURATION);
        argv.extend(["--duration".to_string(), duration.to_string()]);
        let connections = match (self.connections, self.rate) {
            (Some(c), _) => Some(c),
            (None, None) => Some(CALIBRATE_CONNECTIONS),
            (None, Some(_)) => None,
        };
        if let Some(c) = connections {
            argv.extend(["--connections".to_string(), c.to_string()]);
        }
        if let Some(rate) = self.rate {
            argv.extend(["--rate".to_string(), rate.to_string()]);
        }
        if let Some(threads) = self.threads {
            argv.extend(["--threads".to_string(), threads.to_string()]);
        }
        argv
    }

    /// With a command: `-c`, `--rate`, `-d` and `-t` shape load runs, not a command's rounds.
    fn refuse_load_flags(&self) -> Result<(), CliError> {
        let given = [
            ("-c", self.connections.map(|c| c.to_string())),
            ("--rate", self.rate.map(|r| r.to_string())),
            ("-d", self.duration.clone()),
            ("-t", self.threads.map(|t| t.to_string())),
        ];
        match given.into_iter().find_map(|(flag, v)| Some((flag, v?))) {
            Some((flag, value)) => Err(CliError::flag(
                flag,
                &value,
                "shapes load runs, and the target is a command, not a URL",
                "give a URL (http:// or https://) to calibrate load runs, or drop the flag",
            )),
            None => Ok(()),
        }
    }
}
