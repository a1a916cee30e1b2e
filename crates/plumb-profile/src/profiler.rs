//! The CPU profiler as a handle: sampling runs on a background thread until `stop`, which
//! symbolizes and ranks what was sampled. Used by `plumb profile` and, during a load test, by
//! `plumb load --profile-pid`.
//!
//! An attached tree or cgroup is looked at again every [`FOLLOW_EVERY`], so that a process
//! joining it is sampled too. Stacks are counted per process; when the samples come from
//! processes of more than one name (a web server and its database), each folded stack starts
//! with its process's name (`postgres;...`), so a flamegraph has one tower per program. Workers
//! of one program (a master and its forks share the name) stay merged, and the ranking of
//! functions never counts the name as a frame.

use crate::analysis::NamedStack;
use crate::analysis::{self, COVER_FRACTION};
use crate::perf::access::Diagnosis;
use crate::perf::sampler::{AttachMode, CpuSampler, RawProfile};
use crate::processes::ProcessSelection;
use crate::settings::SamplingSettings;
use crate::StopOnDrop;
use plumb_schema::profile::CpuProfile;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the background thread empties the ring buffers.
const DRAIN_EVERY: Duration = Duration::from_millis(20);
/// How often an attached tree or cgroup is looked at for processes to sample.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);

/// Starts CPU sampling of a process.
pub struct Profiler;

/// Sampling in progress; [`ProfilerHandle::stop`] returns the profile (dropping the handle
/// stops sampling and discards it).
pub struct ProfilerHandle {
    stop: StopOnDrop,
    thread: JoinHandle<CpuSampler>,
    settings: SamplingSettings,
}

impl Profiler {
    /// Sample every thread of running process `pid` (and threads it starts later) from now on.
    /// An `Err` explains why perf events are not allowed and which setting would allow them.
    pub fn attach(pid: u32, settings: SamplingSettings) -> Result<ProfilerHandle, Diagnosis> {
        Self::start(pid, AttachMode::Running, settings)
    }

    /// Sample every process of a running selection from now on, and the processes that join
    /// it while it runs.
    pub fn attach_selection(
        selection: &ProcessSelection,
        settings: SamplingSettings,
    ) -> Result<ProfilerHandle, Diagnosis> {
        let members = selection.snapshot(&HashSet::new());
        let mut pids: Vec<u32> = selection.pids.clone();
        for member in &members {
            if !pids.contains(&member.pid) {
                pids.push(member.pid);
            }
        }
        let sampler = CpuSampler::open_running(&pids, &settings)?;
        let follow = (selection.tree || selection.cgroup.is_some()).then(|| selection.clone());
        Ok(Self::spawn(sampler, follow, settings))
    }

    /// Sample a process plumb launched, paused before its exec.
    pub(crate) fn before_exec(
        pid: u32,
        settings: SamplingSettings,
    ) -> Result<ProfilerHandle, Diagnosis> {
        Self::start(pid, AttachMode::BeforeExec, settings)
    }

    fn start(
        pid: u32,
        mode: AttachMode,
        settings: SamplingSettings,
    ) -> Result<ProfilerHandle, Diagnosis> {
        let sampler = CpuSampler::open(pid, mode, &settings)?;
        Ok(Self::spawn(sampler, None, settings))
    }

    /// Drain `sampler` on a thread, sampling newcomers of `follow` too.
    fn spawn(
        sampler: CpuSampler,
        follow: Option<ProcessSelection>,
        settings: SamplingSettings,
    ) -> ProfilerHandle {
        let (stop, thread) = drain_on_thread("plumb-sampler", sampler, follow);
        ProfilerHandle {
            stop,
            thread,
            settings,
        }
    }
}

/// Drain `sampler` on a thread named `name` until the returned flag is set, sampling the
/// newcomers of `follow` too; the thread hands the sampler back when it ends.
pub(crate) fn drain_on_thread(
    name: &str,
    mut sampler: CpuSampler,
    follow: Option<ProcessSelection>,
) -> (StopOnDrop, JoinHandle<CpuSampler>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let mut next_follow = Instant::now() + FOLLOW_EVERY;
            while !flag.load(Ordering::Relaxed) {
                sampler.drain();
                if let Some(selection) = follow.as_ref().filter(|_| Instant::now() >= next_follow) {
                    sampler.follow(&selection.snapshot(&sampler.followed()));
                    next_follow += FOLLOW_EVERY;
                }
                std::thread::sleep(DRAIN_EVERY);
            }
            sampler
        })
        .expect("spawning a thread only fails when the system is out of resources");
    (StopOnDrop(stop), thread)
}

impl ProfilerHandle {
    /// Stop sampling, then symbolize and rank the samples.
    pub fn stop(self) -> CpuProfile {
        self.stop.stop();
        let mut raw = match self.thread.join() {
            Ok(sampler) => sampler.finish(),
            Err(_) => Default::default(),
        };
        let (stacks, folded) = symbolize_by_program(&mut raw);
        let hot_functions = analysis::rank(&stacks);
        CpuProfile {
            frequency_hz: self.settings.frequency_hz,
            unwinding: self.settings.unwinding.name().to_string(),
            samples: raw.samples,
            lost_samples: raw.lost,
            cover_80_percent: analysis::cover(&hot_functions, COVER_FRACTION),
            hot_functions,
            folded: analysis::fold(&folded),
        }
    }
}

/// The symbolized stacks (for the ranking) and the stacks to fold: the same, each starting
/// with its process's name when the samples come from programs of more than one name.
fn symbolize_by_program(raw: &mut RawProfile) -> (Vec<NamedStack>, Vec<NamedStack>) {
    let mut by_name: BTreeMap<String, HashMap<(u32, Vec<u64>), u64>> = BTreeMap::new();
    for ((pid, stack), count) in std::mem::take(&mut raw.stacks) {
        let name = raw
            .names
            .get(&pid)
            .cloned()
            .unwrap_or_else(|| format!("pid {pid}"));
        by_name.entry(name).or_default().insert((pid, stack), count);
    }
    if by_name.len() <= 1 {
        raw.stacks = by_name.into_values().next().unwrap_or_default();
        let stacks = analysis::symbolize(raw);
        return (stacks.clone(), stacks);
    }
    let (mut stacks, mut folded) = (Vec::new(), Vec::new());
    for (name, group) in by_name {
        raw.stacks = group;
        for (frames, count) in analysis::symbolize(raw) {
            let prefixed = std::iter::once(name.clone()).chain(frames.iter().cloned());
            folded.push((prefixed.collect(), count));
            stacks.push((frames, count));
        }
    }
    (stacks, folded)
}
