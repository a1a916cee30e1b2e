//! Errors of the profiler: each names the process, command or file at fault and says what to do.

use std::path::PathBuf;

/// Why a profile could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// `--pid` names no running process.
    #[error("no process with PID {pid}\nhint: check the PID with `ps -p {pid}`; the process may already have exited")]
    NoSuchProcess {
        /// The PID asked for.
        pid: u32,
    },
    /// The process exists but its /proc entries cannot be read.
    #[error("cannot read /proc/{pid} (permission denied)\nhint: {hint}")]
    ProcDenied {
        /// The PID asked for.
        pid: u32,
        /// What would allow it.
        hint: String,
    },
    /// The command could not be found.
    #[error("command `{program}` not found\nhint: check the spelling, or give its full path (plumb looks it up in PATH)")]
    CommandNotFound {
        /// The program as given.
        program: String,
    },
    /// The command exists but could not be started.
    #[error("could not start `{program}`")]
    Spawn {
        /// The program as given.
        program: String,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A result file could not be written.
    #[error("could not write {what} to {}", path.display())]
    WriteOutput {
        /// `flamegraph`, `folded stacks`, `JSON`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Any other operating-system failure while measuring.
    #[error("{context}")]
    Io {
        /// What plumb was doing.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
