//! `plumb init URL | -- COMMAND`: write a commented starter plan file (plumb.toml), never over an
//! existing one unless `--force`.

use crate::exit::Outcome;
use plumb_cli::InitArgs;

/// Run `plumb init`.
pub fn run(args: InitArgs) -> anyhow::Result<Outcome> {
    if args.file.exists() && !args.force {
        anyhow::bail!(
            "{} already exists; plumb init does not overwrite it\nhint: edit it, pass --force to replace it, or write elsewhere with -f FILE",
            args.file.display()
        );
    }
    let target = args.target.join(" ");
    let text = if target.starts_with("http://") || target.starts_with("https://") {
        if args.target.len() > 1 {
            anyhow::bail!(
                "plumb init takes one URL, got {} arguments\nhint: plumb init http://127.0.0.1:8080/path, or plumb init -- COMMAND ARGS to benchmark a command",
                args.target.len()
            );
        }
        plumb_load::Endpoint::resolve(&target).map_err(|e| {
            anyhow::anyhow!(
                "invalid URL '{target}': {e}\nhint: e.g. plumb init http://127.0.0.1:8080/api"
            )
        })?;
        plumb_cli::plan::starter_for_url(&target, args.rate)
    } else {
        plumb_cli::plan::starter_for_command(&target)
    };
    // The starter must be a plan plumb run accepts: check it as plumb run would.
    plumb_cli::plan::Plan::parse(&text, &args.file)?;
    let destination = crate::output::Destination::check("--file", &args.file, false)?;
    destination.write(text.as_bytes())?;
    crate::output::log(&format!(
        "wrote {}: edit its goals and scenarios, then `plumb run` (see docs/plan.md)",
        args.file.display()
    ));
    Ok(Outcome::Passed)
}
