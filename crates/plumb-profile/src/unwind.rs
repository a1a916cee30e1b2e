//! DWARF unwinding of copied user stacks with framehop: for code built without frame pointers.
//!
//! Each sample carries the BP, SP and IP registers and the top of the user stack; framehop
//! replays the `.eh_frame` / `.debug_frame` rules of the module each return address lies in.

use crate::perf::records::{Mapping, Sample};
use std::collections::HashMap;

/// Deepest stack kept (deeper frames are cut, as perf does).
pub(crate) const MAX_FRAMES: usize = 256;

/// The most user frames the kernel's frame-pointer walk gives (`kernel.perf_event_max_stack`).
pub(crate) fn kernel_depth_limit() -> u64 {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_max_stack")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(127)
}

#[cfg(target_arch = "x86_64")]
mod arch {
    pub use framehop::x86_64::{
        CacheX86_64 as Cache, UnwindRegsX86_64 as Regs, UnwinderX86_64 as Unwinder,
    };

    /// BP, SP, IP in the order the kernel writes them (ascending register numbers).
    pub fn start_regs(regs: &[u64]) -> Option<(u64, Regs)> {
        let [bp, sp, ip] = regs else { return None };
        Some((*ip, Regs::new(*ip, *sp, *bp)))
    }

    pub fn stack_pointer(regs: &[u64]) -> Option<u64> {
        regs.get(1).copied()
    }
}

#[cfg(target_arch = "x86_64")]
type ProcessUnwinder = (arch::Unwinder<Vec<u8>>, arch::Cache);

/// One framehop unwinder per sampled process, fed with the modules mapped into it.
#[derive(Default)]
pub(crate) struct DwarfUnwinder {
    #[cfg(target_arch = "x86_64")]
    processes: HashMap<u32, ProcessUnwinder>,
    #[cfg(not(target_arch = "x86_64"))]
    processes: HashMap<u32, ()>,
}

impl DwarfUnwinder {
    /// Make the unwind information of a newly mapped file known.
    #[cfg(target_arch = "x86_64")]
    pub fn add_module(&mut self, mapping: &Mapping) {
        use framehop::Unwinder;
        let Some(module) = module_for(mapping) else {
            return;
        };
        let (unwinder, _) = self.processes.entry(mapping.pid).or_default();
        unwinder.remove_module(mapping.start);
        unwinder.add_module(module);
    }

    /// Return addresses of `sample`, leaf first; falls back to the frame-pointer chain.
    #[cfg(target_arch = "x86_64")]
    pub fn unwind(&mut self, sample: &Sample<'_>) -> Vec<u64> {
        use framehop::{FrameAddress, Unwinder};
        let (Some((ip, regs)), Some(sp)) = (
            arch::start_regs(&sample.regs),
            arch::stack_pointer(&sample.regs),
        ) else {
            return sample.callchain.clone();
        };
        let Some((unwinder, cache)) = self.processes.get_mut(&sample.pid) else {
            return sample.callchain.clone();
        };
        let stack = sample.stack;
        let mut read_stack = |address: u64| read_word(stack, sp, address);
        let mut frames = unwinder.iter_frames(ip, regs, cache, &mut read_stack);
        let mut addresses = Vec::new();
        while let Ok(Some(frame)) = frames.next() {
            addresses.push(match frame {
                FrameAddress::InstructionPointer(address) => address,
                FrameAddress::ReturnAddress(address) => address.get(),
            });
            if addresses.len() >= MAX_FRAMES {
                break;
            }
        }
        better_of(addresses, &sample.callchain)
    }

    /// Without an unwinder for this architecture, keep the frame-pointer chain.
    #[cfg(not(target_arch = "x86_64"))]
    pub fn add_module(&mut self, _mapping: &Mapping) {}

    /// Without an unwinder for this architecture, keep the frame-pointer chain.
    #[cfg(not(target_arch = "x86_64"))]
    pub fn unwind(&mut self, sample: &Sample<'_>) -> Vec<u64> {
        sample.callchain.clone()
    }
}

/// The DWARF stack, unless the frame-pointer chain is longer and believable. A longer chain is
/// believable when DWARF found no caller at all, or when both agree on the first caller (DWARF
/// then stopped in code without unwind information, such as JIT code, that keeps frame
/// pointers). Otherwise the longer chain is the garbage a binary without frame pointers leaves
/// in the frame-pointer register (CPython's `[unknown];[unknown];_PyEval_EvalFrameDefault`).
fn better_of(dwarf: Vec<u64>, frame_pointers: &[u64]) -> Vec<u64> {
    if dwarf.len() >= frame_pointers.len() {
        return dwarf;
    }
    let agree = dwarf.len() >= 2 && frame_pointers.get(1) == dwarf.get(1);
    if dwarf.len() < 2 || agree {
        frame_pointers.to_vec()
    } else {
        dwarf
    }
}

/// The 8-byte word at `address` of the copied stack that starts at `sp`.
fn read_word(stack: &[u8], sp: u64, address: u64) -> Result<u64, ()> {
    let offset = usize::try_from(address.checked_sub(sp).ok_or(())?).map_err(|_| ())?;
    let bytes = stack
        .get(offset..offset.checked_add(8).ok_or(())?)
        .ok_or(())?;
    Ok(u64::from_ne_bytes(bytes.try_into().map_err(|_| ())?))
}

/// A framehop module for one executable mapping, from the file's unwind sections.
#[cfg(target_arch = "x86_64")]
fn module_for(mapping: &Mapping) -> Option<framehop::Module<Vec<u8>>> {
    use object::{Object, ObjectSection, ObjectSegment};
    if !mapping.path.starts_with('/') {
        return None;
    }
    let data = std::fs::read(&mapping.path).ok()?;
    let file = object::File::parse(&*data).ok()?;
    // The mapping starts at a page boundary, which may lie a little before its segment's start.
    let page = crate::perf::sys::page_size() as u64;
    // Two segments can share that page; the mapping belongs to the later one.
    let (offset, address) = file
        .segments()
        .map(|segment| (segment.file_range(), segment.address()))
        .filter(|((offset, size), _)| {
            (offset / page * page..offset + size).contains(&mapping.file_offset)
        })
        .map(|((offset, _), address)| (offset, address))
        .max()?;
    let mapped_svma = (mapping.file_offset + address).wrapping_sub(offset);
    let section = |name: &str| {
        let section = file.section_by_name(name)?;
        let range = section.address()..section.address() + section.size();
        Some((range, section.uncompressed_data().ok()?.into_owned()))
    };
    let text = section(".text");
    let eh_frame = section(".eh_frame");
    let eh_frame_hdr = section(".eh_frame_hdr");
    let info = framehop::ExplicitModuleSectionInfo {
        base_svma: 0,
        text_svma: text.as_ref().map(|(range, _)| range.clone()),
        text: text.map(|(_, data)| data),
        eh_frame_svma: eh_frame.as_ref().map(|(range, _)| range.clone()),
        eh_frame: eh_frame.map(|(_, data)| data),
        eh_frame_hdr_svma: eh_frame_hdr.as_ref().map(|(range, _)| range.clone()),
        eh_frame_hdr: eh_frame_hdr.map(|(_, data)| data),
        debug_frame: section(".debug_frame").map(|(_, data)| data),
        ..Default::default()
    };
    let base_avma = mapping.start.wrapping_sub(mapped_svma);
    Some(framehop::Module::new(
        mapping.path.clone(),
        mapping.start..mapping.end,
        base_avma,
        info,
    ))
}

#[cfg(test)]
mod tests {
    use super::{better_of, read_word};

    #[test]
    fn a_longer_frame_pointer_chain_wins_only_when_believable() {
        // DWARF stopped at a JIT frame whose caller both agree on: the longer chain goes on.
        assert_eq!(better_of(vec![1, 2], &[1, 2, 3]), vec![1, 2, 3]);
        // DWARF found no caller: the chain is all there is.
        assert_eq!(better_of(vec![1], &[1, 9, 8]), vec![1, 9, 8]);
        // The chain disagrees at once: garbage from a register used as a general one.
        assert_eq!(better_of(vec![1, 2], &[1, 9, 8]), vec![1, 2]);
        assert_eq!(better_of(vec![1, 2, 3], &[1, 2]), vec![1, 2, 3]);
    }

    #[test]
    fn reads_inside_the_copy_and_refuses_outside() {
        let stack: Vec<u8> = (0u8..16).collect();
        assert_eq!(
            read_word(&stack, 100, 108),
            Ok(u64::from_ne_bytes([8, 9, 10, 11, 12, 13, 14, 15]))
        );
        assert_eq!(read_word(&stack, 100, 109), Err(()));
        assert_eq!(read_word(&stack, 100, 99), Err(()));
    }
}
