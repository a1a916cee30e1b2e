//! Integration tests of the ledger against real SQLite files in temporary directories, and real
//! writer processes (killed with SIGKILL, or two at once).

mod crash;
mod migrate;
mod store;

use plumb_ledger::{HostFingerprint, NewRun, ReadResult, RunResult};
use std::time::{Duration, SystemTime};

/// A small bench result with one benchmark named `name` whose runs take `walls` seconds.
pub fn bench_result(name: &str, walls: &[f64]) -> RunResult {
    let runs: Vec<_> = walls
        .iter()
        .enumerate()
        .map(|(i, w)| {
            serde_json::json!({"round": i + 1, "wall_seconds": w, "user_seconds": w / 2.0,
            "system_seconds": w / 4.0, "peak_rss_bytes": 1_000_000, "voluntary_context_switches": 1,
            "involuntary_context_switches": 0, "block_input_ops": 0, "block_output_ops": 0,
            "exit_code": 0, "signal": null})
        })
        .collect();
    let median = plumb_stats_median(walls);
    let json = serde_json::json!({
        "schema_version": 1, "plumb_version": "0.1.0",
        "settings": {"warmup_runs": 0, "shell": null, "order": "interleaved", "seed": 1,
                     "prepare": null, "setup": null, "cleanup": null},
        "interrupted": false, "shell_overhead": null, "peak_rss_floor_bytes": null,
        "benchmarks": [{"name": name, "command": name, "parameters": {}, "runs": runs,
            "stats": {"runs": walls.len(), "wall": {"mean_seconds": median, "stddev_seconds": null,
                "median_seconds": median, "mad_seconds": 0.0, "min_seconds": median,
                "max_seconds": median}, "user_mean_seconds": 0.0, "system_mean_seconds": 0.0,
                "peak_rss_median_bytes": 1_000_000, "peak_rss_max_bytes": 1_000_000,
                "voluntary_context_switches_mean": 1.0, "involuntary_context_switches_mean": 0.0},
            "outliers": {"z_threshold": 3.5, "indices": [], "slow_first_run": false}}],
        "comparison": null
    });
    RunResult::from_json("fixture", &json.to_string()).expect("a valid bench report")
}

fn plumb_stats_median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A run to save, `seconds` after a fixed epoch so ids sort in the order runs are made.
pub fn new_run(name: Option<&str>, labels: &[(&str, &str)], seconds: u64) -> NewRun {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seconds);
    NewRun {
        name: name.map(str::to_owned),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        started_at: start,
        ended_at: start + Duration::from_secs(1),
        command_line: "plumb bench 'sleep 0.01'".into(),
        plumb_version: "0.1.0".into(),
        git: None,
        host: HostFingerprint::current(),
        result: bench_result("sleep", &[0.010, 0.011, 0.012]),
    }
}
