//! Flags of `plumb compare` and `plumb gate`, and the tolerance they judge changes against.

use crate::ledger::LedgerPath;
use crate::limits::{MAX_REPEATS, MAX_ROUNDS};
use crate::parse::parse_whole;
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
    /// The command to run against itself (A/A)
    pub command: String,

    /// Rounds in each A/A comparison
    #[arg(short = 'r', long, value_name = "N", default_value_t = 20,
          allow_negative_numbers = true, value_parser = parse_rounds)]
    pub runs: u32,

    /// A/A comparisons to make
    #[arg(long, value_name = "N", default_value_t = 5,
          allow_negative_numbers = true, value_parser = parse_repeats)]
    pub repeats: u32,
}
