//! Where results go: every output path is checked before the run (exit 2 with the flag, the path
//! and a hint, and nothing run or saved), a full disk (/dev/full) is an error that names the file
//! or stdout while the run is still saved, and a reader that closes stdout early (`| head`) ends
//! the output quietly.

use crate::support::{stderr, stdout};
use plumb_test::{Reply, Script, ScriptedServer};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn plumb(ledger: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plumb"));
    command
        .env("NO_COLOR", "1")
        .env("PLUMB_LEDGER", ledger)
        .env_remove("PLUMB_NO_SAVE");
    command
}

fn run(ledger: &Path, args: &[&str]) -> Output {
    plumb(ledger).args(args).output().expect("plumb runs")
}

/// How many runs the ledger holds (0 when it was never created).
fn saved_runs(ledger: &Path) -> usize {
    if !ledger.exists() {
        return 0;
    }
    let output = run(ledger, &["history", "--limit", "0"]);
    stdout(&output).lines().skip(1).count()
}

/// The bad paths every output flag is tried with, and what the error must say about each.
fn bad_paths(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    std::fs::create_dir(dir.join("a-directory")).unwrap();
    vec![
        (PathBuf::from("/proc/x.json"), "No such file or directory"),
        (dir.join("a-directory"), "is a directory\nhint: name a file"),
        (
            dir.join("missing/out.json"),
            "does not exist\nhint: create it first",
        ),
    ]
}

/// The run was refused up front: exit 2, the flag and path named with a hint, quickly.
fn assert_refused(output: &Output, flag: &str, path: &Path, why: &str, started: Instant) {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    let text = stderr(output);
    assert!(
        text.contains(&format!("{flag} '{}'", path.display())),
        "{text}"
    );
    assert!(text.contains(why), "{text}");
    assert!(text.contains("hint: "), "{text}");
    assert!(started.elapsed() < Duration::from_secs(10), "it ran first");
}

#[test]
fn a_bad_load_json_path_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let server = ScriptedServer::start(Script::always(Reply::Ok));
    for (path, why) in bad_paths(dir.path()) {
        let started = Instant::now();
        let output = run(
            &ledger,
            &["load", &server.url(), "-d", "30s", "-q", "--json"]
                .into_iter()
                .chain([path.to_str().unwrap()])
                .collect::<Vec<_>>(),
        );
        assert_refused(&output, "--json", &path, why, started);
    }
    assert_eq!(server.requests(), 0);
    assert_eq!(saved_runs(&ledger), 0);
}

#[test]
fn bad_bench_export_paths_are_refused_before_the_command_runs() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let ran = dir.path().join("ran");
    let command = format!("touch '{}'", ran.display());
    let flags = [
        "--json",
        "--export-markdown",
        "--export-csv",
        "--export-hyperfine-json",
    ];
    for (path, why) in bad_paths(dir.path()) {
        for flag in flags {
            let started = Instant::now();
            let args = ["bench", "-r", "2", flag, path.to_str().unwrap(), &command];
            let output = run(&ledger, &args);
            assert_refused(&output, flag, &path, why, started);
        }
    }
    assert!(!ran.exists(), "the benchmarked command ran");
    assert_eq!(saved_runs(&ledger), 0);
}

#[test]
fn bad_profile_output_paths_are_refused_before_the_command_runs() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let ran = dir.path().join("ran");
    for (path, why) in bad_paths(dir.path()) {
        for flag in ["--json", "--flamegraph", "--folded"] {
            let started = Instant::now();
            let args = ["profile", flag, path.to_str().unwrap(), "--", "touch"];
            let output = run(&ledger, &[&args[..], &[ran.to_str().unwrap()]].concat());
            assert_refused(&output, flag, &path, why, started);
        }
    }
    assert!(!ran.exists(), "the profiled command ran");
}

#[test]
fn a_full_disk_under_load_json_is_an_error_but_the_run_is_printed_and_saved() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let server = ScriptedServer::start(Script::always(Reply::Ok));
    let args = ["load", &server.url(), "-c", "1", "-d", "300ms", "-q"];
    let output = run(&ledger, &[&args[..], &["--json", "/dev/full"]].concat());
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "error: cannot write --json '/dev/full': No space left on device (os error 28)\nhint: free some space"
        ),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("  requests "),
        "{}",
        stdout(&output)
    );
    assert_eq!(saved_runs(&ledger), 1);
}

#[test]
fn a_full_disk_under_a_bench_export_is_an_error_but_the_others_are_written_and_the_run_saved() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let json = dir.path().join("out.json");
    let args = ["bench", "-r", "2", "--export-csv", "/dev/full", "--json"];
    let output = run(
        &ledger,
        &[&args[..], &[json.to_str().unwrap(), "true"]].concat(),
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("error: cannot write --export-csv '/dev/full': No space left"),
        "{}",
        stderr(&output)
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["benchmarks"][0]["runs"].as_array().unwrap().len(), 2);
    assert_eq!(saved_runs(&ledger), 1);
}

#[test]
fn a_full_stdout_is_named_and_the_run_still_saved() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = plumb(&ledger)
        .args(["bench", "-r", "2", "true"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with(
            "error: cannot write to stdout: No space left on device (os error 28)\nhint: "
        ),
        "{}",
        stderr(&output)
    );
    assert_eq!(saved_runs(&ledger), 1);
}

#[test]
fn demo_into_a_full_disk_is_an_error_naming_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = plumb(&dir.path().join("ledger.db"))
        .args(["demo", "-d", "300ms", "-q"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "error: cannot write to stdout: No space left on device (os error 28)\n\
         hint: check where stdout goes (a full disk, a closed file)\n"
    );
}

/// Run plumb with stdout read for `keep` bytes, then closed (as `| head -c` does).
fn with_early_close(ledger: &Path, args: &[&str], keep: usize) -> Output {
    let mut child = plumb(ledger)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = child.stdout.take().unwrap();
    let mut first = vec![0; keep];
    reader.read_exact(&mut first).unwrap();
    drop(reader);
    child.wait_with_output().unwrap()
}

fn assert_quiet_end(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", stderr(output));
    assert!(!stderr(output).contains("panicked"), "{}", stderr(output));
    assert!(!stderr(output).contains("error:"), "{}", stderr(output));
}

#[test]
fn demo_into_a_reader_that_closes_early_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = with_early_close(
        &dir.path().join("ledger.db"),
        &["demo", "-d", "300ms", "-q"],
        10,
    );
    assert_quiet_end(&output, 0);
    // The second model is not run for a reader that has gone.
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_closed_stdout_keeps_the_runs_exit_code_and_saves_it() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let server = ScriptedServer::start(Script::always(Reply::Ok));
    let url = server.url();
    let failing = [
        "load",
        &url,
        "-c",
        "1",
        "-d",
        "300ms",
        "-q",
        "--threshold",
        "http_reqs: count<1",
    ];
    // Nothing is read: the pipe is closed before plumb writes.
    let output = with_early_close(&ledger, &failing, 0);
    assert_quiet_end(&output, 1);
    assert_eq!(saved_runs(&ledger), 1);
    let output = with_early_close(&ledger, &["bench", "-r", "2", "--json", "-", "true"], 0);
    assert_quiet_end(&output, 0);
    assert_eq!(saved_runs(&ledger), 2);
}

#[test]
fn load_json_dash_is_the_json_on_stdout_and_the_summary_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let server = ScriptedServer::start(Script::always(Reply::Ok));
    let args = [
        "load",
        &server.url(),
        "-c",
        "1",
        "-d",
        "300ms",
        "-q",
        "--json",
        "-",
    ];
    let output = plumb(&dir.path().join("ledger.db"))
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["kind"], "load");
    assert!(
        stderr(&output).contains("  requests "),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().join("-").exists());
}

#[test]
fn gate_and_report_check_their_files_before_reading_any_run() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let missing = dir.path().join("missing/out");
    let path = missing.to_str().unwrap();
    for (flag, args) in [
        (
            "--junit",
            vec!["gate", "--baseline", "main", "--junit", path],
        ),
        ("--html", vec!["report", "latest", "--html", path]),
        ("--csv", vec!["report", "latest", "--csv", path]),
    ] {
        let output = run(&ledger, &args);
        // Refused for the path, not for the runs that do not exist.
        assert_refused(&output, flag, &missing, "does not exist", Instant::now());
        assert_eq!(stdout(&output), "");
    }
    assert!(!ledger.exists(), "a reader created the ledger");
}

#[test]
fn help_into_a_full_disk_is_named_and_into_a_closed_pipe_is_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = plumb(&ledger).arg("--help").stdout(full).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: cannot write to stdout: No space left on device (os error 28)\n"
    );
    assert_quiet_end(&with_early_close(&ledger, &["--help"], 0), 0);
}
