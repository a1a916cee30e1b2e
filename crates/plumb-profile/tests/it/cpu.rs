//! The sampler ranks the fixture's functions first and second with shares close to the truth
//! (70% and 20%), launching it and attaching to it, with both unwinding methods.

use crate::{cpu_alone, hot_fixture, launch, profile, Running};
use plumb_profile::{ProfileSettings, Target, Unwinding};
use plumb_schema::profile::{CpuOutcome, CpuProfile, ProfileReport};
use std::time::Duration;

/// The issue allows 10 points of error.
const TOLERANCE_POINTS: f64 = 10.0;
/// Fewer samples than this would make the shares themselves noisy.
const MIN_SAMPLES: u64 = 100;
/// A frequency that gives enough samples in a short run (the default 99 Hz would need longer).
const TEST_FREQUENCY_HZ: u32 = 499;

fn sampled(report: &ProfileReport) -> &CpuProfile {
    match &report.cpu {
        CpuOutcome::Sampled(cpu) => cpu,
        CpuOutcome::Unavailable { reason, hint } => {
            panic!("CPU sampling must work on this machine (paranoid <= 2): {reason}; hint: {hint}")
        }
    }
}

/// The fixture's two hottest functions come first and second, each within the tolerance.
fn check_known_profile(cpu: &CpuProfile) {
    assert!(cpu.samples >= MIN_SAMPLES, "only {} samples", cpu.samples);
    let expected = [
        ("plumb_fixture_hot::hot_seventy", 70.0),
        ("plumb_fixture_hot::warm_twenty", 20.0),
    ];
    for (rank, (name, share)) in expected.iter().enumerate() {
        let function = &cpu.hot_functions[rank];
        assert_eq!(
            &function.name,
            name,
            "rank {}: {:#?}",
            rank + 1,
            &cpu.hot_functions[..4]
        );
        assert!(
            (function.self_percent - share).abs() <= TOLERANCE_POINTS,
            "{name}: {:.1}% of samples, expected {share}% ± {TOLERANCE_POINTS}",
            function.self_percent
        );
    }
    assert!(
        cpu.cover_80_percent
            .starts_with(&[expected[0].0.to_string()]),
        "{:?}",
        cpu.cover_80_percent
    );
}

fn launched(unwinding: Unwinding) -> ProfileReport {
    let _alone = cpu_alone();
    let mut settings = launch(hot_fixture(), &["1.5"]);
    settings.sampling.frequency_hz = TEST_FREQUENCY_HZ;
    settings.sampling.unwinding = unwinding;
    profile(&settings).expect("profile of the launched fixture")
}

#[test]
fn launched_fixture_ranks_its_hot_functions_with_true_shares() {
    let report = launched(Unwinding::FramePointers);
    check_known_profile(sampled(&report));
    assert_eq!(report.target.exit_code, Some(0));
}

#[test]
fn dwarf_unwinding_finds_the_callers_frame_pointers_miss() {
    let report = launched(Unwinding::Dwarf);
    let cpu = sampled(&report);
    check_known_profile(cpu);
    // The fixture is built without frame pointers: only DWARF sees `main` and `round` above the
    // hot leaves.
    let main = cpu
        .hot_functions
        .iter()
        .find(|f| f.name == "plumb_fixture_hot::main")
        .expect("main on the stacks");
    assert!(
        main.total_percent > 90.0,
        "main total {:.1}%",
        main.total_percent
    );
    assert!(cpu.folded.iter().any(|stack| stack
        .stack
        .contains("plumb_fixture_hot::round;plumb_fixture_hot::hot_seventy")));
}

#[test]
fn attached_fixture_ranks_its_hot_functions_with_true_shares() {
    let _alone = cpu_alone();
    let fixture = Running::start(hot_fixture(), &["30"]);
    std::thread::sleep(Duration::from_millis(200));
    let mut settings = ProfileSettings::new(Target::Pid {
        pid: fixture.pid(),
        duration: Some(Duration::from_millis(1500)),
    });
    settings.sampling.frequency_hz = TEST_FREQUENCY_HZ;
    let report = profile(&settings).expect("profile of the attached fixture");
    check_known_profile(sampled(&report));
    assert!(
        report.duration_secs >= 1.4,
        "stopped after {} s",
        report.duration_secs
    );
    assert!(
        report.resources.summary.cpu_user_percent.avg > 5.0,
        "{:?}",
        report.resources.summary
    );
}

#[test]
fn profiler_handle_api_samples_a_running_process() {
    let _alone = cpu_alone();
    let fixture = Running::start(hot_fixture(), &["30"]);
    let settings = plumb_profile::SamplingSettings {
        frequency_hz: TEST_FREQUENCY_HZ,
        ..Default::default()
    };
    let handle =
        plumb_profile::Profiler::attach(fixture.pid(), settings).expect("perf events allowed");
    std::thread::sleep(Duration::from_millis(1200));
    let cpu = handle.stop();
    check_known_profile(&cpu);
}

#[test]
fn folded_stacks_and_flamegraph_are_written() {
    let report = launched(Unwinding::FramePointers);
    let cpu = sampled(&report);
    let mut folded = Vec::new();
    plumb_profile::write_folded(&cpu.folded, &mut folded).unwrap();
    let folded = String::from_utf8(folded).unwrap();
    let total: u64 = folded
        .lines()
        .map(|line| line.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, cpu.samples);
    let mut svg = Vec::new();
    plumb_profile::write_flamegraph(&cpu.folded, "fixture", &mut svg).unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(
        svg.starts_with("<?xml") && svg.contains("hot_seventy"),
        "{}",
        &svg[..200.min(svg.len())]
    );
}
