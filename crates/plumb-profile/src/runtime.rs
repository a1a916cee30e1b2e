//! Which language runtime runs in the profiled process (Python, Node, a JVM, .NET, Go, Ruby),
//! read from `/proc/PID/{exe,cmdline,environ,maps}`, and what names the profile can give its
//! functions: a perf map the runtime wrote, the Python interpreter's own frames, or nothing
//! without a flag the user must turn on (the hint says which).

use crate::analysis::{stack_quality, Walk};
use crate::processes::ProcessSelection;
use crate::python::PythonOutcome;
use crate::settings::Unwinding;
use crate::{symbols, StopOnDrop};
use plumb_schema::profile::{CpuOutcome, PythonProfile, RuntimeKind, RuntimeNote, StackQuality};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A runtime found in the process, before the profile is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Detected {
    /// Which runtime.
    pub kind: RuntimeKind,
    /// Its version, when the file names tell (`3.12` from `libpython3.12.so`).
    pub version: Option<String>,
    /// Whether the command line or environment asks the runtime to write a perf map.
    pub perf_flag: bool,
}

/// What `/proc` says about a process, gathered once so detection is a pure function.
#[derive(Debug, Default, Clone)]
pub(crate) struct ProcessFacts {
    /// The executable's path.
    pub exe: String,
    /// The command line.
    pub args: Vec<String>,
    /// The environment (empty when not readable).
    pub env: Vec<String>,
    /// Paths of the mapped files.
    pub mapped: Vec<String>,
    /// Whether the executable has Go's build information.
    pub go_binary: bool,
}

impl ProcessFacts {
    /// Read the facts of `pid`; what cannot be read stays empty.
    pub fn read(pid: u32) -> Self {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
            .map(|path| path.display().to_string())
            .unwrap_or_default();
        let mut mapped: Vec<String> = symbols::read_all_maps(pid);
        mapped.sort();
        mapped.dedup();
        Self {
            go_binary: is_go_binary(Path::new(&exe)),
            exe,
            args: nul_separated(&format!("/proc/{pid}/cmdline")),
            env: nul_separated(&format!("/proc/{pid}/environ")),
            mapped,
        }
    }
}

fn nul_separated(path: &str) -> Vec<String> {
    std::fs::read(path)
        .map(|bytes| {
            bytes
                .split(|&byte| byte == 0)
                .filter(|part| !part.is_empty())
                .map(|part| String::from_utf8_lossy(part).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Go binaries carry a `.go.buildinfo` section (read through a cache: only the headers are
/// read, not a 100 MB `node`).
fn is_go_binary(path: &Path) -> bool {
    use object::Object;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let cache = object::ReadCache::new(file);
    object::File::parse(&cache).is_ok_and(|file| file.section_by_name(".go.buildinfo").is_some())
}

/// The runtimes `facts` show.
pub(crate) fn detect(facts: &ProcessFacts) -> Vec<Detected> {
    let exe = file_name(&facts.exe);
    let maps = |prefix: &str| {
        facts
            .mapped
            .iter()
            .find(|path| file_name(path).starts_with(prefix))
    };
    let mut found = Vec::new();
    if exe.starts_with("python") || maps("libpython").is_some() {
        let version = maps("libpython")
            .and_then(|lib| version_after(file_name(lib), "libpython"))
            .or_else(|| version_after(exe, "python"));
        found.push(Detected {
            kind: RuntimeKind::Python,
            version,
            perf_flag: python_perf_flag(facts),
        });
    }
    if exe == "node" || exe == "nodejs" || maps("libnode").is_some() {
        let perf_flag = facts
            .args
            .iter()
            .chain(env_value(facts, "NODE_OPTIONS").as_slice())
            .any(|arg| arg.contains("--perf-basic-prof") || arg.contains("--perf-prof"));
        found.push(plain(RuntimeKind::Node, perf_flag));
    }
    if maps("libjvm").is_some() {
        found.push(plain(RuntimeKind::Jvm, false));
    }
    if maps("libcoreclr").is_some() {
        let flag = env_value(facts, "DOTNET_PerfMapEnabled")
            .or_else(|| env_value(facts, "COMPlus_PerfMapEnabled"))
            .is_some_and(|value| value != "0");
        found.push(plain(RuntimeKind::Dotnet, flag));
    }
    if exe.starts_with("ruby") || maps("libruby").is_some() {
        let flag = facts.args.iter().any(|arg| arg.starts_with("--yjit-perf"));
        found.push(plain(RuntimeKind::Ruby, flag));
    }
    if facts.go_binary {
        found.push(plain(RuntimeKind::Go, false));
    }
    found
}

fn plain(kind: RuntimeKind, perf_flag: bool) -> Detected {
    Detected {
        kind,
        version: None,
        perf_flag,
    }
}

/// `-X perf`, `-X perf_jit`, or `PYTHONPERFSUPPORT=1` / `PYTHON_PERF_JIT_SUPPORT=1`.
fn python_perf_flag(facts: &ProcessFacts) -> bool {
    let flag = facts
        .args
        .windows(2)
        .any(|pair| pair[0] == "-X" && pair[1].starts_with("perf"))
        || facts.args.iter().any(|arg| arg.starts_with("-Xperf"));
    let env = ["PYTHONPERFSUPPORT", "PYTHON_PERF_JIT_SUPPORT"]
        .iter()
        .any(|name| env_value(facts, name).is_some_and(|value| value != "0"));
    flag || env
}

fn env_value(facts: &ProcessFacts, name: &str) -> Option<String> {
    facts.env.iter().find_map(|entry| {
        let (key, value) = entry.split_once('=')?;
        (key == name).then(|| value.to_string())
    })
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `3.12` from `libpython3.12.so.1.0` or `python3.12`; `None` for a bare `python3`.
fn version_after(name: &str, prefix: &str) -> Option<String> {
    let rest = name.strip_prefix(prefix)?;
    let version: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let version = version.trim_end_matches('.');
    version.contains('.').then(|| version.to_string())
}

/// The perf map of the process and how many functions it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PerfMapFacts {
    /// Where it was found.
    pub path: PathBuf,
    /// Entries in it.
    pub functions: usize,
}

impl PerfMapFacts {
    /// The perf map of `pid`, if there is one.
    pub fn of(pid: u32) -> Option<Self> {
        let path = symbols::perf_map_path(pid)?;
        let functions = std::fs::read_to_string(&path).ok()?.lines().count();
        Some(Self { path, functions })
    }
}

/// The notes for the report: per runtime, how it was named and what would name it better.
pub(crate) fn notes(
    detected: &[Detected],
    perf_map: Option<&PerfMapFacts>,
    python: Option<&PythonOutcome>,
) -> Vec<RuntimeNote> {
    detected
        .iter()
        .map(|runtime| note(runtime, perf_map, python))
        .collect()
}

fn note(
    runtime: &Detected,
    perf_map: Option<&PerfMapFacts>,
    python: Option<&PythonOutcome>,
) -> RuntimeNote {
    let mut named_by = Vec::new();
    let uses_perf_map = !matches!(runtime.kind, RuntimeKind::Go);
    if let (Some(map), true) = (perf_map, uses_perf_map) {
        named_by.push(format!(
            "perf map {}: {} functions",
            map.path.display(),
            map.functions
        ));
    }
    let mut version = runtime.version.clone();
    if runtime.kind == RuntimeKind::Python {
        match python {
            Some(PythonOutcome::Sampled { version: exact, .. }) => {
                version = Some(exact.clone());
                named_by.push("the interpreter's frames, read from its memory".into());
            }
            Some(PythonOutcome::Failed(reason)) => {
                named_by.push(format!("not its own frames: {reason}"));
            }
            None => {}
        }
    }
    if runtime.kind == RuntimeKind::Go {
        named_by.push("its symbol table (Go keeps frame pointers)".into());
    }
    let hint = hint(runtime, perf_map.is_some(), &named_by, version.as_deref());
    RuntimeNote {
        kind: runtime.kind,
        version,
        named_by,
        hint,
    }
}

/// What the user can turn on, when the profile lacks the runtime's names.
fn hint(
    runtime: &Detected,
    has_map: bool,
    named_by: &[String],
    version: Option<&str>,
) -> Option<String> {
    let python_read = named_by
        .iter()
        .any(|how| how.starts_with("the interpreter"));
    match runtime.kind {
        RuntimeKind::Python if has_map || python_read => None,
        RuntimeKind::Python if version.is_some_and(python_has_perf_support) => Some(
            "Python detected: restart it with `python -X perf` (or PYTHONPERFSUPPORT=1) to see Python functions in the native stacks".into(),
        ),
        RuntimeKind::Python => Some(
            "Python detected: plumb reads CPython 3.8 to 3.13 frames from its memory (as root, or when plumb launched it); 3.12+ can also write a perf map with `python -X perf`".into(),
        ),
        RuntimeKind::Node if !has_map => Some(
            "Node detected: restart it with --perf-basic-prof to see JavaScript functions".into(),
        ),
        RuntimeKind::Jvm if !has_map => Some(
            "JVM detected: `jcmd PID Compiler.perfmap` (JDK 17+) writes the perf map of compiled Java methods; or start it with -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit".into(),
        ),
        RuntimeKind::Dotnet if !has_map => Some(
            ".NET detected: restart it with DOTNET_PerfMapEnabled=1 to see .NET methods".into(),
        ),
        RuntimeKind::Ruby if !has_map => Some(
            "Ruby detected: plumb does not read Ruby's frames (rbspy does); Ruby 3.3+ with --yjit --yjit-perf writes a perf map of compiled methods".into(),
        ),
        _ => None,
    }
}

/// `-X perf` exists from CPython 3.12 on.
fn python_has_perf_support(version: &str) -> bool {
    let mut parts = version
        .split('.')
        .filter_map(|part| part.parse::<u32>().ok());
    matches!((parts.next(), parts.next()), (Some(major), Some(minor)) if (major, minor) >= (3, 12))
}

/// What the report gets from the runtime watch and the CPU profile.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// Per runtime: how it was named, what would name it better.
    pub runtimes: Vec<RuntimeNote>,
    /// Whether the CPU stacks are plausible.
    pub stack_quality: Option<StackQuality>,
    /// The Python view.
    pub python: Option<PythonProfile>,
}

/// Put together what the watch of `pid` found with the CPU profile.
pub(crate) fn findings(pid: u32, cpu: &CpuOutcome, watched: Watched) -> Findings {
    let perf_map = PerfMapFacts::of(pid);
    let runtimes = notes(
        &watched.detected,
        perf_map.as_ref(),
        watched.python.as_ref(),
    );
    // Reading Python's frames needs no perf events: the view is there when sampling is not.
    let python = watched
        .python
        .as_ref()
        .and_then(|outcome| crate::python::profile(outcome, watched.frequency_hz));
    let CpuOutcome::Sampled(cpu) = cpu else {
        return Findings {
            runtimes,
            stack_quality: None,
            python,
        };
    };
    let (walk, limit) = if cpu.unwinding == Unwinding::Dwarf.name() {
        (Walk::Dwarf, crate::unwind::MAX_FRAMES as u64)
    } else {
        (Walk::FramePointers, crate::unwind::kernel_depth_limit())
    };
    Findings {
        runtimes,
        stack_quality: stack_quality(cpu, walk, limit),
        python,
    }
}

/// How the watched process came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// plumb launched it: wait for its exec before looking.
    Launched,
    /// It was already running.
    Running,
}

/// What the watch thread found.
#[derive(Debug, Default)]
pub(crate) struct Watched {
    /// The runtimes of the processes, one per kind (the first process's that has it).
    pub detected: Vec<Detected>,
    /// Python stacks of every Python process, merged.
    pub python: Option<PythonOutcome>,
    /// How often they were read.
    pub frequency_hz: u32,
}

/// A thread that detects the runtimes of the watched processes (new ones too: gunicorn's
/// workers) and, for each Python process, reads its stacks until [`Watch::stop`].
pub(crate) struct Watch {
    stop: StopOnDrop,
    thread: JoinHandle<Watched>,
}

/// How often the watch looks for new processes.
const LOOK_EVERY: Duration = Duration::from_millis(250);
/// A process that showed no runtime yet is looked at again for this long (a wrapper like `env`
/// may still be about to exec the interpreter).
const LOOK_AGAIN_FOR: Duration = Duration::from_millis(1500);

impl Watch {
    /// Start watching `selection`; Python stacks are read `frequency_hz` times a second.
    pub fn start(selection: ProcessSelection, start: Start, frequency_hz: u32) -> Self {
        let flag = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&flag);
        let thread = std::thread::Builder::new()
            .name("plumb-runtime".into())
            .spawn(move || watch(&selection, start, frequency_hz, &stop))
            .expect("spawning a thread only fails when the system is out of resources");
        Self {
            stop: StopOnDrop(flag),
            thread,
        }
    }

    /// Stop reading and return what was found.
    pub fn stop(self) -> Watched {
        self.stop.stop();
        self.thread.join().unwrap_or_default()
    }
}

/// One watched process.
struct Member {
    first_seen: Instant,
    detected: Vec<Detected>,
    python: Option<JoinHandle<PythonOutcome>>,
}

fn watch(
    selection: &ProcessSelection,
    start: Start,
    frequency_hz: u32,
    stop: &Arc<AtomicBool>,
) -> Watched {
    if start == Start::Launched {
        if let Some(&root) = selection.pids.first() {
            wait_for_exec(root, stop);
            sleep_until(Instant::now() + Duration::from_millis(30), stop);
        }
    }
    let mut members: BTreeMap<u32, Member> = BTreeMap::new();
    while !stop.load(Ordering::Relaxed) {
        look(selection, &mut members, frequency_hz, stop);
        sleep_until(Instant::now() + LOOK_EVERY, stop);
    }
    finish(members, frequency_hz)
}

/// Detect the runtimes of processes new to the selection (or still without one), and start a
/// Python reader for each Python process.
fn look(
    selection: &ProcessSelection,
    members: &mut BTreeMap<u32, Member>,
    frequency_hz: u32,
    stop: &Arc<AtomicBool>,
) {
    let known: HashSet<u32> = members.keys().copied().collect();
    for stat in selection.snapshot(&known) {
        let member = members.entry(stat.pid).or_insert_with(|| Member {
            first_seen: Instant::now(),
            detected: Vec::new(),
            python: None,
        });
        if !member.detected.is_empty() || member.first_seen.elapsed() > LOOK_AGAIN_FOR {
            continue;
        }
        member.detected = detect(&ProcessFacts::read(stat.pid));
        if member
            .detected
            .iter()
            .any(|d| d.kind == RuntimeKind::Python)
        {
            let (pid, stop) = (stat.pid, Arc::clone(stop));
            member.python = std::thread::Builder::new()
                .name("plumb-python".into())
                .spawn(move || crate::python::sample(pid, frequency_hz, &stop))
                .ok();
        }
    }
}

/// One note per runtime kind, and every Python process's stacks merged.
fn finish(members: BTreeMap<u32, Member>, frequency_hz: u32) -> Watched {
    let mut detected: Vec<Detected> = Vec::new();
    let mut outcomes = Vec::new();
    for member in members.into_values() {
        for runtime in member.detected {
            if !detected.iter().any(|known| known.kind == runtime.kind) {
                detected.push(runtime);
            }
        }
        if let Some(outcome) = member.python.and_then(|thread| thread.join().ok()) {
            outcomes.push(outcome);
        }
    }
    Watched {
        detected,
        python: crate::python::merge(outcomes),
        frequency_hz,
    }
}

/// Wait until the launched child has run its own program (its exe is no longer plumb's).
fn wait_for_exec(pid: u32, stop: &AtomicBool) {
    let own = std::fs::read_link("/proc/self/exe").ok();
    while !stop.load(Ordering::Relaxed) {
        match std::fs::read_link(format!("/proc/{pid}/exe")) {
            Ok(exe) if Some(&exe) != own.as_ref() => return,
            Ok(_) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => return,
        }
    }
}

fn sleep_until(deadline: Instant, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return;
        };
        std::thread::sleep(left.min(Duration::from_millis(10)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(exe: &str, args: &[&str], mapped: &[&str]) -> ProcessFacts {
        ProcessFacts {
            exe: exe.into(),
            args: args.iter().map(|arg| arg.to_string()).collect(),
            env: Vec::new(),
            mapped: mapped.iter().map(|path| path.to_string()).collect(),
            go_binary: false,
        }
    }

    #[test]
    fn python_is_found_by_its_library_with_its_version_and_flag() {
        let found = detect(&facts(
            "/usr/bin/python3",
            &["python3", "-X", "perf", "app.py"],
            &["/usr/lib/libpython3.12.so.1.0"],
        ));
        assert_eq!(
            found,
            vec![Detected {
                kind: RuntimeKind::Python,
                version: Some("3.12".into()),
                perf_flag: true
            }]
        );
        let found = detect(&facts("/opt/py/bin/python3.11", &["python3.11"], &[]));
        assert_eq!(found[0].version.as_deref(), Some("3.11"));
        assert!(!found[0].perf_flag);
    }

    #[test]
    fn node_jvm_dotnet_are_found_by_exe_or_library() {
        let kinds = |facts: &ProcessFacts| detect(facts).iter().map(|d| d.kind).collect::<Vec<_>>();
        assert_eq!(
            kinds(&facts("/usr/bin/node", &["node", "s.js"], &[])),
            [RuntimeKind::Node]
        );
        assert_eq!(
            kinds(&facts("/usr/bin/java", &[], &["/jdk/lib/server/libjvm.so"])),
            [RuntimeKind::Jvm]
        );
        assert_eq!(
            kinds(&facts("/app/App", &[], &["/dotnet/libcoreclr.so"])),
            [RuntimeKind::Dotnet]
        );
        assert!(kinds(&facts("/usr/bin/nginx", &[], &["/lib/libc.so.6"])).is_empty());
    }

    #[test]
    fn node_without_a_perf_map_gets_the_flag_hint() {
        let node = detect(&facts("/usr/bin/node", &["node", "s.js"], &[]));
        let notes = notes(&node, None, None);
        assert_eq!(
            notes[0].hint.as_deref(),
            Some("Node detected: restart it with --perf-basic-prof to see JavaScript functions")
        );
        let map = PerfMapFacts {
            path: "/tmp/perf-1.map".into(),
            functions: 3,
        };
        let notes = super::notes(&node, Some(&map), None);
        assert_eq!(notes[0].hint, None);
        assert_eq!(notes[0].named_by, ["perf map /tmp/perf-1.map: 3 functions"]);
    }

    #[test]
    fn the_python_view_is_kept_when_perf_events_are_not_allowed() {
        let watched = Watched {
            detected: vec![Detected {
                kind: RuntimeKind::Python,
                version: Some("3.12".into()),
                perf_flag: false,
            }],
            python: Some(PythonOutcome::Sampled {
                version: "3.12.1".into(),
                stacks: [(vec!["main (app.py:3)".to_string()], 5)]
                    .into_iter()
                    .collect(),
                failed: 0,
            }),
            frequency_hz: 99,
        };
        let cpu = CpuOutcome::Unavailable {
            reason: "not allowed".into(),
            hint: "allow it".into(),
        };
        let found = findings(u32::MAX, &cpu, watched);
        let python = found.python.expect("the Python view");
        assert_eq!(
            (python.profile.samples, python.profile.frequency_hz),
            (5, 99)
        );
        assert_eq!(found.stack_quality, None);
        assert_eq!(found.runtimes[0].version.as_deref(), Some("3.12.1"));
    }

    #[test]
    fn python_hint_depends_on_version_and_on_what_was_read() {
        let python = |version: &str| Detected {
            kind: RuntimeKind::Python,
            version: Some(version.into()),
            perf_flag: false,
        };
        let failed = PythonOutcome::Failed("permission denied".into());
        let hint = |version| {
            notes(&[python(version)], None, Some(&failed))[0]
                .hint
                .clone()
        };
        assert!(hint("3.12").unwrap().contains("-X perf"));
        assert!(hint("3.8").unwrap().contains("3.8 to 3.13"));
        assert!(python_has_perf_support("3.13.0") && !python_has_perf_support("3.9"));
    }
}
