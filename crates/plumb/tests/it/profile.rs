//! `plumb profile` end to end: the table on stdout, the files it writes, and its errors.
//!
//! The fixture programs are binaries of the plumb-profile crate, built next to `plumb` by
//! `cargo test --workspace`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn plumb() -> &'static str {
    env!("CARGO_BIN_EXE_plumb")
}

/// A fixture binary of plumb-profile, next to the plumb binary.
fn fixture(name: &str) -> PathBuf {
    let path = Path::new(plumb()).with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test --workspace` (or `cargo build -p plumb-profile --bins` first)",
        path.display()
    );
    path
}

fn run(args: &[&str]) -> Output {
    Command::new(plumb())
        .args(args)
        .env("NO_COLOR", "1")
        .env("PLUMB_NO_SAVE", "1")
        .output()
        .expect("plumb runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn profile_of_a_command_prints_the_ranking_and_writes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let (svg, folded, json) = (
        dir.path().join("cpu.svg"),
        dir.path().join("cpu.folded"),
        dir.path().join("p.json"),
    );
    let hot = fixture("plumb-fixture-hot");
    let output = run(&[
        "profile",
        "--frequency",
        "499",
        "--flamegraph",
        svg.to_str().unwrap(),
        "--folded",
        folded.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--",
        hot.to_str().unwrap(),
        "1.5",
    ]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "stderr: {stderr}");
    let first_row = stdout
        .lines()
        .find(|line| line.trim_start().starts_with("1 "))
        .expect("a ranked row");
    assert!(
        first_row.ends_with("plumb_fixture_hot::hot_seventy"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the 80% set") && stdout.contains("RSS"),
        "{stdout}"
    );
    assert!(
        stderr.contains("plumb: profiling") && !stdout.contains("plumb: profiling"),
        "progress goes to stderr"
    );
    assert!(!stdout.contains('\u{1b}'), "no colour codes under NO_COLOR");
    assert!(std::fs::read_to_string(&svg)
        .unwrap()
        .contains("hot_seventy"));
    assert!(std::fs::read_to_string(&folded)
        .unwrap()
        .contains("plumb_fixture_hot::warm_twenty "));
    check_json(&json);
}

fn check_json(path: &Path) {
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let schema = plumb_schema::profile::json_schema();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|err| err.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "JSON does not match its schema: {errors:?}"
    );
    assert_eq!(value["schema_version"], 1);
    assert_eq!(value["cpu"]["status"], "sampled");
    assert_eq!(
        value["cpu"]["hot_functions"][0]["name"],
        "plumb_fixture_hot::hot_seventy"
    );
    assert!(!value["resources"]["points"].as_array().unwrap().is_empty());
}

#[test]
fn nonexistent_pid_fails_with_a_hint() {
    let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let pid = (max + 1).to_string();
    let output = run(&["profile", "--pid", &pid, "-d", "1s"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("no process with PID {pid}")) && stderr.contains("hint:"),
        "{stderr}"
    );
}

#[test]
fn missing_target_and_missing_command_fail_with_a_hint() {
    let output = run(&["profile"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("hint: give a command after `--`"),
        "{}",
        text(&output.stderr)
    );
    let output = run(&["profile", "--", "plumb-no-such-command"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("command `plumb-no-such-command` not found"),
        "{}",
        text(&output.stderr)
    );
}

/// Profiling another user's process (PID 1, root's) as an unprivileged user: perf events are
/// refused, the message names the owner and CAP_PERFMON, and the timeline is still produced.
/// Under root the test drops to `nobody` with setpriv (util-linux) to take the unprivileged path.
#[test]
fn another_users_process_explains_the_refusal_and_keeps_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("p.json");
    let mut command = unprivileged_plumb(dir.path());
    command.args([
        "profile",
        "--pid",
        "1",
        "-d",
        "300ms",
        "--json",
        json.to_str().unwrap(),
    ]);
    let output = command.output().expect("plumb runs unprivileged");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("CPU sampling unavailable") && stderr.contains("another user"),
        "{stderr}"
    );
    assert!(stderr.contains("CAP_PERFMON"), "{stderr}");
    assert!(
        text(&output.stdout).contains("Resources over"),
        "{}",
        text(&output.stdout)
    );
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(value["cpu"]["status"], "unavailable");
    assert!(!value["resources"]["points"].as_array().unwrap().is_empty());
}

/// Asking for stacks that cannot be sampled is an error (status 2), after the timeline is shown.
#[test]
fn refused_sampling_with_folded_requested_exits_two_after_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let folded = dir.path().join("cpu.folded");
    let mut command = unprivileged_plumb(dir.path());
    command.args([
        "profile",
        "--pid",
        "1",
        "-d",
        "200ms",
        "--folded",
        folded.to_str().unwrap(),
    ]);
    let output = command.output().expect("plumb runs unprivileged");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--flamegraph/--folded were not written") && stderr.contains("hint:"),
        "{stderr}"
    );
    assert!(
        text(&output.stdout).contains("Resources over"),
        "{}",
        text(&output.stdout)
    );
    assert!(!folded.exists());
}

/// `plumb` as an unprivileged user: itself when not root; under root, a copy run as `nobody`.
fn unprivileged_plumb(dir: &Path) -> Command {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        return Command::new(plumb());
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let copy = dir.join("plumb");
    std::fs::copy(plumb(), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|path| Path::new(path).exists());
    let setpriv = setpriv.expect(
        "setpriv (Debian package util-linux) is needed to test the unprivileged path as root",
    );
    let mut command = Command::new(setpriv);
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(copy);
    command
}
