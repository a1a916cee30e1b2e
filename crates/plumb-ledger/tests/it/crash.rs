//! Real writer processes: one killed with SIGKILL in the middle of saving leaves a readable ledger
//! with every run it had committed; two saving at once both succeed.

use plumb_ledger::{HistoryFilter, Ledger};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const WRITER: &str = env!("CARGO_BIN_EXE_plumb-ledger-writer");

#[test]
fn sigkill_mid_save_keeps_every_committed_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    // Large results (2 MiB each) so the writer spends most of its time inside a save.
    let mut child = Command::new(WRITER)
        .args([db.to_str().unwrap(), "0", "2048"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut committed = 0;
    while committed < 3 {
        let line = lines.next().expect("the writer reports saves").unwrap();
        committed = line.trim_start_matches("saved ").parse().unwrap();
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGKILL) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL)
    );

    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let ledger = Ledger::open(&db).unwrap();
    let runs = ledger.history(&HistoryFilter::default()).unwrap();
    assert!(
        runs.len() >= committed as usize,
        "{} < {committed}",
        runs.len()
    );
    for run in &runs {
        ledger
            .get(&run.id)
            .expect("every stored run reads back whole");
    }
}

#[test]
fn two_processes_saving_at_once_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh/ledger.db");
    let spawn = || {
        Command::new(WRITER)
            .args([db.to_str().unwrap(), "25", "16"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let ledger = Ledger::open(&db).unwrap();
    assert_eq!(ledger.count().unwrap(), 50);
}
