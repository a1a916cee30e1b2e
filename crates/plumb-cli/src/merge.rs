//! Flags of `plumb merge FILES...`: the segment results to merge, the thresholds judged on the
//! merged run, its outputs and how it is saved.

use crate::load::OutputFormat;
use plumb_stats::NoData;
use std::path::PathBuf;

/// Arguments of `plumb merge`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  plumb merge segment-*.json\n  plumb merge results/*.json --json merged.json --threshold 'http_req_duration: p(99)<250ms'\n\n\
Thresholds are judged on the merged run: the ones each segment recorded and every --threshold.\n\
Exit codes: 0 passed, 1 a threshold failed or a segment's generator was saturated (the merged run\n\
is invalid), 2 the files are not the segments of one test."
)]
pub struct MergeArgs {
    /// The segments' JSON results (`plumb load --segment I/N --json FILE`), one per segment
    #[arg(value_name = "FILES", required = true, num_args = 1..=crate::segment::MAX_SEGMENTS as usize)]
    pub files: Vec<PathBuf>,

    /// Also write the merged JSON result to this file
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Output format on stdout
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Threshold in k6 syntax judged on the merged run, e.g. 'http_req_duration: p(95)<200ms'
    /// (repeatable)
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,

    /// Let a threshold whose metric has no data pass (by default it fails)
    #[arg(long)]
    pub allow_no_data: bool,

    /// Saving the merged run to the ledger.
    #[command(flatten)]
    pub save: crate::LedgerArgs,
}

impl MergeArgs {
    /// What a threshold with no data counts as.
    pub fn no_data(&self) -> NoData {
        crate::no_data_policy(self.allow_no_data)
    }

    /// The `--threshold` expressions, parsed; the error points at the bad part.
    pub fn parsed_thresholds(&self) -> Result<Vec<plumb_stats::Threshold>, crate::CliError> {
        crate::parse_thresholds(&self.thresholds)
    }
}
