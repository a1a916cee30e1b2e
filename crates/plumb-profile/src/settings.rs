//! Plain settings of a profile run, resolved from flags (or a plan file) by the caller.
//!
//! A launched command is always measured as a tree (its children count); attached processes
//! are measured as selected ([`ProcessSelection`]).

use crate::processes::ProcessSelection;
use std::path::PathBuf;
use std::time::Duration;

/// Default CPU sampling frequency: low enough to cost well under 5% of a CPU-bound program,
/// and not a multiple of common timer periods (so sampling does not run in lock-step with them).
pub const DEFAULT_FREQUENCY_HZ: u32 = 99;
/// Default interval of the /proc resource timeline.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(100);

/// What to profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Launch this program with these arguments and profile it until it exits.
    Command {
        /// The program (looked up in `PATH` like a shell would).
        program: String,
        /// Its arguments.
        args: Vec<String>,
    },
    /// Attach to one running process (without its children) for `duration` (or until it exits
    /// or plumb is interrupted): shorthand for a [`Target::Processes`] of one PID.
    Pid {
        /// The process ID.
        pid: u32,
        /// How long to watch; `None` means until the process exits or plumb is interrupted.
        duration: Option<Duration>,
    },
    /// Attach to running processes: PIDs, their trees, a cgroup.
    Processes {
        /// Which processes.
        selection: ProcessSelection,
        /// How long to watch; `None` means until no process of the selection is left or plumb
        /// is interrupted.
        duration: Option<Duration>,
    },
}

/// How the sampler walks the user stack of each sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unwinding {
    /// The kernel follows frame pointers: cheap, complete for code built with frame pointers.
    #[default]
    FramePointers,
    /// plumb copies the top of the stack and unwinds it with DWARF call-frame information:
    /// works without frame pointers, costs more per sample.
    Dwarf,
}

impl Unwinding {
    /// The name used in results and flags.
    pub fn name(self) -> &'static str {
        match self {
            Unwinding::FramePointers => "frame-pointers",
            Unwinding::Dwarf => "dwarf",
        }
    }
}

/// CPU sampling settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamplingSettings {
    /// Samples per second of CPU time, per thread.
    pub frequency_hz: u32,
    /// How stacks are unwound.
    pub unwinding: Unwinding,
}

impl Default for SamplingSettings {
    fn default() -> Self {
        Self {
            frequency_hz: DEFAULT_FREQUENCY_HZ,
            unwinding: Unwinding::default(),
        }
    }
}

/// Everything a `plumb profile` run needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSettings {
    /// What to profile.
    pub target: Target,
    /// CPU sampling.
    pub sampling: SamplingSettings,
    /// Interval of the /proc resource timeline.
    pub interval: Duration,
    /// Where to write the flamegraph SVG, if anywhere.
    pub flamegraph: Option<PathBuf>,
    /// Where to write the wall-clock (CPU and waiting) flamegraph SVG, if anywhere.
    pub wall_flamegraph: Option<PathBuf>,
    /// Where to write folded stacks, if anywhere.
    pub folded: Option<PathBuf>,
    /// Where to write the JSON result, if anywhere.
    pub json: Option<PathBuf>,
}

impl ProfileSettings {
    /// Settings with defaults for everything but the target.
    pub fn new(target: Target) -> Self {
        Self {
            target,
            sampling: SamplingSettings::default(),
            interval: DEFAULT_INTERVAL,
            flamegraph: None,
            wall_flamegraph: None,
            folded: None,
            json: None,
        }
    }
}
