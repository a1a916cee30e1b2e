//! Helpers shared by the engine tests.

use plumb_load::{LoadModel, LoadReport, LoadSettings, StopSignal, Unobserved};
use plumb_target::{RunningTarget, TargetSettings};
use std::time::Duration;

/// Start the embedded target with these knobs on 127.0.0.1:0.
pub fn target(settings: TargetSettings) -> RunningTarget {
    plumb_target::spawn(settings, "127.0.0.1:0".parse().unwrap(), 1).expect("target starts")
}

/// Settings for a short test: one thread, given model and duration.
pub fn settings(url: &str, model: LoadModel, duration_ms: u64) -> LoadSettings {
    let mut s = LoadSettings::new(url);
    s.model = model;
    s.threads = 1;
    s.duration = Some(Duration::from_millis(duration_ms));
    s
}

/// Run to completion without progress.
pub fn run(settings: &LoadSettings) -> LoadReport {
    plumb_load::run(settings, &mut Unobserved, &StopSignal::new()).expect("load test runs")
}

/// Milliseconds of a duration.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
