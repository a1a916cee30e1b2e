//! Profiles are runs: saved in the ledger, listed in history, shown, compared function by
//! function (with a differential flamegraph), gated and reported. The fixture `plumb-fixture-hot`
//! does a fixed amount of work; `PLUMB_FIXTURE_HOT_UNITS=2` makes its hottest function 3.5x
//! cheaper, the "optimization" compared here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn plumb(ledger: &Path, args: &[&str], hot_units: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("PLUMB_LEDGER", ledger)
        .env("PLUMB_FIXTURE_HOT_UNITS", hot_units)
        .env_remove("PLUMB_NO_SAVE")
        .output()
        .expect("plumb runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hot_fixture() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_plumb")).with_file_name("plumb-fixture-hot")
}

/// Profile the fixture's fixed work, saved under `name`.
fn profile(ledger: &Path, name: &str, hot_units: &str) {
    let hot = hot_fixture();
    let out = plumb(
        ledger,
        &[
            "profile",
            "--frequency",
            "499",
            "--run-name",
            name,
            "--",
            hot.to_str().unwrap(),
            "--rounds",
            "40000",
        ],
        hot_units,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_profile_is_a_run_that_compare_gate_and_report_read() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    profile(&ledger, "before", "7");
    profile(&ledger, "after", "2");

    let history = plumb(&ledger, &["history"], "7");
    let listed = text(&history.stdout);
    assert!(listed.contains("profile"), "{listed}");
    assert!(listed.contains("hot_seventy"), "{listed}");

    let svg = dir.path().join("diff.svg");
    let compare = plumb(
        &ledger,
        &[
            "compare",
            "before",
            "after",
            "--flamegraph",
            svg.to_str().unwrap(),
        ],
        "7",
    );
    let table = text(&compare.stdout);
    assert!(
        compare.status.success(),
        "{table}\n{}",
        text(&compare.stderr)
    );
    let hot_row = table
        .lines()
        .find(|line| line.contains("hot_seventy"))
        .unwrap_or_else(|| panic!("a hot_seventy row: {table}"));
    assert!(hot_row.contains("improved"), "{hot_row}");
    let warm_row = table
        .lines()
        .find(|line| line.contains("warm_twenty"))
        .unwrap_or_else(|| panic!("a warm_twenty row: {table}"));
    assert!(
        !warm_row.contains("regressed") && !warm_row.contains("improved"),
        "warm_twenty's work did not change: {warm_row}"
    );
    let picture = std::fs::read_to_string(&svg).expect("the differential flamegraph");
    assert!(picture.starts_with("<?xml") && picture.contains("hot_seventy"));

    let gate = plumb(&ledger, &["gate", "after", "--baseline", "before"], "7");
    assert_eq!(gate.status.code(), Some(0), "{}", text(&gate.stdout));
    let gate_back = plumb(&ledger, &["gate", "before", "--baseline", "after"], "7");
    assert_eq!(
        gate_back.status.code(),
        Some(1),
        "{}",
        text(&gate_back.stdout)
    );

    let shown = plumb(&ledger, &["show", "before", "-o", "markdown"], "7");
    assert!(
        text(&shown.stdout).contains("| 1 |"),
        "{}",
        text(&shown.stdout)
    );

    let html = dir.path().join("report.html");
    let report = plumb(
        &ledger,
        &[
            "report",
            "before",
            "after",
            "--html",
            html.to_str().unwrap(),
        ],
        "7",
    );
    assert!(report.status.success(), "{}", text(&report.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h2>Profile") && page.contains("data:image/svg+xml;base64,"));
    assert!(page.contains("hot_seventy") && page.contains("<h2>Comparison</h2>"));

    // The optimization log: the note on the latest run, measured against the run before it,
    // with the same figures as `plumb compare`.
    let note = plumb(&ledger, &["note", "hot_seventy made 3.5x cheaper"], "7");
    assert!(note.status.success(), "{}", text(&note.stderr));
    let log = plumb(&ledger, &["log"], "7");
    let listed = text(&log.stdout);
    assert!(listed.contains("hot_seventy made 3.5x cheaper"), "{listed}");
    let impact = listed
        .lines()
        .find(|line| line.contains("plumb_fixture_hot::hot_seventy"))
        .unwrap_or_else(|| panic!("the hot function's impact: {listed}"));
    assert!(impact.contains("improved"), "{impact}");
    let cells: Vec<&str> = hot_row.split_whitespace().collect();
    let before_ms = cells
        .iter()
        .position(|c| *c == "ms")
        .map(|i| cells[i - 1])
        .unwrap();
    assert!(
        impact.contains(before_ms),
        "log {impact} vs compare {hot_row}"
    );
    let markdown = text(&plumb(&ledger, &["log", "-o", "markdown"], "7").stdout);
    assert!(
        markdown.contains("| When | Change | Run | Against | Impact |"),
        "{markdown}"
    );
    let log_html = dir.path().join("log.html");
    let written = plumb(&ledger, &["log", "--html", log_html.to_str().unwrap()], "7");
    assert!(written.status.success(), "{}", text(&written.stderr));
    let page = std::fs::read_to_string(&log_html).unwrap();
    assert!(page.contains("<h2>Optimization log</h2>"), "{page}");
    assert!(page.contains("hot_seventy made 3.5x cheaper"), "{page}");
    assert!(
        page.contains("<td class=\"good\">"),
        "the improvement is coloured: {page}"
    );
}

/// A server that answers every byte after 8 ms; returns its port.
fn slow_echo_server() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut byte = [0u8; 1];
            while stream.read_exact(&mut byte).is_ok() {
                std::thread::sleep(std::time::Duration::from_millis(8));
                if stream.write_all(&byte).is_err() {
                    break;
                }
            }
        }
    });
    port
}

/// Without the privilege to sample context switches (an ordinary user at perf_event_paranoid
/// 2), the wall-clock split is still measured and the report says what would add stacks.
#[test]
fn an_unprivileged_user_gets_the_waiting_split_and_the_setting_for_stacks() {
    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok());
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || paranoid != Some(2) || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!(
            "SKIPPED LOUDLY: this test runs plumb as `nobody` through setpriv, which needs root, /usr/bin/setpriv and perf_event_paranoid 2 (have root={root}, paranoid={paranoid:?})"
        );
        return;
    }
    let port = slow_echo_server().to_string();
    let wait = Path::new(env!("CARGO_BIN_EXE_plumb")).with_file_name("plumb-fixture-wait");
    let out = Command::new("/usr/bin/setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_plumb"))
        .args(["profile", "--no-save", "--"])
        .arg(&wait)
        .args([port.as_str(), "50", "2"])
        .env("NO_COLOR", "1")
        .output()
        .expect("setpriv runs");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let split = stdout
        .lines()
        .find(|line| line.starts_with("Wall-clock time of 1 thread"))
        .unwrap_or_else(|| panic!("the wall-clock split: {stdout}"));
    let share = |what: &str| -> f64 {
        split
            .split([',', ':'])
            .map(str::trim)
            .find(|part| part.ends_with(what))
            .and_then(|part| {
                part.trim_end_matches(what)
                    .trim()
                    .trim_end_matches('%')
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("a share {what} in {split}"))
    };
    // Of the time the thread was not kept from running by others (runnable time grows on a busy
    // machine), 80% is spent waiting.
    let (on_cpu, waiting) = (share("on CPU"), share("waiting"));
    let blocked = waiting / (on_cpu + waiting);
    assert!((0.65..=0.92).contains(&blocked), "truth 80%: {split}");
    assert!(
        stdout.contains("no waiting stacks: waits by stack need the kernel's context-switch event, which perf_event_paranoid 2 refuses"),
        "{stdout}"
    );
}

/// `--wall-flamegraph` draws CPU samples and waits on one time axis: the fixture's wait in
/// `wait_for_reply` ends in a `[waiting]` frame, its `compute` does not.
#[test]
fn the_wall_clock_flamegraph_shows_the_waits_beside_the_cpu() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED LOUDLY: waits by stack need root or perf_event_paranoid <= 1 here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("wall.svg");
    let port = slow_echo_server().to_string();
    let wait = Path::new(env!("CARGO_BIN_EXE_plumb")).with_file_name("plumb-fixture-wait");
    let out = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args([
            "profile",
            "--no-save",
            "--unwind",
            "dwarf",
            "--wall-flamegraph",
        ])
        .arg(&svg)
        .arg("--")
        .arg(&wait)
        .args([port.as_str(), "50", "2"])
        .env("NO_COLOR", "1")
        .output()
        .expect("plumb runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let picture = std::fs::read_to_string(&svg).expect("the wall-clock flamegraph");
    assert!(picture.contains("[waiting]"), "no waiting frame");
    assert!(picture.contains("wait_for_reply") && picture.contains("compute"));
}
