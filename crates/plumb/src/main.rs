//! The `plumb` binary: parse the command line, run one subcommand, map the outcome to an exit code.
//!
//! Everything else lives in the library crates; each subcommand is a thin module in `commands/`.
//! Output goes through `output.rs` (a closed pipe ends stdout quietly, other failures name it),
//! never `println!`, which panics on a closed pipe or a full disk.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod commands;
mod exit;
mod interrupt;
mod noise;
mod output;
mod progress;
mod runs;
mod save;
mod watch;

use clap::Parser;
use plumb_cli::Cli;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => std::process::exit(exit::parse_error(error)),
    };
    let result = commands::run(cli);
    let code = exit::code_for(result);
    while interrupt::exiting() {
        // The signal thread is killing the children and will exit with 128 + the signal.
        std::thread::park();
    }
    std::process::exit(code);
}
