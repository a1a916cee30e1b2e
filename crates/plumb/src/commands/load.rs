//! `plumb load`.

use crate::exit::Outcome;
use plumb_cli::LoadArgs;

/// Run `plumb load`.
pub fn run(_args: LoadArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`plumb load` is not implemented yet")
}
