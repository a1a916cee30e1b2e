//! `plumb bench`: not built yet.

use crate::exit::Outcome;
use plumb_cli::BenchArgs;

/// Run `plumb bench`.
pub fn run(_args: BenchArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`plumb bench` is not implemented yet")
}
