//! `plumb target`.

use crate::exit::Outcome;
use plumb_cli::TargetArgs;

/// Run `plumb target`.
pub fn run(_args: TargetArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`plumb target` is not implemented yet")
}
