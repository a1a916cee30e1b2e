//! The unsafe edge of the CPU sampler: perf_event_open(2), its ioctls, and the mmap'd ring buffer.
//!
//! Everything above this module works on safe types: a [`PerfEvent`] (an owned fd) and a
//! [`RingBuffer`] that hands out records as byte slices.

use perf_event_open_sys as sys;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

/// x86_64 register numbers (from `arch/x86/include/uapi/asm/perf_regs.h`) of BP, SP and IP,
/// the registers the DWARF unwinder starts from. They arrive in this (ascending) order.
#[cfg(target_arch = "x86_64")]
pub(crate) const USER_REGS_MASK: u64 = (1 << 6) | (1 << 7) | (1 << 8);
#[cfg(target_arch = "aarch64")]
/// aarch64 register numbers of x29 (FP), x30 (LR), SP and PC.
pub(crate) const USER_REGS_MASK: u64 = (1 << 29) | (1 << 30) | (1 << 31) | (1 << 32);

/// Context switches whose stack is recorded per second and per event (one per thread and
/// CPU), about: the kernel adapts. Each thread's stacks are scaled to its measured waiting time,
/// so this sets only how finely its waits are split by stack; with DWARF each costs a 16 KiB
/// stack copy, which at a thousand a second cost a switch-heavy server 40% of its throughput.
const WAIT_STACKS_PER_SECOND: u64 = 99;

/// Page faults whose stack is copied per second, at most (about: the kernel adapts), when
/// unwinding with DWARF.
const FAULT_STACKS_PER_SECOND: u64 = 2000;

/// What an event samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum EventKind {
    /// The software CPU clock, at a frequency: where the CPU time goes.
    #[default]
    CpuClock,
    /// Every context switch, with the user stack of the thread switched out, plus switch
    /// records: where threads wait, and for how long. The switch happens in the kernel, so this
    /// needs kernel profiling (perf_event_paranoid <= 1, or CAP_PERFMON).
    ContextSwitches,
    /// Switch records only (a dummy event): how long each thread waited, without stacks.
    /// Allowed for one's own processes at perf_event_paranoid 2.
    SwitchesOnly,
    /// Every user-space page fault, with its stack and the faulting page's size: where memory
    /// is first touched.
    PageFaults,
}

/// How to configure one sampling event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventConfig {
    /// What is sampled.
    pub kind: EventKind,
    /// Samples per second of CPU time (the CPU clock only).
    pub frequency_hz: u32,
    /// Start counting when the target calls exec (for a command plumb launches).
    pub enable_on_exec: bool,
    /// Bytes of user stack to copy per sample (DWARF unwinding), or none.
    pub stack_bytes: Option<u32>,
}

impl EventConfig {
    fn attr(&self) -> sys::bindings::perf_event_attr {
        let config = match self.kind {
            EventKind::CpuClock => sys::bindings::PERF_COUNT_SW_CPU_CLOCK,
            EventKind::ContextSwitches => sys::bindings::PERF_COUNT_SW_CONTEXT_SWITCHES,
            EventKind::SwitchesOnly => sys::bindings::PERF_COUNT_SW_DUMMY,
            EventKind::PageFaults => sys::bindings::PERF_COUNT_SW_PAGE_FAULTS,
        };
        let mut attr = sys::bindings::perf_event_attr {
            size: std::mem::size_of::<sys::bindings::perf_event_attr>() as u32,
            type_: sys::bindings::PERF_TYPE_SOFTWARE,
            config: config as u64,
            ..Default::default()
        };
        attr.__bindgen_anon_1.sample_freq = u64::from(self.frequency_hz);
        attr.sample_type = u64::from(
            sys::bindings::PERF_SAMPLE_IP
                | sys::bindings::PERF_SAMPLE_TID
                | sys::bindings::PERF_SAMPLE_TIME
                | sys::bindings::PERF_SAMPLE_CALLCHAIN,
        );
        if self.kind == EventKind::PageFaults {
            attr.sample_type |= u64::from(sys::bindings::PERF_SAMPLE_ADDR)
                | u64::from(sys::bindings::PERF_SAMPLE_PERIOD)
                | u64::from(sys::bindings::PERF_SAMPLE_DATA_PAGE_SIZE);
        }
        if let Some(bytes) = self.stack_bytes {
            attr.sample_type |= u64::from(
                sys::bindings::PERF_SAMPLE_REGS_USER | sys::bindings::PERF_SAMPLE_STACK_USER,
            );
            attr.sample_regs_user = USER_REGS_MASK;
            attr.sample_stack_user = bytes;
        }
        match self.kind {
            EventKind::CpuClock => attr.set_freq(1),
            // Stacks of about this many switches a second (the kernel adapts the period, so a
            // periodic pattern of switches is not aliased); the switch records, which give the
            // times, come for every switch.
            EventKind::ContextSwitches => {
                attr.set_freq(1);
                attr.__bindgen_anon_1.sample_freq = WAIT_STACKS_PER_SECOND;
            }
            // With a stack copy each, every fault would overflow the buffer (a 64 MiB leak is
            // 16,384 faults): about this many a second, each weighing the faults it stands for.
            EventKind::PageFaults if self.stack_bytes.is_some() => {
                attr.set_freq(1);
                attr.__bindgen_anon_1.sample_freq = FAULT_STACKS_PER_SECOND;
            }
            // Every fault: their number is the measurement.
            EventKind::PageFaults | EventKind::SwitchesOnly => {
                attr.__bindgen_anon_1.sample_period = 1;
            }
        }
        if matches!(
            self.kind,
            EventKind::ContextSwitches | EventKind::SwitchesOnly
        ) {
            attr.set_context_switch(1);
            // Times on CLOCK_MONOTONIC, so a thread's waits line up with the run's start and end.
            attr.set_use_clockid(1);
            attr.clockid = libc::CLOCK_MONOTONIC;
        }
        attr.set_disabled(1);
        attr.set_inherit(1);
        attr.set_enable_on_exec(u64::from(self.enable_on_exec));
        // User space only: this is what makes sampling work at perf_event_paranoid = 2. A
        // context switch happens in the kernel, so its event must count kernel events (the
        // stacks recorded are still the user's).
        attr.set_exclude_kernel(u64::from(self.kind != EventKind::ContextSwitches));
        attr.set_exclude_hv(1);
        attr.set_exclude_callchain_kernel(1);
        attr.set_mmap(1);
        attr.set_mmap2(1);
        attr.set_comm(1);
        attr.set_task(1);
        attr.set_sample_id_all(1);
        // Wake the reader only when a quarter of the buffer is full; plumb polls anyway.
        attr.__bindgen_anon_2.wakeup_events = 0;
        attr
    }
}

/// An open perf event (an owned file descriptor).
#[derive(Debug)]
pub(crate) struct PerfEvent {
    fd: OwnedFd,
}

impl PerfEvent {
    /// Open a sampling event on thread `tid` (or process, with `inherit`) restricted to `cpu`.
    pub fn open(tid: i32, cpu: i32, config: &EventConfig) -> io::Result<Self> {
        let mut attr = config.attr();
        // SAFETY: `attr` is a fully initialised perf_event_attr whose `size` field matches the
        // struct we pass; the kernel only reads it (and may write `size` back on E2BIG).
        let fd = unsafe {
            sys::perf_event_open(
                &mut attr,
                tid,
                cpu,
                -1,
                libc::c_ulong::from(sys::bindings::PERF_FLAG_FD_CLOEXEC),
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the syscall returned a new file descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self { fd })
    }

    /// Start counting (for events not enabled on exec).
    pub fn enable(&self) -> io::Result<()> {
        // SAFETY: the fd is a perf event we own; ENABLE takes no pointer argument.
        check(unsafe { sys::ioctls::ENABLE(self.fd.as_raw_fd(), 0) })
    }

    /// Stop counting.
    pub fn disable(&self) -> io::Result<()> {
        // SAFETY: as in `enable`.
        check(unsafe { sys::ioctls::DISABLE(self.fd.as_raw_fd(), 0) })
    }

    /// Send this event's records into `target`'s ring buffer (both must be on the same CPU).
    pub fn redirect_output_to(&self, target: &PerfEvent) -> io::Result<()> {
        // SAFETY: both fds are perf events we own; SET_OUTPUT takes the target fd by value.
        check(unsafe { sys::ioctls::SET_OUTPUT(self.fd.as_raw_fd(), target.fd.as_raw_fd()) })
    }
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The mmap'd ring buffer of one event: one metadata page followed by `2^n` data pages.
pub(crate) struct RingBuffer {
    base: *mut u8,
    mapped_len: usize,
    data_offset: usize,
    data_size: usize,
    scratch: Vec<u8>,
    event: PerfEvent,
}

// SAFETY: the mapping is owned by this value alone and only touched through `&mut self`.
unsafe impl Send for RingBuffer {}

impl RingBuffer {
    /// Map `data_pages` (a power of two) pages of ring buffer for `event`; on failure the
    /// event comes back with the error, so the caller can retry with fewer pages.
    pub fn map(event: PerfEvent, data_pages: usize) -> Result<Self, (io::Error, PerfEvent)> {
        let page = page_size();
        let mapped_len = page * (1 + data_pages);
        // SAFETY: a fresh shared mapping of the event's fd; the kernel checks the length.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                event.fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err((io::Error::last_os_error(), event));
        }
        Ok(Self {
            base: base.cast(),
            mapped_len,
            data_offset: page,
            data_size: page * data_pages,
            scratch: Vec::new(),
            event,
        })
    }

    /// The event that owns this buffer.
    pub fn event(&self) -> &PerfEvent {
        &self.event
    }

    fn head_and_tail(&self) -> (&AtomicU64, &AtomicU64) {
        let meta = self.base.cast::<sys::bindings::perf_event_mmap_page>();
        // SAFETY: the first page is the kernel's perf_event_mmap_page, mapped for our lifetime;
        // data_head and data_tail are naturally aligned u64s shared with the kernel, which is
        // exactly what AtomicU64 models.
        unsafe {
            (
                AtomicU64::from_ptr(std::ptr::addr_of_mut!((*meta).data_head)),
                AtomicU64::from_ptr(std::ptr::addr_of_mut!((*meta).data_tail)),
            )
        }
    }

    /// Hand every complete record to `on_record(type, misc, body)` (`misc`: the header's flags,
    /// such as a switch's direction) and free its space for the kernel.
    pub fn drain_with_misc(&mut self, mut on_record: impl FnMut(u32, u16, &[u8])) {
        let (head, tail) = self.head_and_tail();
        let head = head.load(Ordering::Acquire);
        let mut position = tail.load(Ordering::Relaxed);
        while position + 8 <= head {
            let mut header = [0u8; 8];
            self.copy_out(position, &mut header);
            let kind = u32::from_ne_bytes([header[0], header[1], header[2], header[3]]);
            let misc = u16::from_ne_bytes([header[4], header[5]]);
            let size = usize::from(u16::from_ne_bytes([header[6], header[7]]));
            if size < 8 || position + size as u64 > head {
                break;
            }
            let mut body = std::mem::take(&mut self.scratch);
            body.resize(size - 8, 0);
            self.copy_out(position + 8, &mut body);
            on_record(kind, misc, &body);
            self.scratch = body;
            position += size as u64;
        }
        let (_, tail) = self.head_and_tail();
        tail.store(position, Ordering::Release);
    }

    /// Copy `out.len()` bytes starting at ring position `position`, across the wrap if needed.
    fn copy_out(&self, position: u64, out: &mut [u8]) {
        let start = (position % self.data_size as u64) as usize;
        let first = out.len().min(self.data_size - start);
        // SAFETY: both ranges lie inside the data area [data_offset, data_offset + data_size)
        // of our live mapping, and `out` is a distinct Rust buffer.
        unsafe {
            let data = self.base.add(self.data_offset);
            std::ptr::copy_nonoverlapping(data.add(start), out.as_mut_ptr(), first);
            std::ptr::copy_nonoverlapping(data, out.as_mut_ptr().add(first), out.len() - first);
        }
    }
}

impl Drop for RingBuffer {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the region mapped in `map`, which nothing else references.
        unsafe {
            libc::munmap(self.base.cast(), self.mapped_len);
        }
    }
}

/// The system page size.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// Number of configured CPUs (perf events are opened once per CPU).
pub(crate) fn cpu_count() -> usize {
    // SAFETY: sysconf has no preconditions.
    let count = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
    usize::try_from(count).unwrap_or(1).max(1)
}
