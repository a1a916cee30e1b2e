//! Opens the sampling events of one process, drains their ring buffers, and keeps one count per
//! unique (process, address stack): memory grows with the number of distinct stacks, not samples.

use super::access::{self, DeniedContext, Diagnosis};
use super::records::{self, Record};
use super::sys::{self, EventConfig, PerfEvent, RingBuffer};
use crate::settings::{SamplingSettings, Unwinding};
use crate::symbols::{self, AddressSpaces};
use crate::unwind::DwarfUnwinder;
use std::collections::HashMap;
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
}

/// The open events and what they have delivered so far.
pub(crate) struct CpuSampler {
    buffers: Vec<RingBuffer>,
    redirected: Vec<PerfEvent>,
    dwarf: Option<DwarfUnwinder>,
    raw: RawProfile,
    /// The PID of an already-running target, whose maps are read again at the end.
    attached: Option<u32>,
}

impl CpuSampler {
    /// Open one event per CPU for every thread of `pid`, sharing one ring buffer per CPU.
    pub fn open(
        pid: u32,
        mode: AttachMode,
        settings: &SamplingSettings,
    ) -> Result<Self, Diagnosis> {
        let config = EventConfig {
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
            redirected: Vec::new(),
            dwarf: (settings.unwinding == Unwinding::Dwarf).then(DwarfUnwinder::default),
            raw: RawProfile::default(),
            attached: None,
        };
        for cpu in 0..sys::cpu_count() {
            sampler.open_cpu(pid, cpu as i32, &threads, &config)?;
        }
        if mode == AttachMode::Running {
            sampler
                .enable_all()
                .map_err(|err| denied(pid, &err, false))?;
            // Read after enabling: a file mapped from now on arrives as a record instead.
            sampler.add_proc_maps(pid);
            sampler.attached = Some(pid);
        }
        Ok(sampler)
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
            match &leader {
                None => {
                    leader = Some(map_ring(event, config).map_err(|err| denied(pid, &err, true))?)
                }
                Some(ring) => {
                    event
                        .redirect_output_to(ring.event())
                        .map_err(|err| denied(pid, &err, false))?;
                    self.redirected.push(event);
                }
            }
        }
        self.buffers.extend(leader);
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
        let with_stack = self.dwarf.is_some();
        let reg_count = sys::USER_REGS_MASK.count_ones() as usize;
        let Self {
            buffers,
            dwarf,
            raw,
            ..
        } = self;
        for ring in buffers.iter_mut() {
            ring.drain(
                |kind, body| match records::parse(kind, body, with_stack, reg_count) {
                    Record::Sample(sample) => {
                        let stack = match dwarf.as_mut() {
                            Some(unwinder) => unwinder.unwind(&sample),
                            None => sample.callchain,
                        };
                        if !stack.is_empty() {
                            *raw.stacks.entry((sample.pid, stack)).or_default() += 1;
                            raw.samples += 1;
                        }
                    }
                    Record::Mapping(mapping) => {
                        if let Some(unwinder) = dwarf.as_mut() {
                            unwinder.add_module(&mapping);
                        }
                        raw.spaces.add(mapping);
                    }
                    Record::Lost(count) => raw.lost += count,
                    Record::Other => {}
                },
            );
        }
    }

    /// Learn the executable mappings listed in `/proc/PID/maps`.
    fn add_proc_maps(&mut self, pid: u32) {
        for mapping in symbols::read_proc_maps(pid) {
            if let Some(unwinder) = self.dwarf.as_mut() {
                unwinder.add_module(&mapping);
            }
            self.raw.spaces.add(mapping);
        }
    }

    /// Everything collected, closing the events.
    pub fn finish(mut self) -> RawProfile {
        self.disable_all();
        self.drain();
        if let Some(pid) = self.attached {
            // Anything mapped in the instant between listing the maps and enabling the events.
            self.add_proc_maps(pid);
        }
        std::mem::take(&mut self.raw)
    }
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
