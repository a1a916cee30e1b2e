//! Thresholds read the same values back from a saved result as from the live run.

use plumb_compare::{check_saved, SavedLoadMetrics};
use plumb_load::{load_metrics, ErrorClass, Exchange, LoadReport, LoadSettings, Recorder};
use plumb_stats::{Aggregation, Metric, MetricSource, Threshold, ThresholdStatus};
use std::time::{Duration, SystemTime};

fn report() -> LoadReport {
    let mut totals = Recorder::new();
    for i in 0..1000u64 {
        let d = Duration::from_micros(500 + 37 * (i % 100));
        let failed = (i % 100 == 0).then_some(ErrorClass::Status);
        let exchange = Exchange {
            latency: d,
            service: d / 2,
            ttfb: d / 4,
            status: if failed.is_some() { 500 } else { 200 },
            bytes_sent: 100,
            bytes_received: 1000,
        };
        totals.record_exchange(&exchange, failed);
    }
    LoadReport {
        started_at: SystemTime::UNIX_EPOCH,
        elapsed: Duration::from_secs(2),
        totals,
        series: Vec::new(),
        in_flight_at_end: 0,
        missed_sends: 0,
        cap_waits: 0,
        generator: Default::default(),
        stop_reason: None,
        requested_rate: None,
        late_start: Duration::ZERO,
    }
}

#[test]
fn thresholds_read_the_same_values_back_from_a_saved_result() {
    let _serial = crate::support::serial();
    let live = report();
    let result = live.to_result(&LoadSettings::new("http://127.0.0.1/"), Vec::new());
    let saved = SavedLoadMetrics::from_result(&result).unwrap();
    let live_metrics = load_metrics(&live.totals, live.elapsed);
    for (metric, aggregation) in [
        (Metric::HttpReqDuration, Aggregation::Percentile(95.0)),
        (Metric::HttpReqServiceTime, Aggregation::Max),
        (Metric::HttpReqWaiting, Aggregation::Med),
        (Metric::HttpReqFailed, Aggregation::Rate),
        (Metric::HttpReqs, Aggregation::Rate),
        (Metric::DataSent, Aggregation::Count),
    ] {
        assert_eq!(
            saved.metrics().value(metric, aggregation),
            live_metrics.value(metric, aggregation),
            "{metric:?}"
        );
    }
    let thresholds: Vec<Threshold> = ["http_req_failed: rate<0.02", "http_req_duration: p(99)<1ms"]
        .iter()
        .map(|t| Threshold::parse(t).unwrap())
        .collect();
    let checked = check_saved(&thresholds, &saved, Some(&saved));
    assert_eq!(checked[0].status, ThresholdStatus::Passed);
    assert_eq!(checked[0].observed, Some(0.01));
    assert_eq!(checked[0].baseline, Some(0.01));
    assert_eq!(checked[1].status, ThresholdStatus::Failed);
}
