//! `plumb target`: serve the embedded target until Ctrl-C (or SIGTERM, SIGHUP).

use crate::exit::Outcome;
use anyhow::Context;
use plumb_cli::TargetArgs;
use std::time::Duration;

/// Run `plumb target`.
pub fn run(args: TargetArgs) -> anyhow::Result<Outcome> {
    let settings = args.settings()?;
    let threads = args.threads.unwrap_or_else(plumb_load::default_threads);
    let bind = args.bind();
    let target = plumb_target::spawn(settings.clone(), bind, threads).with_context(|| {
        format!("cannot listen on {bind}\nhint: pick a free port with --port, or --port 0 for any")
    })?;
    let stop = crate::interrupt::stop();
    // The URL is data (scripts read it); the description is a log line.
    crate::output::stdout(format!("{}\n", target.url("/")).as_bytes())?;
    crate::output::log(&format!(
        "plumb target listening on {} ({settings}); Ctrl-C to stop",
        target.addr()
    ));
    while !stop.is_stopped() {
        std::thread::sleep(Duration::from_millis(100));
    }
    target.shutdown();
    Ok(Outcome::Passed)
}
