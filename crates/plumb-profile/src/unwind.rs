//! DWARF unwinding of copied user stacks with framehop: for code built without frame pointers;
//! and the choice of `--unwind auto`, from the prologues of the code that will run.
//!
//! Each sample carries the BP, SP and IP registers and the top of the user stack; framehop
//! replays the `.eh_frame` / `.debug_frame` rules of the module each return address lies in.

use crate::perf::records::{Mapping, Sample};
use crate::settings::{Target, Unwinding};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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

/// Above this rate `--unwind auto` keeps frame pointers: a 16 KiB stack copy per sample and
/// the unwinding would cost the target and plumb more than a profile is worth.
pub const AUTO_DWARF_MAX_HZ: u32 = 250;
/// Share of functions with a frame-pointer prologue below which code is taken to lack them.
const FRAME_POINTER_SHARE: f64 = 0.5;
/// Functions shorter than this are skipped when judging (small leaves often have no frame).
const JUDGED_MIN_BYTES: u64 = 64;

/// What `--unwind auto` picks for `target`: DWARF when the code that will run lacks frame
/// pointers (CPython, most distribution C built with `-O2`) and `frequency_hz` keeps DWARF
/// affordable; frame pointers otherwise (also when the binaries cannot be read).
pub fn auto_unwinding(target: &Target, frequency_hz: u32) -> Unwinding {
    if frequency_hz > AUTO_DWARF_MAX_HZ {
        return Unwinding::FramePointers;
    }
    let objects = match target {
        Target::Command { program, .. } => command_objects(program),
        Target::Pid { pid, .. } => process_objects(*pid),
        Target::Processes { selection, .. } => selection
            .pids
            .first()
            .map(|&pid| process_objects(pid))
            .unwrap_or_default(),
    };
    let lacks = objects
        .iter()
        .filter_map(|path| frame_pointer_share(path))
        .any(|share| share < FRAME_POINTER_SHARE);
    if lacks {
        Unwinding::Dwarf
    } else {
        Unwinding::FramePointers
    }
}

/// The executable a command runs (through `PATH`, and through a script's `#!` line) and, for
/// an interpreter, its runtime library next to it (`../lib/libpython3.12.so.1.0`).
fn command_objects(program: &str) -> Vec<PathBuf> {
    let Some(mut exe) = find_program(program) else {
        return Vec::new();
    };
    if let Some(interpreter) = shebang(&exe).and_then(|line| find_program(&line)) {
        exe = interpreter;
    }
    let mut objects = runtime_libraries(&exe);
    objects.insert(0, exe);
    objects
}

fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// The interpreter of a `#!` script (`#!/usr/bin/env python3` gives `python3`).
fn shebang(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let read = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let line = std::str::from_utf8(head[..read].strip_prefix(b"#!")?).ok()?;
    let mut words = line.lines().next()?.split_whitespace();
    let first = words.next()?;
    if first.ends_with("/env") {
        words
            .find(|word| !word.starts_with('-'))
            .map(str::to_string)
    } else {
        Some(first.to_string())
    }
}

/// `libpython*`, `libruby*` or `libnode*` in the `lib` directory beside the executable's.
fn runtime_libraries(exe: &Path) -> Vec<PathBuf> {
    let exe = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf());
    let Some(lib) = exe
        .parent()
        .and_then(Path::parent)
        .map(|root| root.join("lib"))
    else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(lib) else {
        return Vec::new();
    };
    let name = exe.file_name().and_then(|name| name.to_str()).unwrap_or("");
    entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
            let runtime = ["python", "ruby", "node"]
                .into_iter()
                .find(|runtime| name.starts_with(runtime));
            runtime.is_some_and(|runtime| {
                file.starts_with(&format!("lib{runtime}")) && file.contains(".so")
            })
        })
        .collect()
}

/// The executable of `pid` and the runtime libraries mapped into it.
fn process_objects(pid: u32) -> Vec<PathBuf> {
    let mut objects: Vec<PathBuf> = std::fs::read_link(format!("/proc/{pid}/exe"))
        .into_iter()
        .collect();
    let mapped = crate::symbols::read_proc_maps(pid);
    for mapping in mapped {
        let file = mapping.path.rsplit('/').next().unwrap_or("");
        let runtime = ["libpython", "libruby", "libnode"]
            .iter()
            .any(|prefix| file.starts_with(prefix));
        let path = PathBuf::from(&mapping.path);
        if runtime && !objects.contains(&path) {
            objects.push(path);
        }
    }
    objects
}

/// Share of the functions of an ELF file (of at least [`JUDGED_MIN_BYTES`]) that begin with
/// the frame-pointer prologue `push %rbp; mov %rsp,%rbp` (after an `endbr64`, if any). `None`
/// when the file cannot be read or has too few functions to judge.
pub(crate) fn frame_pointer_share(path: &Path) -> Option<f64> {
    use object::{Object, ObjectSegment, ObjectSymbol};
    // Read through a cache: the symbol table and a few bytes per function, not a 100 MB `node`.
    let cache = object::ReadCache::new(std::fs::File::open(path).ok()?);
    let file = object::File::parse(&cache).ok()?;
    if file.architecture() != object::Architecture::X86_64 {
        return None;
    }
    let segments: Vec<(u64, u64, u64)> = file
        .segments()
        .map(|segment| {
            (
                segment.address(),
                segment.file_range().0,
                segment.file_range().1,
            )
        })
        .collect();
    let mut symbols: Vec<_> = file.symbols().collect();
    if symbols.is_empty() {
        symbols = file.dynamic_symbols().collect();
    }
    let (mut judged, mut with_frame) = (0u32, 0u32);
    for symbol in symbols {
        if symbol.kind() != object::SymbolKind::Text || symbol.size() < JUDGED_MIN_BYTES {
            continue;
        }
        let Some(code) = bytes_at(&cache, &segments, symbol.address()) else {
            continue;
        };
        judged += 1;
        with_frame += u32::from(has_frame_prologue(code));
    }
    (judged >= 20).then(|| f64::from(with_frame) / f64::from(judged))
}

fn bytes_at<'a, R: object::ReadRef<'a>>(
    data: R,
    segments: &[(u64, u64, u64)],
    address: u64,
) -> Option<&'a [u8]> {
    let (start, offset, _) = segments
        .iter()
        .find(|(start, _, size)| (*start..start + size).contains(&address))?;
    data.read_bytes_at(address - start + offset, 8).ok()
}

/// `push %rbp; mov %rsp,%rbp`, optionally after `endbr64`.
fn has_frame_prologue(code: &[u8]) -> bool {
    const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];
    const PROLOGUE: [u8; 4] = [0x55, 0x48, 0x89, 0xe5];
    let code = code.strip_prefix(&ENDBR64[..]).unwrap_or(code);
    code.starts_with(&PROLOGUE)
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
    fn frame_pointer_prologues_are_recognised() {
        use super::has_frame_prologue;
        assert!(has_frame_prologue(&[0x55, 0x48, 0x89, 0xe5, 0x90]));
        assert!(has_frame_prologue(&[
            0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5
        ]));
        assert!(!has_frame_prologue(&[0x41, 0x57, 0x41, 0x56]));
    }

    #[test]
    fn shebang_names_the_interpreter() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("gunicorn");
        std::fs::write(&script, "#!/usr/bin/env -S python3 -u\nimport x\n").unwrap();
        assert_eq!(super::shebang(&script).as_deref(), Some("python3"));
        std::fs::write(&script, "#!/venv/bin/python3.12\n").unwrap();
        assert_eq!(
            super::shebang(&script).as_deref(),
            Some("/venv/bin/python3.12")
        );
    }

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
