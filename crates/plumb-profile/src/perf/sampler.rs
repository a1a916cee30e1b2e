//! Opens the sampling events of the selected processes, drains their ring buffers, and keeps one
//! count per unique (process, address stack): memory grows with the number of distinct stacks,
//! not samples.
//!
//! Every event has `inherit`, so threads and processes that a sampled thread starts later are
//! sampled too, through the event of their parent (a launched command's whole tree; new
//! threads and forked workers of an attached process). A forked child inherits its parent's
//! mappings without `MMAP` records, so the `FORK` record makes it a copy of its parent's known
//! mappings and name; an `exec` then brings its own `MMAP2` and `COMM` records. A process that
//! joins an attached selection otherwise (a cgroup newcomer, a descendant started by a process
//! that was not sampled) gets its own events when [`CpuSampler::follow`] sees it.

use super::access::{self, DeniedContext, Diagnosis};
use super::records::{self, Record};
use super::sys::{self, EventConfig, EventKind, PerfEvent, RingBuffer};
use super::waits::WaitTracker;
use crate::processes::{self, ProcStat};
use crate::settings::{SamplingSettings, Unwinding};
use crate::symbols::{self, AddressSpaces};
use crate::unwind::DwarfUnwinder;
use perf_event_open_sys::bindings as perf;
use std::collections::{HashMap, HashSet};
use std::io;

/// Bytes of user stack copied per sample when unwinding with DWARF.
const DWARF_STACK_BYTES: u32 = 16 * 1024;

/// Whether the target was launched by plumb (still before its exec) or is already running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttachMode {
    /// Launched, paused before exec: count from exec on.
    BeforeExec,
    /// Already running: count from now on, every current thread.
    Running,
}

/// What sampling collected, before symbolization.
#[derive(Debug, Default)]
pub(crate) struct RawProfile {
    /// Address stacks, leaf first, per process, with their sample counts.
    pub stacks: HashMap<(u32, Vec<u64>), u64>,
    /// Executable mappings of the sampled processes.
    pub spaces: AddressSpaces,
    /// Samples kept.
    pub samples: u64,
    /// Records the kernel dropped.
    pub lost: u64,
    /// Process names (`comm`) of the sampled processes.
    pub names: HashMap<u32, String>,
    /// Waiting time, for a context-switch sampler (`stacks` then count nanoseconds waited).
    pub waits: Option<WaitTracker>,
}

/// The open events and what they have delivered so far.
pub(crate) struct CpuSampler {
    buffers: Vec<RingBuffer>,
    /// Which of `buffers` takes the records of each CPU.
    ring_of_cpu: HashMap<i32, usize>,
    redirected: Vec<PerfEvent>,
    config: EventConfig,
    dwarf: Option<DwarfUnwinder>,
    raw: RawProfile,
    /// Already-running targets, whose maps are read again at the end.
    attached: Vec<u32>,
    /// Processes sampled: opened here, or inherited (seen in a `FORK` record), with the time
    /// (clock ticks since boot) after which the children they start inherit (0: always).
    followed: HashMap<u32, u64>,
    /// Executable mappings learnt per process, to hand to a forked child.
    mappings: HashMap<u32, Vec<records::Mapping>>,
}

impl CpuSampler {
    /// Open one event per CPU for every thread of `pid`, sharing one ring buffer per CPU.
    pub fn open(
        pid: u32,
        mode: AttachMode,
        settings: &SamplingSettings,
    ) -> Result<Self, Diagnosis> {
        Self::open_kind(pid, mode, settings, EventKind::CpuClock)
    }

    /// As [`CpuSampler::open`], sampling `kind` instead of the CPU clock (context switches, page
    /// faults: `perf::weighted`).
    pub fn open_kind(
        pid: u32,
        mode: AttachMode,
        settings: &SamplingSettings,
        kind: EventKind,
    ) -> Result<Self, Diagnosis> {
        let config = EventConfig {
            kind,
            frequency_hz: settings.frequency_hz,
            enable_on_exec: mode == AttachMode::BeforeExec,
            stack_bytes: (settings.unwinding == Unwinding::Dwarf).then_some(DWARF_STACK_BYTES),
        };
        let threads = match mode {
            AttachMode::BeforeExec => vec![pid],
            AttachMode::Running => list_threads(pid),
        };
        let mut sampler = Self {
            buffers: Vec::new(),
            ring_of_cpu: HashMap::new(),
            redirected: Vec::new(),
            config,
            dwarf: (settings.unwinding == Unwinding::Dwarf).then(DwarfUnwinder::default),
            raw: RawProfile {
                waits: matches!(kind, EventKind::ContextSwitches | EventKind::SwitchesOnly)
                    .then(|| WaitTracker::new(super::waits::monotonic_ns())),
                ..RawProfile::default()
            },
            attached: Vec::new(),
            followed: HashMap::new(),
            mappings: HashMap::new(),
        };
        for cpu in 0..sys::cpu_count() {
            sampler.open_cpu(pid, cpu as i32, &threads, &config)?;
        }
        sampler.followed.insert(pid, processes::ticks_since_boot());
        if mode == AttachMode::Running {
            sampler
                .enable_all()
                .map_err(|err| denied(pid, &err, false))?;
            sampler.learn_running(pid);
        }
        Ok(sampler)
    }

    /// Open the events of several running processes: the first must be allowed (its refusal is
    /// the diagnosis), the others are sampled when they still exist.
    pub fn open_running(pids: &[u32], settings: &SamplingSettings) -> Result<Self, Diagnosis> {
        Self::open_running_kind(pids, settings, EventKind::CpuClock)
    }

    /// As [`CpuSampler::open_running`], sampling `kind`.
    pub fn open_running_kind(
        pids: &[u32],
        settings: &SamplingSettings,
        kind: EventKind,
    ) -> Result<Self, Diagnosis> {
        let (&first, others) = pids.split_first().ok_or_else(|| Diagnosis {
            reason: "no process of the selection was running".into(),
            hint: "start the processes before plumb, or select them by a cgroup".into(),
        })?;
        let mut sampler = Self::open_kind(first, AttachMode::Running, settings, kind)?;
        for &pid in others {
            sampler.attach(pid);
        }
        Ok(sampler)
    }

    /// Tell the wait tracker (a context-switch sampler's) which threads `pid` has now, so that
    /// one that never switches during the run is still accounted for.
    pub fn register_threads(&mut self, pid: u32) {
        if let Some(waits) = self.raw.waits.as_mut() {
            for tid in list_threads(pid) {
                waits.register(pid, tid);
            }
        }
    }

    /// The processes sampled so far.
    pub fn followed(&self) -> HashSet<u32> {
        self.followed.keys().copied().collect()
    }

    /// Sample processes of the selection not sampled yet (`members`, read now). A child born
    /// after its parent was followed already inherited the parent's events.
    pub fn follow(&mut self, members: &[ProcStat]) {
        self.drain();
        for member in members {
            if self.followed.contains_key(&member.pid) {
                continue;
            }
            let inherited = self
                .followed
                .get(&member.ppid)
                .is_some_and(|&since| member.start > since);
            if inherited {
                self.followed.insert(member.pid, member.start);
            } else {
                self.attach(member.pid);
            }
        }
    }

    /// Open and enable the events of running process `pid`; a process that is gone or refused
    /// is left out.
    fn attach(&mut self, pid: u32) {
        let since = processes::ticks_since_boot();
        let threads = list_threads(pid);
        let (first_buffer, first_redirected) = (self.buffers.len(), self.redirected.len());
        let config = self.config;
        for cpu in 0..sys::cpu_count() {
            if self.open_cpu(pid, cpu as i32, &threads, &config).is_err() {
                return;
            }
        }
        let enabled = self.buffers[first_buffer..]
            .iter()
            .map(RingBuffer::event)
            .chain(&self.redirected[first_redirected..])
            .try_for_each(PerfEvent::enable);
        if enabled.is_ok() {
            self.followed.insert(pid, since);
            self.learn_running(pid);
        }
    }

    /// Maps and name of a running process (read after enabling: a file mapped from now on
    /// arrives as a record instead).
    fn learn_running(&mut self, pid: u32) {
        self.add_proc_maps(pid);
        self.attached.push(pid);
        if let Some(stat) = processes::read_stat(pid) {
            self.raw.names.insert(pid, stat.comm);
        }
    }

    fn open_cpu(
        &mut self,
        pid: u32,
        cpu: i32,
        threads: &[u32],
        config: &EventConfig,
    ) -> Result<(), Diagnosis> {
        let mut leader: Option<RingBuffer> = None;
        for &tid in threads {
            let event = match PerfEvent::open(tid as i32, cpu, config) {
                Ok(event) => event,
                // A thread that exited meanwhile, or a CPU that is offline.
                Err(err) if is_gone(&err) && (threads.len() > 1 || tid != pid) => continue,
                Err(err) if err.raw_os_error() == Some(libc::ENODEV) => return Ok(()),
                Err(err) => return Err(denied(pid, &err, false)),
            };
            let existing = self.ring_of_cpu.get(&cpu).map(|&i| &self.buffers[i]);
            let Some(ring) = leader.as_ref().or(existing) else {
                leader = Some(map_ring(event, config).map_err(|err| denied(pid, &err, true))?);
                continue;
            };
            event
                .redirect_output_to(ring.event())
                .map_err(|err| denied(pid, &err, false))?;
            self.redirected.push(event);
        }
        if let Some(ring) = leader {
            self.ring_of_cpu.insert(cpu, self.buffers.len());
            self.buffers.push(ring);
        }
        Ok(())
    }

    fn enable_all(&self) -> io::Result<()> {
        for ring in &self.buffers {
            ring.event().enable()?;
        }
        self.redirected.iter().try_for_each(PerfEvent::enable)
    }

    /// Stop counting (the remaining records can still be drained).
    pub fn disable_all(&self) {
        for ring in &self.buffers {
            let _ = ring.event().disable();
        }
        for event in &self.redirected {
            let _ = event.disable();
        }
    }

    /// Read every record the kernel has written so far.
    pub fn drain(&mut self) {
        let layout = records::Layout {
            stack: self
                .dwarf
                .is_some()
                .then_some(sys::USER_REGS_MASK.count_ones() as usize),
            page_size: self.config.kind == EventKind::PageFaults,
        };
        let event_kind = self.config.kind;
        let Self {
            buffers,
            dwarf,
            raw,
            followed,
            mappings,
            ..
        } = self;
        for ring in buffers.iter_mut() {
            ring.drain_with_misc(|kind, misc, body| {
                if let Some(waits) = raw.waits.as_mut() {
                    waits.on_task_record(records::parse_with(kind, misc, body, &layout));
                }
                if kind == perf::PERF_RECORD_FORK || kind == perf::PERF_RECORD_COMM {
                    let mut learn = ProcessEvents {
                        dwarf: dwarf.as_mut(),
                        raw: &mut *raw,
                        followed: &mut *followed,
                        mappings: &mut *mappings,
                    };
                    return learn.record(kind, body);
                }
                match records::parse_with(kind, misc, body, &layout) {
                    Record::Sample(sample) => {
                        let stack = match dwarf.as_mut() {
                            Some(unwinder) => unwinder.unwind(&sample),
                            None => sample.callchain.clone(),
                        };
                        count_sample(raw, event_kind, &sample, stack);
                    }
                    Record::Mapping(mapping) => {
                        if let Some(unwinder) = dwarf.as_mut() {
                            unwinder.add_module(&mapping);
                        }
                        mappings
                            .entry(mapping.pid)
                            .or_default()
                            .push(mapping.clone());
                        raw.spaces.add(mapping);
                    }
                    Record::Lost(count) => raw.lost += count,
                    _ => {}
                }
            });
        }
        if let Some(waits) = raw.waits.as_mut() {
            waits.flush();
        }
    }

    /// Learn the executable mappings listed in `/proc/PID/maps`.
    fn add_proc_maps(&mut self, pid: u32) {
        for mapping in symbols::read_proc_maps(pid) {
            if let Some(unwinder) = self.dwarf.as_mut() {
                unwinder.add_module(&mapping);
            }
            self.mappings.entry(pid).or_default().push(mapping.clone());
            self.raw.spaces.add(mapping);
        }
    }

    /// Everything collected, closing the events.
    pub fn finish(mut self) -> RawProfile {
        self.disable_all();
        self.drain();
        for pid in std::mem::take(&mut self.attached) {
            // Anything mapped in the instant between listing the maps and enabling the events.
            self.add_proc_maps(pid);
        }
        self.name_the_rest();
        std::mem::take(&mut self.raw)
    }

    /// A name for every sampled process no record named (read from /proc while it lives).
    fn name_the_rest(&mut self) {
        let pids: HashSet<u32> = self.raw.stacks.keys().map(|(pid, _)| *pid).collect();
        for pid in pids {
            self.raw.names.entry(pid).or_insert_with(|| {
                processes::read_stat(pid).map_or_else(|| format!("pid {pid}"), |s| s.comm)
            });
        }
    }
}

/// What `FORK` and `COMM` records teach about the sampled processes.
struct ProcessEvents<'a> {
    dwarf: Option<&'a mut DwarfUnwinder>,
    raw: &'a mut RawProfile,
    followed: &'a mut HashMap<u32, u64>,
    mappings: &'a mut HashMap<u32, Vec<records::Mapping>>,
}

impl ProcessEvents<'_> {
    fn record(&mut self, kind: u32, body: &[u8]) {
        let word = |at: usize| -> Option<u32> {
            Some(u32::from_ne_bytes(body.get(at..at + 4)?.try_into().ok()?))
        };
        let (Some(pid), Some(second)) = (word(0), word(4)) else {
            return;
        };
        if kind == perf::PERF_RECORD_FORK {
            // pid, ppid, tid, ptid: a new thread has pid == ppid.
            if pid != second {
                self.forked(pid, second);
            }
        } else if pid == second {
            // pid, tid, then the NUL-terminated name: the process's (main thread's) new name.
            let name = body.get(8..).unwrap_or_default();
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            let name = String::from_utf8_lossy(&name[..end]).into_owned();
            self.raw.names.insert(pid, name);
        }
    }

    /// `child` was forked from `parent`: it maps what its parent mapped, under its own PID.
    fn forked(&mut self, child: u32, parent: u32) {
        // Sampled from its birth: every child it starts inherits its events.
        self.followed.entry(child).or_insert(0);
        // The records of one drain come CPU by CPU, so the child's exec (its COMM and MMAP2
        // records) may be read before its FORK: what it learnt of itself is kept.
        if let Some(name) = self.raw.names.get(&parent).cloned() {
            self.raw.names.entry(child).or_insert(name);
        }
        let own: Vec<(u64, u64)> = self
            .mappings
            .get(&child)
            .into_iter()
            .flatten()
            .map(|m| (m.start, m.end))
            .collect();
        let overlaps = |m: &records::Mapping| own.iter().any(|&(s, e)| m.start < e && s < m.end);
        let inherited: Vec<records::Mapping> = self
            .mappings
            .get(&parent)
            .into_iter()
            .flatten()
            .filter(|mapping| !overlaps(mapping))
            .map(|mapping| records::Mapping {
                pid: child,
                ..mapping.clone()
            })
            .collect();
        for mapping in inherited {
            if let Some(unwinder) = self.dwarf.as_deref_mut() {
                unwinder.add_module(&mapping);
            }
            self.mappings
                .entry(child)
                .or_default()
                .push(mapping.clone());
            self.raw.spaces.add(mapping);
        }
    }
}

/// Count one sample: a CPU-clock sample is one sample, a page fault weighs its page's bytes,
/// and a context switch hands its stack to the wait tracker (the wait's length comes later).
fn count_sample(
    raw: &mut RawProfile,
    kind: EventKind,
    sample: &records::Sample<'_>,
    stack: Vec<u64>,
) {
    if stack.is_empty() {
        return;
    }
    let weight = match kind {
        EventKind::CpuClock => 1,
        // The event fires before the fault maps its page, so the kernel reports no page size:
        // each fault counts one base page (a transparent huge page is undercounted).
        EventKind::PageFaults => sample.period * sys::page_size() as u64,
        EventKind::ContextSwitches | EventKind::SwitchesOnly => {
            if let Some(waits) = raw.waits.as_mut() {
                waits.on_sample(sample, stack);
            }
            raw.samples += 1;
            return;
        }
    };
    *raw.stacks.entry((sample.pid, stack)).or_default() += weight;
    raw.samples += 1;
}

fn is_gone(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ESRCH)
}

/// Map a ring buffer, halving it while the locked-memory limit refuses.
fn map_ring(mut event: PerfEvent, config: &EventConfig) -> io::Result<RingBuffer> {
    let mut pages = if config.stack_bytes.is_some() {
        256
    } else {
        64
    };
    loop {
        match RingBuffer::map(event, pages) {
            Ok(ring) => return Ok(ring),
            Err((err, returned)) if err.raw_os_error() == Some(libc::EPERM) && pages > 4 => {
                pages /= 2;
                event = returned;
            }
            Err((err, _)) => return Err(err),
        }
    }
}

/// The thread IDs of `pid` right now.
fn list_threads(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return vec![pid];
    };
    let mut threads: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    threads.sort_unstable();
    if threads.is_empty() {
        threads.push(pid);
    }
    threads
}

fn denied(pid: u32, err: &io::Error, while_mapping: bool) -> Diagnosis {
    access::diagnose(&DeniedContext {
        errno: err.raw_os_error(),
        paranoid: access::read_paranoid_level(),
        pid,
        target_uid: process_uid(pid),
        own_uid: current_uid(),
        while_mapping,
    })
}

/// Real UID of `pid`, from `/proc/PID/status`.
pub(crate) fn process_uid(pid: u32) -> Option<u32> {
    let process = procfs::process::Process::new(pid as i32).ok()?;
    process.uid().ok()
}

/// UID plumb runs as.
pub(crate) fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}
