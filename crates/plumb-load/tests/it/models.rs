//! Closed and open models, stages, request counts, and coordinated-omission correction.

use crate::support::{ms, run, settings, target};
use plumb_load::{ErrorClass, LoadModel, Stage};
use plumb_target::{Stall, TargetSettings};
use std::time::Duration;

#[test]
fn closed_model_against_the_target_counts_every_response() {
    let t = target(TargetSettings::default());
    let report = run(&settings(
        &t.url("/"),
        LoadModel::Closed { connections: 4 },
        500,
    ));
    assert!(
        report.totals.requests > 100,
        "only {} requests",
        report.totals.requests
    );
    assert_eq!(report.totals.errors, 0);
    assert_eq!(
        report.totals.statuses().collect::<Vec<_>>(),
        vec![(200, report.totals.requests)]
    );
    assert_eq!(report.totals.latency.len(), report.totals.requests);
    assert_eq!(report.totals.connections_opened, 4);
    assert!(report.totals.bytes_received >= report.totals.requests * 13);
}

#[test]
fn request_count_is_exact_across_threads() {
    let t = target(TargetSettings::default());
    let mut s = settings(&t.url("/"), LoadModel::Closed { connections: 5 }, 0);
    s.duration = None;
    s.requests = Some(1_003);
    s.threads = 2;
    let report = run(&s);
    assert_eq!(report.totals.requests, 1_003);
    assert_eq!(report.in_flight_at_end, 0);
}

#[test]
fn open_model_achieves_the_requested_rate() {
    let t = target(TargetSettings::default());
    let model = LoadModel::Open {
        rate: 400.0,
        max_connections: 50,
    };
    let report = run(&settings(&t.url("/"), model, 2_000));
    // Every scheduled request is accounted for: completed, in flight at the end, or missed (a
    // loaded test machine may delay the last few sends past the end; they are counted, not lost).
    let accounted = report.totals.requests + report.in_flight_at_end + report.missed_sends;
    assert!(
        (799..=801).contains(&accounted),
        "{accounted} of 800 scheduled"
    );
    let sent = report.totals.requests as f64;
    assert!((sent - 800.0).abs() <= 16.0, "sent {sent} of 800 scheduled");
    assert!(report.missed_sends <= 16, "{} missed", report.missed_sends);
    assert_eq!(
        report.totals.send_lag.len(),
        report.totals.requests + report.in_flight_at_end
    );
}

#[test]
fn open_model_stages_follow_the_ramp() {
    let t = target(TargetSettings::default());
    // 0 -> 400 rps over 1 s (200 requests), then 400 rps for 1 s (400 requests).
    let mut s = settings(
        &t.url("/"),
        LoadModel::Open {
            rate: 0.0,
            max_connections: 50,
        },
        0,
    );
    s.duration = None;
    s.stages = vec![
        Stage {
            duration: Duration::from_secs(1),
            target: 400.0,
        },
        Stage {
            duration: Duration::from_secs(1),
            target: 400.0,
        },
    ];
    let report = run(&s);
    let sent = report.totals.requests as f64;
    assert!((sent - 600.0).abs() <= 15.0, "sent {sent} of 600 scheduled");
    let first = report.series[0].requests as f64;
    assert!(
        (first - 200.0).abs() <= 30.0,
        "first second {first}, expected about 200"
    );
}

#[test]
fn closed_model_stages_ramp_connections_up_and_down() {
    let t = target(TargetSettings {
        latency: plumb_target::Latency::Fixed(Duration::from_millis(10)),
        ..TargetSettings::default()
    });
    let mut s = settings(&t.url("/"), LoadModel::Closed { connections: 0 }, 0);
    s.duration = None;
    // Hold 4 connections for 1 s, then drop to none for the last second.
    s.stages = vec![
        Stage {
            duration: Duration::ZERO,
            target: 4.0,
        },
        Stage {
            duration: Duration::from_secs(1),
            target: 4.0,
        },
        Stage {
            duration: Duration::ZERO,
            target: 0.0,
        },
        Stage {
            duration: Duration::from_secs(1),
            target: 0.0,
        },
    ];
    let report = run(&s);
    assert!(report.series.len() >= 2, "{:?}", report.series);
    let (first, last) = (
        report.series[0].requests,
        report.series.last().unwrap().requests,
    );
    // 4 connections at ~10 ms per request: a few hundred in the first second, none in the last.
    assert!(first > 150, "first second {first}");
    assert!(last <= 4, "last second {last}: {:?}", report.series);
}

fn stalling_target() -> plumb_target::RunningTarget {
    target(TargetSettings {
        stall: Some(Stall {
            length: Duration::from_millis(300),
            every: Duration::from_secs(1),
        }),
        ..TargetSettings::default()
    })
}

#[test]
fn open_model_reveals_the_stall_the_closed_model_hides() {
    let t = stalling_target();
    let closed = run(&settings(
        &t.url("/"),
        LoadModel::Closed { connections: 2 },
        2_000,
    ));
    let open = run(&settings(
        &t.url("/"),
        LoadModel::Open {
            rate: 200.0,
            max_connections: 200,
        },
        2_000,
    ));
    // Closed: each connection meets one stall per second among hundreds of fast requests.
    let closed_p99 = ms(closed.totals.latency.percentile(99.0));
    assert!(closed_p99 < 100.0, "closed p99 {closed_p99} ms");
    assert!(
        ms(closed.totals.latency.max()) > 150.0,
        "the closed model saw no stall at all"
    );
    // Open: 30% of scheduled requests arrive during a stall and wait up to 300 ms.
    let open_p90 = ms(open.totals.latency.percentile(90.0));
    let open_p99 = ms(open.totals.latency.percentile(99.0));
    assert!(open_p90 > 50.0, "open p90 {open_p90} ms");
    assert!(
        (250.0..=400.0).contains(&open_p99),
        "open p99 {open_p99} ms"
    );
}

#[test]
fn corrected_latency_counts_queueing_that_service_time_does_not() {
    let t = stalling_target();
    // One connection only: requests due during a stall queue behind the stalled one.
    let report = run(&settings(
        &t.url("/"),
        LoadModel::Open {
            rate: 100.0,
            max_connections: 1,
        },
        2_000,
    ));
    let corrected_p90 = ms(report.totals.latency.percentile(90.0));
    let service_p90 = ms(report.totals.service.percentile(90.0));
    assert!(corrected_p90 > 50.0, "corrected p90 {corrected_p90} ms");
    assert!(
        service_p90 < corrected_p90 / 5.0,
        "service p90 {service_p90} vs corrected {corrected_p90}"
    );
    assert!(
        report.cap_waits > 0,
        "no request waited at the connection cap"
    );
    assert!(report.warnings().iter().any(|w| w.contains("raise -c")));
}

#[test]
fn unexpected_status_and_missing_body_text_are_failures() {
    let t = target(TargetSettings {
        error_rate: 1.0,
        ..TargetSettings::default()
    });
    let report = run(&settings(
        &t.url("/"),
        LoadModel::Closed { connections: 1 },
        200,
    ));
    assert!(report.totals.requests > 0);
    assert_eq!(
        report.totals.errors_of(ErrorClass::Status),
        report.totals.requests
    );

    let ok = target(TargetSettings::default());
    let mut s = settings(&ok.url("/"), LoadModel::Closed { connections: 1 }, 200);
    s.checks.expect_body = Some("goodbye".into());
    let report = run(&s);
    assert_eq!(
        report.totals.errors_of(ErrorClass::Body),
        report.totals.requests
    );
    s.checks.expect_body = Some("hello".into());
    assert_eq!(run(&s).totals.errors, 0);
}

#[test]
fn per_second_series_covers_the_run() {
    let t = target(TargetSettings::default());
    let report = run(&settings(
        &t.url("/"),
        LoadModel::Open {
            rate: 100.0,
            max_connections: 10,
        },
        3_000,
    ));
    assert!(report.series.len() >= 3, "{} windows", report.series.len());
    let total: u64 = report.series.iter().map(|w| w.requests).sum();
    assert_eq!(total, report.totals.requests);
    for w in &report.series[..3] {
        assert!(
            (w.requests as f64 - 100.0).abs() <= 10.0,
            "window {} had {}",
            w.t_s,
            w.requests
        );
    }
}

#[test]
fn a_time_bound_run_has_one_full_window_per_second_and_no_empty_ones() {
    let t = target(TargetSettings::default());
    for _ in 0..3 {
        let report = run(&settings(
            &t.url("/"),
            LoadModel::Open {
                rate: 200.0,
                max_connections: 10,
            },
            3_000,
        ));
        let counts: Vec<u64> = report.series.iter().map(|w| w.requests).collect();
        assert_eq!(counts.len(), 3, "{counts:?}");
        assert!(counts.iter().all(|c| (180..=220).contains(c)), "{counts:?}");
    }
}

#[test]
fn a_time_bound_open_run_lasts_its_whole_duration_at_a_low_rate() {
    // At 2/s over 2 s the last send is due at 1.5 s; the run still ends at 2 s, so the
    // achieved rate is the requested one (not 4 requests in 1.5 s = 2.7/s).
    let t = target(TargetSettings::default());
    let model = LoadModel::Open {
        rate: 2.0,
        max_connections: 5,
    };
    let report = run(&settings(&t.url("/"), model, 2_000));
    assert_eq!(report.totals.requests, 4);
    let elapsed = report.elapsed.as_secs_f64();
    assert!((1.95..2.3).contains(&elapsed), "elapsed {elapsed}");
}
