//! `plumb bench` end to end: real commands, every export file, exit codes, error messages with
//! hints, and the stdout/stderr split.

use std::path::Path;
use std::process::{Command, Output};

fn plumb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .arg("bench")
        .args(args)
        .env_remove("NO_COLOR")
        .env("PLUMB_NO_SAVE", "1")
        .output()
        .expect("the plumb binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn benchmarks_two_commands_and_writes_every_export() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name).display().to_string();
    let output = plumb(&[
        "-N",
        "-r",
        "3",
        "--seed",
        "7",
        "--json",
        &file("plumb.json"),
        "--export-hyperfine-json",
        &file("hyperfine.json"),
        "--export-markdown",
        &file("table.md"),
        "--export-csv",
        &file("summary.csv"),
        "sleep 0.01",
        "sleep 0.05",
    ]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("Benchmark 1: sleep 0.01") && text.contains("Benchmark 2: sleep 0.05"),
        "{text}"
    );
    assert!(text.contains("Summary"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no colours when stdout is not a terminal: {text:?}"
    );
    assert!(
        stderr(&output).is_empty(),
        "no progress when stderr is not a terminal: {}",
        stderr(&output)
    );

    let report = read_json(&dir.path().join("plumb.json"));
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["settings"]["seed"], 7);
    assert_eq!(report["benchmarks"][1]["runs"].as_array().unwrap().len(), 3);
    let schema = plumb_schema::bench::bench_report_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(
        validator.is_valid(&report),
        "--json output does not match its schema"
    );

    let hyperfine = read_json(&dir.path().join("hyperfine.json"));
    let first = &hyperfine["results"][0];
    assert_eq!(first["command"], "sleep 0.01");
    assert_eq!(first["times"].as_array().unwrap().len(), 3);
    assert_eq!(first["exit_codes"], serde_json::json!([0, 0, 0]));
    assert!(first["memory_usage_byte"][0].as_u64().unwrap() > 0);
    assert!(first["median"].as_f64().unwrap() >= 0.0099);

    let markdown = std::fs::read_to_string(dir.path().join("table.md")).unwrap();
    assert!(
        markdown.starts_with("| Command |") && markdown.contains("`sleep 0.05`"),
        "{markdown}"
    );
    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(
        csv.starts_with("command,mean,stddev,median,user,system,min,max"),
        "{csv}"
    );
}

#[test]
fn an_export_to_stdout_moves_the_summary_to_stderr() {
    let output = plumb(&["-N", "-r", "2", "--json", "-", "true"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&output)).expect("stdout is only the JSON");
    assert_eq!(report["benchmarks"][0]["command"], "true");
    assert!(stderr(&output).contains("Benchmark 1: true"));
}

#[test]
fn a_failing_command_exits_with_code_3_and_names_the_command() {
    let output = plumb(&["-r", "2", "exit 4"]);
    assert_eq!(output.status.code(), Some(3));
    let message = stderr(&output);
    assert!(
        message.contains("error: command `exit 4` failed with exit code 4"),
        "{message}"
    );
    assert!(message.contains("hint: "), "{message}");
    assert!(stdout(&output).is_empty());
}

#[test]
fn ignore_failure_benchmarks_a_failing_command() {
    let output = plumb(&["-i", "-r", "2", "exit 4"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert!(
        stdout(&output).contains("2 of 2 runs failed"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_missing_program_without_a_shell_could_not_run() {
    let output = plumb(&["-N", "-r", "1", "plumb-no-such-program"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("could not start `plumb-no-such-program`"),
        "{message}"
    );
    assert!(
        message.contains("hint: check the spelling and that the program is on PATH"),
        "{message}"
    );
}

#[test]
fn a_parameter_scan_substitutes_values_into_commands_and_names() {
    let output = plumb(&[
        "-N",
        "-r",
        "1",
        "-P",
        "n",
        "1",
        "3",
        "-n",
        "sleep {n}ms",
        "sleep 0.00{n}",
    ]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    for n in 1..=3 {
        assert!(
            text.contains(&format!("Benchmark {n}: sleep {n}ms")),
            "{text}"
        );
    }
}

/// Each bad invocation with the flag its error must name; all exit with code 2 and a hint.
#[test]
fn bad_flags_are_named_with_a_hint() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["-n", "a", "-n", "b", "true"],
            "invalid -n/--name: 2 names for 1 command",
        ),
        (
            &["-P", "n", "5", "1", "sleep {n}"],
            "invalid -P/--parameter-scan: the minimum `5` is greater than the maximum `1`",
        ),
        (
            &["-P", "n", "1", "x", "sleep {n}"],
            "invalid -P/--parameter-scan: `x` is not a number",
        ),
        (
            &["-L", "n", "1,2", "true"],
            "invalid -L/--parameter-list: no command uses the parameter `n`",
        ),
        (
            &["-m", "10", "-M", "5", "true"],
            "invalid -M/--max-runs: 5 is below --min-runs 10",
        ),
        (
            &["-N", "echo 'oops"],
            "cannot split the command `echo 'oops` into words: unterminated single quote",
        ),
        (
            &["-S", "plumb-no-such-shell", "true"],
            "could not start `plumb-no-such-shell` for -S/--shell calibration run",
        ),
        (
            &["-r", "1", "--json", "/nonexistent/dir/out.json", "true"],
            "--json '/nonexistent/dir/out.json': the directory '/nonexistent/dir' does not exist",
        ),
    ];
    for (args, expected) in cases {
        let output = plumb(args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert!(
            message.contains(expected),
            "{args:?}: expected {expected:?} in {message}"
        );
        assert!(
            message.contains("\nhint: "),
            "{args:?}: no hint in {message}"
        );
    }
}

#[test]
fn clap_rejects_a_zero_run_count() {
    let output = plumb(&["-r", "0", "true"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--runs"), "{}", stderr(&output));
}

#[test]
fn ctrl_c_stops_and_reports_the_runs_measured_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let runs_log = dir.path().join("runs");
    let json = dir.path().join("out.json");
    let command = format!("echo run >> {}; sleep 0.02", runs_log.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(["bench", "-r", "100000", "--json"])
        .env("PLUMB_NO_SAVE", "1")
        .arg(&json)
        .arg(&command)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (however long the machine needs) until two runs have certainly finished: a third began.
    while std::fs::read_to_string(&runs_log).map_or(0, |log| log.lines().count()) < 3 {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("plumb ended before it was interrupted: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert!(
        stderr(&output).contains("warning: interrupted"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("Benchmark 1:"),
        "{}",
        stdout(&output)
    );
    let report = read_json(&json);
    assert_eq!(report["interrupted"], true);
    let runs = report["benchmarks"][0]["runs"].as_array().unwrap().len();
    assert!((2..100_000).contains(&runs), "{runs} runs");
}
