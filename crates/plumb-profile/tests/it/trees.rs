//! Process trees and groups: a pre-forking server (a master that only waits, workers that burn)
//! measured as a tree, checked against the kernel's own accounting read here independently
//! (/proc/PID/stat, the fixture's `getrusage(RUSAGE_CHILDREN)`, a shell's `times`, a cgroup's
//! `cpu.stat`).

use crate::{cpu_alone, hot_fixture, launch, profile, Running};
use plumb_profile::{
    ProcessSelection, ProfileSettings, Profiler, ResourceSampler, SamplingSettings, Target,
};
use plumb_schema::profile::{CpuOutcome, ProcessGroup, ProfileReport};
use std::collections::HashMap;
use std::time::Duration;

/// How close plumb's CPU of a tree must be to the kernel's.
const TOLERANCE: f64 = 0.10;

fn prefork() -> &'static str {
    env!("CARGO_BIN_EXE_plumb-fixture-prefork")
}

/// (ppid, utime + stime in seconds) of every process, read from /proc here (not by plumb).
fn proc_table() -> HashMap<u32, (u32, f64)> {
    let hz = procfs::ticks_per_second() as f64;
    let mut table = HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        let cpu = (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / hz;
        table.insert(pid, (fields[1].parse().unwrap(), cpu));
    }
    table
}

/// The CPU seconds of `root` and its descendants, from /proc.
fn tree_cpu(root: u32) -> HashMap<u32, f64> {
    let table = proc_table();
    let mut members = HashMap::new();
    let mut pending = vec![root];
    while let Some(pid) = pending.pop() {
        if let Some(&(_, cpu)) = table.get(&pid) {
            members.insert(pid, cpu);
        }
        pending.extend(
            table
                .iter()
                .filter(|(_, (ppid, _))| *ppid == pid)
                .map(|(child, _)| *child),
        );
    }
    members
}

/// Wait until `root` has `count` children.
fn wait_for_children(root: u32, count: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while tree_cpu(root).len() < count + 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "workers never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn attach(selection: ProcessSelection, seconds: f64) -> ProfileSettings {
    let mut settings = ProfileSettings::new(Target::Processes {
        selection,
        duration: Some(Duration::from_secs_f64(seconds)),
    });
    settings.interval = Duration::from_millis(50);
    settings
}

fn group(report: &ProfileReport) -> &ProcessGroup {
    report
        .resources
        .processes
        .as_ref()
        .expect("a process group")
}

fn group_cpu(report: &ProfileReport) -> f64 {
    let group = group(report);
    group.cpu_user_secs + group.cpu_system_secs
}

fn assert_close(measured: f64, kernel: f64, what: &str) {
    assert!(
        kernel > 0.3,
        "{what}: the kernel saw only {kernel:.2} s of CPU"
    );
    let error = (measured - kernel).abs() / kernel;
    assert!(
        error <= TOLERANCE,
        "{what}: plumb {measured:.3} s vs the kernel's {kernel:.3} s ({:.1}% off)",
        error * 100.0
    );
}

#[test]
fn prefork_tree_cpu_matches_proc_and_names_every_worker() {
    let _alone = cpu_alone();
    let server = Running::start(prefork(), &["3", "20", "--share", "30"]);
    wait_for_children(server.pid(), 3);
    let selection = ProcessSelection::tree_of(server.pid());
    let sampling = SamplingSettings {
        frequency_hz: 499,
        ..SamplingSettings::default()
    };
    let cpu = Profiler::attach_selection(&selection, sampling).expect("perf events allowed");
    // /proc read right around the sampler's own first and last readings.
    let before = tree_cpu(server.pid());
    let resources = ResourceSampler::watch(&selection, Duration::from_millis(50)).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let timeline = resources.stop();
    let after = tree_cpu(server.pid());
    let cpu = cpu.stop();
    let kernel: f64 = after
        .iter()
        .map(|(pid, cpu)| cpu - before.get(pid).unwrap_or(&0.0))
        .sum();
    let group = timeline.processes.as_ref().expect("a process group");
    let measured = group.cpu_user_secs + group.cpu_system_secs;
    eprintln!("tree CPU: plumb {measured:.3} s, /proc {kernel:.3} s");
    assert_close(measured, kernel, "tree CPU");
    assert_eq!(group.processes_seen, 4, "{group:?}");
    for worker in after.keys().filter(|&&pid| pid != server.pid()) {
        let share = group
            .busiest
            .iter()
            .find(|member| member.pid == *worker)
            .unwrap_or_else(|| panic!("worker {worker} not among the busiest: {group:?}"));
        assert!(share.cpu_percent > 20.0, "{share:?}");
        assert!(share.peak_rss_bytes > 0, "{share:?}");
    }
    let master = group
        .busiest
        .iter()
        .find(|m| m.pid == server.pid())
        .unwrap();
    assert!(master.cpu_percent < 2.0, "{master:?}");
    // Samples of forked workers (no exec: their mappings came from the master's) are named.
    let burn = cpu
        .hot_functions
        .iter()
        .find(|f| f.name.ends_with("worker_burn"))
        .unwrap_or_else(|| panic!("{:?}", &cpu.hot_functions[..cpu.hot_functions.len().min(5)]));
    let top: Vec<_> = cpu.hot_functions.iter().take(6).collect();
    assert!(burn.total_percent > 60.0, "{burn:?} in {top:#?}");
}

#[test]
fn the_master_alone_shows_no_cpu_while_its_tree_shows_the_work() {
    let _alone = cpu_alone();
    let server = Running::start(prefork(), &["3", "20", "--share", "30"]);
    wait_for_children(server.pid(), 3);
    let alone = profile(&attach(ProcessSelection::pid(server.pid()), 1.0)).unwrap();
    let tree = profile(&attach(ProcessSelection::tree_of(server.pid()), 1.0)).unwrap();
    let cpu = |report: &ProfileReport| {
        let summary = &report.resources.summary;
        summary.cpu_user_percent.avg + summary.cpu_system_percent.avg
    };
    eprintln!("master alone {:.1}%, tree {:.1}%", cpu(&alone), cpu(&tree));
    // Three workers at 30% of a core: 90% on an idle machine, at least a fair part of it on a
    // busy one; the master only waits.
    assert!(cpu(&alone) < 3.0, "master alone: {:.1}%", cpu(&alone));
    assert!(cpu(&tree) > 20.0, "tree: {:.1}%", cpu(&tree));
    assert_eq!(group(&alone).processes_seen, 1);
}

#[test]
fn a_worker_started_during_the_run_is_included() {
    let _alone = cpu_alone();
    let server = Running::start(prefork(), &["2", "20", "--share", "30", "--late", "1000"]);
    wait_for_children(server.pid(), 2);
    let report = profile(&attach(ProcessSelection::tree_of(server.pid()), 2.0)).unwrap();
    let group = group(&report);
    assert_eq!(group.processes_seen, 4, "{group:?}");
    let late = tree_cpu(server.pid())
        .into_keys()
        .max()
        .expect("the late worker");
    let member = group
        .busiest
        .iter()
        .find(|m| m.pid == late)
        .unwrap_or_else(|| panic!("late worker {late} missing: {group:?}"));
    assert!(member.cpu_secs > 0.05, "{member:?}");
    let counts: Vec<u64> = report
        .resources
        .points
        .iter()
        .filter_map(|p| p.processes)
        .collect();
    assert!(
        counts.first() == Some(&3) && counts.last() == Some(&4),
        "{counts:?}"
    );
}

#[test]
fn a_launched_prefork_tree_matches_the_kernels_children_accounting() {
    let _alone = cpu_alone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rusage");
    let report = profile(&launch(
        prefork(),
        &[
            "3",
            "1.5",
            "--share",
            "30",
            "--report",
            file.to_str().unwrap(),
        ],
    ))
    .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let kernel: f64 = text
        .split_whitespace()
        .map(|n| n.parse::<f64>().unwrap())
        .sum();
    eprintln!(
        "launched tree CPU: plumb {:.3} s, RUSAGE_CHILDREN {kernel:.3} s",
        group_cpu(&report)
    );
    assert_close(group_cpu(&report), kernel, "launched tree CPU");
    assert!(group(&report).processes_seen >= 4, "{:?}", group(&report));
}

#[test]
fn a_launched_shell_whose_child_did_the_work_shows_the_childs_cpu() {
    let _alone = cpu_alone();
    let dir = tempfile::tempdir().unwrap();
    let times = dir.path().join("times");
    // `times` prints the shell's own, then its children's, user and system time.
    let script = format!("{} 1.5; times > {}", hot_fixture(), times.display());
    let report = profile(&launch("sh", &["-c", &script])).unwrap();
    let text = std::fs::read_to_string(&times).unwrap();
    let children = text.lines().nth(1).expect("the children's line");
    let kernel: f64 = children.split_whitespace().map(minutes_seconds).sum();
    eprintln!(
        "sh -c child: plumb {:.3} s, times {kernel:.3} s, avg {:.1}%",
        group_cpu(&report),
        report.resources.summary.cpu_user_percent.avg
    );
    assert_close(group_cpu(&report), kernel, "the shell's child's CPU");
    assert!(report.resources.summary.cpu_user_percent.avg > 40.0);
}

/// `1m2.50s` in seconds.
fn minutes_seconds(text: &str) -> f64 {
    let (minutes, seconds) = text.trim_end_matches('s').split_once('m').unwrap();
    minutes.parse::<f64>().unwrap() * 60.0 + seconds.parse::<f64>().unwrap()
}

#[test]
fn folded_stacks_of_two_programs_start_with_their_names() {
    let _alone = cpu_alone();
    let script = format!("{} 1 & {} 1 1 --share 60; wait", hot_fixture(), prefork());
    let mut settings = launch("sh", &["-c", &script]);
    settings.sampling.frequency_hz = 499;
    let report = profile(&settings).unwrap();
    let CpuOutcome::Sampled(cpu) = &report.cpu else {
        panic!("{:?}", report.cpu);
    };
    let starts = |name: &str| cpu.folded.iter().any(|s| s.stack.starts_with(name));
    assert!(
        starts("plumb-fixture-h;") && starts("plumb-fixture-p;"),
        "{:?}",
        cpu.folded
            .iter()
            .map(|s| &s.stack)
            .take(8)
            .collect::<Vec<_>>()
    );
    assert!(cpu
        .folded
        .iter()
        .any(|s| s.stack.starts_with("plumb-fixture-p;") && s.stack.ends_with("worker_burn")));
    // The names are not functions: the ranking never shows them.
    assert!(cpu
        .hot_functions
        .iter()
        .all(|f| !f.name.starts_with("plumb-fixture")));
}

/// A fresh cgroup v2 directory, removed (after its processes) when dropped.
struct Cgroup(std::path::PathBuf);

impl Cgroup {
    fn create() -> Option<Cgroup> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        let root = mountinfo.lines().find_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            right
                .starts_with("cgroup2 ")
                .then(|| left.split_whitespace().nth(4).map(std::path::PathBuf::from))?
        })?;
        let dir = root.join(format!("plumb-test-{}", std::process::id()));
        std::fs::create_dir(&dir).ok()?;
        Some(Cgroup(dir))
    }

    fn usage_secs(&self) -> f64 {
        let stat = std::fs::read_to_string(self.0.join("cpu.stat")).unwrap();
        let usec: f64 = stat
            .lines()
            .find_map(|l| l.strip_prefix("usage_usec "))
            .unwrap()
            .parse()
            .unwrap();
        usec / 1e6
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = std::fs::write(self.0.join("cgroup.kill"), "1");
        for _ in 0..100 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn a_cgroup_selection_matches_the_cgroups_own_accounting() {
    let _alone = cpu_alone();
    let Some(cgroup) = Cgroup::create() else {
        eprintln!("SKIPPED: cgroup v2 is not writable here, so no cgroup can be created");
        return;
    };
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec {} 2 20 --share 30",
        cgroup.0.display(),
        prefork()
    );
    let server = Running::start("sh", &["-c", &script]);
    wait_for_children(server.pid(), 2);
    let selection = ProcessSelection {
        pids: Vec::new(),
        tree: false,
        cgroup: Some(cgroup.0.clone()),
    };
    // cpu.stat read right around the sampler's own first and last readings.
    let checked = selection.checked().expect("the cgroup exists");
    let before = cgroup.usage_secs();
    let resources = ResourceSampler::watch(&checked, Duration::from_millis(50)).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let timeline = resources.stop();
    let kernel = cgroup.usage_secs() - before;
    drop(server);
    let group = timeline.processes.as_ref().expect("a process group");
    let measured = group.cpu_user_secs + group.cpu_system_secs;
    eprintln!("cgroup CPU: plumb {measured:.3} s, cpu.stat {kernel:.3} s");
    assert_close(measured, kernel, "cgroup CPU");
    assert_eq!(group.processes_seen, 3, "{group:?}");
    assert!(group.selection.starts_with("cgroup /"), "{group:?}");
}

#[test]
fn a_cgroup_that_does_not_exist_is_a_clear_error() {
    let selection = ProcessSelection {
        pids: Vec::new(),
        tree: false,
        cgroup: Some("plumb-no-such-cgroup".into()),
    };
    let err = profile(&attach(selection, 1.0)).unwrap_err().to_string();
    assert!(
        err.contains("no cgroup at")
            && err.contains("plumb-no-such-cgroup")
            && err.contains("hint:"),
        "{err}"
    );
}

#[test]
fn a_process_that_joins_a_watched_cgroup_is_sampled_too() {
    let _alone = cpu_alone();
    let Some(cgroup) = Cgroup::create() else {
        eprintln!("SKIPPED: cgroup v2 is not writable here, so no cgroup can be created");
        return;
    };
    let selection = ProcessSelection {
        pids: Vec::new(),
        tree: false,
        cgroup: Some(cgroup.0.clone()),
    };
    let idle = format!(
        "echo $$ > {}/cgroup.procs && exec sleep 30",
        cgroup.0.display()
    );
    let _idle = Running::start("sh", &["-c", &idle]);
    std::thread::sleep(Duration::from_millis(200));
    let sampling = SamplingSettings {
        frequency_hz: 499,
        ..SamplingSettings::default()
    };
    let checked = selection.checked().unwrap();
    let cpu = Profiler::attach_selection(&checked, sampling).expect("perf events allowed");
    // Not a child of a sampled process: only following the cgroup finds it.
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec {} 1.5",
        cgroup.0.display(),
        hot_fixture()
    );
    let mut newcomer = Running::start("sh", &["-c", &script]);
    newcomer.0.wait().unwrap();
    let cpu = cpu.stop();
    let hot = cpu
        .hot_functions
        .iter()
        .find(|f| f.name.ends_with("hot_seventy"))
        .unwrap_or_else(|| panic!("{:?}", &cpu.hot_functions[..cpu.hot_functions.len().min(5)]));
    assert!(cpu.samples > 100, "{} samples", cpu.samples);
    assert!(hot.self_percent > 50.0, "{hot:?}");
}
