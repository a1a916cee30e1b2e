//! plumb's command benchmark runner.
//!
//! [`run`] takes plain [`BenchSettings`], expands parameters into concrete benchmarks, measures
//! them through an [`Executor`] (real processes reaped with `wait4`, or a scripted mock in tests),
//! and returns a versioned [`plumb_schema::bench::BenchReport`]. This crate never prints: progress
//! goes to an [`Observer`], errors come back as [`BenchError`] values with a hint.

mod analysis;
mod error;
mod executor;
pub mod mock;
mod observer;
mod params;
mod runner;
mod settings;
mod words;

pub use analysis::{ALPHA, CONFIDENCE, RESAMPLES};
pub use error::{BenchError, Role};
pub use executor::{Executor, ExitKind, Invocation, Measurement, ProcessExecutor};
pub use observer::{Observer, Phase, Progress, Silent};
pub use params::{expand, list_values, scan_values, Benchmark, ParameterError};
pub use runner::SHELL_CALIBRATION_RUNS;
pub use settings::{
    BenchSettings, CommandSpec, FailurePolicy, Order, Parameter, RunCount, ShellMode,
};
pub use words::{split as split_words, SplitError};

use plumb_schema::bench::BenchReport;

/// Run the benchmark that `settings` describe and report on it.
pub fn run(
    settings: &BenchSettings,
    executor: &mut dyn Executor,
    observer: &mut dyn Observer,
) -> Result<BenchReport, BenchError> {
    let benchmarks = expand(&settings.commands, &settings.parameters);
    let raw = runner::Runner::new(settings, benchmarks, executor, observer)?.run()?;
    Ok(analysis::report(settings, &raw))
}
