//! Saving, listing and resolving runs; baselines; where the ledger is found.

use crate::new_run;
use plumb_ledger::{locate, HistoryFilter, Ledger, LedgerError, ReadResult, RunResult};
use std::path::Path;

fn ledger_in(dir: &tempfile::TempDir) -> Ledger {
    Ledger::open(&dir.path().join(".plumb/ledger.db")).unwrap()
}

#[test]
fn a_saved_run_reads_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = ledger_in(&dir);
    let mut run = new_run(Some("api"), &[("branch", "main")], 1);
    run.git = Some(plumb_ledger::GitInfo {
        commit: "abc123".into(),
        dirty: true,
    });
    let id = ledger.save(&run).unwrap();
    assert_eq!(id.len(), 20);
    let record = ledger.get(&id).unwrap();
    assert_eq!(record.name.as_deref(), Some("api"));
    assert_eq!(
        record.labels.get("branch").map(String::as_str),
        Some("main")
    );
    assert_eq!(record.git, run.git);
    assert_eq!(record.host, Some(run.host.clone()));
    assert_eq!(record.started_at, "2023-11-14T22:13:21.000Z");
    let RunResult::Bench(report) = record.result else {
        panic!("a bench run comes back as a bench run")
    };
    assert_eq!(report.benchmarks[0].runs.len(), 3, "every sample is kept");
}

#[test]
fn history_is_newest_first_and_filters_by_name_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = ledger_in(&dir);
    ledger
        .save(&new_run(Some("a"), &[("env", "ci")], 1))
        .unwrap();
    ledger
        .save(&new_run(Some("b"), &[("env", "ci")], 2))
        .unwrap();
    ledger
        .save(&new_run(Some("a"), &[("env", "dev")], 3))
        .unwrap();
    let all = ledger.history(&HistoryFilter::default()).unwrap();
    let names: Vec<_> = all.iter().map(|r| r.name.clone().unwrap()).collect();
    assert_eq!(names, ["a", "b", "a"]);
    assert_eq!(all[0].labels.get("env").map(String::as_str), Some("dev"));
    let filter = HistoryFilter {
        name: Some("a".into()),
        labels: [("env".to_owned(), "ci".to_owned())].into(),
        limit: None,
    };
    let only = ledger.history(&filter).unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].id, all[2].id);
    let limited = HistoryFilter {
        limit: Some(2),
        ..HistoryFilter::default()
    };
    assert_eq!(ledger.history(&limited).unwrap().len(), 2);
}

#[test]
fn latest_tilde_prefix_and_baseline_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = ledger_in(&dir);
    let first = ledger.save(&new_run(None, &[], 1)).unwrap();
    let second = ledger.save(&new_run(None, &[], 2)).unwrap();
    assert_eq!(ledger.resolve_id("latest").unwrap(), second);
    assert_eq!(ledger.resolve_id("latest~1").unwrap(), first);
    assert_eq!(ledger.resolve_id(&second[..16]).unwrap(), second);
    ledger.set_baseline("main", "latest~1").unwrap();
    assert_eq!(ledger.resolve_id("baseline:main").unwrap(), first);
    ledger.set_baseline("main", "latest").unwrap();
    assert_eq!(ledger.resolve_id("baseline:main").unwrap(), second);
    let baselines = ledger.baselines().unwrap();
    assert_eq!(baselines.len(), 1);
    assert_eq!(baselines[0].run_id, second);
}

#[test]
fn bad_references_name_themselves_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = ledger_in(&dir);
    let a = ledger.save(&new_run(None, &[], 1)).unwrap();
    ledger.save(&new_run(None, &[], 1)).unwrap();
    let common = &a[..12]; // same millisecond: both ids share it
    let err = ledger.resolve_id(common).unwrap_err();
    assert!(matches!(err, LedgerError::AmbiguousRun { .. }), "{err}");
    assert!(err.to_string().contains(common));
    let err = ledger.resolve_id("ffff").unwrap_err();
    assert!(err.to_string().contains("'ffff'"), "{err}");
    assert!(err.hint().contains("plumb history"));
    let err = ledger.resolve_id("latest~9").unwrap_err();
    assert!(matches!(err, LedgerError::UnknownRun { .. }));
    let err = ledger.resolve_id("baseline:nope").unwrap_err();
    assert!(err.to_string().contains("'nope'"));
    assert!(err.hint().contains("plumb baseline set"));
}

#[test]
fn a_corrupt_result_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("result.json");
    std::fs::write(&path, "{\"kind\": \"load\", \"oops\": 1}").unwrap();
    let err = RunResult::from_file(&path).unwrap_err();
    assert!(err.to_string().contains("result.json"), "{err}");
    std::fs::write(&path, "not json").unwrap();
    let err = RunResult::from_file(&path).unwrap_err();
    assert!(err.to_string().contains("is not a plumb"), "{err}");
}

#[test]
fn the_ledger_is_found_like_git() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let deep = root.join("a/b/c");
    std::fs::create_dir_all(&deep).unwrap();
    assert_eq!(locate(None, &deep), deep.join(".plumb/ledger.db"));
    std::fs::create_dir_all(root.join("a/.git")).unwrap();
    assert_eq!(locate(None, &deep), root.join("a/.plumb/ledger.db"));
    std::fs::create_dir_all(root.join("a/b/.plumb")).unwrap();
    assert_eq!(locate(None, &deep), root.join("a/b/.plumb/ledger.db"));
    let explicit = Path::new("/elsewhere/l.db");
    assert_eq!(locate(Some(explicit), &deep), explicit);
}

#[test]
fn opening_creates_a_wal_database() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(&dir);
    assert!(dir.path().join(".plumb/ledger.db").exists());
    assert_eq!(
        ledger.schema_version().unwrap(),
        plumb_ledger::SCHEMA_VERSION
    );
    let conn = rusqlite::Connection::open(ledger.path()).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}
