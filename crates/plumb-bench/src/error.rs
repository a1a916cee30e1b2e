//! Why a benchmark could not be run or finished, each with a hint for the user.

use std::io;

use crate::executor::ExitKind;
use crate::words::SplitError;

/// What the failing process was there for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A measured run of a benchmarked command.
    Measured,
    /// A warmup run of a benchmarked command.
    Warmup,
    /// The `--prepare` command.
    Prepare,
    /// The `--setup` command.
    Setup,
    /// The `--cleanup` command.
    Cleanup,
    /// The empty command that measures the shell's startup.
    ShellCalibration,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Measured => "command",
            Role::Warmup => "warmup run of",
            Role::Prepare => "--prepare command",
            Role::Setup => "--setup command",
            Role::Cleanup => "--cleanup command",
            Role::ShellCalibration => "-S/--shell calibration run of",
        })
    }
}

/// Everything that stops a benchmark.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// There is nothing to benchmark.
    #[error("no command to benchmark")]
    NoCommands,
    /// A command line could not be split into words (`--no-shell`).
    #[error("cannot split the command `{command}` into words: {source}")]
    Split {
        /// The command line.
        command: String,
        /// What is wrong with it.
        #[source]
        source: SplitError,
    },
    /// The `--shell` value could not be split into words.
    #[error("cannot use `{shell}` as the shell: {source}")]
    Shell {
        /// The `--shell` value.
        shell: String,
        /// What is wrong with it.
        #[source]
        source: SplitError,
    },
    /// A process could not be started at all.
    #[error("could not start `{program}` for {role} `{command}`: {source}")]
    Spawn {
        /// What the process was for.
        role: Role,
        /// The command line.
        command: String,
        /// The program that could not start.
        program: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The user interrupted the benchmark before any run was measured.
    #[error("interrupted before any run was measured")]
    Interrupted,
    /// A process ran and failed.
    #[error("{role} `{command}` failed with {exit}")]
    Failed {
        /// What the process was for.
        role: Role,
        /// The command line.
        command: String,
        /// How it ended.
        exit: ExitKind,
        /// Whether it ran through a shell (changes what exit code 127 means).
        through_shell: bool,
    },
}

impl BenchError {
    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            BenchError::NoCommands => "give at least one command: plumb bench 'sleep 0.1'".into(),
            BenchError::Interrupted => "let the warmup and the first runs finish to get a partial report".into(),
            BenchError::Split { .. } => "check the quotes in the command, or drop -N/--no-shell".into(),
            BenchError::Shell { .. } => "check the quotes in --shell".into(),
            BenchError::Spawn { role: Role::ShellCalibration, .. }
            | BenchError::Failed { role: Role::ShellCalibration, .. } => {
                "check -S/--shell: it must name a shell that runs `SHELL -c COMMAND`, or use -N/--no-shell".into()
            }
            BenchError::Spawn { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                "check the spelling and that the program is on PATH".into()
            }
            BenchError::Spawn { .. } => "check that the program exists and is executable".into(),
            BenchError::Failed { exit: ExitKind::Code(127), through_shell: true, .. } => {
                "exit code 127 means the shell could not find the command: check its spelling and PATH".into()
            }
            BenchError::Failed { role: Role::Measured | Role::Warmup, .. } => {
                "run the command alone to see its output, or pass -i/--ignore-failure to benchmark it anyway".into()
            }
            BenchError::Failed { role, .. } => {
                format!("run the {role} alone to see its output; it must exit with code 0")
            }
        }
    }
}
