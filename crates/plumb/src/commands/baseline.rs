//! `plumb baseline set NAME RUN` and `plumb baseline list`.

use crate::exit::Outcome;
use plumb_cli::{BaselineAction, BaselineArgs};
use std::io::Write;

/// Run `plumb baseline`.
pub fn run(args: BaselineArgs) -> anyhow::Result<Outcome> {
    let mut ledger = crate::runs::open(&args.ledger)?;
    let mut out = std::io::stdout().lock();
    match args.action {
        BaselineAction::Set { name, run } => {
            let id = ledger
                .set_baseline(&name, &run)
                .map_err(crate::runs::explained)?;
            writeln!(out, "baseline {name} -> {id}")?;
        }
        BaselineAction::List => {
            let baselines = ledger.baselines().map_err(crate::runs::explained)?;
            if baselines.is_empty() {
                eprintln!("no baselines yet\nhint: `plumb baseline set NAME RUN` makes one");
            }
            for b in baselines {
                writeln!(
                    out,
                    "{:<16}  {}  {}  {}",
                    b.name, b.run_id, b.set_at, b.headline
                )?;
            }
        }
    }
    out.flush()?;
    Ok(Outcome::Passed)
}
