//! The plain settings `plumb bench` runs from: what flags (or a plan file) resolve into.

use std::time::Duration;

use serde::Deserialize;

/// Everything the runner needs to know; no clap types, so a plan file can deserialize it too.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BenchSettings {
    /// The commands to benchmark, in command-line order.
    pub commands: Vec<CommandSpec>,
    /// Warmup runs per command, not measured.
    pub warmup: u32,
    /// How many measured runs each command gets.
    pub runs: RunCount,
    /// Run this before every run (warmups included).
    pub prepare: Option<String>,
    /// Run this once before each command's first run.
    pub setup: Option<String>,
    /// Run this once after each command's last run.
    pub cleanup: Option<String>,
    /// Run commands through a shell, or directly.
    pub shell: ShellMode,
    /// Parameters substituted as `{NAME}` into the commands; several give their cartesian product.
    pub parameters: Vec<Parameter>,
    /// Interleave commands in rounds, or run them one after another.
    pub order: Order,
    /// Keep measuring when a command exits non-zero.
    pub failure: FailurePolicy,
    /// Seed of the round shuffling and the bootstrap; `None` draws one (recorded in the result).
    pub seed: Option<u64>,
}

impl BenchSettings {
    /// Settings with plumb's defaults for the given commands: shell `sh`, interleaved, auto run count.
    pub fn new(commands: Vec<CommandSpec>) -> Self {
        BenchSettings {
            commands,
            warmup: 0,
            runs: RunCount::default(),
            prepare: None,
            setup: None,
            cleanup: None,
            shell: ShellMode::Shell("sh".to_owned()),
            parameters: Vec::new(),
            order: Order::Interleaved,
            failure: FailurePolicy::Stop,
            seed: None,
        }
    }
}

/// One command line to benchmark, possibly with `{NAME}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommandSpec {
    /// The command as the user wrote it.
    pub command: String,
    /// The label for reports (`-n/--name`); the command itself when `None`.
    pub name: Option<String>,
}

impl CommandSpec {
    /// A command labelled by itself.
    pub fn new(command: impl Into<String>) -> Self {
        CommandSpec {
            command: command.into(),
            name: None,
        }
    }
}

/// How many measured runs each command gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RunCount {
    /// Exactly this many (`-r/--runs`).
    Exact(u32),
    /// At least `min_runs` and at least `min_time` of runs, bounded by the two maxima.
    Auto {
        /// Fewest measured runs.
        min_runs: u32,
        /// Least time spent measuring (counting the shell and `--prepare`), per command.
        min_time: Duration,
        /// Most measured runs, if bounded.
        max_runs: Option<u32>,
        /// Most time spent measuring per command, if bounded (at least one run is always made).
        max_time: Option<Duration>,
    },
}

impl Default for RunCount {
    /// hyperfine's defaults: at least 10 runs and at least 3 seconds.
    fn default() -> Self {
        RunCount::Auto {
            min_runs: 10,
            min_time: Duration::from_secs(3),
            max_runs: None,
            max_time: None,
        }
    }
}

/// Whether commands run through a shell.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum ShellMode {
    /// `SHELL -c COMMAND`; the shell's startup is measured and subtracted. The string may carry
    /// arguments (`bash --norc`).
    Shell(String),
    /// The command line is split into words and the program started directly (`-N`).
    NoShell,
}

/// A parameter and the values it takes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Parameter {
    /// Name used in `{NAME}` placeholders.
    pub name: String,
    /// Values in order (a scan is expanded into its values when resolved).
    pub values: Vec<String>,
}

/// The order of runs when several commands are benchmarked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Order {
    /// Rounds in which each command runs once, shuffled per round, so drift hits all alike.
    Interleaved,
    /// All runs of one command, then the next (hyperfine's order).
    Sequential,
}

/// What to do when a benchmarked command exits non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum FailurePolicy {
    /// Stop with an error naming the command and its exit code.
    Stop,
    /// Record the exit code and keep measuring (`-i/--ignore-failure`).
    Ignore,
}
