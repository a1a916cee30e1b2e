//! Tests of plumb-cli: every flag's parser at its boundaries (data-driven, with the exact error
//! text), properties of the parsers over arbitrary input, and the no-data threshold policy.

mod bad_flags;
mod props;
mod thresholds;

use clap::Parser;
use plumb_cli::{Cli, Command};

/// The error `plumb ARGS` stops with, clap's or the resolution's.
pub fn error_of(args: &[&str]) -> String {
    let cli = match Cli::try_parse_from(std::iter::once("plumb").chain(args.iter().copied())) {
        Err(e) => return e.to_string(),
        Ok(cli) => cli,
    };
    let resolved = match cli.command {
        Command::Load(load) => load.resolve().map(drop).map_err(|e| e.to_string()),
        Command::Target(target) => target.settings().map(drop).map_err(|e| e.to_string()),
        Command::Demo(demo) => demo.phase().map(drop).map_err(|e| e.to_string()),
        // A bench error carries its hint as data; the binary prints it after the message.
        Command::Bench(bench) => bench
            .resolve()
            .map(drop)
            .map_err(|e| format!("{e}\nhint: {}", e.hint)),
        Command::Profile(profile) => profile.resolve().map(drop).map_err(|e| e.to_string()),
        Command::Gate(gate) => gate
            .parsed_thresholds()
            .map(drop)
            .map_err(|e| e.to_string()),
        _ => Ok(()),
    };
    match resolved {
        Err(e) => e,
        Ok(()) => panic!("plumb {args:?} was accepted"),
    }
}

#[test]
fn the_command_line_definition_is_consistent() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
}
