//! `plumb profile`: not built yet.

use crate::exit::Outcome;
use plumb_cli::ProfileArgs;

/// Run `plumb profile`.
pub fn run(_args: ProfileArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`plumb profile` is not implemented yet")
}
