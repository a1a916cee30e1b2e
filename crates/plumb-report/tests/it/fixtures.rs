//! Fixed results of every kind for the HTML tests: a load run whose figures come from a real
//! histogram of a known distribution (so the page's percentiles can be checked exactly), a
//! bench run, a profile and a capacity search.

use plumb_schema::bench::BenchReport;
use plumb_schema::capacity::CapacityResult;
use plumb_schema::load::*;
use plumb_schema::profile::ProfileReport;
use plumb_stats::DurationHistogram;
use std::collections::BTreeMap;
use std::time::Duration;

/// Seconds in the load fixture.
pub const SECONDS: u64 = 20;
/// Requests per second in the load fixture.
pub const PER_SECOND: u64 = 500;

/// Errors in the load fixture: 2 a second, 6 in the slow seconds.
pub const ERRORS: u64 = 2 * SECONDS + 4 * 4;

/// The latency of request `i` of a second, in ms: mostly 1-3 ms with a tail to about 40 ms.
fn latency_ms(i: u64, scale: f64) -> f64 {
    let u = ((i * 7919) % PER_SECOND) as f64 / PER_SECOND as f64;
    scale * (1.0 + 2.0 * u + 40.0 * u.powi(12))
}

/// A threshold `observed < bound`, judged (read from JSON, as a saved result is).
fn judged(expression: &str, observed: f64, bound: f64) -> ThresholdOutcome {
    let status = if observed < bound { "passed" } else { "failed" };
    serde_json::from_value(serde_json::json!({
        "expression": expression, "status": status, "observed": observed
    }))
    .expect("a threshold outcome parses")
}

fn percentiles(h: &DurationHistogram) -> Percentiles {
    Percentiles::of(h)
}

/// A 20 s open-model run at 500 req/s with latencies scaled by `scale`, slower in seconds 8 to
/// 11, and 56 errors (HTTP 503).
pub fn load(scale: f64) -> LoadResult {
    let mut total = DurationHistogram::new();
    let mut timeseries = Vec::new();
    for t in 0..SECONDS {
        let mut second = DurationHistogram::new();
        for i in 0..PER_SECOND {
            // Seconds 8 to 11 are slower: a pause on the server.
            let slow = if (8..12).contains(&t) {
                1.6
            } else {
                1.0 + 0.02 * (t % 3) as f64
            };
            let d = Duration::from_secs_f64(latency_ms(i, scale * slow) / 1e3);
            second.record(d);
        }
        total.merge(&second);
        let p = percentiles(&second);
        timeseries.push(SecondWindow {
            t_s: t,
            requests: PER_SECOND,
            errors: if (8..12).contains(&t) { 6 } else { 2 },
            latency_p50_ms: p.p50,
            latency_p99_ms: p.p99,
            latency_max_ms: p.max,
            service_p50_ms: p.p50 * 0.9,
            bytes_received: PER_SECOND * 1000,
            latency_histogram: Some(second.to_base64()),
            service_histogram: None,
        });
    }
    let latency = percentiles(&total);
    let requests = SECONDS * PER_SECOND;
    LoadResult {
        schema_version: LOAD_SCHEMA_VERSION,
        kind: "load".into(),
        plumb_version: "0.1.0".into(),
        started_at: "2026-12-01T12:00:00.000Z".into(),
        interrupted: false,
        stop_reason: None,
        settings: LoadSettingsRecord {
            url: "http://127.0.0.1:8080/api/orders".into(),
            method: "GET".into(),
            model: "open".into(),
            connections: 64,
            rate: Some(PER_SECOND as f64),
            duration_s: Some(SECONDS as f64),
            requests: None,
            threads: 2,
            stages: vec![],
            timeout_ms: 10_000.0,
            http_version: "1.1".into(),
            streams: None,
        },
        summary: LoadSummary {
            requests,
            rps: PER_SECOND as f64,
            errors: ERRORS,
            error_rate: ERRORS as f64 / requests as f64,
            duration_s: SECONDS as f64,
            requested_rps: Some(PER_SECOND as f64),
            service_time_ms: latency.clone(),
            connect_ms: Percentiles {
                count: 64,
                min: 0.05,
                mean: 0.08,
                p50: 0.07,
                p90: 0.1,
                p95: 0.12,
                p99: 0.2,
                p999: 0.2,
                max: 0.2,
            },
            ttfb_ms: latency.clone(),
            latency_ms: latency.clone(),
            send_lag_ms: None,
            missed_sends: 0,
            in_flight_at_end: 0,
            connections_opened: 64,
            status_codes: BTreeMap::from([
                ("200".into(), requests - ERRORS),
                ("503".into(), ERRORS),
            ]),
            errors_by_class: BTreeMap::from([("status".into(), ERRORS)]),
            error_details: vec![ErrorDetail {
                class: "status".into(),
                detail: "status outside 200-399".into(),
                count: ERRORS,
            }],
            retries: 0,
            bytes_sent: requests * 100,
            bytes_received: requests * 1000,
            generator: GeneratorUsage::default(),
        },
        thresholds: vec![
            judged("http_req_duration: p(95)<40ms", latency.p95, 40.0),
            judged("http_req_duration: p(99)<40ms", latency.p99, 40.0),
            judged(
                "http_req_failed: rate<0.001",
                ERRORS as f64 / requests as f64,
                0.001,
            ),
        ],
        histograms: LoadHistograms {
            latency: total.to_base64(),
            ..LoadHistograms::default()
        },
        timeseries,
        warnings: vec!["the host was busy: load average 3.1 on 2 CPUs".into()],
        server: None,
        host_noise: None,
        db: None,
        flows: None,
        segment: None,
        merged_from: None,
    }
}

/// A bench run of two commands, `build` about 10 ms and `test` about 25 ms, times `scale`.
pub fn bench(scale: f64) -> BenchReport {
    let runs = |base: f64| -> Vec<serde_json::Value> {
        (0..20)
            .map(|i| {
                let wall = scale * base * (1.0 + 0.02 * ((i * 7) % 11) as f64);
                serde_json::json!({"round": i, "wall_seconds": wall, "user_seconds": wall * 0.6,
                "system_seconds": wall * 0.2, "peak_rss_bytes": 4_000_000, "voluntary_context_switches": 1,
                "involuntary_context_switches": 0, "block_input_ops": 0, "block_output_ops": 0,
                "exit_code": 0, "signal": null})
            })
            .collect()
    };
    let benchmark = |name: &str, base: f64| {
        serde_json::json!({"name": name, "command": format!("make {name}"), "parameters": {},
            "runs": runs(base),
            "stats": {"runs": 20, "wall": {"mean_seconds": base * scale * 1.1, "stddev_seconds": base * scale * 0.06,
                "median_seconds": base * scale * 1.1, "mad_seconds": 0.0, "min_seconds": base * scale,
                "max_seconds": base * scale * 1.2}, "user_mean_seconds": 0.006, "system_mean_seconds": 0.002,
                "peak_rss_median_bytes": 4_000_000, "peak_rss_max_bytes": 4_000_000,
                "voluntary_context_switches_mean": 1.0, "involuntary_context_switches_mean": 0.0},
            "outliers": {"z_threshold": 3.5, "indices": [], "slow_first_run": false}})
    };
    serde_json::from_value(serde_json::json!({
        "schema_version": 1, "plumb_version": "0.1.0",
        "settings": {"warmup_runs": 3, "shell": "sh", "order": "interleaved", "seed": 1,
                     "prepare": null, "setup": null, "cleanup": null},
        "interrupted": false, "shell_overhead": null, "peak_rss_floor_bytes": null,
        "benchmarks": [benchmark("build", 0.010), benchmark("test", 0.025)],
        "comparison": null
    }))
    .expect("the bench fixture parses")
}

/// A 5 s profile of `./server` with three hot functions and a CPU and memory timeline.
pub fn profile() -> ProfileReport {
    let points: Vec<serde_json::Value> = (0..50)
        .map(|i| {
            serde_json::json!({"t_secs": i as f64 * 0.1, "cpu_user_percent": 60.0 + (i % 5) as f64,
            "cpu_system_percent": 10.0, "rss_bytes": 20_000_000 + i * 100_000, "threads": 4,
            "voluntary_ctx_switches": 10, "involuntary_ctx_switches": 1, "read_bytes": null,
            "written_bytes": null, "open_fds": 12, "processes": null})
        })
        .collect();
    let spread =
        |min: f64, avg: f64, max: f64| serde_json::json!({"min": min, "avg": avg, "max": max});
    let hot = |name: &str, s: u64, p: f64| serde_json::json!({"name": name, "self_samples": s, "total_samples": s, "self_percent": p, "total_percent": p});
    serde_json::from_value(serde_json::json!({
        "schema_version": 1,
        "target": {"pid": 4242, "command": ["./server", "--port", "8080"], "exit_code": 0},
        "duration_secs": 5.0,
        "cpu": {"status": "sampled", "frequency_hz": 99, "unwinding": "fp", "samples": 495, "lost_samples": 0,
                "hot_functions": [hot("orders::lookup", 347, 70.1), hot("json::encode", 99, 20.0), hot("main", 49, 9.9)],
                "cover_80_percent": ["orders::lookup", "json::encode"], "folded": []},
        "resources": {"interval_ms": 100, "points": points,
            "summary": {"points": 50, "cpu_user_percent": spread(60.0, 62.0, 64.0),
                "cpu_system_percent": spread(10.0, 10.0, 10.0), "rss_bytes": spread(20e6, 22.5e6, 24.9e6),
                "threads": spread(4.0, 4.0, 4.0), "open_fds": null, "voluntary_ctx_switches": 500,
                "involuntary_ctx_switches": 50, "read_bytes": null, "written_bytes": null,
                "rss_growth_bytes_per_sec": 1e6, "possible_leak": "possible leak: RSS grew steadily by 1.0 MB/s"},
            "unreadable": []},
        "notes": ["2 threads were idle the whole time"],
        "plumb_version": "0.1.0"
    }))
    .expect("the profile fixture parses")
}

/// A capacity search that sustained 400 req/s and failed at 800.
pub fn capacity() -> CapacityResult {
    let step = |rate: f64, p99: f64, verdict: &str, confirmation: bool| {
        serde_json::json!({"rate": rate, "confirmation": confirmation, "requests": (rate * 5.0) as u64,
        "errors": 0, "achieved_rps": rate.min(600.0), "error_rate": 0.0, "observed": p99,
        "observed_low": p99 * 0.9, "observed_high": p99 * 1.1, "p50_ms": p99 / 4.0, "p99_ms": p99,
        "concurrency": rate * p99 / 4000.0, "verdict": verdict, "reason": if verdict == "pass" { "p(99) within the goal" } else { "p(99) above the goal" }})
    };
    serde_json::from_value(serde_json::json!({
        "schema_version": 1, "kind": "capacity", "plumb_version": "0.1.0",
        "started_at": "2026-12-01T12:00:00.000Z", "url": "http://127.0.0.1:8080/",
        "goal": "p(99)<50ms", "max_error_rate": 0.01, "settle_s": 2.0, "measure_s": 5.0, "precision": 0.1,
        "steps": [step(100.0, 8.0, "pass", false), step(200.0, 9.0, "pass", false), step(400.0, 14.0, "pass", false),
                  step(800.0, 180.0, "fail", false), step(566.0, 60.0, "fail", false), step(400.0, 15.0, "pass", true)],
        "sustained_rps": 400.0, "failing_rps": 566.0, "margin": 0.41, "limited_by": "latency",
        "usl": null, "knee_rps": null,
        "headline": "sustains 400 req/s within p(99)<50ms; fails at 566 req/s", "interrupted": false
    }))
    .expect("the capacity fixture parses")
}
