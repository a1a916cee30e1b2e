//! The /proc timeline: the stepping allocator's RSS shows its steps, and the sampler API stops
//! cleanly.

use crate::{alloc_fixture, launch, profile, Running};
use plumb_profile::ResourceSampler;
use std::time::Duration;

const STEPS: u64 = 4;
const STEP_MIB: u64 = 24;
const MIB: f64 = 1024.0 * 1024.0;

#[test]
fn stepping_allocator_shows_every_step_in_the_rss_series() {
    let mut settings = launch(
        alloc_fixture(),
        &[&STEPS.to_string(), &STEP_MIB.to_string(), "500"],
    );
    settings.interval = Duration::from_millis(50);
    let report = profile(&settings).expect("profile of the allocator");
    let points = &report.resources.points;
    assert!(points.len() >= 20, "only {} points", points.len());
    let base = points[0].rss_bytes as f64;
    // Each reading sits on one step: the number of allocations done so far.
    let levels: Vec<i64> = points
        .iter()
        .map(|point| ((point.rss_bytes as f64 - base) / (STEP_MIB as f64 * MIB)).round() as i64)
        .collect();
    for step in 0..=STEPS as i64 {
        assert!(
            levels.contains(&step),
            "step {step} missing from levels {levels:?}"
        );
    }
    assert!(
        levels.windows(2).all(|pair| pair[1] >= pair[0]),
        "RSS went down: {levels:?}"
    );
    let growth = report.resources.summary.rss_bytes.max - report.resources.summary.rss_bytes.min;
    assert!(
        (growth / MIB - (STEPS * STEP_MIB) as f64).abs() < STEP_MIB as f64 / 2.0,
        "grew {:.1} MiB",
        growth / MIB
    );
    assert!(report.resources.summary.rss_growth_bytes_per_sec > 0.0);
}

#[test]
fn resource_sampler_api_stops_with_a_timeline() {
    let fixture = Running::start(alloc_fixture(), &["1", "1", "5000"]);
    let handle = ResourceSampler::start(fixture.pid(), Duration::from_millis(20))
        .expect("own process is readable");
    std::thread::sleep(Duration::from_millis(500));
    assert!(!handle.is_finished());
    let timeline = handle.stop();
    assert!(
        timeline.points.len() >= 3,
        "{} points",
        timeline.points.len()
    );
    assert_eq!(timeline.interval_ms, 20);
    let last = timeline.points.last().unwrap();
    assert!(
        last.threads >= 1
            && last.rss_bytes > 0
            && last.open_fds.is_some()
            && last.read_bytes.is_some()
    );
    assert!(timeline.unreadable.is_empty(), "{:?}", timeline.unreadable);
}

#[test]
fn sampler_ends_by_itself_when_the_process_exits() {
    let mut fixture = Running::start(alloc_fixture(), &["0", "0", "100"]);
    let handle =
        ResourceSampler::start(fixture.pid(), Duration::from_millis(20)).expect("readable");
    fixture.0.wait().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !handle.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        handle.is_finished(),
        "sampler still running after the process exited"
    );
    assert!(!handle.stop().points.is_empty());
}
