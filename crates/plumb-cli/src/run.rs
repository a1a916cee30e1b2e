//! Flags of `plumb run` (a plan's scenario or preset) and `plumb init` (a starter plan file).

use crate::ledger::LedgerArgs;
use crate::load::OutputFormat;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `plumb run`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  plumb run                     the normal scenario, judged by the plan's goals
  plumb run stress              1x to 5x the normal load in steps: where do the goals fail?
  plumb run spike               a sudden jump and the time to recover
  plumb run checkout --baseline main
  plumb run --list

Exit codes: 0 every goal held (and nothing regressed against the baseline), 1 a goal failed or a
metric regressed, 2 plumb could not run.")]
pub struct RunArgs {
    /// A scenario of the plan, or a preset: load, stress, soak, spike [default: the normal
    /// scenario]
    pub scenario: Option<String>,

    /// The plan file [default: plumb.toml here or in the nearest directory above]
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Compare with this baseline (a name set by `plumb baseline set`, or any run reference)
    /// [default: the plan's, else the previous run of the same scenario]
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,

    /// No before/after table
    #[arg(long)]
    pub no_compare: bool,

    /// List the plan's goals, scenarios and presets, and run nothing
    #[arg(long)]
    pub list: bool,

    /// Output format on stdout
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Also write the JSON of the run's results and table to this file
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Also write the HTML report (the plan's section, then each step's load report) to this file
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// No live progress on stderr
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Run only segment INDEX of COUNT of the scenario (auto/COUNT: the index from
    /// JOB_COMPLETION_INDEX), as `plumb load --segment`; no before/after table, since a segment
    /// is a share of the load
    #[arg(long, value_name = "INDEX/COUNT")]
    pub segment: Option<String>,

    /// Begin the load at this absolute time, as `plumb load --start-at` (a one-step run only)
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub start_at: Option<String>,

    /// Saving the runs to the ledger.
    #[command(flatten)]
    pub save: LedgerArgs,
}

/// Arguments of `plumb init`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  plumb init http://127.0.0.1:8080/api/orders --rate 100
  plumb init -- make -j4")]
pub struct InitArgs {
    /// The URL to load, or (after `--`) the command to benchmark
    #[arg(required = true, num_args = 1.., value_name = "URL|COMMAND")]
    pub target: Vec<String>,

    /// The normal rate of the starter scenario, requests per second
    #[arg(short = 'r', long, default_value = "50", value_name = "R",
          value_parser = crate::parse::parse_rate)]
    pub rate: f64,

    /// Where to write the plan
    #[arg(
        short = 'f',
        long = "file",
        default_value = "plumb.toml",
        value_name = "FILE"
    )]
    pub file: PathBuf,

    /// Replace the file if it exists
    #[arg(long)]
    pub force: bool,
}
