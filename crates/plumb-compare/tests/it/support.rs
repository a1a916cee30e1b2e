//! Seeded samples and synthetic load runs.

use plumb_load::{LoadModel, LoadReport, LoadSettings, Recorder, WindowStats};
use plumb_schema::load::LoadResult;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, SystemTime};

/// Tests of this binary take this lock, so the CPU-heavy bootstrap tests never run beside the
/// tests that time real commands (their timing noise would be ours, not the commands').
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A seeded generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut StdRng) -> f64 {
    let (u, v): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `n` log-normal values with median `median` and log-sd `sigma`.
pub fn lognormal(rng: &mut StdRng, n: usize, median: f64, sigma: f64) -> Vec<f64> {
    (0..n)
        .map(|_| median * (sigma * normal(rng)).exp())
        .collect()
}

/// A load run of `seconds` whole seconds, `per_second` requests each, latencies from `latency`
/// (milliseconds), a share `errors` of them failed.
pub fn load_run(
    url: &str,
    rate: f64,
    seconds: u64,
    per_second: u64,
    errors: f64,
    mut latency: impl FnMut() -> f64,
) -> LoadResult {
    let mut totals = Recorder::new();
    let mut series = Vec::new();
    let mut failed_so_far = 0.0;
    for t in 0..seconds {
        let mut window = Recorder::new();
        for _ in 0..per_second {
            failed_so_far += errors;
            if failed_so_far >= 1.0 {
                failed_so_far -= 1.0;
                window.record_failure(plumb_load::ErrorClass::Reset, 100, 0);
                continue;
            }
            let d = Duration::from_secs_f64(latency().max(0.001) / 1e3);
            window.record_exchange(
                &plumb_load::Exchange {
                    latency: d,
                    service: d,
                    ttfb: d,
                    status: 200,
                    bytes_sent: 100,
                    bytes_received: 200,
                },
                None,
            );
        }
        series.push(WindowStats::of(t, &window));
        totals.merge(&window);
    }
    let report = LoadReport {
        started_at: SystemTime::UNIX_EPOCH,
        elapsed: Duration::from_secs(seconds),
        totals,
        series,
        in_flight_at_end: 0,
        missed_sends: 0,
        cap_waits: 0,
        generator: Default::default(),
        stop_reason: None,
        requested_rate: Some(rate),
        late_start: Duration::ZERO,
    };
    let mut settings = LoadSettings::new(url);
    settings.model = LoadModel::Open {
        rate,
        max_connections: 100,
    };
    report.to_result(&settings, Vec::new())
}
