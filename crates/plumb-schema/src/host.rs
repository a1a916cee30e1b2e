//! The host's noise during a run: how busy the machine was while plumb measured, read from /proc
//! at the start and the end of the run, so a comparison can say when a side ran on a busy host.
//!
//! Shares are fractions of the run's wall time (or of all CPU time, for the /proc/stat figures);
//! a figure the kernel does not offer (no `/proc/pressure/cpu` without PSI) is absent.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How busy the host was during one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HostNoise {
    /// CPUs the kernel schedules on (the `cpuN` lines of /proc/stat), at least 1.
    pub cpus: u32,
    /// Seconds between the two samples (about the run's wall time).
    pub wall_s: f64,
    /// The 1-minute load average when the run started, before the run's own load: other
    /// processes' (and what decays of a run that ended less than a minute before).
    pub load_avg_1m_start: Option<f64>,
    /// The 1-minute load average when the run ended (plumb's own load included).
    pub load_avg_1m_end: Option<f64>,
    /// Share of the wall time in which some runnable task waited for a CPU (the `some total=`
    /// counter of /proc/pressure/cpu, its delta over the wall time); plumb's own threads count too.
    pub cpu_pressure_some_share: Option<f64>,
    /// Share of all CPU time stolen by the hypervisor for other guests (/proc/stat `steal`).
    pub steal_share: Option<f64>,
    /// Share of all CPU time the machine was busy: (total − idle − iowait) / total, from /proc/stat.
    pub cpu_busy_share: Option<f64>,
    /// plumb's own CPU time (user + system, its threads, not its children) over wall × `cpus`.
    pub plumb_cpu_share: Option<f64>,
}
