//! Waiting time and memory by stack, against fixtures with a known truth: a program that waits
//! on a socket 80% of its time (a server in this test answers each request after 8 ms, the
//! program computes 2 ms between requests), and a program that leaks in one function.

use crate::{cpu_alone, launch, profile};
use plumb_profile::Unwinding;
use plumb_schema::profile::{MemoryProfile, ProfileReport, WaitingProfile};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// How long the test's server takes to answer.
const ANSWER_AFTER: Duration = Duration::from_millis(8);

/// A server that answers every byte with one byte, `ANSWER_AFTER` later; returns its port.
fn slow_echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut byte = [0u8; 1];
            while stream.read_exact(&mut byte).is_ok() {
                std::thread::sleep(ANSWER_AFTER);
                if stream.write_all(&byte).is_err() {
                    break;
                }
            }
        }
    });
    port
}

fn waiting(report: &ProfileReport) -> &WaitingProfile {
    report
        .waiting
        .as_ref()
        .expect("switch records are allowed for one's own processes")
}

fn memory(report: &ProfileReport) -> &MemoryProfile {
    report
        .memory
        .as_ref()
        .expect("page faults can be sampled for one's own processes")
}

/// Whether this process may open the context-switch event (kernel profiling).
fn may_sample_switches() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok());
    root || paranoid.is_some_and(|level| level <= 1)
}

#[test]
fn a_program_waiting_on_a_socket_80_percent_shows_it_by_stack() {
    let _alone = cpu_alone();
    let port = slow_echo_server().to_string();
    let mut settings = launch(
        env!("CARGO_BIN_EXE_plumb-fixture-wait"),
        &[&port, "100", "2"],
    );
    // The fixture is built without frame pointers (a debug build), and so is libc's recv.
    settings.sampling.unwinding = Unwinding::Dwarf;
    let report = profile(&settings).expect("profiled");
    let waiting = waiting(&report);
    // Of the time the thread was not kept from running by others (runnable time grows on a busy
    // machine), 80% is spent waiting.
    let share = waiting.waiting_seconds / (waiting.thread_seconds - waiting.runnable_seconds);
    assert!(
        (0.65..=0.92).contains(&share),
        "waiting {:.1}% of {:.2} s (truth: 80%): {waiting:#?}",
        share * 100.0,
        waiting.thread_seconds
    );
    assert_eq!(waiting.threads, 1, "{waiting:#?}");
    if !may_sample_switches() {
        assert!(!waiting.by_stack);
        let reason = waiting.no_stacks.as_deref().unwrap_or_default();
        assert!(reason.contains("perf_event_paranoid"), "{reason}");
        eprintln!("NOTE: waits by stack not checked: this user may not sample context switches");
        return;
    }
    assert!(waiting.by_stack, "{waiting:#?}");
    let waiter = waiting
        .functions
        .iter()
        .find(|f| f.name == "plumb_fixture_wait::wait_for_reply")
        .unwrap_or_else(|| panic!("wait_for_reply among the waiting functions: {waiting:#?}"));
    assert!(
        waiter.total_percent >= 90.0,
        "wait_for_reply holds {:.1}% of the waiting",
        waiter.total_percent
    );
    assert!(
        !waiting
            .functions
            .iter()
            .any(|f| f.name.ends_with("compute") && f.total_percent > 5.0),
        "compute never waits: {waiting:#?}"
    );
}

#[test]
fn the_function_that_leaks_tops_the_memory_it_touched() {
    let _alone = cpu_alone();
    let settings = launch(env!("CARGO_BIN_EXE_plumb-fixture-leak"), &["8", "8"]);
    let report = profile(&settings).expect("profiled");
    let memory = memory(&report);
    assert_eq!(memory.lost_records, 0, "{memory:#?}");
    let leaked = 64 * 1024 * 1024;
    assert!(
        memory.bytes >= leaked && memory.bytes < 2 * leaked,
        "{} bytes touched for a 64 MiB leak",
        memory.bytes
    );
    let leaker = memory
        .functions
        .iter()
        .find(|f| f.name == "plumb_fixture_leak::grow_cache")
        .unwrap_or_else(|| panic!("grow_cache among the functions: {memory:#?}"));
    assert!(leaker.total_percent >= 80.0, "{leaker:#?}");
    assert!(
        !memory
            .functions
            .iter()
            .any(|f| f.name.ends_with("scratch") && f.total_percent > 2.0),
        "scratch reuses its buffer: {memory:#?}"
    );
}

/// Attached to a process whose threads wait in long and short sleeps, one blocked in accept and
/// one in a single sleep: every thread is counted, and each sleeper's stack gets its own
/// thread's waiting time (not a share biased toward the long waits).
#[test]
fn every_thread_of_an_attached_process_is_counted_and_its_waits_are_its_own() {
    let _alone = cpu_alone();
    let fixture = crate::Running::start(env!("CARGO_BIN_EXE_plumb-fixture-threads"), &["8"]);
    std::thread::sleep(Duration::from_millis(300));
    let mut settings = plumb_profile::ProfileSettings::new(plumb_profile::Target::Pid {
        pid: fixture.pid(),
        duration: Some(Duration::from_secs(3)),
    });
    settings.sampling.unwinding = Unwinding::Dwarf;
    let report = profile(&settings).expect("profiled");
    let waiting = waiting(&report);
    assert_eq!(waiting.threads, 4, "{waiting:#?}");
    let span = waiting.thread_seconds / 4.0;
    assert!(
        waiting.waiting_seconds > 0.9 * waiting.thread_seconds,
        "the fixture only waits: {waiting:#?}"
    );
    let blocked = waiting
        .functions
        .iter()
        .filter(|f| f.name.starts_with("[blocked the whole time"))
        .map(|f| f.total_value)
        .sum::<f64>();
    assert!(
        (blocked - 2.0 * span).abs() < 0.1 * span,
        "the accepting and the main thread wait the whole {span:.2} s: {waiting:#?}"
    );
    if !may_sample_switches() {
        return;
    }
    for name in ["long_waits", "short_waits"] {
        let function = waiting
            .functions
            .iter()
            .find(|f| f.name.ends_with(name))
            .unwrap_or_else(|| panic!("{name} among the waiting functions: {waiting:#?}"));
        assert!(
            (function.total_value - span).abs() < 0.2 * span,
            "{name} waited about {span:.2} s, reported {:.2} s",
            function.total_value
        );
    }
}

/// With DWARF unwinding each fault's sample copies the stack, so faults are sampled (about 2,000 a
/// second per thread and CPU, each weighing the faults it stands for) instead of lost by the
/// thousand.
#[test]
fn memory_touched_holds_with_dwarf_unwinding_too() {
    let _alone = cpu_alone();
    let mut settings = launch(env!("CARGO_BIN_EXE_plumb-fixture-leak"), &["8", "8"]);
    settings.sampling.unwinding = Unwinding::Dwarf;
    let report = profile(&settings).expect("profiled");
    let memory = memory(&report);
    let leaked = 64.0 * 1024.0 * 1024.0;
    let ratio = memory.bytes as f64 / leaked;
    assert!(
        (0.85..1.5).contains(&ratio),
        "{} bytes for a 64 MiB leak: {memory:#?}",
        memory.bytes
    );
    assert!(memory.lost_records < 100, "{memory:#?}");
    let leaker = memory
        .functions
        .iter()
        .find(|f| f.name == "plumb_fixture_leak::grow_cache")
        .unwrap_or_else(|| panic!("grow_cache among the functions: {memory:#?}"));
    assert!(leaker.total_percent >= 80.0, "{leaker:#?}");
}
