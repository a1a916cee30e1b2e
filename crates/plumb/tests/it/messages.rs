//! Messages that name the right culprit: the flag or the environment variable at fault, an empty
//! result explained, a read-only ledger still readable, run references accepted wherever the help
//! promises them, and results from a newer plumb refused in words.

use crate::support::{stderr, stdout};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn plumb(ledger: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("PLUMB_LEDGER", ledger)
        .env_remove("PLUMB_NO_SAVE")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("plumb runs")
}

struct Ledger {
    dir: tempfile::TempDir,
    path: PathBuf,
}

fn ledger() -> Ledger {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    Ledger { dir, path }
}

/// Save one bench run of `true` (2 runs) into the ledger; its id.
fn saved_bench(ledger: &Path, extra: &[&str]) -> String {
    let output = plumb(ledger, &[&["bench", "-r", "2"], extra, &["true"]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    latest_id(ledger)
}

fn latest_id(ledger: &Path) -> String {
    let output = plumb(ledger, &["history", "--limit", "1"]);
    let text = stdout(&output);
    let line = text
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("no run: {text}"));
    line.split_whitespace().next().unwrap().to_owned()
}

fn run_count(ledger: &Path) -> usize {
    stdout(&plumb(ledger, &["history", "--limit", "0"]))
        .lines()
        .skip(1)
        .count()
}

#[test]
fn a_huge_history_limit_blames_the_flag_not_the_ledger() {
    let l = ledger();
    saved_bench(&l.path, &[]);
    let output = plumb(&l.path, &["history", "--limit", "9223372036854775808"]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("--limit"), "{text}");
    assert!(!text.contains("ledger"), "{text}");
}

#[test]
fn a_history_filter_that_matches_nothing_says_so_and_counts_the_runs() {
    let l = ledger();
    saved_bench(&l.path, &[]);
    saved_bench(&l.path, &["--run-name", "other"]);
    let output = plumb(&l.path, &["history", "--name", "X"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).starts_with(&format!(
            "no run matches --name X (the ledger {} holds 2 runs)\nhint: ",
            l.path.display()
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn empty_environment_variables_are_named_not_the_flags() {
    let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(["history"])
        .env("PLUMB_LEDGER", "")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: the environment variable PLUMB_LEDGER is set but empty\nhint: set it to the \
         ledger's path, or unset it (`unset PLUMB_LEDGER`) to use .plumb/ledger.db\n"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(["bench", "-r", "2", "true"])
        .env("PLUMB_NO_SAVE", "")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: the environment variable PLUMB_NO_SAVE is set but empty\nhint: set \
         PLUMB_NO_SAVE=1 to skip saving, or unset it (`unset PLUMB_NO_SAVE`) to save\n"
    );
}

/// `plumb ARGS` by a user who may read the ledger but not write it or its directory.
fn as_reader(ledger: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plumb"));
    command
        .args(args)
        .arg("--ledger")
        .arg(ledger)
        .env("NO_COLOR", "1");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // root writes anything: run as `nobody`, for whom the files below are read-only.
        command.uid(65534).gid(65534);
    }
    command.output().unwrap()
}

#[test]
fn a_read_only_ledger_can_still_be_read() {
    use std::os::unix::fs::PermissionsExt;
    let l = ledger();
    let id = saved_bench(&l.path, &[]);
    let dir = l.dir.path();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let history = as_reader(&l.path, &["history"]);
    let show = as_reader(&l.path, &["show", "latest"]);
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(history.status.code(), Some(0), "{}", stderr(&history));
    assert!(stdout(&history).contains(&id), "{}", stdout(&history));
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    assert!(
        stdout(&show).starts_with(&format!("run      {id}\n")),
        "{}",
        stdout(&show)
    );
}

#[test]
fn gate_baseline_takes_any_run_reference() {
    let l = ledger();
    let first = saved_bench(&l.path, &["--run-name", "before"]);
    let second = saved_bench(&l.path, &[]);
    for reference in ["latest~1", &first[..16], "before"] {
        let output = plumb(&l.path, &["gate", "--baseline", reference]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = stdout(&output);
        // The table names both runs (by their ids' first 12 digits, at least).
        assert!(
            text.contains(&first[..12]) && text.contains(&second[..12]),
            "{text}"
        );
    }
    let output = plumb(&l.path, &["gate", "--baseline", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output)
            .starts_with("error: no baseline named 'nope', and no run matches 'nope'\nhint: "),
        "{}",
        stderr(&output)
    );
}

#[test]
fn baseline_set_takes_a_result_file_and_stores_its_run_once() {
    let l = ledger();
    let file = l.dir.path().join("elsewhere.json");
    let other = l.dir.path().join("other.db");
    saved_bench(&other, &["--json", file.to_str().unwrap()]);
    let latest = saved_bench(&l.path, &[]);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let output = plumb(
            &l.path,
            &["baseline", "set", "main", file.to_str().unwrap()],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = stdout(&output);
        ids.push(
            text.trim()
                .strip_prefix("baseline main -> ")
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(ids[0], ids[1], "imported twice");
    assert_ne!(ids[0], latest);
    assert_eq!(run_count(&l.path), 2);
    // The imported run keeps its own time: the run made here is still the latest.
    assert_eq!(latest_id(&l.path), latest);
    let output = plumb(&l.path, &["gate", "--baseline", "main"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_result_file_already_in_the_ledger_becomes_the_baseline_as_it_is() {
    let l = ledger();
    let file = l.dir.path().join("run.json");
    let id = saved_bench(&l.path, &["--json", file.to_str().unwrap()]);
    let output = plumb(
        &l.path,
        &["baseline", "set", "main", file.to_str().unwrap()],
    );
    assert_eq!(stdout(&output), format!("baseline main -> {id}\n"));
    assert_eq!(run_count(&l.path), 1);
}

#[test]
fn report_json_dash_writes_to_stdout() {
    let l = ledger();
    let id = saved_bench(&l.path, &[]);
    let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(["report", "latest", "--json", "-"])
        .env("PLUMB_LEDGER", &l.path)
        .current_dir(l.dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value[0]["id"], id.as_str());
    assert!(!l.dir.path().join("-").exists());
}

#[test]
fn a_result_from_a_newer_plumb_is_refused_in_words() {
    let l = ledger();
    let file = l.dir.path().join("run.json");
    saved_bench(&l.path, &["--json", file.to_str().unwrap()]);
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    value["schema_version"] = 999.into();
    let newer = l.dir.path().join("newer.json");
    std::fs::write(&newer, value.to_string()).unwrap();
    for args in [
        vec!["show", newer.to_str().unwrap()],
        vec!["compare", file.to_str().unwrap(), newer.to_str().unwrap()],
    ] {
        let output = plumb(&l.path, &args);
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(
            stderr(&output),
            format!(
                "error: '{}' was written by a newer plumb (schema 999, this plumb reads up to 1)\n\
                 hint: upgrade plumb to read it (or read it with the plumb that wrote it)\n",
                newer.display()
            )
        );
    }
}
