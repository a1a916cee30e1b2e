//! Flags of `plumb bench`.

/// Arguments of `plumb bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The command and its arguments.
    #[arg(trailing_var_arg = true)]
    pub command: Vec<String>,
}
