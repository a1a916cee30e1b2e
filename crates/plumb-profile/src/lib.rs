//! plumb's CPU sampler and resource timeline.
//!
//! [`run`] profiles a launched command or a running PID: CPU stacks sampled through
//! perf_event_open (software CPU clock, user space only, so it works unprivileged at
//! `perf_event_paranoid = 2`), unwound by frame pointers or DWARF, symbolized in-process, ranked
//! and folded; and a resource timeline read from /proc. When perf events are not allowed the
//! result says why and the timeline is still there.
//!
//! For use from another engine (a load test watching its server), [`ResourceSampler::start`]
//! and [`Profiler::attach`] return handles whose `stop()` gives the result.

mod analysis;
mod error;
mod flamegraph;
mod launch;
mod perf;
mod processes;
mod profiler;
mod python;
mod resources;
mod runtime;
mod settings;
mod summary;
mod symbols;
mod unwind;
mod weighted;

pub use analysis::{cover, fold, rank, stack_quality, NamedStack, Walk, COVER_FRACTION};
pub use error::ProfileError;
pub use flamegraph::{
    wall_clock_folded, write_differential_flamegraph, write_flamegraph, write_folded,
    write_wall_clock_flamegraph,
};
pub use perf::access::{diagnose, DeniedContext, Diagnosis};
pub use processes::{resolve_cgroup, ProcessSelection};
pub use profiler::{Profiler, ProfilerHandle};
pub use resources::{LiveResources, ResourceSampler, ResourceSamplerHandle};
pub use settings::{
    ProfileSettings, SamplingSettings, Target, Unwinding, DEFAULT_FREQUENCY_HZ, DEFAULT_INTERVAL,
};
pub use summary::{linear_fit, summarize};
pub use unwind::{auto_unwinding, AUTO_DWARF_MAX_HZ};

use plumb_schema::profile::{
    CpuOutcome, ProfileReport, ProfileTarget, ResourceTimeline, PROFILE_SCHEMA_VERSION,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weighted::WeightedProfilers;

/// How often an attached run checks for its end (duration, exit, interrupt).
const WATCH_EVERY: Duration = Duration::from_millis(20);

/// Profile what `settings` names. `stop` (Ctrl-C, SIGTERM) ends the run early: an attached run
/// stops watching; a launched command's process group is ended and reaped. Either way the report
/// covers the run until then.
pub fn run(settings: &ProfileSettings, stop: &AtomicBool) -> Result<ProfileReport, ProfileError> {
    let report = match &settings.target {
        Target::Command { program, args } => run_command(settings, program, args, stop)?,
        Target::Pid { pid, duration } => {
            run_attached(settings, &ProcessSelection::pid(*pid), *duration, stop)?
        }
        Target::Processes {
            selection,
            duration,
        } => run_attached(settings, selection, *duration, stop)?,
    };
    Ok(report)
}

fn run_command(
    settings: &ProfileSettings,
    program: &str,
    args: &[String],
    stop: &AtomicBool,
) -> Result<ProfileReport, ProfileError> {
    let (mut cpu, mut weighted) = (None, None);
    let mut child = launch::launch(program, args, |pid| {
        cpu = Some(Profiler::before_exec(pid, settings.sampling));
        weighted = Some(WeightedProfilers::before_exec(pid, settings.sampling));
    })?;
    let pid = child.id();
    let watch = runtime::Watch::start(
        ProcessSelection::tree_of(pid),
        runtime::Start::Launched,
        settings.sampling.frequency_hz,
    );
    let started = Instant::now();
    // A launched command is a tree: what its children do is its work.
    let resources =
        ResourceSampler::start_unchecked(ProcessSelection::tree_of(pid), settings.interval);
    let reaped = launch::wait(&mut child, stop).map_err(|source| ProfileError::Io {
        context: format!("waiting for `{program}` (PID {pid})"),
        source,
    })?;
    let duration = started.elapsed();
    let target = ProfileTarget {
        pid,
        command: Some(
            std::iter::once(program.to_string())
                .chain(args.iter().cloned())
                .collect(),
        ),
        exit_code: reaped.status.code(),
    };
    let cpu = cpu.unwrap_or_else(|| Err(not_started()));
    let resources = resources.stop_launched(pid, reaped.cpu_ticks);
    Ok(assemble(
        target,
        duration,
        cpu,
        resources,
        watch.stop(),
        weighted,
    ))
}

fn not_started() -> Diagnosis {
    Diagnosis {
        reason: "the command never reached the point where sampling starts".into(),
        hint: "check that the command can be started".into(),
    }
}

fn run_attached(
    settings: &ProfileSettings,
    selection: &ProcessSelection,
    duration: Option<Duration>,
    stop: &AtomicBool,
) -> Result<ProfileReport, ProfileError> {
    let selection = selection.checked()?;
    let resources = ResourceSampler::watch(&selection, settings.interval)?;
    let started = Instant::now();
    let cpu = Profiler::attach_selection(&selection, settings.sampling);
    let weighted = WeightedProfilers::attach(&selection, settings.sampling);
    let watch = runtime::Watch::start(
        selection.clone(),
        runtime::Start::Running,
        settings.sampling.frequency_hz,
    );
    let deadline = duration.map(|duration| started + duration);
    while !stop.load(Ordering::Relaxed)
        && !resources.is_finished()
        && deadline.is_none_or(|end| Instant::now() < end)
    {
        std::thread::sleep(WATCH_EVERY);
    }
    let elapsed = started.elapsed();
    let target = ProfileTarget {
        pid: selection.pids.first().copied().unwrap_or(0),
        command: None,
        exit_code: None,
    };
    let watched = watch.stop();
    let mut report = assemble(
        target,
        elapsed,
        cpu,
        resources.stop(),
        watched,
        Some(weighted),
    );
    report.notes.extend(selection.busy_children_note("--tree"));
    Ok(report)
}

fn assemble(
    target: ProfileTarget,
    duration: Duration,
    cpu: Result<ProfilerHandle, Diagnosis>,
    resources: ResourceTimeline,
    watched: runtime::Watched,
    weighted: Option<WeightedProfilers>,
) -> ProfileReport {
    let (waiting, memory) = weighted.map(WeightedProfilers::stop).unwrap_or_default();
    let cpu = match cpu {
        Ok(handle) => CpuOutcome::Sampled(handle.stop()),
        Err(diagnosis) => CpuOutcome::Unavailable {
            reason: diagnosis.reason,
            hint: diagnosis.hint,
        },
    };
    let notes = resources.summary.possible_leak.iter().cloned().collect();
    let findings = runtime::findings(target.pid, &cpu, watched);
    ProfileReport {
        schema_version: PROFILE_SCHEMA_VERSION,
        target,
        duration_secs: duration.as_secs_f64(),
        cpu,
        resources,
        notes,
        plumb_version: env!("CARGO_PKG_VERSION").to_string(),
        interrupted: false,
        runtimes: findings.runtimes,
        stack_quality: findings.stack_quality,
        python: findings.python,
        waiting,
        memory,
    }
}

/// Sets a background thread's stop flag when dropped, so a handle dropped without `stop()`
/// does not leave its thread running.
pub(crate) struct StopOnDrop(pub(crate) Arc<AtomicBool>);

impl StopOnDrop {
    /// Ask the thread to stop.
    pub(crate) fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A flag that Ctrl-C (SIGINT) sets instead of killing plumb; a second Ctrl-C exits at once
/// with status 130. Call once, before [`run`].
pub fn stop_on_interrupt() -> std::io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register_conditional_shutdown(
        signal_hook::consts::SIGINT,
        130,
        Arc::clone(&flag),
    )?;
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&flag))?;
    Ok(flag)
}
