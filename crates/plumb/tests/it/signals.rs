//! SIGINT, SIGTERM and SIGHUP sent to plumb alone (as `kill`, `docker stop`, `timeout` or a CI
//! runner do) during `plumb load`, `plumb bench` and `plumb profile`: plumb stops, kills and reaps
//! its child, then prints, writes and saves the partial result marked interrupted, and exits as
//! docs/exit-codes.md says. Every wait is on something observable (the target saw a request, the
//! benchmarked command wrote its pid), never on a guess of how long startup takes.

use crate::support::{stderr, stdout};
use plumb_test::{Reply, Script, ScriptedServer};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long plumb may take to stop after the signal (a 30 s child must not be waited for).
const PROMPT: Duration = Duration::from_secs(5);

/// `plumb ARGS` with its own ledger, stdout and stderr captured.
fn spawn(ledger: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("PLUMB_LEDGER", ledger)
        .env_remove("PLUMB_NO_SAVE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("plumb starts")
}

/// Wait until `ready()` holds, failing if plumb ends first or it takes more than 60 s.
fn wait_until(child: &mut Child, what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("plumb ended ({status}) before {what}");
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Send `signal` to plumb alone, then collect its output; it must end within [`PROMPT`].
fn signal_and_collect(child: Child, signal: i32) -> Output {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let sent = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < PROMPT,
        "plumb took {:?} to stop",
        sent.elapsed()
    );
    output
}

/// The pid a benchmarked or profiled command wrote to `file` (`echo $$ > file; exec sleep`).
fn pid_in(file: &Path) -> Option<i32> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

/// Whether process `pid` still runs (a zombie whose parent has gone does not).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).expect("a complete JSON file")
}

/// The ledger's runs as `plumb history` lists them (header first).
fn history(ledger: &Path) -> Vec<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(["history", "--ledger"])
        .arg(ledger)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output).lines().map(str::to_owned).collect()
}

struct Temp {
    _dir: tempfile::TempDir,
    ledger: PathBuf,
    json: PathBuf,
    pid_file: PathBuf,
    marker: PathBuf,
}

fn temp() -> Temp {
    let dir = tempfile::tempdir().unwrap();
    Temp {
        ledger: dir.path().join("ledger.db"),
        json: dir.path().join("result.json"),
        pid_file: dir.path().join("pid"),
        marker: dir.path().join("first-run-done"),
        _dir: dir,
    }
}

fn load_is_interrupted_by(signal: i32, name: &str) {
    let server = ScriptedServer::start(Script::always(Reply::Ok));
    let t = temp();
    let json = t.json.to_str().unwrap();
    let args = [
        "load",
        &server.url(),
        "-c",
        "1",
        "-d",
        "60s",
        "-q",
        "--json",
        json,
    ];
    let mut child = spawn(&t.ledger, &args);
    wait_until(&mut child, "the target saw a request", || {
        server.requests() > 0
    });
    let output = signal_and_collect(child, signal);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let reason = format!("interrupted ({name})");
    let text = stdout(&output);
    assert!(text.contains(&format!("INTERRUPTED: {reason}")), "{text}");
    let result = read_json(&t.json);
    assert_eq!(result["interrupted"], true);
    assert_eq!(result["stop_reason"], reason.as_str());
    assert!(result["summary"]["requests"].as_u64().unwrap() > 0);
    let runs = history(&t.ledger);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs[1].contains(" load ") && runs[1].ends_with("(interrupted)"));
}

#[test]
fn sigterm_stops_a_load_run_which_is_printed_written_and_saved() {
    load_is_interrupted_by(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sighup_stops_a_load_run_which_is_printed_written_and_saved() {
    load_is_interrupted_by(libc::SIGHUP, "SIGHUP");
}

#[test]
fn sigint_stops_a_load_run_which_is_printed_written_and_saved() {
    load_is_interrupted_by(libc::SIGINT, "SIGINT");
}

/// A command whose first run is quick and whose second writes its pid and sleeps 30 s.
fn quick_then_long(t: &Temp) -> String {
    format!(
        "if [ -e '{marker}' ]; then echo $$ > '{pid}'; exec sleep 30; else touch '{marker}'; fi",
        marker = t.marker.display(),
        pid = t.pid_file.display()
    )
}

fn bench_is_interrupted_by(signal: i32, name: &str) {
    let t = temp();
    let command = quick_then_long(&t);
    let json = t.json.to_str().unwrap();
    let args = ["bench", "-w", "0", "-r", "5", "--json", json, &command];
    let mut child = spawn(&t.ledger, &args);
    wait_until(&mut child, "the second run started", || {
        pid_in(&t.pid_file).is_some()
    });
    let sleeper = pid_in(&t.pid_file).unwrap();
    let output = signal_and_collect(child, signal);
    assert!(!alive(sleeper), "the benchmarked `sleep 30` survived");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let warning = format!("warning: interrupted ({name}); reporting the runs measured until then");
    assert!(stderr(&output).contains(&warning), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Benchmark 1:"),
        "{}",
        stdout(&output)
    );
    let report = read_json(&t.json);
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["benchmarks"][0]["runs"].as_array().unwrap().len(), 1);
    let runs = history(&t.ledger);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs[1].contains(" bench ") && runs[1].ends_with("(interrupted)"));
}

#[test]
fn sigterm_kills_the_benchmarked_command_and_keeps_the_runs_before() {
    bench_is_interrupted_by(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sighup_kills_the_benchmarked_command_and_keeps_the_runs_before() {
    bench_is_interrupted_by(libc::SIGHUP, "SIGHUP");
}

#[test]
fn sigint_to_plumb_alone_does_not_wait_for_a_long_benchmarked_command() {
    let t = temp();
    let command = format!("echo $$ > '{}'; exec sleep 30", t.pid_file.display());
    let mut child = spawn(&t.ledger, &["bench", "-w", "0", "-r", "3", &command]);
    wait_until(&mut child, "the command started", || {
        pid_in(&t.pid_file).is_some()
    });
    let sleeper = pid_in(&t.pid_file).unwrap();
    let output = signal_and_collect(child, libc::SIGINT);
    assert!(!alive(sleeper), "the benchmarked `sleep 30` survived");
    // Nothing was measured, so there is nothing to report or save: plumb could not run (2).
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("error: interrupted (SIGINT) before any run was measured"),
        "{}",
        stderr(&output)
    );
    assert!(!t.ledger.exists() || history(&t.ledger).is_empty());
}

fn profile_is_interrupted_by(signal: i32, name: &str) {
    let t = temp();
    let script = format!("echo $$ > '{}'; exec sleep 30", t.pid_file.display());
    let json = t.json.to_str().unwrap();
    let args = ["profile", "--json", json, "--", "sh", "-c", &script];
    let mut child = spawn(&t.ledger, &args);
    wait_until(&mut child, "the command started", || {
        pid_in(&t.pid_file).is_some()
    });
    let sleeper = pid_in(&t.pid_file).unwrap();
    let output = signal_and_collect(child, signal);
    assert!(!alive(sleeper), "the profiled `sleep 30` survived");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let note = format!("interrupted ({name}): the profile covers the");
    assert!(
        stdout(&output).contains(&format!("note: {note}")),
        "{}",
        stdout(&output)
    );
    let report = read_json(&t.json);
    let notes = report["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n.as_str().unwrap().starts_with(&note)),
        "{notes:?}"
    );
    assert!(report["duration_secs"].as_f64().unwrap() < 30.0);
}

#[test]
fn sigterm_ends_the_profiled_command_and_reports_the_profile_so_far() {
    profile_is_interrupted_by(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sigint_to_plumb_alone_ends_the_profiled_command() {
    profile_is_interrupted_by(libc::SIGINT, "SIGINT");
}

#[test]
fn a_second_signal_exits_at_once_and_takes_the_command_with_it() {
    let t = temp();
    // A command that shrugs off SIGTERM, so the first signal leaves it in its grace period.
    let command = format!(
        "trap '' TERM; echo $$ > '{}'; while :; do sleep 0.05; done",
        t.pid_file.display()
    );
    let mut child = spawn(&t.ledger, &["bench", "-w", "0", "-r", "3", &command]);
    wait_until(&mut child, "the command started", || {
        pid_in(&t.pid_file).is_some()
    });
    let shell = pid_in(&t.pid_file).unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let stderr_pipe = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr_pipe));
    assert!(lines.any(|l| l.unwrap().contains("interrupted (SIGTERM): stopping")));
    // Past the window in which a repeat is the same request (timeout's double delivery).
    std::thread::sleep(Duration::from_millis(250));
    let output = signal_and_collect(child, libc::SIGTERM);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(output.status.code(), Some(128 + libc::SIGTERM), "{rest:?}");
    let deadline = Instant::now() + PROMPT;
    while alive(shell) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!alive(shell), "the command outlived plumb");
}

/// GNU `timeout` sends its signal to plumb and then to plumb's process group: plumb gets it
/// twice within microseconds, and that is one request to stop, not a second one to quit now.
#[test]
fn a_signal_delivered_twice_at_once_still_keeps_the_run() {
    let server = ScriptedServer::start(Script::always(Reply::Ok));
    let t = temp();
    let json = t.json.to_str().unwrap();
    let args = [
        "load",
        &server.url(),
        "-c",
        "1",
        "-d",
        "60s",
        "-q",
        "--json",
        json,
    ];
    let child = {
        let mut child = spawn(&t.ledger, &args);
        wait_until(&mut child, "the target saw a request", || {
            server.requests() > 0
        });
        child
    };
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process, twice.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    // Far enough apart that the two are not merged into one pending signal, as close as
    // `timeout`'s two deliveries can be on a loaded machine.
    std::thread::sleep(Duration::from_millis(2));
    let output = signal_and_collect(child, libc::SIGTERM);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("INTERRUPTED: interrupted (SIGTERM)"));
    assert_eq!(read_json(&t.json)["interrupted"], true);
    assert_eq!(history(&t.ledger).len(), 2);
}
