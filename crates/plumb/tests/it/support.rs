//! Running the built binary.

use std::process::{Command, Output};

/// A command for the built `plumb` binary.
pub fn plumb() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plumb"));
    command.env("NO_COLOR", "1").env("PLUMB_NO_SAVE", "1");
    command
}

/// Run plumb with `args` and return its output.
pub fn run(args: &[&str]) -> Output {
    plumb().args(args).output().expect("plumb runs")
}

/// stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
