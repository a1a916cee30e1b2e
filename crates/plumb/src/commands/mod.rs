//! One thin module per subcommand: resolve settings, call the engine, render the result.

mod bench;
mod demo;
mod load;
mod profile;
mod target;

use crate::exit::Outcome;
use plumb_cli::{Cli, Command};

/// Dispatch the parsed command line to its subcommand.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Load(args) => load::run(*args),
        Command::Target(args) => target::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Profile(args) => profile::run(args),
    }
}
