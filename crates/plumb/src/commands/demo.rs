//! `plumb demo`.

use crate::exit::Outcome;
use plumb_cli::DemoArgs;

/// Run `plumb demo`.
pub fn run(_args: DemoArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`plumb demo` is not implemented yet")
}
