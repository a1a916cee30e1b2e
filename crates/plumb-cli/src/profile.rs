//! Flags of `plumb profile`.

/// Arguments of `plumb profile`.
#[derive(Debug, clap::Args)]
pub struct ProfileArgs {
    /// The command and its arguments.
    #[arg(trailing_var_arg = true)]
    pub command: Vec<String>,
}
