//! Profiles weighted by something other than CPU samples, recorded beside the CPU profile by
//! samplers of their own: waiting time (every context switch, with the stack it left from) and
//! memory first touched (every user page fault, weighted by its page's size).
//!
//! Waiting by stack needs the context-switch event, which fires in the kernel: it is allowed at
//! `perf_event_paranoid` 1 or lower, or with CAP_PERFMON (root has it). Elsewhere the kernel
//! still gives one's own threads their switch records, so the split of wall-clock time into
//! running, waiting and runnable is measured exactly and the report says what would add stacks.

use crate::analysis::{self, NamedStack};
use crate::perf::access;
use crate::perf::sampler::{AttachMode, CpuSampler, RawProfile};
use crate::perf::sys::EventKind;
use crate::perf::waits::{monotonic_ns, WaitTotals};
use crate::processes::ProcessSelection;
use crate::profiler::drain_on_thread;
use crate::settings::SamplingSettings;
use crate::StopOnDrop;
use plumb_schema::profile::{HotFunction, MemoryProfile, WaitingProfile, WeightedFunction};
use std::collections::HashSet;
use std::thread::JoinHandle;

/// Rows kept in a weighted function table.
const KEEP_FUNCTIONS: usize = 50;

/// The waiting-time and memory samplers of one run.
pub(crate) struct WeightedProfilers {
    waits: Option<(Drainer, Option<String>)>,
    memory: Option<Drainer>,
}

/// A sampler drained on its own thread until stopped.
struct Drainer {
    stop: StopOnDrop,
    thread: JoinHandle<CpuSampler>,
}

impl WeightedProfilers {
    /// For a command plumb launched, paused before its exec.
    pub fn before_exec(pid: u32, settings: SamplingSettings) -> Self {
        let open = |kind| CpuSampler::open_kind(pid, AttachMode::BeforeExec, &settings, kind);
        Self::open(open, None)
    }

    /// For running processes, following newcomers of a tree or cgroup.
    pub fn attach(selection: &ProcessSelection, settings: SamplingSettings) -> Self {
        let members = selection.snapshot(&HashSet::new());
        let mut pids: Vec<u32> = selection.pids.clone();
        for member in members {
            if !pids.contains(&member.pid) {
                pids.push(member.pid);
            }
        }
        let open = |kind| {
            let mut sampler = CpuSampler::open_running_kind(&pids, &settings, kind)?;
            for &pid in &pids {
                sampler.register_threads(pid);
            }
            Ok(sampler)
        };
        let follow = (selection.tree || selection.cgroup.is_some()).then(|| selection.clone());
        Self::open(open, follow)
    }

    fn open(
        open: impl Fn(EventKind) -> Result<CpuSampler, access::Diagnosis>,
        follow: Option<ProcessSelection>,
    ) -> Self {
        let waits = match open(EventKind::ContextSwitches) {
            Ok(sampler) => Some((Drainer::spawn(sampler, follow.clone()), None)),
            Err(_) => open(EventKind::SwitchesOnly).ok().map(|sampler| {
                (
                    Drainer::spawn(sampler, follow.clone()),
                    Some(no_stacks_reason()),
                )
            }),
        };
        let memory = open(EventKind::PageFaults)
            .ok()
            .map(|sampler| Drainer::spawn(sampler, follow));
        Self { waits, memory }
    }

    /// Stop both samplers and turn what they saw into profiles.
    pub fn stop(self) -> (Option<WaitingProfile>, Option<MemoryProfile>) {
        let end = monotonic_ns();
        let waiting = self
            .waits
            .map(|(drainer, no_stacks)| waiting_profile(drainer.stop(), end, no_stacks));
        let memory = self.memory.map(|drainer| memory_profile(drainer.stop()));
        (waiting.flatten(), memory.flatten())
    }
}

impl Drainer {
    fn spawn(sampler: CpuSampler, follow: Option<ProcessSelection>) -> Drainer {
        let (stop, thread) = drain_on_thread("plumb-weighted", sampler, follow);
        Drainer { stop, thread }
    }

    fn stop(self) -> Option<RawProfile> {
        self.stop.stop();
        self.thread.join().ok().map(CpuSampler::finish)
    }
}

/// What would give waits their stacks, in words.
fn no_stacks_reason() -> String {
    let level = access::read_paranoid_level()
        .map_or_else(|| "unknown".to_string(), |level| level.to_string());
    format!(
        "waits by stack need the kernel's context-switch event, which perf_event_paranoid {level} refuses; \
         `sudo sysctl kernel.perf_event_paranoid=1` (or CAP_PERFMON: `sudo setcap cap_perfmon+ep $(which plumb)`) allows it; \
         the time split above is measured without it"
    )
}

fn waiting_profile(
    raw: Option<RawProfile>,
    end: u64,
    no_stacks: Option<String>,
) -> Option<WaitingProfile> {
    let mut raw = raw?;
    let mut tracker = raw.waits.take()?;
    let totals: WaitTotals = tracker.finish(end, &thread_state);
    // In microseconds: the ranking and the folded counts are integers.
    raw.stacks = tracker
        .stacks
        .drain()
        .map(|(key, ns)| (key, ns / 1_000))
        .filter(|(_, us)| *us > 0)
        .collect();
    let unattributed: Vec<NamedStack> = tracker
        .unattributed
        .iter()
        .map(|(pid, label, ns)| {
            let program = raw
                .names
                .get(pid)
                .cloned()
                .unwrap_or_else(|| format!("pid {pid}"));
            (vec![program, label.clone()], ns / 1_000)
        })
        .collect();
    let (functions, folded) = ranked_with(&raw, unattributed, 1e-6);
    let seconds = |ns: u64| ns as f64 / 1e9;
    let on_cpu = totals
        .thread_ns
        .saturating_sub(totals.waiting_ns + totals.runnable_ns);
    Some(WaitingProfile {
        threads: totals.threads,
        thread_seconds: seconds(totals.thread_ns),
        on_cpu_seconds: seconds(on_cpu),
        waiting_seconds: seconds(totals.waiting_ns),
        runnable_seconds: seconds(totals.runnable_ns),
        by_stack: no_stacks.is_none(),
        no_stacks,
        functions,
        folded,
        lost_records: raw.lost,
    })
}

fn memory_profile(raw: Option<RawProfile>) -> Option<MemoryProfile> {
    let mut raw = raw?;
    let bytes: u64 = raw.stacks.values().sum();
    let faults = bytes / crate::perf::sys::page_size().max(1) as u64;
    // Folded counts in KiB, so a flamegraph of gigabytes stays in range.
    let (functions, _) = ranked(&raw, 1.0);
    raw.stacks = raw
        .stacks
        .drain()
        .map(|(key, b)| (key, b.div_ceil(1024)))
        .collect();
    let (_, folded) = ranked(&raw, 1.0);
    Some(MemoryProfile {
        faults,
        bytes,
        functions,
        folded,
        lost_records: raw.lost,
    })
}

/// A thread's state letter (`R`, `S`, `D`, ...) and the kernel function it sleeps in, from
/// /proc, for a thread that sent no switch record.
fn thread_state(pid: u32, tid: u32) -> Option<(char, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).ok()?;
    let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
    let wchan = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/wchan"))
        .ok()
        .filter(|w| !w.is_empty() && w != "0")
        .unwrap_or_else(|| "the kernel".to_string());
    Some((state, wchan))
}

/// Symbolize, rank and fold weighted stacks; `scale` turns a count into the reported value.
fn ranked(
    raw: &RawProfile,
    scale: f64,
) -> (
    Vec<WeightedFunction>,
    Vec<plumb_schema::profile::FoldedStack>,
) {
    ranked_with(raw, Vec::new(), scale)
}

/// As [`ranked`], with named stacks that have no addresses added.
fn ranked_with(
    raw: &RawProfile,
    extra: Vec<NamedStack>,
    scale: f64,
) -> (
    Vec<WeightedFunction>,
    Vec<plumb_schema::profile::FoldedStack>,
) {
    let mut stacks = analysis::symbolize(raw);
    stacks.extend(extra.into_iter().filter(|(_, count)| *count > 0));
    let functions = keep_hottest(analysis::rank(&stacks))
        .into_iter()
        .map(|f| weighted(f, scale))
        .collect();
    (functions, analysis::fold(&stacks))
}

/// The ranked functions (by self weight) cut to the hottest by self and the hottest by total:
/// a function whose work is all in inlined callees (`Vec::push` inside `grow_cache`) has no
/// self weight, yet it is the one to fix.
fn keep_hottest(ranked: Vec<HotFunction>) -> Vec<HotFunction> {
    let mut by_total: Vec<&HotFunction> = ranked.iter().collect();
    by_total.sort_by_key(|f| std::cmp::Reverse(f.total_samples));
    let hottest: HashSet<&str> = by_total
        .iter()
        .take(KEEP_FUNCTIONS)
        .map(|f| f.name.as_str())
        .collect();
    let keep: HashSet<String> = ranked
        .iter()
        .take(KEEP_FUNCTIONS)
        .map(|f| f.name.clone())
        .chain(hottest.into_iter().map(str::to_string))
        .collect();
    ranked
        .into_iter()
        .filter(|f| keep.contains(&f.name))
        .collect()
}

fn weighted(function: HotFunction, scale: f64) -> WeightedFunction {
    WeightedFunction {
        name: function.name,
        self_value: function.self_samples as f64 * scale,
        total_value: function.total_samples as f64 * scale,
        self_percent: function.self_percent,
        total_percent: function.total_percent,
    }
}
