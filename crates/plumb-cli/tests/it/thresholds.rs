//! `--threshold` with `--allow-no-data`: a threshold whose metric has no data fails by default,
//! and says why.

use clap::Parser;
use plumb_cli::{no_data_warnings, Cli, Command, NoData};
use plumb_stats::{Aggregation, Metric, MetricSource, ThresholdStatus};

/// A run that measured nothing: no latency, no failure rate.
struct DeadServer;
impl MetricSource for DeadServer {
    fn value(&self, _: Metric, _: Aggregation) -> Option<f64> {
        None
    }
}

fn load_plan(extra: &[&str]) -> plumb_cli::LoadPlan {
    let mut argv = vec!["plumb", "load", "http://127.0.0.1:1/"];
    argv.extend_from_slice(&["--threshold", "http_req_duration: p(95)<5ms"]);
    argv.extend_from_slice(extra);
    let Command::Load(load) = Cli::parse_from(argv).command else {
        unreachable!()
    };
    load.resolve().unwrap()
}

#[test]
fn a_threshold_with_no_data_fails_the_load_by_default() {
    let plan = load_plan(&[]);
    assert_eq!(plan.no_data, NoData::Fails);
    let judged = plan.thresholds[0].evaluate(&DeadServer);
    assert_eq!(judged.status, ThresholdStatus::NoData);
    assert!(judged.status.fails(plan.no_data));
    assert_eq!(
        plan.no_data_warnings([ThresholdStatus::NoData]),
        [
            "threshold 'http_req_duration: p(95)<5ms' has no data: 0 responses measured \
          http_req_duration; it fails the run (--allow-no-data lets it pass)"
        ]
    );
}

#[test]
fn allow_no_data_lets_it_pass_and_says_so() {
    let plan = load_plan(&["--allow-no-data"]);
    assert_eq!(plan.no_data, NoData::Passes);
    let judged = plan.thresholds[0].evaluate(&DeadServer);
    assert!(!judged.status.fails(plan.no_data));
    assert_eq!(
        plan.no_data_warnings([ThresholdStatus::NoData]),
        [
            "threshold 'http_req_duration: p(95)<5ms' has no data: 0 responses measured \
          http_req_duration; it passes because of --allow-no-data"
        ]
    );
}

#[test]
fn only_thresholds_without_data_are_warned_about() {
    let plan = load_plan(&["--threshold", "http_req_failed: rate<0.01"]);
    assert!(plan
        .no_data_warnings([ThresholdStatus::Passed, ThresholdStatus::Failed])
        .is_empty());
    let warnings = plan.no_data_warnings([ThresholdStatus::Passed, ThresholdStatus::NoData]);
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("0 requests completed to measure http_req_failed"),
        "{warnings:?}"
    );
}

#[test]
fn gate_fails_on_no_data_unless_allowed() {
    let gate = |extra: &[&str]| {
        let mut argv = vec!["plumb", "gate", "--baseline", "main"];
        argv.extend_from_slice(&["--threshold", "http_req_failed: rate<0.01"]);
        argv.extend_from_slice(extra);
        let Command::Gate(gate) = Cli::parse_from(argv).command else {
            unreachable!()
        };
        gate
    };
    let strict = gate(&[]);
    assert_eq!(strict.no_data(), NoData::Fails);
    let thresholds = strict.parsed_thresholds().unwrap();
    assert!(thresholds[0]
        .evaluate(&DeadServer)
        .status
        .fails(strict.no_data()));
    let warned = no_data_warnings(&thresholds, [ThresholdStatus::NoData], strict.no_data());
    assert!(warned[0].ends_with("it fails the run (--allow-no-data lets it pass)"));
    assert_eq!(gate(&["--allow-no-data"]).no_data(), NoData::Passes);
}
