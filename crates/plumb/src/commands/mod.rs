//! One thin module per subcommand: resolve settings, call the engine, render the result.

mod baseline;
mod bench;
mod calibrate;
mod capacity;
mod compare;
mod coordinate;
mod db;
mod demo;
mod dry_run;
mod gate;
mod history;
mod import;
mod init;
mod k8s;
mod load;
mod log;
mod merge;
mod monitor;
mod note;
mod page;
mod profile;
mod report;
mod run;
mod show;
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
        Command::History(args) => history::run(args),
        Command::Show(args) => show::run(args),
        Command::Note(args) => note::run(args),
        Command::Log(args) => log::run(args),
        Command::Baseline(args) => baseline::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Gate(args) => gate::run(args),
        Command::Calibrate(args) => calibrate::run(args),
        Command::Report(args) => report::run(args),
        Command::Capacity(args) => capacity::run(*args),
        Command::Page(args) => page::run(*args),
        Command::Db(args) => db::run(*args),
        Command::Monitor(args) => monitor::run(*args),
        Command::Run(args) => run::run(*args),
        Command::Init(args) => init::run(args),
        Command::Import(args) => import::run(args),
        Command::Coordinate(args) => coordinate::run(args),
        Command::Merge(args) => merge::run(*args),
        Command::K8s(args) => k8s::run(args),
    }
}
