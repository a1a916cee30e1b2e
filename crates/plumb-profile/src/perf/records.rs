//! Parsing of the ring-buffer records plumb asks for: samples, executable mappings, context
//! switches, lost counts.
//!
//! Layouts follow `include/uapi/linux/perf_event.h` for the attributes set in `sys.rs`.

use perf_event_open_sys::bindings as sys;

/// One record, borrowed from the ring buffer's scratch space.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Record<'a> {
    /// A CPU sample.
    Sample(Sample<'a>),
    /// A file mapped executable into a process.
    Mapping(Mapping),
    /// A thread was switched out or in (`PERF_RECORD_SWITCH`).
    Switch(Switch),
    /// A thread or process was created (`PERF_RECORD_FORK`).
    Fork(Task),
    /// A thread or process ended (`PERF_RECORD_EXIT`).
    Exit(Task),
    /// The kernel dropped this many records.
    Lost(u64),
    /// Anything plumb does not use.
    Other,
}

/// A sample: where the thread was, its frame-pointer call chain, and optionally its stack copy.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Sample<'a> {
    /// Process ID.
    pub pid: u32,
    /// Thread ID.
    pub tid: u32,
    /// When, in nanoseconds of the event's clock.
    pub time: u64,
    /// The size of the page at the sampled data address (page faults), or 0.
    pub page_size: u64,
    /// How many events this sample stands for (page faults; 1 otherwise).
    pub period: u64,
    /// User call chain, leaf first (the first entry is the sampled instruction pointer).
    pub callchain: Vec<u64>,
    /// User registers (see `sys::USER_REGS_MASK`), for DWARF unwinding.
    pub regs: Vec<u64>,
    /// The copied top of the user stack, for DWARF unwinding.
    pub stack: &'a [u8],
}

/// A context switch of one thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Switch {
    /// Process ID.
    pub pid: u32,
    /// Thread ID.
    pub tid: u32,
    /// When, in nanoseconds of the event's clock (CLOCK_MONOTONIC).
    pub time: u64,
    /// Switched out (else in).
    pub out: bool,
    /// Switched out while still runnable (preempted), rather than to wait.
    pub preempted: bool,
}

/// A task record (fork or exit) of one thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Task {
    /// Process ID.
    pub pid: u32,
    /// Thread ID.
    pub tid: u32,
    /// When, in nanoseconds of the event's clock.
    pub time: u64,
}

/// Which optional fields a sample carries, as the event's attributes asked.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Layout {
    /// Registers and a stack copy (DWARF unwinding), with this many registers.
    pub stack: Option<usize>,
    /// The data address, the period and the page size (page faults).
    pub page_size: bool,
}

/// An executable mapping (`PERF_RECORD_MMAP2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapping {
    /// Process ID.
    pub pid: u32,
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Offset in the file of `start`.
    pub file_offset: u64,
    /// The file path, or a pseudo name like `[vdso]`.
    pub path: String,
}

/// Decode one record body (the header, with its `misc` bits, already removed).
pub(crate) fn parse_with<'a>(kind: u32, misc: u16, body: &'a [u8], layout: &Layout) -> Record<'a> {
    let mut reader = Reader { bytes: body };
    let parsed = match kind {
        sys::PERF_RECORD_SAMPLE => parse_sample(&mut reader, layout).map(Record::Sample),
        sys::PERF_RECORD_SWITCH => parse_switch(&mut reader, misc).map(Record::Switch),
        sys::PERF_RECORD_FORK => parse_task(&mut reader).map(Record::Fork),
        sys::PERF_RECORD_EXIT => parse_task(&mut reader).map(Record::Exit),
        sys::PERF_RECORD_MMAP2 => parse_mmap2(&mut reader).map(Record::Mapping),
        sys::PERF_RECORD_MMAP => parse_mmap(&mut reader).map(Record::Mapping),
        sys::PERF_RECORD_LOST => reader.u64().and_then(|_id| reader.u64()).map(Record::Lost),
        _ => Some(Record::Other),
    };
    parsed.unwrap_or(Record::Other)
}

/// A switch record's body is its `sample_id`: pid and tid, then time (as `sample_type` asks).
fn parse_switch(reader: &mut Reader<'_>, misc: u16) -> Option<Switch> {
    let misc = u32::from(misc);
    Some(Switch {
        pid: reader.u32()?,
        tid: reader.u32()?,
        time: reader.u64()?,
        out: misc & sys::PERF_RECORD_MISC_SWITCH_OUT != 0,
        preempted: misc & sys::PERF_RECORD_MISC_SWITCH_OUT_PREEMPT != 0,
    })
}

/// `{ pid, ppid, tid, ptid, time }`.
fn parse_task(reader: &mut Reader<'_>) -> Option<Task> {
    let pid = reader.u32()?;
    let _ppid = reader.u32()?;
    let tid = reader.u32()?;
    let _ptid = reader.u32()?;
    let time = reader.u64()?;
    Some(Task { pid, tid, time })
}

fn parse_sample<'a>(reader: &mut Reader<'a>, layout: &Layout) -> Option<Sample<'a>> {
    let _ip = reader.u64()?;
    let pid = reader.u32()?;
    let tid = reader.u32()?;
    let time = reader.u64()?;
    let mut period = 1;
    if layout.page_size {
        let _address = reader.u64()?;
        period = reader.u64()?.max(1);
    }
    let depth = usize::try_from(reader.u64()?).ok()?;
    let mut callchain = Vec::with_capacity(depth);
    for _ in 0..depth {
        let address = reader.u64()?;
        // Context markers (PERF_CONTEXT_USER, ...) sit at the very top of the address space.
        if address < sys::PERF_CONTEXT_MAX {
            callchain.push(address);
        }
    }
    let mut sample = Sample {
        pid,
        tid,
        time,
        page_size: 0,
        period,
        callchain,
        regs: Vec::new(),
        stack: &[],
    };
    if let Some(reg_count) = layout.stack {
        let abi = reader.u64()?;
        if abi != 0 {
            for _ in 0..reg_count {
                sample.regs.push(reader.u64()?);
            }
        }
        let size = usize::try_from(reader.u64()?).ok()?;
        if size > 0 {
            let copied = reader.bytes(size)?;
            let used = usize::try_from(reader.u64()?).ok()?.min(size);
            sample.stack = &copied[..used];
        }
    }
    if layout.page_size {
        sample.page_size = reader.u64()?;
    }
    Some(sample)
}

fn parse_mmap2(reader: &mut Reader<'_>) -> Option<Mapping> {
    let pid = reader.u32()?;
    let _tid = reader.u32()?;
    let start = reader.u64()?;
    let len = reader.u64()?;
    let file_offset = reader.u64()?;
    // maj, min, ino, ino_generation, prot, flags
    reader.bytes(4 + 4 + 8 + 8 + 4 + 4)?;
    let path = reader.c_string()?;
    Some(Mapping {
        pid,
        start,
        end: start + len,
        file_offset,
        path,
    })
}

fn parse_mmap(reader: &mut Reader<'_>) -> Option<Mapping> {
    let pid = reader.u32()?;
    let _tid = reader.u32()?;
    let start = reader.u64()?;
    let len = reader.u64()?;
    let file_offset = reader.u64()?;
    let path = reader.c_string()?;
    Some(Mapping {
        pid,
        start,
        end: start + len,
        file_offset,
        path,
    })
}

/// A cursor over native-endian fields.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, count: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < count {
            return None;
        }
        let (taken, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Some(taken)
    }

    fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .map(|b| u32::from_ne_bytes(b.try_into().expect("4 bytes")))
    }

    fn u64(&mut self) -> Option<u64> {
        self.bytes(8)
            .map(|b| u64::from_ne_bytes(b.try_into().expect("8 bytes")))
    }

    fn c_string(&mut self) -> Option<String> {
        let end = self.bytes.iter().position(|&b| b == 0)?;
        let text = String::from_utf8_lossy(&self.bytes[..end]).into_owned();
        self.bytes = &self.bytes[end..];
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(values: &[u64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_ne_bytes()).collect()
    }

    #[test]
    fn sample_drops_context_markers_and_keeps_user_frames() {
        let pid_tid = u64::from(7u32) | (u64::from(9u32) << 32);
        let body = words(&[
            0x1000,
            pid_tid,
            5,
            3,
            sys::PERF_CONTEXT_USER,
            0x1000,
            0x2000,
        ]);
        let Record::Sample(sample) =
            parse_with(sys::PERF_RECORD_SAMPLE, 0, &body, &Layout::default())
        else {
            panic!("not a sample");
        };
        assert_eq!((sample.pid, sample.tid), (7, 9));
        assert_eq!(sample.callchain, vec![0x1000, 0x2000]);
    }

    #[test]
    fn switch_out_carries_preemption_from_misc() {
        let body = words(&[u64::from(7u32) | (u64::from(9u32) << 32), 1234]);
        let misc =
            (sys::PERF_RECORD_MISC_SWITCH_OUT | sys::PERF_RECORD_MISC_SWITCH_OUT_PREEMPT) as u16;
        let Record::Switch(switch) =
            parse_with(sys::PERF_RECORD_SWITCH, misc, &body, &Layout::default())
        else {
            panic!("not a switch");
        };
        assert_eq!(
            switch,
            Switch {
                pid: 7,
                tid: 9,
                time: 1234,
                out: true,
                preempted: true
            }
        );
    }

    #[test]
    fn page_fault_sample_reads_address_period_and_page_size() {
        let pid_tid = u64::from(7u32) | (u64::from(9u32) << 32);
        let body = words(&[
            0x1000,
            pid_tid,
            5,
            0xdead_0000,
            3,
            1,
            0x1000,
            2 * 1024 * 1024,
        ]);
        let layout = Layout {
            stack: None,
            page_size: true,
        };
        let Record::Sample(sample) = parse_with(sys::PERF_RECORD_SAMPLE, 0, &body, &layout) else {
            panic!("not a sample");
        };
        assert_eq!(
            (sample.time, sample.period, sample.page_size),
            (5, 3, 2 * 1024 * 1024)
        );
        assert_eq!(sample.callchain, vec![0x1000]);
    }

    #[test]
    fn truncated_record_is_ignored_not_a_panic() {
        assert_eq!(
            parse_with(sys::PERF_RECORD_SAMPLE, 0, &[1, 2, 3], &Layout::default()),
            Record::Other
        );
    }

    #[test]
    fn mmap2_gives_range_offset_and_path() {
        let mut body = Vec::new();
        body.extend(7u32.to_ne_bytes());
        body.extend(7u32.to_ne_bytes());
        body.extend(words(&[0x4000, 0x1000, 0x2000]));
        body.extend([0u8; 32]);
        body.extend(b"/bin/true\0\0\0\0\0\0\0");
        let Record::Mapping(mapping) =
            parse_with(sys::PERF_RECORD_MMAP2, 0, &body, &Layout::default())
        else {
            panic!("not a mapping");
        };
        assert_eq!(
            mapping,
            Mapping {
                pid: 7,
                start: 0x4000,
                end: 0x5000,
                file_offset: 0x2000,
                path: "/bin/true".into()
            }
        );
    }
}
