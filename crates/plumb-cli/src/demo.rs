//! Flags of `plumb demo`.

use clap::Args;

/// Arguments of `plumb demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Length of each of the demo's load phases
    #[arg(short = 'd', long, default_value = "4s", value_name = "DURATION")]
    pub duration: String,

    /// No live progress on stderr
    #[arg(short = 'q', long)]
    pub quiet: bool,
}
