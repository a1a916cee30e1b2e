//! Integration tests of plumb-bench: real processes (timing, memory, failures, shell overhead,
//! parameters, hooks), the runner's logic through a scripted executor, and snapshots of every
//! output format rendered from a deterministic run.

mod real;
mod scripted;
mod snapshots;

use std::time::Duration;

use plumb_bench::{BenchSettings, CommandSpec, ExitKind, Measurement, RunCount, ShellMode};

/// The fixture binary built from this crate (`src/bin/plumb-fixture.rs`).
pub fn fixture() -> &'static str {
    env!("CARGO_BIN_EXE_plumb-fixture")
}

/// Settings for `commands` with an exact run count, run directly (no shell).
pub fn direct(commands: &[&str], runs: u32) -> BenchSettings {
    let mut settings = BenchSettings::new(commands.iter().map(|c| CommandSpec::new(*c)).collect());
    settings.runs = RunCount::Exact(runs);
    settings.shell = ShellMode::NoShell;
    settings.seed = Some(1);
    settings
}

/// A successful measurement that took `wall` and used `rss` bytes.
pub fn took(wall: Duration, rss: u64) -> Measurement {
    Measurement {
        wall,
        user: wall / 2,
        system: wall / 10,
        peak_rss_bytes: rss,
        voluntary_context_switches: 2,
        involuntary_context_switches: 1,
        block_input_ops: 0,
        block_output_ops: 8,
        exit: ExitKind::Code(0),
    }
}
