//! Test helper: saves synthetic runs into a ledger, printing `saved N` after each commit, so tests
//! can kill it mid-save (SIGKILL) or run two at once. Usage: `plumb-ledger-writer DB COUNT KIB`
//! (COUNT 0 saves until killed; KIB pads each result to about that size).

use plumb_ledger::{HostFingerprint, Ledger, NewRun, ReadResult, RunResult};
use std::io::Write;
use std::time::SystemTime;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, db, count, kib] = args.as_slice() else {
        eprintln!("usage: plumb-ledger-writer DB COUNT KIB");
        std::process::exit(2);
    };
    let count: u64 = count.parse().expect("COUNT is a number");
    let kib: usize = kib.parse().expect("KIB is a number");
    let mut ledger = Ledger::open(std::path::Path::new(db)).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    });
    let mut stdout = std::io::stdout().lock();
    let mut n = 0;
    while count == 0 || n < count {
        n += 1;
        let run = synthetic_run(n, kib);
        if let Err(e) = ledger.save(&run) {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
        let _ = writeln!(stdout, "saved {n}");
        let _ = stdout.flush();
    }
}

fn synthetic_run(n: u64, kib: usize) -> NewRun {
    let text = format!(
        r#"{{"schema_version":1,"plumb_version":"test","settings":{{"warmup_runs":0,"shell":null,
        "order":"interleaved","seed":{n},"prepare":null,"setup":null,"cleanup":null}},
        "interrupted":false,"shell_overhead":null,"peak_rss_floor_bytes":null,"benchmarks":[],
        "comparison":null}}"#
    );
    let mut result = RunResult::from_json("synthetic", &text).expect("a valid bench report");
    if let RunResult::Bench(report) = &mut result {
        report.settings.prepare = Some("x".repeat(kib * 1024));
    }
    NewRun {
        name: Some(format!("writer-{}", std::process::id())),
        labels: [("n".to_owned(), n.to_string())].into(),
        started_at: SystemTime::now(),
        ended_at: SystemTime::now(),
        command_line: "plumb-ledger-writer".into(),
        plumb_version: "test".into(),
        git: None,
        host: HostFingerprint::current(),
        result,
    }
}
