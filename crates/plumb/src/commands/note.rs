//! `plumb note TEXT [--run RUN]`: write what changed onto a run, for the optimization log.

use crate::exit::Outcome;
use plumb_cli::NoteArgs;

/// Run `plumb note`.
pub fn run(args: NoteArgs) -> anyhow::Result<Outcome> {
    let mut ledger = crate::runs::open(&args.ledger)?;
    let id = ledger
        .add_note(&args.run, &args.text)
        .map_err(crate::runs::explained)?;
    let short: String = id.chars().take(12).collect();
    crate::output::log(&format!(
        "plumb: noted on run {short}: {}\nplumb: `plumb log` lists the notes with their measured impact",
        args.text
    ));
    Ok(Outcome::Passed)
}
