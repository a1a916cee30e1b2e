//! What the runner tells the outside world while it works: progress after every run, and the
//! question "should I stop?" (Ctrl-C). The binary draws a progress bar; tests stay [`Silent`].

use std::time::Duration;

/// What the runner is doing, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Measuring the shell's startup.
    Calibrating,
    /// Warmup runs.
    Warmup,
    /// Measured runs.
    Measuring,
}

/// A progress report after each run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress<'a> {
    /// The phase.
    pub phase: Phase,
    /// The benchmark that just ran (empty while calibrating).
    pub name: &'a str,
    /// Runs done in this phase.
    pub done: u64,
    /// Runs this phase is expected to take (a moving estimate with an automatic run count).
    pub total: u64,
    /// Current mean of the benchmark's measured wall times (kept as a running sum: O(1) a run).
    pub estimate: Option<Duration>,
}

/// Receives progress; the binary draws a bar, tests and quiet runs ignore it.
pub trait Observer {
    /// Called after each run.
    fn progress(&mut self, progress: &Progress<'_>);

    /// Whether the user asked to stop (Ctrl-C); checked after every process. The run that was
    /// going on is discarded and the report covers the runs measured until then.
    fn should_stop(&self) -> bool {
        false
    }
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct Silent;

impl Observer for Silent {
    fn progress(&mut self, _: &Progress<'_>) {}
}
