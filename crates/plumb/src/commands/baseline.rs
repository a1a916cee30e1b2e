//! `plumb baseline set NAME RUN` and `plumb baseline list`. RUN may be a JSON result file (from
//! `--json`, perhaps from another machine): its run is stored in the ledger first, once.

use crate::exit::Outcome;
use crate::output;
use plumb_cli::{BaselineAction, BaselineArgs};
use plumb_ledger::{Ledger, ReadResult, RunResult};
use std::path::Path;

/// Run `plumb baseline`.
pub fn run(args: BaselineArgs) -> anyhow::Result<Outcome> {
    let mut ledger = crate::runs::open(&args.ledger)?;
    match args.action {
        BaselineAction::Set { name, run } => {
            let id = set(&mut ledger, &name, &run)?;
            output::stdout(format!("baseline {name} -> {id}\n").as_bytes())?;
        }
        BaselineAction::List => {
            let baselines = ledger.baselines().map_err(crate::runs::explained)?;
            if baselines.is_empty() {
                output::log("no baselines yet\nhint: `plumb baseline set NAME RUN` makes one");
            }
            let mut text = String::new();
            for b in baselines {
                text.push_str(&format!(
                    "{:<16}  {}  {}  {}\n",
                    b.name, b.run_id, b.set_at, b.headline
                ));
            }
            output::stdout(text.as_bytes())?;
        }
    }
    Ok(Outcome::Passed)
}

/// Point `name` at `run`: a run reference, or a result file whose run is imported first.
fn set(ledger: &mut Ledger, name: &str, run: &str) -> anyhow::Result<String> {
    let file = Path::new(run);
    let reference = if file.is_file() {
        let result = RunResult::from_file(file).map_err(crate::runs::explained)?;
        ledger
            .import(file, result)
            .map_err(crate::runs::explained)?
    } else {
        run.to_owned()
    };
    ledger
        .set_baseline(name, &reference)
        .map_err(crate::runs::explained)
}
