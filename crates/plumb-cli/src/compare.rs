//! Flags of `plumb compare` and `plumb gate`, and the tolerance they judge changes against.

use crate::ledger::LedgerPath;
use std::path::PathBuf;

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
}

/// Arguments of `plumb compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The baseline run: an id prefix, `latest~N`, `baseline:NAME` or a JSON result file
    pub base: String,

    /// The candidate run (same forms)
    pub candidate: String,

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

    /// Where the ledger is.
    #[command(flatten)]
    pub ledger: LedgerPath,
}
