//! From sampled addresses to demangled function names: which file is mapped where in each
//! process, and the symbols and DWARF (with inlined frames) of those files, read in-process.
//!
//! Symbolization happens once, after sampling, and is cached per address: no subprocess per
//! address (the slow `perf script` path people complain about).
//!
//! Code a JIT or an interpreter generated at run time lies in anonymous memory; its names come
//! from the files runtimes write for perf: `/tmp/perf-PID.map` (Python 3.12+ `-X perf`, Node
//! `--perf-basic-prof`, JVM agents, .NET `DOTNET_PerfMapEnabled=1`) and jitdump files
//! (`jit-PID.dump`, found through the mapping the runtime makes of it).

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

    /// Mapped jitdump files of `pid` (a JIT maps its `jit-PID.dump` so that perf finds it).
    pub fn jitdump_paths(&self, pid: u32) -> Vec<String> {
        let mut paths: Vec<String> = self
            .by_pid
            .get(&pid)
            .into_iter()
            .flatten()
            .filter(|mapping| is_jitdump(&mapping.path))
            .map(|mapping| mapping.path.clone())
            .collect();
        paths.sort();
        paths.dedup();
        paths
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

/// The paths of every file mapped into `pid` (executable or not), in map order.
pub(crate) fn read_all_maps(pid: u32) -> Vec<String> {
    let Ok(maps) = procfs::process::Process::new(pid as i32).and_then(|process| process.maps())
    else {
        return Vec::new();
    };
    maps.into_iter()
        .filter_map(|map| match map.pathname {
            procfs::process::MMapPath::Path(path) => Some(path.display().to_string()),
            _ => None,
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

/// Whether a mapping's path is a file on disk, not anonymous memory (`//anon` in perf's
/// records, `[anon:...]`, `/memfd:...`), where generated code lives.
fn is_file_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/memfd:")
}

/// Whether `path` names a jitdump file (`.../jit-1234.dump`).
fn is_jitdump(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("jit-") && name.ends_with(".dump")
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
    jit: HashMap<u32, JitSymbols>,
}

impl Symbolizer {
    /// Names of the frames at `address` of process `pid`, innermost first: from the file
    /// mapped there, or from the runtime's perf map or jitdump for generated code.
    pub fn frames_in(
        &mut self,
        spaces: &AddressSpaces,
        pid: u32,
        address: u64,
        is_return_address: bool,
    ) -> Vec<String> {
        let mapping = spaces.find(pid, address);
        if mapping.is_none_or(|mapping| !is_file_path(&mapping.path)) {
            let jit = self
                .jit
                .entry(pid)
                .or_insert_with(|| JitSymbols::of_process(pid, spaces));
            if let Some(name) = jit.name_at(address) {
                return vec![name.to_string()];
            }
        }
        self.frames(mapping, address, is_return_address)
    }

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

/// Names of generated code in one process, from its perf map and jitdump files.
#[derive(Debug, Default)]
pub(crate) struct JitSymbols {
    /// (start, size, name), sorted by start; of two entries at one start the later one is kept.
    entries: Vec<(u64, u64, String)>,
}

impl JitSymbols {
    /// Read `/tmp/perf-PID.map` (also inside the process's mount namespace) and every
    /// `jit-*.dump` file the process has mapped.
    pub fn of_process(pid: u32, spaces: &AddressSpaces) -> Self {
        let mut entries = Vec::new();
        if let Some(text) = perf_map_path(pid).and_then(|path| std::fs::read_to_string(path).ok()) {
            entries.extend(parse_perf_map(&text));
        }
        for path in spaces.jitdump_paths(pid) {
            if let Ok(bytes) = std::fs::read(&path) {
                entries.extend(parse_jitdump(&bytes));
            }
        }
        Self::from_entries(entries)
    }

    fn from_entries(entries: Vec<(u64, u64, String)>) -> Self {
        let mut by_start: std::collections::BTreeMap<u64, (u64, String)> = Default::default();
        for (start, size, name) in entries {
            by_start.insert(start, (size, name));
        }
        let entries = by_start
            .into_iter()
            .map(|(start, (size, name))| (start, size, name))
            .collect();
        Self { entries }
    }

    /// The name of the generated function containing `address`.
    pub fn name_at(&self, address: u64) -> Option<&str> {
        let index = self
            .entries
            .partition_point(|(start, _, _)| *start <= address)
            .checked_sub(1)?;
        let (start, size, name) = &self.entries[index];
        (address < start + size).then_some(name.as_str())
    }
}

/// The perf map of `pid`, if it wrote one: `/tmp/perf-PID.map`, or the same file in the
/// process's own mount namespace under its namespace PID (a containerized process).
pub(crate) fn perf_map_path(pid: u32) -> Option<PathBuf> {
    let host = PathBuf::from(format!("/tmp/perf-{pid}.map"));
    if host.exists() {
        return Some(host);
    }
    let inner = namespace_pid(pid)?;
    let contained = PathBuf::from(format!("/proc/{pid}/root/tmp/perf-{inner}.map"));
    contained.exists().then_some(contained)
}

/// The PID of `pid` inside its own PID namespace (the last `NSpid` field of its status).
fn namespace_pid(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("NSpid:"))?;
    line.split_whitespace().last()?.parse().ok()
}

/// Entries of a perf map: `START SIZE NAME` per line, hexadecimal numbers (with or without
/// `0x`). Malformed lines are skipped.
fn parse_perf_map(text: &str) -> Vec<(u64, u64, String)> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, ' ');
            let start = parse_hex(fields.next()?)?;
            let size = parse_hex(fields.next()?)?;
            let name = fields.next()?.trim();
            (size > 0).then(|| (start, size, runtime_name(name)))
        })
        .collect()
}

fn parse_hex(text: &str) -> Option<u64> {
    u64::from_str_radix(text.trim_start_matches("0x"), 16).ok()
}

/// A perf-map or jitdump name made readable, without changing what it names: Python's
/// `py::f:/long/path/app.py` becomes `py::f (app.py)`; V8's `JS:*f /path/app.js:3:14` (the
/// marker is the compiler tier: `~` interpreted, `^` baseline, `*` optimized) becomes
/// `f (app.js:3:14)`, so one JavaScript function's tiers count as one. Anything else is kept.
pub(crate) fn runtime_name(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("py::") {
        if let Some((function, path)) = rest.split_once(':') {
            return format!("py::{function} ({})", short_path(path));
        }
        return name.to_string();
    }
    for kind in ["JS:", "LazyCompile:", "Function:"] {
        if let Some(rest) = name.strip_prefix(kind) {
            let rest = rest.trim_start_matches(['*', '~', '^', '+']);
            let (function, location) = rest.rsplit_once(' ').unwrap_or(("", rest));
            let function = if function.is_empty() {
                "(anonymous)"
            } else {
                function
            };
            return format!("{function} ({})", short_path(location));
        }
    }
    name.to_string()
}

/// A source path shortened to what identifies it: the part after the last `site-packages/`,
/// `dist-packages/` or `node_modules/`, otherwise the file name.
pub(crate) fn short_path(path: &str) -> &str {
    for marker in ["site-packages/", "dist-packages/", "node_modules/"] {
        if let Some(index) = path.rfind(marker) {
            return &path[index + marker.len()..];
        }
    }
    path.rsplit('/').next().unwrap_or(path)
}

/// Code-load records of a jitdump file (the format of `tools/perf/util/jitdump.h`): each
/// `JIT_CODE_LOAD` names a range of generated code; a `JIT_CODE_MOVE` moves one.
fn parse_jitdump(bytes: &[u8]) -> Vec<(u64, u64, String)> {
    const MAGIC: u32 = 0x4A69_5444;
    const CODE_LOAD: u32 = 0;
    const CODE_MOVE: u32 = 1;
    const CODE_CLOSE: u32 = 3;
    let word = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_ne_bytes(b.try_into().expect("4")))
    };
    let quad = |at: usize| {
        bytes
            .get(at..at + 8)
            .map(|b| u64::from_ne_bytes(b.try_into().expect("8")))
    };
    let mut entries: Vec<(u64, u64, String)> = Vec::new();
    if word(0) != Some(MAGIC) {
        return entries;
    }
    let mut at = word(8).map_or(bytes.len(), |size| size as usize);
    while let (Some(id), Some(size)) = (word(at), word(at + 4)) {
        let body = at + 16;
        match id {
            CODE_LOAD => {
                let (Some(address), Some(size)) = (quad(body + 16), quad(body + 24)) else {
                    break;
                };
                let name = bytes.get(body + 40..).unwrap_or_default();
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(0)];
                entries.push((address, size, runtime_name(&String::from_utf8_lossy(name))));
            }
            CODE_MOVE => {
                let (Some(old), Some(new)) = (quad(body + 16), quad(body + 24)) else {
                    break;
                };
                if let Some(entry) = entries.iter_mut().rev().find(|entry| entry.0 == old) {
                    entry.0 = new;
                }
            }
            CODE_CLOSE => break,
            _ => {}
        }
        if size < 16 {
            break;
        }
        at += size as usize;
    }
    entries
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
    fn perf_map_lines_are_parsed_and_later_entries_win() {
        let map = "7f0972f0d7c7 b py::hot_a:/work/fixtures/hot.py\n\
                   0x1000 10 JS:*hotA /srv/app/hot.js:11:14\n\
                   garbage line\n\
                   1000 10 JS:~hotA /srv/app/hot.js:11:14\n\
                   2000 20 [OptimizedTier1] App.Program::Main()\n";
        let jit = JitSymbols::from_entries(parse_perf_map(map));
        assert_eq!(jit.name_at(0x7f0972f0d7c7 + 10), Some("py::hot_a (hot.py)"));
        assert_eq!(jit.name_at(0x7f0972f0d7c7 + 11), None);
        assert_eq!(jit.name_at(0x1008), Some("hotA (hot.js:11:14)"));
        assert_eq!(
            jit.name_at(0x2000),
            Some("[OptimizedTier1] App.Program::Main()")
        );
        assert_eq!(jit.name_at(0xfff), None);
    }

    #[test]
    fn runtime_names_keep_what_they_name() {
        assert_eq!(
            runtime_name("py::view:/venv/lib/python3.12/site-packages/flask/app.py"),
            "py::view (flask/app.py)"
        );
        assert_eq!(
            runtime_name("JS:~ /srv/hot.js:1:1"),
            "(anonymous) (hot.js:1:1)"
        );
        assert_eq!(
            runtime_name("LazyCompile:*handle /srv/node_modules/express/lib/router.js:9:3"),
            "handle (express/lib/router.js:9:3)"
        );
        assert_eq!(runtime_name("Builtin:ArrayMap"), "Builtin:ArrayMap");
    }

    fn jitdump_record(id: u32, fields: &[u64], name: &str) -> Vec<u8> {
        let mut body: Vec<u8> = vec![0; 8]; // pid, tid
        body.extend(fields.iter().flat_map(|field| field.to_ne_bytes()));
        body.extend(name.as_bytes());
        body.push(0);
        let mut record = id.to_ne_bytes().to_vec();
        record.extend((16 + body.len() as u32).to_ne_bytes());
        record.extend(0u64.to_ne_bytes());
        record.extend(body);
        record
    }

    #[test]
    fn jitdump_loads_and_moves_are_followed() {
        let mut file = 0x4A69_5444u32.to_ne_bytes().to_vec();
        file.extend(1u32.to_ne_bytes());
        file.extend(40u32.to_ne_bytes());
        file.extend([0u8; 28]);
        // vma, code_addr, code_size, code_index
        file.extend(jitdump_record(
            0,
            &[0x5000, 0x5000, 0x40, 1],
            "py::f:/a/b.py",
        ));
        file.extend(jitdump_record(0, &[0x6000, 0x6000, 0x40, 2], "other"));
        // vma, old_code_addr, new_code_addr, code_size, code_index
        file.extend(jitdump_record(1, &[0x6000, 0x6000, 0x9000, 0x40, 2], ""));
        let jit = JitSymbols::from_entries(parse_jitdump(&file));
        assert_eq!(jit.name_at(0x5010), Some("py::f (b.py)"));
        assert_eq!(jit.name_at(0x9010), Some("other"));
        assert_eq!(jit.name_at(0x6010), None);
        assert!(parse_jitdump(b"not a jitdump").is_empty());
        assert!(is_jitdump("/tmp/jit-123.dump") && !is_jitdump("/tmp/perf-1.map"));
        assert!(is_file_path("/usr/bin/python3.12"));
        assert!(
            !is_file_path("//anon") && !is_file_path("[anon:v8]") && !is_file_path("/memfd:jit")
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
