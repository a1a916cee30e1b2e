//! Result of `plumb profile`: ranked hot functions, folded stacks and the resource timeline.
//!
//! Versioned by [`PROFILE_SCHEMA_VERSION`]; a field is only ever added, and a change of meaning
//! bumps the version.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the [`ProfileReport`] format.
pub const PROFILE_SCHEMA_VERSION: u32 = 1;

/// Everything one `plumb profile` run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProfileReport {
    /// Always [`PROFILE_SCHEMA_VERSION`] when written by this plumb.
    pub schema_version: u32,
    /// What was profiled.
    pub target: ProfileTarget,
    /// Wall-clock time from the first to the last measurement, in seconds.
    pub duration_secs: f64,
    /// CPU samples, or why there are none.
    pub cpu: CpuOutcome,
    /// Resources over time, read from /proc.
    pub resources: ResourceTimeline,
    /// Things the reader should know (for example a possible memory leak).
    pub notes: Vec<String>,
    /// The plumb that measured it (absent in results of plumb before 0.2).
    #[serde(default)]
    pub plumb_version: String,
    /// Whether the run was stopped early (a signal): the profile covers the run until then.
    #[serde(default)]
    pub interrupted: bool,
    /// Language runtimes found in the process: how their functions were named, and what the
    /// user can turn on to name them better.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtimes: Vec<RuntimeNote>,
    /// Whether the sampled stacks look complete; absent when there were no samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_quality: Option<StackQuality>,
    /// Python stacks read from the interpreter's memory, when the process is CPython.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<PythonProfile>,
    /// Where the threads waited (off CPU) and for how long; absent when not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<WaitingProfile>,
    /// Where memory was first touched (page faults), by stack; absent when not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryProfile>,
}

/// The profiled threads' wall-clock time split into running, waiting and runnable, from the
/// kernel's context-switch records, and the waits by the stack they started from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WaitingProfile {
    /// Threads seen.
    pub threads: u64,
    /// Their time together (each thread from the start of the run, or its birth, to the end,
    /// or its death), in seconds.
    pub thread_seconds: f64,
    /// Of it: on a CPU.
    pub on_cpu_seconds: f64,
    /// Of it: switched out to wait (a socket, a lock, the disk, a sleep).
    pub waiting_seconds: f64,
    /// Of it: switched out while runnable (preempted: waiting for a CPU).
    pub runnable_seconds: f64,
    /// Whether the waits were recorded with their stacks (`functions` and `folded`).
    pub by_stack: bool,
    /// Why the waits have no stacks, and what would allow them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_stacks: Option<String>,
    /// Functions by waiting time: self where the wait began (the blocking call), total where
    /// anywhere on its stack; percentages of `waiting_seconds`.
    pub functions: Vec<WeightedFunction>,
    /// Waiting stacks folded, counts in microseconds.
    pub folded: Vec<FoldedStack>,
    /// Records the kernel dropped (its buffer was full): the figures above miss them.
    #[serde(default)]
    pub lost_records: u64,
}

/// Memory first touched by the profiled processes (each page fault: a page becoming resident),
/// by the stack that touched it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MemoryProfile {
    /// Page faults recorded.
    pub faults: u64,
    /// Bytes those faults made resident (each fault's page size).
    pub bytes: u64,
    /// Functions by bytes touched: self where the fault happened, total where anywhere on the
    /// stack; percentages of `bytes`.
    pub functions: Vec<WeightedFunction>,
    /// Faulting stacks folded, counts in KiB.
    pub folded: Vec<FoldedStack>,
    /// Records the kernel dropped (its buffer was full): the figures above miss them.
    #[serde(default)]
    pub lost_records: u64,
}

/// One function's share of a weighted profile (waiting seconds, bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WeightedFunction {
    /// Demangled name.
    pub name: String,
    /// The weight where this function was the leaf.
    pub self_value: f64,
    /// The weight where it was anywhere on the stack.
    pub total_value: f64,
    /// `self_value` as a percentage of the whole.
    pub self_percent: f64,
    /// `total_value` as a percentage of the whole.
    pub total_percent: f64,
}

/// A language runtime (interpreter, JIT or managed runtime) found in the profiled process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeKind {
    /// CPython.
    Python,
    /// Node.js (V8).
    Node,
    /// A Java virtual machine.
    Jvm,
    /// .NET (CoreCLR).
    Dotnet,
    /// A Go program.
    Go,
    /// Ruby (MRI).
    Ruby,
}

/// What plumb found out about one runtime of the process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuntimeNote {
    /// Which runtime.
    pub kind: RuntimeKind,
    /// Its version, when known (`3.12.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// How its functions were named in this profile, one phrase each
    /// (`perf map /tmp/perf-42.map: 184 functions`).
    pub named_by: Vec<String>,
    /// What the user can turn on to see its functions (absent when nothing more is needed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Plausibility of the sampled stacks: a broken frame-pointer chain shows as frames outside
/// any mapping (`[unknown]`) and as stacks that run to the depth limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StackQuality {
    /// Share of samples with at least one `[unknown]` frame, in percent.
    pub unknown_percent: f64,
    /// The deepest stack, in frames.
    pub max_depth: u64,
    /// Share of samples whose stack reached the depth limit (cut), in percent.
    pub at_limit_percent: f64,
    /// Set when the stacks look truncated or bogus: what is wrong with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// What would give better stacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Python stacks (`function (file:line)`, root first) sampled by reading the interpreter's
/// frames from the target's memory, without stopping it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PythonProfile {
    /// The interpreter (`CPython 3.11.7`).
    pub interpreter: String,
    /// Samples of threads that were running Python code, ranked and folded like the CPU
    /// profile (`unwinding` is `python-frames`).
    pub profile: CpuProfile,
    /// Reads that failed (the target changed a frame while it was read); they are left out.
    pub failed_reads: u64,
}

impl ProfileReport {
    /// A one-line summary for `plumb history`: the hottest function and the CPU and memory used.
    pub fn headline(&self) -> String {
        let summary = &self.resources.summary;
        let cpu = summary.cpu_user_percent.avg + summary.cpu_system_percent.avg;
        let mut parts = Vec::new();
        if let CpuOutcome::Sampled(profile) = &self.cpu {
            if let Some(top) = profile.hot_functions.first() {
                parts.push(format!("top {} {:.1}%", top.name, top.self_percent));
            }
        }
        parts.push(format!("CPU {cpu:.0}% avg"));
        parts.push(format!(
            "RSS {:.1} MiB max",
            summary.rss_bytes.max / (1024.0 * 1024.0)
        ));
        parts.join(", ")
    }
}

/// The profiled process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProfileTarget {
    /// Process ID of the launched process, or the first attached PID (0 for a cgroup alone).
    pub pid: u32,
    /// The launched command and its arguments; absent when attached with `--pid`.
    pub command: Option<Vec<String>>,
    /// Exit code of a launched command, when it exited normally.
    pub exit_code: Option<i32>,
}

/// Result of CPU sampling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CpuOutcome {
    /// Stacks were sampled.
    Sampled(CpuProfile),
    /// perf events were not allowed (or failed); the resource timeline is still there.
    Unavailable {
        /// Why sampling was not possible.
        reason: String,
        /// What would allow it.
        hint: String,
    },
}

/// CPU stacks sampled on the software CPU clock, user space only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CpuProfile {
    /// Requested samples per second of CPU time, per thread.
    pub frequency_hz: u32,
    /// How stacks were unwound: `frame-pointers` or `dwarf`.
    pub unwinding: String,
    /// Number of samples kept.
    pub samples: u64,
    /// Samples the kernel dropped because plumb read too slowly.
    pub lost_samples: u64,
    /// Functions ranked by self samples, highest first.
    pub hot_functions: Vec<HotFunction>,
    /// The smallest set of functions whose self samples cover 80% of all samples.
    pub cover_80_percent: Vec<String>,
    /// Unique stacks, root first, frames joined by `;`, with their sample counts.
    pub folded: Vec<FoldedStack>,
}

/// One function's share of the samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HotFunction {
    /// Demangled name, without the Rust hash.
    pub name: String,
    /// Samples where this function was the leaf (running its own code).
    pub self_samples: u64,
    /// Samples where this function was anywhere on the stack.
    pub total_samples: u64,
    /// `self_samples` as a percentage of all samples.
    pub self_percent: f64,
    /// `total_samples` as a percentage of all samples.
    pub total_percent: f64,
}

/// One unique stack in folded ("collapsed") form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FoldedStack {
    /// Frames from the root to the leaf joined by `;`.
    pub stack: String,
    /// Samples with exactly this stack.
    pub count: u64,
}

/// Resources of the process sampled from /proc at a fixed interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceTimeline {
    /// Time between two points, in milliseconds.
    pub interval_ms: u64,
    /// The points, oldest first.
    pub points: Vec<ResourcePoint>,
    /// min/avg/max and growth, computed from `points`.
    pub summary: ResourceSummary,
    /// Counters that could not be read (for example `/proc/PID/io` of another user's process).
    pub unreadable: Vec<String>,
    /// The processes measured: what was selected, how many, their CPU and the busiest of them.
    /// Absent in results of plumb before process trees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<ProcessGroup>,
}

/// The processes a [`ResourceTimeline`] sums: a process, a process tree or a cgroup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessGroup {
    /// What was selected, in words: `PID 4242`, `PID 4242 and its descendants`, `cgroup /sys/fs/cgroup/app`.
    pub selection: String,
    /// Processes seen during the run, those that exited included.
    pub processes_seen: u64,
    /// Most processes alive at one reading.
    pub processes_max: u64,
    /// User CPU of the whole selection from the first reading to the end, in seconds (reaped
    /// children included for a tree or a cgroup).
    pub cpu_user_secs: f64,
    /// System CPU of the whole selection from the first reading to the end, in seconds.
    pub cpu_system_secs: f64,
    /// The members that used the most CPU, busiest first (at most ten).
    pub busiest: Vec<ProcessShare>,
}

/// One member of a [`ProcessGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessShare {
    /// Process ID.
    pub pid: u32,
    /// Its name (`comm`).
    pub name: String,
    /// Its own user + system CPU during the run, in seconds (up to its last reading).
    pub cpu_secs: f64,
    /// `cpu_secs` as a percentage of the selection's CPU.
    pub cpu_percent: f64,
    /// Largest resident set size seen, in bytes.
    pub peak_rss_bytes: u64,
    /// Whether it exited during the run.
    pub exited: bool,
}

/// One reading of the process's resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourcePoint {
    /// Seconds since the first point.
    pub t_secs: f64,
    /// User CPU since the previous point, in percent of one core.
    pub cpu_user_percent: f64,
    /// System CPU since the previous point, in percent of one core.
    pub cpu_system_percent: f64,
    /// Resident set size in bytes.
    pub rss_bytes: u64,
    /// Number of threads.
    pub threads: u64,
    /// Voluntary context switches so far, summed over all threads (blocking: I/O, locks, sleeps).
    pub voluntary_ctx_switches: u64,
    /// Involuntary context switches so far, summed over all threads (preemption).
    pub involuntary_ctx_switches: u64,
    /// Bytes read through read-like system calls so far (`rchar`), when readable.
    pub read_bytes: Option<u64>,
    /// Bytes written through write-like system calls so far (`wchar`), when readable.
    pub written_bytes: Option<u64>,
    /// Open file descriptors, when readable.
    pub open_fds: Option<u64>,
    /// Processes of the selection alive at this reading (absent before process trees).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<u64>,
}

/// Smallest, mean and largest value of a series.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct MinAvgMax {
    /// Smallest value.
    pub min: f64,
    /// Arithmetic mean.
    pub avg: f64,
    /// Largest value.
    pub max: f64,
}

/// Summary of a [`ResourceTimeline`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ResourceSummary {
    /// Number of points.
    pub points: u64,
    /// CPU user percent of one core.
    pub cpu_user_percent: MinAvgMax,
    /// CPU system percent of one core.
    pub cpu_system_percent: MinAvgMax,
    /// Resident set size in bytes.
    pub rss_bytes: MinAvgMax,
    /// Thread count.
    pub threads: MinAvgMax,
    /// Open file descriptors, when readable.
    pub open_fds: Option<MinAvgMax>,
    /// Voluntary context switches between the first and the last point.
    pub voluntary_ctx_switches: u64,
    /// Involuntary context switches between the first and the last point.
    pub involuntary_ctx_switches: u64,
    /// Bytes read between the first and the last point, when readable.
    pub read_bytes: Option<u64>,
    /// Bytes written between the first and the last point, when readable.
    pub written_bytes: Option<u64>,
    /// Least-squares slope of RSS over time, in bytes per second.
    pub rss_growth_bytes_per_sec: f64,
    /// Set when RSS climbed steadily: the wording of the "possible leak" note.
    pub possible_leak: Option<String>,
}

/// The JSON Schema of [`ProfileReport`], as written by `plumb profile --json`.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ProfileReport))
        .expect("a schema is always valid JSON")
}
