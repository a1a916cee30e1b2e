//! The resource timeline: CPU, RSS, threads, context switches, I/O and open files of a process
//! selection (one process, a process tree or a cgroup, see `processes.rs`), read from /proc on
//! a fixed interval by a background thread.
//!
//! Every reading re-evaluates the selection's membership, so processes started during the run
//! count from their first reading. A point sums the members: CPU as counted by
//! [`CpuAccount`] (reaped children included for a tree or a cgroup), RSS, threads, processes
//! and open files of the members alive at that reading, and context switches and I/O as running
//! sums over every member seen (a member that exited keeps what it had at its last reading).

use crate::error::ProfileError;
use crate::processes::{self, CpuAccount, MemberCpu, ProcStat, ProcessSelection};
use crate::StopOnDrop;
use plumb_schema::profile::{ProcessGroup, ProcessShare, ResourcePoint, ResourceTimeline};
use procfs::process::Process;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How many members the busiest list names.
const BUSIEST: usize = 10;

/// Starts the /proc sampler of a process selection.
pub struct ResourceSampler;

/// A running /proc sampler; [`ResourceSamplerHandle::stop`] returns the timeline (dropping the
/// handle stops the sampler and discards it).
pub struct ResourceSamplerHandle {
    stop: StopOnDrop,
    thread: JoinHandle<Recorder>,
}

impl ResourceSampler {
    /// Check that `pid` exists and can be read, then sample it (alone, without its children)
    /// every `interval` on a thread until stopped or until the process exits.
    pub fn start(pid: u32, interval: Duration) -> Result<ResourceSamplerHandle, ProfileError> {
        Self::watch(&ProcessSelection::pid(pid), interval)
    }

    /// Check that the selection's PIDs exist and can be read and that its cgroup exists, then
    /// sample the selection every `interval` until stopped or until no member is left.
    pub fn watch(
        selection: &ProcessSelection,
        interval: Duration,
    ) -> Result<ResourceSamplerHandle, ProfileError> {
        Ok(Self::start_unchecked(selection.checked()?, interval))
    }

    /// Start without checking: for a command plumb launched itself (which may exit at once).
    pub(crate) fn start_unchecked(
        selection: ProcessSelection,
        interval: Duration,
    ) -> ResourceSamplerHandle {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("plumb-resources".into())
            .spawn(move || {
                let mut recorder = Recorder::new(selection, interval);
                recorder.sample_until(&flag);
                recorder
            })
            .expect("spawning a thread only fails when the system is out of resources");
        ResourceSamplerHandle {
            stop: StopOnDrop(stop),
            thread,
        }
    }
}

impl ResourceSamplerHandle {
    /// Whether sampling ended by itself (no process of the selection is left).
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Stop sampling and return the timeline.
    pub fn stop(self) -> ResourceTimeline {
        self.finish(None)
    }

    /// Stop sampling a command plumb launched and reaped: `reaped` is its `wait4` accounting
    /// (user, system ticks of it and every descendant reaped under it), a floor for the total.
    pub(crate) fn stop_launched(self, root: u32, reaped: (u64, u64)) -> ResourceTimeline {
        self.finish(Some((root, reaped)))
    }

    fn finish(self, launched: Option<(u32, (u64, u64))>) -> ResourceTimeline {
        self.stop.stop();
        match self.thread.join() {
            Ok(recorder) => recorder.into_timeline(launched),
            Err(_) => crate::summary::timeline(Duration::ZERO, Vec::new(), Vec::new(), None),
        }
    }
}

/// A process selection read one point at a time, for a monitor that runs for days: nothing is
/// kept but what the next reading needs (its CPU counters), unlike [`ResourceSampler`]'s timeline.
pub struct LiveResources {
    recorder: Recorder,
}

impl LiveResources {
    /// Check that the selection's PIDs exist and can be read and that its cgroup exists.
    pub fn watch(selection: &ProcessSelection) -> Result<LiveResources, ProfileError> {
        Ok(LiveResources {
            recorder: Recorder::new(selection.checked()?, Duration::from_secs(1)),
        })
    }

    /// The selection now: CPU since the previous reading (zero at the first) and memory summed
    /// over its live members; `None` once no member is alive.
    pub fn read(&mut self) -> Option<ResourcePoint> {
        if !self.recorder.read() {
            return None;
        }
        self.recorder.points.pop()
    }
}

/// Counters of one member, kept after it exits.
#[derive(Debug, Clone, Default)]
struct MemberCounters {
    start: u64,
    /// Context switches (voluntary, involuntary) at the last reading, never going back.
    switches: (u64, u64),
    /// Bytes read and written at the last reading, when readable.
    io: Option<(u64, u64)>,
    /// Values not counted (what a process had before the run, when it joined later).
    base_switches: (u64, u64),
    base_io: (u64, u64),
    peak_rss: u64,
}

impl MemberCounters {
    fn switches(&self) -> (u64, u64) {
        (
            self.switches.0.saturating_sub(self.base_switches.0),
            self.switches.1.saturating_sub(self.base_switches.1),
        )
    }

    fn io(&self) -> Option<(u64, u64)> {
        self.io.map(|(read, written)| {
            (
                read.saturating_sub(self.base_io.0),
                written.saturating_sub(self.base_io.1),
            )
        })
    }
}

/// What the sampling thread keeps between readings.
struct Recorder {
    selection: ProcessSelection,
    interval: Duration,
    started: Instant,
    run_start: u64,
    account: CpuAccount,
    members: HashMap<u32, MemberCounters>,
    retired: Vec<MemberCounters>,
    points: Vec<ResourcePoint>,
    unreadable: BTreeSet<String>,
    /// When the previous point was read, and the CPU ticks counted by then.
    previous: Option<(Instant, (u64, u64))>,
    processes_max: u64,
}

impl Recorder {
    fn new(selection: ProcessSelection, interval: Duration) -> Self {
        let run_start = processes::ticks_since_boot();
        Self {
            account: CpuAccount::new(selection.counts_children(), run_start),
            selection,
            interval,
            started: Instant::now(),
            run_start,
            members: HashMap::new(),
            retired: Vec::new(),
            points: Vec::new(),
            unreadable: BTreeSet::new(),
            previous: None,
            processes_max: 0,
        }
    }

    fn sample_until(&mut self, stop: &AtomicBool) {
        let mut next_tick = self.started;
        while !stop.load(Ordering::Relaxed) {
            if !self.read() {
                return;
            }
            next_tick += self.interval;
            sleep_until(next_tick, stop);
        }
        // Count the CPU used since the last point (a load test's last fraction of a second).
        let stats = self.selection.snapshot(&self.account.known());
        self.account.update(&stats);
    }

    /// One reading; `false` once no member is alive.
    fn read(&mut self) -> bool {
        let stats = self.selection.snapshot(&self.account.known());
        let at = Instant::now();
        self.account.update(&stats);
        let live: Vec<&ProcStat> = stats.iter().filter(|stat| stat.is_live()).collect();
        if live.is_empty() {
            return false;
        }
        let first = self.points.is_empty();
        let mut point = ResourcePoint {
            t_secs: at.duration_since(self.started).as_secs_f64(),
            cpu_user_percent: 0.0,
            cpu_system_percent: 0.0,
            rss_bytes: 0,
            threads: 0,
            voluntary_ctx_switches: 0,
            involuntary_ctx_switches: 0,
            read_bytes: None,
            written_bytes: None,
            open_fds: None,
            processes: Some(live.len() as u64),
        };
        for stat in &live {
            self.read_member(stat, first, &mut point);
        }
        self.sum_counters(&mut point);
        self.cpu_percentages(at, &mut point);
        self.processes_max = self.processes_max.max(live.len() as u64);
        self.points.push(point);
        true
    }

    /// Add one live member's gauges to `point` and update its counters.
    fn read_member(&mut self, stat: &ProcStat, first: bool, point: &mut ResourcePoint) {
        let rss = stat.rss_pages * procfs::page_size();
        point.rss_bytes += rss;
        point.threads += stat.threads;
        let Ok(process) = Process::new(stat.pid as i32) else {
            return;
        };
        let io = note_unreadable(process.io(), "io (/proc/PID/io)", &mut self.unreadable);
        let fds = note_unreadable(
            process.fd_count(),
            "open files (/proc/PID/fd)",
            &mut self.unreadable,
        );
        if let Some(fds) = fds {
            point.open_fds = Some(point.open_fds.unwrap_or(0) + fds as u64);
        }
        let switches = context_switches(&process);
        let io = io.map(|io| (io.rchar, io.wchar));
        let counters = self.counters_of(stat, first, switches, io);
        counters.switches = (
            counters.switches.0.max(switches.0),
            counters.switches.1.max(switches.1),
        );
        counters.io = io.or(counters.io);
        counters.peak_rss = counters.peak_rss.max(rss);
    }

    /// The counters of `stat`'s process, created at its first reading (a PID now held by
    /// another process retires the old one's).
    fn counters_of(
        &mut self,
        stat: &ProcStat,
        first: bool,
        switches: (u64, u64),
        io: Option<(u64, u64)>,
    ) -> &mut MemberCounters {
        if let Some(old) = self
            .members
            .get(&stat.pid)
            .filter(|c| c.start != stat.start)
        {
            self.retired.push(old.clone());
            self.members.remove(&stat.pid);
        }
        // Counters of the processes there from the start stay absolute (as for one process);
        // a process that joined later counts from zero if born during the run, else from now.
        let from_now = !first && stat.start < self.run_start;
        self.members
            .entry(stat.pid)
            .or_insert_with(|| MemberCounters {
                start: stat.start,
                base_switches: if from_now { switches } else { (0, 0) },
                base_io: if from_now {
                    io.unwrap_or((0, 0))
                } else {
                    (0, 0)
                },
                ..MemberCounters::default()
            })
    }

    /// Context switches and I/O summed over every member seen.
    fn sum_counters(&self, point: &mut ResourcePoint) {
        for counters in self.members.values().chain(&self.retired) {
            let (voluntary, involuntary) = counters.switches();
            point.voluntary_ctx_switches += voluntary;
            point.involuntary_ctx_switches += involuntary;
            if let Some((read, written)) = counters.io() {
                point.read_bytes = Some(point.read_bytes.unwrap_or(0) + read);
                point.written_bytes = Some(point.written_bytes.unwrap_or(0) + written);
            }
        }
        if let Some(before) = self.points.last() {
            point.voluntary_ctx_switches = point
                .voluntary_ctx_switches
                .max(before.voluntary_ctx_switches);
            point.involuntary_ctx_switches = point
                .involuntary_ctx_switches
                .max(before.involuntary_ctx_switches);
        }
    }

    /// CPU since the previous point, in percent of one core.
    fn cpu_percentages(&mut self, at: Instant, point: &mut ResourcePoint) {
        let total = self.account.total();
        if let Some((before_at, before)) = self.previous {
            let elapsed = at.duration_since(before_at).as_secs_f64();
            if elapsed > 0.0 {
                let ticks = procfs::ticks_per_second() as f64;
                let percent =
                    |from: u64, to: u64| 100.0 * to.saturating_sub(from) as f64 / ticks / elapsed;
                point.cpu_user_percent = percent(before.0, total.0);
                point.cpu_system_percent = percent(before.1, total.1);
            }
        }
        self.previous = Some((at, total));
    }

    fn into_timeline(mut self, launched: Option<(u32, (u64, u64))>) -> ResourceTimeline {
        if let Some((root, reaped)) = launched {
            let base = self.account.base_of(root).unwrap_or((0, 0));
            self.account.at_least((
                reaped.0.saturating_sub(base.0),
                reaped.1.saturating_sub(base.1),
            ));
        }
        let group = self.group();
        crate::summary::timeline(
            self.interval,
            self.points,
            self.unreadable.into_iter().collect(),
            Some(group),
        )
    }

    fn group(&self) -> ProcessGroup {
        let ticks = procfs::ticks_per_second() as f64;
        let (user, system) = self.account.total();
        let members = self.account.members();
        let peak = |pid: u32| self.members.get(&pid).map_or(0, |c| c.peak_rss);
        ProcessGroup {
            selection: self.selection.describe(),
            processes_seen: members.len() as u64,
            processes_max: self.processes_max,
            cpu_user_secs: user as f64 / ticks,
            cpu_system_secs: system as f64 / ticks,
            busiest: busiest(members, user + system, peak),
        }
    }
}

/// The members with the most CPU, busiest first, with their share of the group's `total` ticks.
fn busiest(
    mut members: Vec<MemberCpu>,
    total: u64,
    peak_rss: impl Fn(u32) -> u64,
) -> Vec<ProcessShare> {
    members.sort_by(|a, b| b.ticks.cmp(&a.ticks).then(a.pid.cmp(&b.pid)));
    let ticks = procfs::ticks_per_second() as f64;
    members
        .into_iter()
        .take(BUSIEST)
        .map(|member| ProcessShare {
            pid: member.pid,
            cpu_secs: member.ticks as f64 / ticks,
            cpu_percent: if total == 0 {
                0.0
            } else {
                100.0 * member.ticks as f64 / total as f64
            },
            peak_rss_bytes: peak_rss(member.pid),
            exited: member.exited,
            name: member.comm,
        })
        .collect()
}

/// Sleep until `deadline`, waking early to notice `stop`.
fn sleep_until(deadline: Instant, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
}

fn note_unreadable<T>(
    result: procfs::ProcResult<T>,
    what: &str,
    unreadable: &mut BTreeSet<String>,
) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        // A member that exited between two reads is gone, not unreadable.
        Err(procfs::ProcError::NotFound(_)) => None,
        Err(_) => {
            unreadable.insert(what.to_string());
            None
        }
    }
}

/// Context switches summed over all threads (the per-process status line counts one thread only).
fn context_switches(process: &Process) -> (u64, u64) {
    let Ok(tasks) = process.tasks() else {
        return (0, 0);
    };
    tasks.flatten().filter_map(|task| task.status().ok()).fold(
        (0, 0),
        |(voluntary, involuntary), status| {
            (
                voluntary + status.voluntary_ctxt_switches.unwrap_or(0),
                involuntary + status.nonvoluntary_ctxt_switches.unwrap_or(0),
            )
        },
    )
}
