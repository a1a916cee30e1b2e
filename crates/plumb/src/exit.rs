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

/// A reader that closed our stdout early (`plumb ... | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
