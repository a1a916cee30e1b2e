//! Memory of a long-running monitor, measured on the test clock: 30 days of probes every 10 s
//! (259,200 probes, two SLOs, an outage a day) through the monitor's own loop, then this
//! process's resident and peak memory from /proc/self/status. Run it with
//! `cargo run --release -p plumb-monitor --example soak [DAYS] [EVERY_SECONDS]`.

use plumb_monitor::{
    run, ManualClock, MonitorConfig, NoStore, Observer, ProbeResult, Prober, Runtime,
};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

const DAY: u64 = 86_400_000;

/// Up, but down for ten minutes at 03:00 every day, and 80 ms slower at 12:00 for an hour.
struct Daily;

impl Prober for Daily {
    fn probe(&mut self, at: u64) -> ProbeResult {
        let of_day = at % DAY;
        let down = (3 * 3_600_000..3 * 3_600_000 + 600_000).contains(&of_day);
        let slow = (12 * 3_600_000..13 * 3_600_000).contains(&of_day);
        ProbeResult {
            at,
            ok: !down,
            status: Some(if down { 503 } else { 200 }),
            took: Duration::from_millis(if slow { 90 } else { 10 } + at % 7),
            error: down.then(|| "unexpected status 503".to_string()),
        }
    }
}

struct Count(u64);

impl Observer for Count {
    fn on_alert(&mut self, _: &plumb_monitor::AlertEvent) {
        self.0 += 1;
    }
    fn on_warning(&mut self, _: &str) {}
}

fn status_kib(key: &str) -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .map_or("?".to_string(), |l| l[key.len()..].trim().to_string())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let days: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(30);
    let every: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let mut config = MonitorConfig::new("http://127.0.0.1:9/");
    config.every = Duration::from_secs(every);
    config.slo = vec![
        "availability 99.9% 30d".parse().unwrap(),
        "latency 99% < 50ms 30d".parse().unwrap(),
    ];
    config.p95_above = Some(Duration::from_millis(80));
    let clock = ManualClock::new(1_767_225_600_000);
    let mut alerts = Count(0);
    let stop = AtomicBool::new(false);
    let before = status_kib("VmRSS:");
    let summary = run(
        &config,
        Runtime {
            clock: &clock,
            prober: &mut Daily,
            store: &mut NoStore,
            observer: &mut alerts,
            stop: &stop,
            shared: Some(std::sync::Arc::new(plumb_monitor::Shared::new(&config))),
            run_for: Some(Duration::from_millis(days * DAY)),
            resources: None,
        },
    );
    println!(
        "{days} days, a probe every {every} s: {} probes, {} alert events; RSS before {before}, after {}, peak {}",
        summary.probes,
        alerts.0,
        status_kib("VmRSS:"),
        status_kib("VmHWM:")
    );
}
