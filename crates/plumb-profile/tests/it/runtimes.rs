//! Interpreted and JIT runtimes, profiled for real: `hot.py` (70/20/10 between `hot_a`, `hot_b`
//! and `hot_c`) read from the interpreter's memory with no flag and through its perf map with
//! `-X perf`, and `hot.js` under Node with `--perf-basic-prof`; the runtime line and the hint
//! when the flag is missing; the bogus-stack warning on frame-pointer stacks of CPython.
//!
//! A test skips only when the runtime is not installed, and says so on stderr.

use crate::{cpu_alone, launch, profile, Running};
use plumb_profile::{ProfileSettings, Target, Unwinding};
use plumb_schema::profile::{CpuOutcome, CpuProfile, HotFunction, ProfileReport, RuntimeKind};
use std::path::PathBuf;
use std::time::Duration;

/// Points of error allowed on this noisy, shared machine.
const TOLERANCE_POINTS: f64 = 8.0;
/// Enough samples in about 2 s for the shares to mean something.
const TEST_FREQUENCY_HZ: u32 = 199;
/// How long each fixture spins.
const SECONDS: &str = "2";

/// The fixtures' lines that do the work (hot.py keeps each function's loop on one line).
const HOT_PY: [(&str, u32, f64); 3] = [
    ("hot_a", 12, 70.0),
    ("hot_b", 18, 20.0),
    ("hot_c", 24, 10.0),
];

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// A CPython of at least `3.minor`: `python3.X` on `PATH`, then under `~/.pyenv/versions`.
fn python(min_minor: u32) -> Option<String> {
    (min_minor..=13).rev().find_map(python_exactly)
}

/// `python3.minor` itself (an ELF file: pyenv's shims on `PATH` are shell scripts, and plumb
/// would profile the shell).
fn python_exactly(minor: u32) -> Option<String> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let pyenv: Vec<PathBuf> = std::env::var_os("HOME")
        .map(PathBuf::from)
        .and_then(|home| std::fs::read_dir(home.join(".pyenv/versions")).ok())
        .map(|dirs| dirs.flatten().map(|dir| dir.path().join("bin")).collect())
        .unwrap_or_default();
    on_path
        .iter()
        .chain(&pyenv)
        .map(|dir| dir.join(format!("python3.{minor}")))
        .find(|candidate| is_elf(candidate))
        .map(|found| found.display().to_string())
}

fn is_elf(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

fn node() -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("node"))
        .find(|candidate| candidate.is_file())
        .map(|found| found.display().to_string())
}

fn skip(what: &str) {
    eprintln!("SKIPPED: {what} is not installed on this machine; this test did not run");
}

fn sampled(report: &ProfileReport) -> &CpuProfile {
    match &report.cpu {
        CpuOutcome::Sampled(cpu) => cpu,
        CpuOutcome::Unavailable { reason, hint } => {
            panic!("CPU sampling must work on this machine: {reason}; hint: {hint}")
        }
    }
}

fn run(program: &str, args: &[&str], unwinding: Unwinding) -> ProfileReport {
    let _alone = cpu_alone();
    let mut settings = launch(program, args);
    settings.sampling.frequency_hz = TEST_FREQUENCY_HZ;
    settings.sampling.unwinding = unwinding;
    profile(&settings).expect("the fixture runs")
}

fn function<'a>(functions: &'a [HotFunction], name: &str) -> &'a HotFunction {
    functions
        .iter()
        .find(|function| function.name == name)
        .unwrap_or_else(|| {
            panic!(
                "{name} not among {:#?}",
                &functions[..functions.len().min(8)]
            )
        })
}

fn assert_share(name: &str, percent: f64, truth: f64) {
    assert!(
        (percent - truth).abs() <= TOLERANCE_POINTS,
        "{name}: {percent:.1}%, expected {truth}% ± {TOLERANCE_POINTS}"
    );
}

/// hot.py's functions named `hot_a (hot.py:12)` with self shares near 70/20/10.
fn check_python_view(report: &ProfileReport) {
    let python = report.python.as_ref().expect("a Python view");
    assert!(
        python.interpreter.starts_with("CPython 3."),
        "{}",
        python.interpreter
    );
    let profile = &python.profile;
    assert!(
        profile.samples >= 150,
        "only {} Python samples",
        profile.samples
    );
    for (name, line, truth) in HOT_PY {
        let named = format!("{name} (hot.py:{line})");
        assert_share(
            &named,
            function(&profile.hot_functions, &named).self_percent,
            truth,
        );
    }
    assert_eq!(profile.hot_functions[0].name, "hot_a (hot.py:12)");
    assert!(profile
        .folded
        .iter()
        .any(|stack| stack.stack.starts_with("<module> (hot.py:")
            && stack.stack.contains(";main (hot.py:")));
}

#[test]
fn python_without_flags_is_named_by_function_and_line() {
    let Some(python) = python(8) else {
        return skip("CPython 3.8+");
    };
    let report = run(
        &python,
        &[&fixture("hot.py"), SECONDS],
        Unwinding::FramePointers,
    );
    check_python_view(&report);
    let runtime = &report.runtimes[0];
    assert_eq!(runtime.kind, RuntimeKind::Python);
    assert!(runtime
        .version
        .as_deref()
        .is_some_and(|v| v.starts_with("3.")));
    assert!(
        runtime
            .named_by
            .iter()
            .any(|how| how.contains("read from its memory")),
        "{runtime:?}"
    );
}

#[test]
fn every_supported_python_is_read() {
    let mut read = Vec::new();
    for minor in 8..=13 {
        let Some(python) = python_exactly(minor) else {
            eprintln!("SKIPPED: CPython 3.{minor} is not installed on this machine");
            continue;
        };
        let report = run(
            &python,
            &[&fixture("hot.py"), "1"],
            Unwinding::FramePointers,
        );
        let view = report
            .python
            .as_ref()
            .unwrap_or_else(|| panic!("3.{minor}: {:?}", report.runtimes));
        function(&view.profile.hot_functions, "hot_a (hot.py:12)");
        read.push(view.interpreter.clone());
    }
    eprintln!("read: {read:?}");
}

#[test]
fn python_with_x_perf_is_named_from_its_perf_map() {
    let Some(python) = python(12) else {
        return skip("CPython 3.12+");
    };
    let report = run(
        &python,
        &["-X", "perf", &fixture("hot.py"), SECONDS],
        Unwinding::Dwarf,
    );
    let cpu = sampled(&report);
    for (name, _, truth) in HOT_PY {
        let named = format!("py::{name} (hot.py)");
        assert_share(
            &named,
            function(&cpu.hot_functions, &named).total_percent,
            truth,
        );
    }
    let runtime = &report.runtimes[0];
    assert!(
        runtime
            .named_by
            .iter()
            .any(|how| how.starts_with("perf map /tmp/perf-")),
        "{runtime:?}"
    );
    assert_eq!(runtime.hint, None);
}

#[test]
fn frame_pointer_stacks_of_cpython_are_called_bogus() {
    let Some(python) = python(8) else {
        return skip("CPython 3.8+");
    };
    let report = run(
        &python,
        &[&fixture("hot.py"), SECONDS],
        Unwinding::FramePointers,
    );
    let quality = report.stack_quality.as_ref().expect("stack quality");
    assert!(
        quality
            .warning
            .as_deref()
            .is_some_and(|w| w.contains("[unknown] frames")),
        "{quality:?}"
    );
    assert!(quality
        .hint
        .as_deref()
        .is_some_and(|h| h.contains("--unwind dwarf")));
}

#[test]
fn node_with_perf_basic_prof_is_named_by_javascript_function() {
    let Some(node) = node() else {
        return skip("node");
    };
    // Node 20 writes an `isolate-*-v8.log` into its working directory with this flag.
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let script = format!(
        "cd '{}' && exec '{node}' --perf-basic-prof '{}' {SECONDS}",
        scratch.path().display(),
        fixture("hot.js")
    );
    let report = run("/bin/sh", &["-c", &script], Unwinding::FramePointers);
    let cpu = sampled(&report);
    let truths = [("hotA", 11, 70.0), ("hotB", 12, 20.0), ("hotC", 13, 10.0)];
    let named: Vec<(String, f64)> = truths
        .iter()
        .map(|(name, line, _)| {
            let name = format!("{name} (hot.js:{line}:14)");
            let share = function(&cpu.hot_functions, &name).self_percent;
            (name, share)
        })
        .collect();
    // Node's own threads (compiler, GC) take some samples: compare the three with each other.
    let sum: f64 = named.iter().map(|(_, share)| share).sum();
    assert!(sum >= 70.0, "the three take only {sum:.1}%: {named:?}");
    for ((name, share), (_, _, truth)) in named.iter().zip(truths) {
        assert_share(name, 100.0 * share / sum, truth);
    }
    assert_eq!(report.runtimes[0].kind, RuntimeKind::Node);
    assert_eq!(report.runtimes[0].hint, None);
}

#[test]
fn node_without_the_flag_gets_the_hint() {
    let Some(node) = node() else {
        return skip("node");
    };
    let report = run(
        &node,
        &[&fixture("hot.js"), "0.5"],
        Unwinding::FramePointers,
    );
    let runtime = &report.runtimes[0];
    assert_eq!(runtime.kind, RuntimeKind::Node);
    assert_eq!(
        runtime.hint.as_deref(),
        Some("Node detected: restart it with --perf-basic-prof to see JavaScript functions")
    );
    let cpu = sampled(&report);
    assert!(!cpu.hot_functions.iter().any(|f| f.name.contains("hot.js")));
}

#[test]
fn attached_python_is_read_without_stopping_it() {
    let Some(python) = python(8) else {
        return skip("CPython 3.8+");
    };
    let _alone = cpu_alone();
    let running = Running::start(&python, &[&fixture("hot.py"), "30"]);
    std::thread::sleep(Duration::from_millis(300));
    let mut settings = ProfileSettings::new(Target::Pid {
        pid: running.pid(),
        duration: Some(Duration::from_secs(2)),
    });
    settings.sampling.frequency_hz = TEST_FREQUENCY_HZ;
    let report = profile(&settings).expect("attached");
    let view = report.python.as_ref().expect("a Python view");
    for (name, line, truth) in HOT_PY {
        let named = format!("{name} (hot.py:{line})");
        assert_share(
            &named,
            function(&view.profile.hot_functions, &named).self_percent,
            truth,
        );
    }
}

#[test]
fn auto_unwinding_picks_dwarf_for_cpython_when_affordable() {
    let Some(python) = python(8) else {
        return skip("CPython 3.8+");
    };
    let target = Target::Command {
        program: python,
        args: vec![fixture("hot.py")],
    };
    assert_eq!(plumb_profile::auto_unwinding(&target, 99), Unwinding::Dwarf);
    let too_fast = plumb_profile::AUTO_DWARF_MAX_HZ + 1;
    assert_eq!(
        plumb_profile::auto_unwinding(&target, too_fast),
        Unwinding::FramePointers
    );
}

/// A launched command is a tree: Python processes it starts (gunicorn's workers) are read too,
/// and their stacks add up in one Python view.
#[test]
fn python_children_of_a_launched_command_are_read_too() {
    let Some(python) = python(8) else {
        return skip("CPython 3.8+");
    };
    let parent = format!(
        "import subprocess, sys\n\
         children = [subprocess.Popen([sys.executable, {:?}, {SECONDS:?}]) for _ in range(2)]\n\
         for child in children: child.wait()\n",
        fixture("hot.py")
    );
    let report = run(&python, &["-c", &parent], Unwinding::FramePointers);
    let view = report.python.as_ref().expect("a Python view");
    let hot_a = function(&view.profile.hot_functions, "hot_a (hot.py:12)");
    assert_share("hot_a (hot.py:12)", hot_a.self_percent, 70.0);
    // Two children spinning for SECONDS each: more samples than one process could give alone
    // on one core at this rate.
    let one_core = f64::from(TEST_FREQUENCY_HZ) * SECONDS.parse::<f64>().unwrap();
    assert!(
        view.profile.samples as f64 > 1.2 * one_core,
        "{} samples",
        view.profile.samples
    );
}

/// The Python view counts the thread executing Python code (the GIL holder), not a thread
/// blocked in accept() that py-spy could take for running.
#[test]
fn blocked_python_threads_are_not_in_the_python_view() {
    let Some(python) = python(8) else {
        return skip("CPython 3.8+");
    };
    let report = run(
        &python,
        &[&fixture("waits.py"), "2"],
        Unwinding::FramePointers,
    );
    let python_view = report.python.as_ref().expect("a Python view");
    let functions = &python_view.profile.hot_functions;
    let share = |prefixes: &[&str]| -> f64 {
        functions
            .iter()
            .filter(|f| prefixes.iter().any(|p| f.name.starts_with(p)))
            .map(|f| f.self_percent)
            .sum()
    };
    let compute = share(&["compute ("]);
    assert!(compute >= 75.0, "compute is the CPU: {functions:#?}");
    let serving = share(&["serve (", "socket.accept (", "accept ("]);
    assert!(serving <= 3.0, "the server thread waits: {functions:#?}");
    let sleeping = share(&["main ("]);
    assert!(
        sleeping <= 3.0,
        "main's own line is its sleep: {functions:#?}"
    );
}
