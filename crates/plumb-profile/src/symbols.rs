//! From sampled addresses to demangled function names: which file is mapped where in each
//! process, and the symbols and DWARF (with inlined frames) of those files, read in-process.
//!
//! Symbolization happens once, after sampling, and is cached per address: no subprocess per
//! address (the slow `perf script` path people complain about).

use crate::perf::records::Mapping;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The executable mappings of every sampled process.
#[derive(Debug, Default)]
pub(crate) struct AddressSpaces {
    by_pid: HashMap<u32, Vec<Mapping>>,
}

impl AddressSpaces {
    /// Record a mapping; a later mapping over the same start address replaces the earlier one.
    pub fn add(&mut self, mapping: Mapping) {
        let mappings = self.by_pid.entry(mapping.pid).or_default();
        mappings.retain(|known| known.start != mapping.start);
        mappings.push(mapping);
    }

    /// The mapping of `pid` that contains `address`.
    pub fn find(&self, pid: u32, address: u64) -> Option<&Mapping> {
        self.by_pid
            .get(&pid)?
            .iter()
            .rev()
            .find(|mapping| (mapping.start..mapping.end).contains(&address))
    }
}

/// The executable mappings of a running process, from `/proc/PID/maps`.
pub(crate) fn read_proc_maps(pid: u32) -> Vec<Mapping> {
    let Ok(process) = procfs::process::Process::new(pid as i32) else {
        return Vec::new();
    };
    let Ok(maps) = process.maps() else {
        return Vec::new();
    };
    maps.into_iter()
        .filter(|map| map.perms.contains(procfs::process::MMPermissions::EXECUTE))
        .map(|map| Mapping {
            pid,
            start: map.address.0,
            end: map.address.1,
            file_offset: map.offset,
            path: pathname(&map.pathname),
        })
        .collect()
}

fn pathname(path: &procfs::process::MMapPath) -> String {
    use procfs::process::MMapPath;
    match path {
        MMapPath::Path(path) => path.display().to_string(),
        MMapPath::Vdso => "[vdso]".into(),
        MMapPath::Vsyscall => "[vsyscall]".into(),
        other => format!("{other:?}"),
    }
}

/// Where a loadable segment lies in the file and in the file's address numbering.
#[derive(Debug, Clone, Copy)]
struct Segment {
    file_offset: u64,
    file_size: u64,
    address: u64,
}

/// One loaded ELF file: its symbols, DWARF, and file-offset-to-address translation.
struct ObjectFile {
    loader: addr2line::Loader,
    /// Loadable segments.
    segments: Vec<Segment>,
}

impl ObjectFile {
    fn open(path: &Path) -> Option<Self> {
        let (segments, debug_file) = read_layout(path)?;
        // Separate debug symbols (Debian's `-dbg`/`-dbgsym` packages) have the full symbol table.
        let loader = debug_file
            .and_then(|debug| addr2line::Loader::new(debug).ok())
            .or_else(|| addr2line::Loader::new(path).ok())?;
        Some(Self { loader, segments })
    }

    /// The address in the file's own numbering (SVMA) of a file offset.
    fn file_offset_to_svma(&self, offset: u64) -> Option<u64> {
        self.segments
            .iter()
            .find(|segment| {
                (segment.file_offset..segment.file_offset + segment.file_size.max(1))
                    .contains(&offset)
            })
            .map(|segment| offset - segment.file_offset + segment.address)
    }

    /// Function names at `svma`, innermost (inlined) first. DWARF gives the inlined frames; the
    /// symbol table gives the outermost function its full path (with `debug = "line-tables-only"`
    /// DWARF only has short names like `parse`).
    fn names(&self, svma: u64) -> Vec<String> {
        let mut names = self.inlined_names(svma);
        if let Some(symbol) = self.loader.find_symbol(svma) {
            let qualified = addr2line::demangle_auto(symbol.into(), None).into_owned();
            match names.last_mut() {
                Some(outermost) => *outermost = qualified,
                None => names.push(qualified),
            }
        }
        names
    }

    fn inlined_names(&self, svma: u64) -> Vec<String> {
        let mut names = Vec::new();
        if let Ok(mut frames) = self.loader.find_frames(svma) {
            while let Ok(Some(frame)) = frames.next() {
                if let Some(name) = frame.function.as_ref().and_then(|f| f.demangle().ok()) {
                    names.push(name.into_owned());
                }
            }
        }
        names
    }
}

/// Loadable segments, and the path of a separate debug file found by build ID under
/// `/usr/lib/debug/.build-id/`, if installed.
fn read_layout(path: &Path) -> Option<(Vec<Segment>, Option<PathBuf>)> {
    use object::{Object, ObjectSegment};
    let data = std::fs::read(path).ok()?;
    let file = object::File::parse(&*data).ok()?;
    let segments = file
        .segments()
        .map(|segment| {
            let (file_offset, file_size) = segment.file_range();
            Segment {
                file_offset,
                file_size,
                address: segment.address(),
            }
        })
        .collect();
    let debug_file = file.build_id().ok().flatten().and_then(debug_file_for);
    Some((segments, debug_file))
}

fn debug_file_for(build_id: &[u8]) -> Option<PathBuf> {
    let (first, rest) = build_id.split_first()?;
    let rest: String = rest.iter().map(|byte| format!("{byte:02x}")).collect();
    let path = PathBuf::from(format!("/usr/lib/debug/.build-id/{first:02x}/{rest}.debug"));
    path.exists().then_some(path)
}

/// Caches loaded files and resolved addresses.
#[derive(Default)]
pub(crate) struct Symbolizer {
    files: HashMap<String, Option<ObjectFile>>,
    resolved: HashMap<(String, u64), Vec<String>>,
    vdso: Option<Vdso>,
}

impl Symbolizer {
    /// Names of the frames at `address` in `mapping`, innermost first. A return address is
    /// looked up one byte earlier, inside the call instruction, so the caller's line is right.
    pub fn frames(
        &mut self,
        mapping: Option<&Mapping>,
        address: u64,
        is_return_address: bool,
    ) -> Vec<String> {
        let Some(mapping) = mapping else {
            return vec!["[unknown]".to_string()];
        };
        let address = if is_return_address {
            address.saturating_sub(1)
        } else {
            address
        };
        let file_offset = address - mapping.start + mapping.file_offset;
        let key = (mapping.path.clone(), file_offset);
        if let Some(names) = self.resolved.get(&key) {
            return names.clone();
        }
        let names = self.resolve(&mapping.path, file_offset);
        self.resolved.insert(key, names.clone());
        names
    }

    fn resolve(&mut self, path: &str, file_offset: u64) -> Vec<String> {
        if path == "[vdso]" {
            let vdso = self.vdso.get_or_insert_with(Vdso::of_this_process);
            return vec![vdso.name_at(file_offset).unwrap_or("[vdso]").to_string()];
        }
        let file = self.files.entry(path.to_string()).or_insert_with(|| {
            path.starts_with('/')
                .then(|| ObjectFile::open(Path::new(path)))
                .flatten()
        });
        let names = file
            .as_ref()
            .and_then(|file| {
                file.file_offset_to_svma(file_offset)
                    .map(|svma| file.names(svma))
            })
            .unwrap_or_default();
        if names.is_empty() {
            vec![format!("[{}]", module_name(path))]
        } else {
            names
        }
    }
}

/// The file name of a module path (`/usr/lib/x86_64-linux-gnu/libc.so.6` -> `libc.so.6`).
fn module_name(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.trim_start_matches('[').trim_end_matches(']')
}

/// Symbols of the vDSO, the kernel's small library mapped into every process (`clock_gettime`
/// and friends). It is not a file, but every process on the machine has the same one, so plumb
/// reads its own copy through `/proc/self/mem`.
#[derive(Debug, Default)]
struct Vdso {
    /// (offset in the image, size, name), sorted by offset.
    symbols: Vec<(u64, u64, String)>,
}

impl Vdso {
    fn of_this_process() -> Self {
        Self::read().unwrap_or_default()
    }

    fn read() -> Option<Self> {
        use object::{Object, ObjectSegment, ObjectSymbol};
        use std::io::{Read, Seek, SeekFrom};
        let mapping = read_proc_maps(std::process::id())
            .into_iter()
            .find(|m| m.path == "[vdso]")?;
        let mut image = vec![0u8; usize::try_from(mapping.end - mapping.start).ok()?];
        let mut memory = std::fs::File::open("/proc/self/mem").ok()?;
        memory.seek(SeekFrom::Start(mapping.start)).ok()?;
        memory.read_exact(&mut image).ok()?;
        let file = object::File::parse(&*image).ok()?;
        let base = file
            .segments()
            .map(|segment| segment.address())
            .min()
            .unwrap_or(0);
        let mut symbols: Vec<(u64, u64, String)> = file
            .dynamic_symbols()
            .filter(|symbol| symbol.kind() == object::SymbolKind::Text)
            .filter_map(|symbol| {
                Some((
                    symbol.address() - base,
                    symbol.size(),
                    symbol.name().ok()?.to_string(),
                ))
            })
            .collect();
        symbols.sort();
        Some(Self { symbols })
    }

    /// The function at `offset` from the start of the image.
    fn name_at(&self, offset: u64) -> Option<&str> {
        let index = self
            .symbols
            .partition_point(|(start, _, _)| *start <= offset)
            .checked_sub(1)?;
        let (start, size, name) = &self.symbols[index];
        (offset < start + size.max(&1)).then_some(name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vdso_symbols_are_read_from_this_process() {
        let vdso = Vdso::of_this_process();
        let (start, _, name) = vdso
            .symbols
            .iter()
            .find(|(_, _, name)| name.contains("clock_gettime"))
            .expect("every Linux vDSO has clock_gettime");
        assert_eq!(
            vdso.name_at(*start)
                .map(|found| found.contains("clock_gettime")),
            Some(true),
            "{name}"
        );
    }

    #[test]
    fn module_name_is_the_file_name() {
        assert_eq!(
            module_name("/usr/lib/x86_64-linux-gnu/libc.so.6"),
            "libc.so.6"
        );
        assert_eq!(module_name("[vdso]"), "vdso");
    }
}
