//! plumb-merge on fixed segments: exact sums, aligned seconds, thresholds judged on the merged
//! run, the invalid mark, and every refusal with the file it names.

use plumb_merge::{merge, MergeError, Part};
use plumb_schema::load::{LoadResult, Percentiles, SecondWindow};
use plumb_stats::{DurationHistogram, Threshold, ThresholdStatus};
use serde_json::json;
use std::time::Duration;

/// A histogram of `values` in microseconds.
fn hist(values: &[u64]) -> DurationHistogram {
    let mut h = DurationHistogram::new();
    for v in values {
        h.record(Duration::from_micros(*v));
    }
    h
}

/// Segment `index` of `count`: `latency` microseconds, one second window at each of `seconds`.
fn segment(index: u64, count: u64, latency: &[u64], seconds: &[u64]) -> Part {
    let h = hist(latency);
    let p = serde_json::to_value(Percentiles::default()).unwrap();
    let n = latency.len() as u64;
    let result = json!({
        "schema_version": 1, "kind": "load", "plumb_version": "0.1.0",
        "started_at": "2026-12-01T17:00:00.000Z", "interrupted": false, "stop_reason": null,
        "settings": {"url": "http://x/", "method": "GET", "model": "open", "connections": 100,
            "rate": 400.0, "duration_s": 2.0, "requests": null, "threads": 1, "stages": [],
            "timeout_ms": 10000.0, "http_version": "1.1"},
        "summary": {"requests": n, "rps": 0.0, "errors": 1, "error_rate": 0.0,
            "duration_s": 1.5 + index as f64, "requested_rps": 100.0, "latency_ms": p,
            "service_time_ms": p, "connect_ms": p, "ttfb_ms": p, "send_lag_ms": null,
            "missed_sends": 0, "in_flight_at_end": 1, "connections_opened": 2,
            "status_codes": {"200": n - 1, "500": 1}, "errors_by_class": {"status": 1},
            "error_details": [{"class": "status", "detail": "500", "count": 1}],
            "bytes_sent": 10, "bytes_received": 20,
            "generator": {"user_s": 0.5, "system_s": 0.25, "busiest_thread_load": 0.1 * (index + 1) as f64, "saturated": false}},
        "thresholds": [{"expression": "http_reqs: count<4", "status": "passed", "observed": n}],
        "histograms": {"latency": h.to_base64(), "service_time": h.to_base64(),
            "connect": DurationHistogram::new().to_base64(), "ttfb": h.to_base64(),
            "send_lag": DurationHistogram::new().to_base64()},
        "timeseries": seconds.iter().map(|t| SecondWindow {
            t_s: *t, requests: n, latency_histogram: Some(h.to_base64()),
            service_histogram: Some(h.to_base64()), ..SecondWindow::default()
        }).collect::<Vec<_>>(),
        "warnings": ["sends lagged"],
        "segment": {"index": index, "count": count, "start_at": "2026-12-01T17:00:00.000Z",
            "late_start_ms": 1.0, "host": format!("node-{index}"), "generator_saturated": false},
    });
    Part {
        name: format!("segment-{index}.json"),
        result: serde_json::from_value::<LoadResult>(result).unwrap(),
    }
}

fn two() -> Vec<Part> {
    vec![
        segment(1, 2, &[300, 400, 5000], &[1, 2]),
        segment(0, 2, &[100, 200, 300], &[0, 1]),
    ]
}

#[test]
fn histograms_add_bucket_by_bucket_and_counters_sum() {
    let merged = merge(two(), &[]).unwrap().result;
    let all = hist(&[100, 200, 300, 300, 400, 5000]);
    let back = DurationHistogram::from_base64(&merged.histograms.latency).unwrap();
    assert_eq!(back.buckets(), all.buckets());
    let s = &merged.summary;
    assert_eq!(s.latency_ms, plumb_load::percentiles(&all));
    assert_eq!(
        (
            s.requests,
            s.errors,
            s.in_flight_at_end,
            s.connections_opened
        ),
        (6, 2, 2, 4)
    );
    assert_eq!(s.duration_s, 2.5);
    assert_eq!(s.rps, 6.0 / 2.5);
    assert_eq!(s.requested_rps, Some(200.0));
    assert_eq!(s.status_codes["200"], 4);
    assert_eq!(s.error_details[0].count, 2);
    assert_eq!(
        (s.generator.user_s, s.generator.busiest_thread_load),
        (1.0, 0.2)
    );
    assert_eq!(merged.merged_from.as_ref().unwrap()[0].host, "node-0");
    assert_eq!(
        merged.warnings,
        ["segment 0: sends lagged", "segment 1: sends lagged"]
    );
}

#[test]
fn seconds_align_by_their_time_since_the_start() {
    let merged = merge(two(), &[]).unwrap().result;
    let t: Vec<(u64, u64)> = merged
        .timeseries
        .iter()
        .map(|w| (w.t_s, w.requests))
        .collect();
    assert_eq!(t, [(0, 3), (1, 6), (2, 3)]);
    let one = &merged.timeseries[1];
    let both = hist(&[100, 200, 300, 300, 400, 5000]);
    assert_eq!(
        one.latency_p99_ms,
        both.percentile(99.0).as_secs_f64() * 1e3
    );
    assert_eq!(
        one.service_p50_ms,
        both.percentile(50.0).as_secs_f64() * 1e3
    );
}

#[test]
fn thresholds_are_judged_on_the_merged_run_though_each_segment_passed() {
    let extra = Threshold::parse("http_req_duration: p(50)<1ms").unwrap();
    let merged = merge(two(), &[extra]).unwrap();
    let t = &merged.result.thresholds;
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0].expression.as_str(), t[0].status, t[0].observed),
        ("http_reqs: count<4", ThresholdStatus::Failed, Some(6.0))
    );
    assert_eq!(t[1].status, ThresholdStatus::Passed);
}

#[test]
fn a_saturated_generator_marks_the_merged_run_invalid() {
    let mut parts = two();
    parts[0]
        .result
        .segment
        .as_mut()
        .unwrap()
        .generator_saturated = true;
    parts[1].result.segment.as_mut().unwrap().late_start_ms = 250.0;
    let merged = merge(parts, &[]).unwrap().result;
    assert!(plumb_merge::is_invalid(&merged));
    assert!(
        merged.warnings[0]
            .starts_with("INVALID: the load generator of segment 1 on node-1 was saturated"),
        "{:?}",
        merged.warnings
    );
    assert!(
        merged.warnings[1]
            .starts_with("segments started 249 ms apart (segment 1: 1 ms, segment 0: 250 ms)"),
        "{:?}",
        merged.warnings
    );
}

fn refusal(parts: Vec<Part>) -> String {
    let err = merge(parts, &[]).unwrap_err();
    assert!(!err.hint().is_empty());
    err.to_string()
}

#[test]
fn results_of_other_tests_are_refused_by_name() {
    let mut parts = two();
    parts[1].result.settings.rate = Some(800.0);
    assert_eq!(refusal(parts), "segment-0.json is not a segment of the same test as segment-1.json: its settings differ: rate is 800.0, there 400.0");
    let mut parts = two();
    parts[1].result.segment.as_mut().unwrap().start_at = "2026-12-01T17:00:01.000Z".into();
    assert!(refusal(parts).contains("it started at 2026-12-01T17:00:01.000Z"));
    assert_eq!(
        refusal(vec![segment(0, 3, &[1], &[0]), segment(2, 3, &[1], &[0])]),
        "segment of 3 missing: 1 (given: segment-0.json, segment-2.json)"
    );
    assert_eq!(
        refusal(vec![segment(0, 2, &[1], &[0]), segment(0, 2, &[1], &[0])]),
        "segment 0 is given twice: segment-0.json and segment-0.json"
    );
    let mut parts = two();
    parts[0].result.segment = None;
    assert_eq!(
        refusal(parts),
        "segment-1.json is not a segment result: it was run without --segment"
    );
    let mut parts = two();
    parts[0].result.schema_version = 2;
    assert_eq!(
        refusal(parts),
        "segment-1.json has schema version 2, and this plumb merges version 1"
    );
    assert!(matches!(merge(Vec::new(), &[]), Err(MergeError::Empty)));
}

#[test]
fn a_histogram_of_another_precision_is_refused() {
    let mut parts = two();
    let mut theirs = hdr(2);
    theirs.record(1000).unwrap();
    parts[0].result.histograms.latency = encode(&theirs);
    let err = refusal(parts);
    assert!(
        err.starts_with("segment-1.json: the latency histogram cannot be merged exactly"),
        "{err}"
    );
}

fn hdr(digits: u8) -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1, 3_600_000_000_000, digits).unwrap()
}

fn encode(h: &hdrhistogram::Histogram<u64>) -> String {
    use base64::Engine as _;
    use hdrhistogram::serialization::Serializer as _;
    let mut bytes = Vec::new();
    hdrhistogram::serialization::V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
