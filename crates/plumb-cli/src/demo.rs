//! Flags of `plumb demo`.

use crate::parse::{parse_run_duration, CliError};
use clap::Args;
use std::time::Duration;

/// Arguments of `plumb demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Length of each of the demo's three load runs (at most 7d)
    #[arg(
        short = 'd',
        long,
        default_value = "6s",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub duration: String,

    /// No live progress on stderr
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

impl DemoArgs {
    /// The length of each phase, checked: longer than zero, at most 7 days.
    pub fn phase(&self) -> Result<Duration, CliError> {
        parse_run_duration("--duration", &self.duration)
    }
}
