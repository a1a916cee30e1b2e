//! Flags of `plumb report`.

use crate::ledger::LedgerPath;
use std::path::PathBuf;

/// Arguments of `plumb report`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "With two runs of the same kind, the first is the baseline and the \
    second the candidate, and the report opens with their comparison."
)]
pub struct ReportArgs {
    /// The runs: id prefixes, `latest`, `latest~N`, `baseline:NAME` or JSON result files
    #[arg(required = true)]
    pub runs: Vec<String>,

    /// Write one self-contained HTML file (inline SVG charts, works offline)
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write Markdown
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Write CSV in long format (run, kind, series, x, value)
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Write the runs' JSON results as one array
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Tolerance of the comparison of two runs
    #[arg(long, value_name = "PERCENT", default_value = "2%", value_parser = crate::compare::parse_tolerance)]
    pub tolerance: f64,

    /// Where the ledger is.
    #[command(flatten)]
    pub ledger: LedgerPath,
}
