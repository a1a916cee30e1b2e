//! A target that goes down and comes back: each alert fires once, at the evaluation where its
//! condition first holds, and resolves once; the webhook gets Alertmanager's format; a restart
//! keeps the budget and does not fire again.

use crate::support::*;
use plumb_monitor::{
    run, AlertStatus, ManualClock, Millis, MonitorConfig, NoStore, RunSummary, Runtime,
};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

fn config() -> MonitorConfig {
    let mut config = MonitorConfig::new("http://127.0.0.1:9/health");
    config.name = Some("shop".to_string());
    config.every = Duration::from_secs(30);
    config
}

fn drive(
    config: &MonitorConfig,
    prober: &mut Scripted,
    store: &mut dyn plumb_monitor::StateStore,
    clock: &ManualClock,
    hours: u64,
) -> (RunSummary, Log) {
    let mut log = Log::default();
    let stop = AtomicBool::new(false);
    let summary = run(
        config,
        Runtime {
            clock,
            prober,
            store,
            observer: &mut log,
            stop: &stop,
            shared: None,
            run_for: Some(Duration::from_secs(hours * 3600)),
            resources: None,
        },
    );
    (summary, log)
}

/// (alert name, status, at) of each event, relative to START.
fn timeline(log: &Log) -> Vec<(String, AlertStatus, Millis)> {
    log.alerts
        .iter()
        .map(|e| (e.name.clone(), e.status, e.at - START))
        .collect()
}

#[test]
fn ten_minutes_down_fires_each_alert_once_when_its_condition_first_holds_and_resolves_once() {
    let config = config();
    let down = (START + 2 * HOUR, START + 2 * HOUR + 10 * MINUTE);
    let mut prober = Scripted::down_between(down.0, down.1);
    let clock = ManualClock::new(START);
    let (summary, log) = drive(&config, &mut prober, &mut NoStore, &clock, 12);
    assert_eq!(summary.probes, 12 * 120);
    assert!(log.warnings.is_empty(), "{:?}", log.warnings);
    // 99.9% over 30d, a probe every 30 s, 1-minute buckets. Down from 2:00:00, 20 failed probes.
    // Ticket (2h/1d at 3x = 0.3%): the first failure makes 1/240 over 2h -> fires at 2:00:00.
    // Spike: 1 failure in the last 5 minutes' 10 probes, 10 points over 0% -> 2:00:00.
    // Page (5m/1h at 14.4x = 1.44%): 1/120 over 1h is 0.83%; the second failure makes 1.67%
    // -> 2:00:30. Resolves, each after 1 minute (two probe intervals) of clear: the spike once
    // the last 5 minutes are no longer 2.5 points (half its 5: hysteresis) above the hour
    // before (2:14:00: 1 of 10 against 19 of 120); the page when the 30m window of the
    // 6h/30m pair no longer holds the 2:09 bucket (2:39:00); the ticket when the 6h window of
    // the 3d/6h pair no longer does (8:09:00).
    let want = vec![
        ("SloBurnTicket".to_string(), AlertStatus::Firing, 2 * HOUR),
        ("ErrorRateSpike".to_string(), AlertStatus::Firing, 2 * HOUR),
        (
            "SloBurnPage".to_string(),
            AlertStatus::Firing,
            2 * HOUR + 30 * SECOND,
        ),
        (
            "ErrorRateSpike".to_string(),
            AlertStatus::Resolved,
            2 * HOUR + 15 * MINUTE,
        ),
        (
            "SloBurnPage".to_string(),
            AlertStatus::Resolved,
            2 * HOUR + 40 * MINUTE,
        ),
        (
            "SloBurnTicket".to_string(),
            AlertStatus::Resolved,
            8 * HOUR + 10 * MINUTE,
        ),
    ];
    assert_eq!(timeline(&log), want);
    // The budget: 20 bad of 1,440 probes = 1.39% against 0.1% -> 13.9 budgets spent.
    let slo = &summary.status.slos[0];
    assert_eq!((slo.good, slo.total), (1420, 1440));
    let remaining = slo.budget_remaining.unwrap();
    assert!(
        (remaining - (1.0 - (20.0 / 1440.0) / 0.001)).abs() < 1e-9,
        "{remaining}"
    );
    // Each message says what crossed what, and since when.
    let page = &log.alerts[2];
    assert_eq!(page.since, START + 2 * HOUR + 30 * SECOND);
    assert!(
        page.summary.contains("over 5m") && page.summary.contains("above 14.4x"),
        "{}",
        page.summary
    );
    assert!(
        page.line().contains("since 2026-01-01T02:00:30Z"),
        "{}",
        page.line()
    );
}

#[test]
fn the_webhook_receives_alertmanagers_format_once_per_firing_and_resolve() {
    let receiver = Receiver::start();
    let mut config = config();
    config.webhook = Some(receiver.url.clone());
    let mut prober = Scripted::down_between(START + HOUR, START + HOUR + 10 * MINUTE);
    let clock = ManualClock::new(START);
    let (_, log) = drive(&config, &mut prober, &mut NoStore, &clock, 3);
    assert!(log.warnings.is_empty(), "{:?}", log.warnings);
    let bodies = receiver.bodies.lock().unwrap().clone();
    let seen: Vec<(String, String)> = bodies
        .iter()
        .map(|b| {
            (
                b["alerts"][0]["labels"]["alertname"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                b["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Ticket stays firing past 3 h (its 6h window); page and spike fire and resolve.
    let want: Vec<(String, String)> = log
        .alerts
        .iter()
        .map(|e| (e.name.clone(), e.status.name().to_string()))
        .collect();
    assert_eq!(seen, want);
    assert_eq!(seen.len(), 5, "{seen:?}");
    let first = &bodies[0];
    assert_eq!(first["version"], "4");
    assert_eq!(first["receiver"], "plumb");
    assert_eq!(first["alerts"][0]["labels"]["monitor"], "shop");
    assert_eq!(first["alerts"][0]["startsAt"], "2026-01-01T01:00:00Z");
    assert_eq!(first["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    let resolved = bodies.iter().find(|b| b["status"] == "resolved").unwrap();
    assert_ne!(resolved["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
}

#[test]
fn a_restart_keeps_the_budget_and_does_not_fire_again() {
    let config = config();
    let mut store = MemoryStore::default();
    let clock = ManualClock::new(START);
    let mut prober = Scripted::down_between(START + HOUR, START + HOUR + 10 * MINUTE);
    let (first, log1) = drive(&config, &mut prober, &mut store, &clock, 2);
    assert_eq!(
        log1.alerts
            .iter()
            .filter(|e| e.status == AlertStatus::Firing)
            .count(),
        3
    );
    // Restarted at 2 h: the ticket alert is still firing and must not fire again; it resolves once.
    let (second, log2) = drive(&config, &mut prober, &mut store, &clock, 8);
    let names: Vec<(String, AlertStatus)> = log2
        .alerts
        .iter()
        .map(|e| (e.name.clone(), e.status))
        .collect();
    assert_eq!(
        names,
        vec![("SloBurnTicket".to_string(), AlertStatus::Resolved)]
    );
    let (a, b) = (&first.status.slos[0], &second.status.slos[0]);
    assert_eq!((a.good, a.total), (220, 240));
    assert_eq!((b.good, b.total), (220 + 960, 240 + 960));
    // Bounded: the store keeps at most one bucket per minute of the 30-day period.
    let saved = &store.saved["shop"].series;
    assert!(saved.values().all(|s| s.len() <= 43_201));
}

#[test]
fn a_slow_target_fires_the_p95_alert_and_burns_the_latency_budget_once() {
    let mut config = config();
    config.slo = vec!["latency 99% < 300ms 30d".parse().unwrap()];
    config.p95_above = Some(Duration::from_millis(250));
    let mut prober = Scripted::down_between(0, 0);
    prober.slow = vec![(START + HOUR, START + HOUR + 20 * MINUTE)];
    let clock = ManualClock::new(START);
    let (_, log) = drive(&config, &mut prober, &mut NoStore, &clock, 3);
    let count = |name: &str, status| {
        log.alerts
            .iter()
            .filter(|e| e.name == name && e.status == status)
            .count()
    };
    for name in ["LatencyP95High", "SloBurnPage"] {
        assert_eq!(
            count(name, AlertStatus::Firing),
            1,
            "{name}: {:?}",
            timeline(&log)
        );
        assert_eq!(
            count(name, AlertStatus::Resolved),
            1,
            "{name}: {:?}",
            timeline(&log)
        );
    }
    let p95 = log
        .alerts
        .iter()
        .find(|e| e.name == "LatencyP95High")
        .unwrap();
    assert!(
        p95.summary.starts_with("p95 latency 500.") && p95.summary.ends_with("is above 250ms"),
        "{}",
        p95.summary
    );
    assert_eq!(
        p95.at,
        START + HOUR,
        "1 slow of the 10 recent probes is their p95: fires at the first slow probe"
    );
}

/// The host's CPU from a script: each span's level within it, 30% elsewhere.
struct CpuScript<'a> {
    clock: &'a ManualClock,
    spans: Vec<(Millis, Millis, f64)>,
}

impl plumb_monitor::ResourceSource for CpuScript<'_> {
    fn read(&mut self) -> plumb_monitor::ResourceLevels {
        use plumb_monitor::Clock;
        let now = self.clock.now();
        let level = self
            .spans
            .iter()
            .find(|(from, to, _)| (*from..*to).contains(&now))
            .map_or(0.3, |(_, _, level)| *level);
        plumb_monitor::ResourceLevels {
            host_cpu: Some(level),
            host_memory: Some(0.4),
            ..Default::default()
        }
    }
}

#[test]
fn the_hosts_cpu_above_80_percent_fires_once_and_resolves_once_below_72() {
    let mut config = config();
    config.resource_above = Some(0.8);
    config.slo.clear();
    // 95% from 1:00 to 1:10; then 75%, still above 90% of 80% (hysteresis), until 1:20.
    let clock = ManualClock::new(START);
    let mut prober = Scripted::down_between(0, 0);
    let mut cpu = CpuScript {
        clock: &clock,
        spans: vec![
            (START + HOUR, START + HOUR + 10 * MINUTE, 0.95),
            (START + HOUR + 10 * MINUTE, START + HOUR + 20 * MINUTE, 0.75),
        ],
    };
    let mut log = Log::default();
    let stop = AtomicBool::new(false);
    run(
        &config,
        Runtime {
            clock: &clock,
            prober: &mut prober,
            store: &mut NoStore,
            observer: &mut log,
            stop: &stop,
            shared: None,
            run_for: Some(Duration::from_secs(2 * 3600)),
            resources: Some(&mut cpu),
        },
    );
    let cpu_events: Vec<_> = timeline(&log)
        .into_iter()
        .filter(|(name, ..)| name == "HostCpuHigh")
        .collect();
    // Fires at the first probe at 95%; resolves two probe intervals after the first below 72%
    // (1:20:00): at 1:21:00.
    assert_eq!(
        cpu_events,
        vec![
            ("HostCpuHigh".to_string(), AlertStatus::Firing, HOUR),
            (
                "HostCpuHigh".to_string(),
                AlertStatus::Resolved,
                HOUR + 21 * MINUTE
            ),
        ]
    );
    let fired = log.alerts.iter().find(|e| e.name == "HostCpuHigh").unwrap();
    assert!(
        fired
            .line()
            .contains("the host's CPU is 95.0% of the host, above 80%"),
        "{}",
        fired.line()
    );
    assert!(
        !log.alerts.iter().any(|e| e.name == "HostMemoryHigh"),
        "memory at 40% never alerts"
    );
}
