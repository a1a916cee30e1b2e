//! The one place where outcomes become exit codes (documented in docs/exit-codes.md).

use std::io::Write;

/// Everything ran and every threshold or check passed.
pub const SUCCESS: i32 = 0;
/// The run completed, but a threshold (or gate) failed.
pub const THRESHOLD_FAILED: i32 = 1;
/// plumb could not run: bad input, an unreachable file, an internal error.
pub const COULD_NOT_RUN: i32 = 2;
/// A benchmarked command failed (exited non-zero or was killed) and `--ignore-failure` was not given.
pub const BENCHMARK_FAILED: i32 = 3;

/// What a subcommand reports when it did run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// All thresholds passed (or there were none).
    Passed,
    /// At least one threshold failed (or `plumb gate` found a regression).
    ThresholdFailed,
    /// A benchmarked command failed; the subcommand has already said which and why.
    BenchmarkFailed,
}

/// Map a subcommand's result to the process exit code, printing the error chain if any.
pub fn code_for(result: anyhow::Result<Outcome>) -> i32 {
    match result {
        Ok(Outcome::Passed) => SUCCESS,
        Ok(Outcome::ThresholdFailed) => THRESHOLD_FAILED,
        Ok(Outcome::BenchmarkFailed) => BENCHMARK_FAILED,
        Err(err) if is_broken_pipe(&err) => SUCCESS,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {err}");
            for cause in err.chain().skip(1) {
                let _ = writeln!(stderr, "  caused by: {cause}");
            }
            COULD_NOT_RUN
        }
    }
}

/// Report a command line clap refused and return the exit code. A bad value that came from an
/// environment variable (`PLUMB_LEDGER=''`) names the variable, not the flag it stands for.
pub fn parse_error(error: clap::Error) -> i32 {
    if let Some(message) = from_environment(&error) {
        let _ = writeln!(std::io::stderr(), "error: {message}");
        return COULD_NOT_RUN;
    }
    if error.use_stderr() {
        // A usage error: clap's message, and a `hint:` line when clap's own has none.
        let mut text = error.render().to_string();
        if !text.contains("hint:") {
            let command = subcommand().map_or(String::new(), |c| format!(" {c}"));
            text = format!(
                "{}\nhint: `plumb{command} --help` lists the flags and the values they take\n",
                text.trim_end()
            );
        }
        let _ = std::io::stderr().write_all(text.as_bytes());
        return error.exit_code();
    }
    // Help and version go to stdout: a closed pipe ends them quietly, a full disk is named.
    match error.print() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            let stream = if error.use_stderr() {
                "stderr"
            } else {
                "stdout"
            };
            let _ = writeln!(std::io::stderr(), "error: cannot write to {stream}: {e}");
            COULD_NOT_RUN
        }
        _ => error.exit_code(),
    }
}

/// The subcommand on the command line (the first argument that is not a flag), if any.
fn subcommand() -> Option<String> {
    std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .filter(|a| a.chars().all(|c| c.is_ascii_lowercase()))
}

/// The flags whose value may come from the environment, and their variables.
const FROM_ENVIRONMENT: [(&str, &str); 2] =
    [("--ledger", "PLUMB_LEDGER"), ("--no-save", "PLUMB_NO_SAVE")];

fn from_environment(error: &clap::Error) -> Option<String> {
    let arg = error.get(clap::error::ContextKind::InvalidArg)?.to_string();
    let flag = arg.split_whitespace().next()?;
    let (flag, variable) = FROM_ENVIRONMENT.iter().find(|(f, _)| *f == flag)?;
    let typed = std::env::args_os().any(|a| {
        a.to_str()
            .is_some_and(|a| a == *flag || a.starts_with(&format!("{flag}=")))
    });
    if typed {
        return None;
    }
    let value = std::env::var_os(variable)?;
    Some(environment_message(variable, &value.to_string_lossy()))
}

fn environment_message(variable: &str, value: &str) -> String {
    let what = if value.is_empty() {
        "is set but empty".to_owned()
    } else {
        format!("has a value plumb cannot use: '{value}'")
    };
    let hint = match variable {
        "PLUMB_LEDGER" => "set it to the ledger's path, or unset it (`unset PLUMB_LEDGER`) to use .plumb/ledger.db",
        _ => "set PLUMB_NO_SAVE=1 to skip saving, or unset it (`unset PLUMB_NO_SAVE`) to save",
    };
    format!("the environment variable {variable} {what}\nhint: {hint}")
}

/// A reader that closed our stdout early (`plumb ... | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_variable_is_named() {
        assert_eq!(
            environment_message("PLUMB_LEDGER", ""),
            "the environment variable PLUMB_LEDGER is set but empty\nhint: set it to the \
             ledger's path, or unset it (`unset PLUMB_LEDGER`) to use .plumb/ledger.db"
        );
    }
}
