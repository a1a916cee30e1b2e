//! `plumb load` renderers: text, Markdown and JSON of an open-model run with thresholds.

use plumb_schema::load::*;
use std::collections::BTreeMap;

fn percentiles(scale: f64) -> Percentiles {
    Percentiles {
        count: 176_082,
        min: 0.041 * scale,
        mean: 0.52 * scale,
        p50: 0.163 * scale,
        p90: 0.871 * scale,
        p95: 1.94 * scale,
        p99: 12.4 * scale,
        p999: 301.2 * scale,
        max: 1_204.5 * scale,
    }
}

fn result(interrupted: bool) -> LoadResult {
    LoadResult {
        schema_version: LOAD_SCHEMA_VERSION,
        kind: "load".into(),
        plumb_version: "0.1.0".into(),
        started_at: "2026-11-23T12:00:00.000Z".into(),
        interrupted,
        stop_reason: interrupted.then(|| "interrupted (Ctrl-C)".into()),
        settings: LoadSettingsRecord {
            url: "http://127.0.0.1:8080/api/orders".into(),
            method: "GET".into(),
            model: "open".into(),
            connections: 1000,
            rate: Some(20_000.0),
            duration_s: Some(10.0),
            requests: None,
            threads: 2,
            stages: vec![],
            timeout_ms: 10_000.0,
            http_version: "1.1".into(),
            streams: None,
        },
        summary: LoadSummary {
            requests: 199_987,
            rps: 19_998.7,
            errors: 12,
            error_rate: 12.0 / 199_987.0,
            duration_s: 10.0,
            requested_rps: Some(20_000.0),
            latency_ms: percentiles(1.0),
            service_time_ms: percentiles(0.5),
            connect_ms: percentiles(0.1),
            ttfb_ms: percentiles(0.45),
            send_lag_ms: Some(percentiles(0.01)),
            missed_sends: 0,
            in_flight_at_end: 3,
            connections_opened: 41,
            status_codes: BTreeMap::from([("200".into(), 199_975), ("503".into(), 12)]),
            errors_by_class: BTreeMap::from([("status".into(), 12)]),
            error_details: vec![ErrorDetail {
                class: "status".into(),
                detail: "status outside 200-399".into(),
                count: 12,
            }],
            retries: 7,
            bytes_sent: 12_799_168,
            bytes_received: 30_398_024,
            generator: GeneratorUsage {
                user_s: 1.14,
                system_s: 4.08,
                busiest_thread_load: 0.31,
                saturated: false,
            },
        },
        thresholds: vec![
            ThresholdOutcome {
                expression: "http_req_duration: p(95)<200ms".into(),
                status: plumb_stats::ThresholdStatus::Passed,
                observed: Some(1.94),
                window: None,
            },
            ThresholdOutcome {
                expression: "http_req_failed: rate<0.00001".into(),
                status: plumb_stats::ThresholdStatus::Failed,
                observed: Some(12.0 / 199_987.0),
                window: None,
            },
        ],
        histograms: LoadHistograms::default(),
        timeseries: vec![SecondWindow {
            t_s: 0,
            requests: 20_001,
            errors: 1,
            latency_p50_ms: 0.16,
            latency_p99_ms: 12.1,
            latency_max_ms: 1204.5,
            service_p50_ms: 0.08,
            bytes_received: 3_040_152,
            latency_histogram: None,
            service_histogram: None,
        }],
        warnings: vec!["12 requests waited for a free connection at the cap".into()],
        server: None,
        host_noise: None,
        db: None,
        flows: None,
        segment: None,
        merged_from: None,
    }
}

#[test]
fn text_summary() {
    insta::assert_snapshot!(plumb_report::load::text(&result(false)));
}

#[test]
fn text_summary_of_an_interrupted_run() {
    let text = plumb_report::load::text(&result(true));
    assert!(text
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("INTERRUPTED: interrupted (Ctrl-C)"));
}

#[test]
fn markdown_summary() {
    insta::assert_snapshot!(plumb_report::load::markdown(&result(false)));
}

#[test]
fn json_round_trips() {
    let text = plumb_report::load::json(&result(false));
    let back: LoadResult = serde_json::from_str(&text).unwrap();
    assert_eq!(back.summary.latency_ms, result(false).summary.latency_ms);
    insta::assert_snapshot!(text);
}

fn spread(min: f64, avg: f64, max: f64) -> plumb_schema::profile::MinAvgMax {
    plumb_schema::profile::MinAvgMax { min, avg, max }
}

#[test]
fn text_summary_with_a_watched_server() {
    use plumb_schema::profile::{
        CpuOutcome, CpuProfile, HotFunction, ResourceSummary, ResourceTimeline,
    };
    let mut r = result(false);
    r.server = Some(WatchedServer {
        pid: 4242,
        resources: ResourceTimeline {
            interval_ms: 100,
            points: vec![],
            summary: ResourceSummary {
                points: 100,
                cpu_user_percent: spread(10.0, 55.0, 80.0),
                cpu_system_percent: spread(5.0, 20.0, 19.0),
                rss_bytes: spread(10e6, 12e6, 20e6),
                threads: spread(4.0, 4.0, 8.0),
                open_fds: None,
                voluntary_ctx_switches: 12_000,
                involuntary_ctx_switches: 300,
                read_bytes: None,
                written_bytes: None,
                rss_growth_bytes_per_sec: 1e6,
                possible_leak: Some("possible leak: RSS grew steadily by 1.0 MB/s".into()),
            },
            unreadable: vec![],
            processes: None,
        },
        cpu: Some(CpuOutcome::Sampled(CpuProfile {
            frequency_hz: 99,
            unwinding: "fp".into(),
            samples: 880,
            lost_samples: 0,
            hot_functions: vec![HotFunction {
                name: "orders::lookup".into(),
                self_samples: 600,
                total_samples: 700,
                self_percent: 68.2,
                total_percent: 79.5,
            }],
            cover_80_percent: vec!["orders::lookup".into()],
            folded: vec![],
        })),
        cpu_ms_per_request: None,
    });
    let text = plumb_report::load::text(&r);
    let server: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("server") || l.contains("leak"))
        .collect();
    insta::assert_snapshot!(server.join("\n"));
}
