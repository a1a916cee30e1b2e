//! The monitor's loop: probe on the schedule, count, evaluate, notify, save, publish; bounded
//! by the stop flag (SIGINT/SIGTERM in the binary) and by an optional run length. Time comes
//! from a [`Clock`], so a test drives days of probes through the very loop production runs.

use crate::alert::AlertEvent;
use crate::clock::{Clock, Millis};
use crate::config::MonitorConfig;
use crate::monitor::{Monitor, MonitorStatus, SavedState};
use crate::notify;
use crate::probe::{ProbeResult, Prober};
use crate::server::Shared;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Hears what the monitor does (the binary prints it to stderr).
pub trait Observer {
    /// After each probe, with the monitor's status.
    fn on_probe(&mut self, _probe: &ProbeResult, _status: &MonitorStatus) {}
    /// A firing or a resolve.
    fn on_alert(&mut self, event: &AlertEvent);
    /// Something went wrong that did not stop the monitor (a webhook that failed).
    fn on_warning(&mut self, text: &str);
}

/// Keeps a monitor's windows and alert phases between runs (the ledger, in the binary).
pub trait StateStore {
    /// The saved state of `monitor` (empty if none).
    fn load(&mut self, monitor: &str) -> Result<SavedState, String>;
    /// Upsert `changes` (whole buckets replace saved ones of the same start) and drop each
    /// series' buckets that started before its `prune_before`.
    fn save(
        &mut self,
        monitor: &str,
        changes: &SavedState,
        prune_before: &BTreeMap<String, Millis>,
    ) -> Result<(), String>;
}

/// A store that keeps nothing.
pub struct NoStore;

impl StateStore for NoStore {
    fn load(&mut self, _: &str) -> Result<SavedState, String> {
        Ok(SavedState::default())
    }
    fn save(
        &mut self,
        _: &str,
        _: &SavedState,
        _: &BTreeMap<String, Millis>,
    ) -> Result<(), String> {
        Ok(())
    }
}

/// What the loop needs besides the settings.
pub struct Runtime<'a> {
    /// Time.
    pub clock: &'a dyn Clock,
    /// Probes.
    pub prober: &'a mut dyn Prober,
    /// Saved state.
    pub store: &'a mut dyn StateStore,
    /// Log lines.
    pub observer: &'a mut dyn Observer,
    /// Set to stop (checked between probes and while waiting).
    pub stop: &'a AtomicBool,
    /// Where `/metrics` and the dashboard read from, when served.
    pub shared: Option<Arc<Shared>>,
    /// Stop after this long by the clock (`--for`).
    pub run_for: Option<Duration>,
    /// The host's and the watched processes' CPU and memory, read at each probe (with
    /// `resource-above`).
    pub resources: Option<&'a mut dyn crate::resources::ResourceSource>,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Probes sent.
    pub probes: u64,
    /// Firings and resolves, in order.
    pub events: Vec<AlertEvent>,
    /// Where the monitor stood at the end.
    pub status: MonitorStatus,
}

/// Run the monitor until stopped or `run_for` has passed.
pub fn run(config: &MonitorConfig, mut rt: Runtime<'_>) -> RunSummary {
    let name = config.display_name().to_string();
    let mut monitor = Monitor::new(config);
    let start = rt.clock.now();
    match rt.store.load(&name) {
        Ok(saved) => monitor.restore(saved, start),
        Err(e) => rt.observer.on_warning(&format!(
            "the saved state cannot be read, starting afresh: {e}"
        )),
    }
    let every = config.every.as_millis() as Millis;
    let until = rt.run_for.map(|d| start + d.as_millis() as Millis);
    let mut next = start;
    let mut probes = 0;
    let mut events = Vec::new();
    // Bounded by the stop flag and `until`.
    while !rt.stop.load(std::sync::atomic::Ordering::SeqCst) {
        if until.is_some_and(|u| next >= u) {
            break;
        }
        rt.clock.sleep_until(next, rt.stop);
        if rt.stop.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        let probe = rt.prober.probe(rt.clock.now());
        if rt.stop.load(std::sync::atomic::Ordering::SeqCst) {
            // Stopped mid-probe: its failure would be plumb's, not the target's.
            break;
        }
        probes += 1;
        monitor.record(&probe);
        if let Some(source) = rt.resources.as_mut() {
            monitor.record_resources(source.read());
        }
        let now = rt.clock.now();
        for event in monitor.evaluate(now) {
            deliver(config, &event, rt.observer);
            events.push(event);
        }
        save(&monitor, &name, now, rt.store, rt.observer);
        let status = monitor.status(now);
        if let Some(shared) = &rt.shared {
            shared.publish(&probe, &status);
        }
        rt.observer.on_probe(&probe, &status);
        next = next_slot(next, every, rt.clock.now());
    }
    let now = rt.clock.now();
    save(&monitor, &name, now, rt.store, rt.observer);
    RunSummary {
        probes,
        events,
        status: monitor.status(now),
    }
}

/// The first slot of the schedule after `now` (a slow probe skips slots, never bunches them).
fn next_slot(last: Millis, every: Millis, now: Millis) -> Millis {
    let next = last + every;
    if next > now {
        next
    } else {
        next + (now - next) / every * every + every
    }
}

fn deliver(config: &MonitorConfig, event: &AlertEvent, observer: &mut dyn Observer) {
    observer.on_alert(event);
    if let Some(url) = &config.webhook {
        if let Err(e) = notify::webhook(url, event) {
            observer.on_warning(&e.to_string());
        }
    }
    if let Some(command) = &config.alert_command {
        if let Err(e) = notify::command(command, event) {
            observer.on_warning(&e.to_string());
        }
    }
}

fn save(
    monitor: &Monitor,
    name: &str,
    now: Millis,
    store: &mut dyn StateStore,
    observer: &mut dyn Observer,
) {
    let prune: BTreeMap<String, Millis> = monitor
        .horizons()
        .into_iter()
        .map(|(series, horizon)| (series, now.saturating_sub(horizon)))
        .collect();
    if let Err(e) = store.save(name, &monitor.changes(), &prune) {
        observer.on_warning(&format!("the monitor's state was not saved: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::next_slot;

    #[test]
    fn a_slow_probe_skips_slots() {
        assert_eq!(next_slot(0, 10, 3), 10);
        assert_eq!(next_slot(0, 10, 25), 30);
        assert_eq!(next_slot(0, 10, 10), 20);
    }
}
