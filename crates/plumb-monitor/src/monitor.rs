//! The monitor's state and its evaluation: probes go into each SLO's window, the error-rate
//! window and the recent latencies; each evaluation turns them into verdicts for every alert
//! and returns the firings and resolves. No I/O and no clock: time comes in as arguments, so a
//! test runs thirty days of probes in a moment.

use crate::alert::{Alert, AlertEvent, Phase, Verdict};
use crate::clock::Millis;
use crate::config::MonitorConfig;
use crate::probe::ProbeResult;
use crate::resources::ResourceLevels;
use crate::slo::{format_percent, BurnStatus, Severity, SloState, SloStatus};
use crate::window::{Bucket, EventWindow};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// The baseline the error-rate spike compares the recent window with.
const SPIKE_BASELINE: Millis = 3_600_000;
/// The most passed probes kept for the recent window's percentiles (the config bounds
/// `recent / every` below it).
pub const MAX_RECENT_PROBES: usize = 10_000;
/// One dashboard point per this many ms.
const HISTORY_STEP: Millis = 60_000;
/// Dashboard points kept (six hours).
const HISTORY_POINTS: usize = 360;
/// A firing value alert clears below this share of its threshold.
const CLEAR_SHARE: f64 = 0.9;

/// Which condition an alert watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// SLO `index`'s window pairs of `severity`.
    Burn(usize, Severity),
    /// The recent p95 above `p95_above`.
    P95,
    /// The recent error rate above the hour before's by `spike`.
    Spike,
    /// A resource above `resource_above`.
    Resource(Resource),
}

/// A resource a monitor can alert on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    HostCpu,
    HostMemory,
    ProcessCpu,
    ProcessMemory,
}

impl Resource {
    fn alert_name(self) -> &'static str {
        match self {
            Resource::HostCpu => "HostCpuHigh",
            Resource::HostMemory => "HostMemoryHigh",
            Resource::ProcessCpu => "ProcessCpuHigh",
            Resource::ProcessMemory => "ProcessMemoryHigh",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Resource::HostCpu => "the host's CPU",
            Resource::HostMemory => "the host's memory in use",
            Resource::ProcessCpu => "the watched processes' CPU",
            Resource::ProcessMemory => "the watched processes' resident memory",
        }
    }

    fn of(self, levels: &ResourceLevels) -> Option<f64> {
        match self {
            Resource::HostCpu => levels.host_cpu,
            Resource::HostMemory => levels.host_memory,
            Resource::ProcessCpu => levels.process_cpu,
            Resource::ProcessMemory => levels.process_memory,
        }
    }
}

/// One dashboard point: a minute of probes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// Start of the minute, ms since the epoch.
    pub t: Millis,
    /// Probes in it.
    pub probes: u64,
    /// Failed probes in it.
    pub failed: u64,
    /// Median latency of the passed ones, ms.
    pub p50_ms: Option<f64>,
    /// 95th percentile, ms.
    pub p95_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
}

/// An alert as the dashboard and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertView {
    /// Its name.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// `inactive`, `pending` or `firing`.
    pub state: &'static str,
    /// Since when its condition holds.
    pub since: Option<Millis>,
    /// What crossed what, last time it held.
    pub summary: String,
}

/// Where the whole monitor stands: what `/api/status` serves and the dashboard draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorStatus {
    /// The monitor's name.
    pub monitor: String,
    /// The URL probed.
    pub url: String,
    /// When this was computed.
    pub now: Millis,
    /// The last probe.
    pub last_probe: Option<ProbeResult>,
    /// Passed probes since start.
    pub probes_ok: u64,
    /// Failed probes since start.
    pub probes_failed: u64,
    /// Percentiles of the recent window's passed probes, ms.
    pub recent_p50_ms: Option<f64>,
    /// 95th percentile, ms.
    pub recent_p95_ms: Option<f64>,
    /// 99th percentile, ms.
    pub recent_p99_ms: Option<f64>,
    /// The recent window's error ratio.
    pub recent_error_ratio: Option<f64>,
    /// Every SLO.
    pub slos: Vec<SloStatus>,
    /// Every alert.
    pub alerts: Vec<AlertView>,
    /// One point per minute, the last six hours.
    pub history: Vec<Point>,
}

/// What the ledger keeps of a monitor: windows of counts and alert phases, never probes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SavedState {
    /// Buckets by series (`slo:availability`, `errors`), oldest first.
    pub series: BTreeMap<String, Vec<Bucket>>,
    /// Alert phases and last summaries by alert key.
    pub alerts: BTreeMap<String, (Phase, String)>,
}

/// The monitor.
pub struct Monitor {
    name: String,
    url: String,
    p95_above: Option<Duration>,
    spike: f64,
    recent: Millis,
    slos: Vec<SloState>,
    errors: EventWindow,
    /// Passed probes of the recent window: (time, duration), at most [`MAX_RECENT_PROBES`].
    latencies: VecDeque<(Millis, Duration)>,
    minute: Option<(Point, Vec<Duration>)>,
    history: VecDeque<Point>,
    alerts: Vec<(Watch, Alert)>,
    last_probe: Option<ProbeResult>,
    probes_ok: u64,
    probes_failed: u64,
    resource_above: f64,
    resources: ResourceLevels,
}

impl Monitor {
    /// A monitor with nothing recorded.
    pub fn new(config: &MonitorConfig) -> Monitor {
        let recent = config.recent_window().as_millis() as Millis;
        let keep = config.resolve_delay().as_millis() as Millis;
        let name = config.display_name().to_string();
        let labels = |extra: &[(&str, String)]| {
            let mut l = BTreeMap::from([("monitor".to_string(), name.clone())]);
            l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
            l
        };
        let mut alerts = Vec::new();
        for (i, spec) in config.slo.iter().enumerate() {
            for severity in [Severity::Page, Severity::Ticket] {
                let extra = [
                    ("slo", spec.name()),
                    ("severity", severity.name().to_string()),
                ];
                let alert_name = match severity {
                    Severity::Page => "SloBurnPage",
                    Severity::Ticket => "SloBurnTicket",
                };
                alerts.push((
                    Watch::Burn(i, severity),
                    Alert::new(alert_name, labels(&extra), 0, keep),
                ));
            }
        }
        if config.p95_above.is_some() {
            let extra = [("severity", "ticket".to_string())];
            alerts.push((
                Watch::P95,
                Alert::new("LatencyP95High", labels(&extra), 0, keep),
            ));
        }
        let extra = [("severity", "page".to_string())];
        alerts.push((
            Watch::Spike,
            Alert::new("ErrorRateSpike", labels(&extra), 0, keep),
        ));
        if config.resource_above.is_some() {
            let mut watched = vec![Resource::HostCpu, Resource::HostMemory];
            if !config.watch_pid.is_empty() {
                watched.extend([Resource::ProcessCpu, Resource::ProcessMemory]);
            }
            for resource in watched {
                let extra = [("severity", "ticket".to_string())];
                alerts.push((
                    Watch::Resource(resource),
                    Alert::new(resource.alert_name(), labels(&extra), 0, keep),
                ));
            }
        }
        Monitor {
            url: config.url.clone(),
            name,
            p95_above: config.p95_above,
            spike: config.spike,
            recent,
            slos: config.slo.iter().map(|s| SloState::new(*s)).collect(),
            errors: EventWindow::new((recent / 30).max(1000), recent + SPIKE_BASELINE),
            latencies: VecDeque::new(),
            minute: None,
            history: VecDeque::new(),
            alerts,
            last_probe: None,
            probes_ok: 0,
            probes_failed: 0,
            resource_above: config.resource_above.unwrap_or(1.0),
            resources: ResourceLevels::default(),
        }
    }

    /// The resources as read now (before an evaluation).
    pub fn record_resources(&mut self, levels: ResourceLevels) {
        self.resources = levels;
    }

    /// Count one probe.
    pub fn record(&mut self, probe: &ProbeResult) {
        let at = probe.at;
        for slo in &mut self.slos {
            slo.record(at, probe.ok, probe.took);
        }
        self.errors.record(at, probe.ok);
        if probe.ok {
            self.probes_ok += 1;
            self.record_latency(at, probe.took);
        } else {
            self.probes_failed += 1;
        }
        self.record_minute(probe);
        self.last_probe = Some(probe.clone());
    }

    fn record_latency(&mut self, at: Millis, took: Duration) {
        self.latencies.push_back((at, took));
        self.expire_latencies(at);
    }

    fn expire_latencies(&mut self, now: Millis) {
        let from = now.saturating_sub(self.recent);
        // Bounded: each pass removes one probe.
        while self
            .latencies
            .front()
            .is_some_and(|(t, _)| *t <= from || self.latencies.len() > MAX_RECENT_PROBES)
        {
            self.latencies.pop_front();
        }
    }

    fn record_minute(&mut self, probe: &ProbeResult) {
        let start = probe.at - probe.at % HISTORY_STEP;
        if self.minute.as_ref().is_some_and(|(p, _)| p.t < start) {
            self.close_minute();
        }
        let (point, h) = self.minute.get_or_insert_with(|| {
            let point = Point {
                t: start,
                probes: 0,
                failed: 0,
                p50_ms: None,
                p95_ms: None,
                p99_ms: None,
            };
            (point, Vec::new())
        });
        point.probes += 1;
        point.failed += u64::from(!probe.ok);
        if probe.ok && h.len() < MAX_RECENT_PROBES {
            h.push(probe.took);
        }
    }

    fn close_minute(&mut self) {
        if let Some((mut point, mut h)) = self.minute.take() {
            (point.p50_ms, point.p95_ms, point.p99_ms) = percentiles(&mut h);
            self.history.push_back(point);
            if self.history.len() > HISTORY_POINTS {
                self.history.pop_front();
            }
        }
    }

    /// Evaluate every alert at `now`; returns the firings and resolves.
    pub fn evaluate(&mut self, now: Millis) -> Vec<AlertEvent> {
        self.expire_latencies(now);
        self.errors.expire(now);
        let statuses: Vec<SloStatus> = self.slos.iter_mut().map(|s| s.status(now)).collect();
        let recent = self.recent_histogram();
        let mut events = Vec::new();
        for i in 0..self.alerts.len() {
            let (watch, alert) = &self.alerts[i];
            let verdict = self.verdict(*watch, alert.is_firing(), &statuses, &recent, now);
            if let Some(event) = self.alerts[i].1.step(now, &verdict) {
                events.push(event);
            }
        }
        events
    }

    fn verdict(
        &self,
        watch: Watch,
        firing: bool,
        statuses: &[SloStatus],
        recent: &[Duration],
        now: Millis,
    ) -> Verdict {
        match watch {
            Watch::Burn(i, severity) => burn_verdict(&statuses[i], severity),
            Watch::P95 => p95_verdict(
                recent,
                self.p95_above.unwrap_or_default(),
                firing,
                self.recent,
            ),
            Watch::Spike => self.spike_verdict(firing, now),
            Watch::Resource(resource) => self.resource_verdict(resource, firing),
        }
    }

    /// Above the share (clearing below [`CLEAR_SHARE`] of it once firing); no reading holds
    /// nothing.
    fn resource_verdict(&self, resource: Resource, firing: bool) -> Verdict {
        let value = resource.of(&self.resources);
        let level = if firing {
            self.resource_above * CLEAR_SHARE
        } else {
            self.resource_above
        };
        Verdict {
            holds: value.is_some_and(|v| v > level),
            summary: format!(
                "{} is {} of the host, above {}",
                resource.words(),
                value.map_or("unreadable".to_owned(), |v| format!("{:.1}%", v * 100.0)),
                format_percent(self.resource_above)
            ),
            value: value.unwrap_or(0.0),
        }
    }

    fn spike_verdict(&self, firing: bool, now: Millis) -> Verdict {
        let recent = self.errors.counts(now, self.recent);
        let all = self.errors.counts(now, self.recent + SPIKE_BASELINE);
        let before = crate::window::Counts {
            good: all.good - recent.good,
            total: all.total - recent.total,
        };
        let rate = recent.error_ratio().unwrap_or(0.0);
        let base = before.error_ratio().unwrap_or(0.0);
        let level = if firing { self.spike * 0.5 } else { self.spike };
        Verdict {
            holds: recent.total > 0 && rate - base > level,
            summary: format!(
                "error rate {:.2}% over the last {} is more than {} points above the {:.2}% of the hour before",
                rate * 100.0,
                span(self.recent),
                format_percent(self.spike).trim_end_matches('%'),
                base * 100.0,
            ),
            value: rate,
        }
    }

    /// The recent window's passed probes' durations, sorted.
    fn recent_histogram(&self) -> Vec<Duration> {
        let mut sorted: Vec<Duration> = self.latencies.iter().map(|(_, d)| *d).collect();
        sorted.sort_unstable();
        sorted
    }

    /// Where the monitor stands at `now`.
    pub fn status(&mut self, now: Millis) -> MonitorStatus {
        let mut recent = self.recent_histogram();
        let (p50, p95, p99) = percentiles(&mut recent);
        let mut history: Vec<Point> = self.history.iter().cloned().collect();
        if let Some((point, h)) = &self.minute {
            let mut open = point.clone();
            (open.p50_ms, open.p95_ms, open.p99_ms) = percentiles(&mut h.clone());
            history.push(open);
        }
        MonitorStatus {
            monitor: self.name.clone(),
            url: self.url.clone(),
            now,
            last_probe: self.last_probe.clone(),
            probes_ok: self.probes_ok,
            probes_failed: self.probes_failed,
            recent_p50_ms: p50,
            recent_p95_ms: p95,
            recent_p99_ms: p99,
            recent_error_ratio: self.errors.counts(now, self.recent).error_ratio(),
            slos: self.slos.iter_mut().map(|s| s.status(now)).collect(),
            alerts: self.alerts.iter().map(|(_, a)| view(a)).collect(),
            history,
        }
    }

    /// Every alert, with its state.
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().map(|(_, a)| a)
    }

    /// The whole state to save.
    pub fn saved(&self) -> SavedState {
        let mut series = BTreeMap::new();
        for slo in &self.slos {
            series.insert(
                format!("slo:{}", slo.spec),
                slo.window.buckets().copied().collect(),
            );
        }
        series.insert(
            "errors".to_string(),
            self.errors.buckets().copied().collect(),
        );
        SavedState {
            series,
            alerts: self.alert_phases(),
        }
    }

    /// The newest bucket of every series and every alert's phase: what changed since a save
    /// one evaluation ago (the ledger upserts it).
    pub fn changes(&self) -> SavedState {
        let mut series = BTreeMap::new();
        for slo in &self.slos {
            series.insert(
                format!("slo:{}", slo.spec),
                slo.window.newest().copied().into_iter().collect(),
            );
        }
        series.insert(
            "errors".to_string(),
            self.errors.newest().copied().into_iter().collect(),
        );
        SavedState {
            series,
            alerts: self.alert_phases(),
        }
    }

    /// How long each series keeps its buckets, ms (what the ledger prunes beyond).
    pub fn horizons(&self) -> BTreeMap<String, Millis> {
        let mut h: BTreeMap<String, Millis> = self
            .slos
            .iter()
            .map(|s| (format!("slo:{}", s.spec), s.spec.period_ms()))
            .collect();
        h.insert("errors".to_string(), self.recent + SPIKE_BASELINE);
        h
    }

    fn alert_phases(&self) -> BTreeMap<String, (Phase, String)> {
        self.alerts
            .iter()
            .map(|(_, a)| (a.key(), (a.phase, a.last_summary.clone())))
            .collect()
    }

    /// Put a saved state back: windows refilled, alerts in the phase they were (a firing alert
    /// stays firing without firing again).
    pub fn restore(&mut self, saved: SavedState, now: Millis) {
        let mut series = saved.series;
        for slo in &mut self.slos {
            if let Some(buckets) = series.remove(&format!("slo:{}", slo.spec)) {
                slo.window.restore(buckets, now);
            }
        }
        if let Some(buckets) = series.remove("errors") {
            self.errors.restore(buckets, now);
        }
        for (_, alert) in &mut self.alerts {
            if let Some((phase, summary)) = saved.alerts.get(&alert.key()) {
                alert.phase = *phase;
                alert.last_summary.clone_from(summary);
            }
        }
    }
}

fn view(alert: &Alert) -> AlertView {
    let (state, since) = match alert.phase {
        Phase::Inactive => ("inactive", None),
        Phase::Pending { since } => ("pending", Some(since)),
        Phase::Firing { since, .. } => ("firing", Some(since)),
    };
    AlertView {
        name: alert.name.clone(),
        labels: alert.labels.clone(),
        state,
        since,
        summary: alert.last_summary.clone(),
    }
}

fn burn_verdict(status: &SloStatus, severity: Severity) -> Verdict {
    let pairs: Vec<&BurnStatus> = status
        .windows
        .iter()
        .filter(|w| w.severity == severity)
        .collect();
    let burning = pairs.iter().find(|w| w.burning(1.0));
    let shown = burning.copied().unwrap_or(pairs[0]);
    let rate = |b: Option<f64>| b.map_or("no data".to_string(), |b| format!("{b:.1}x"));
    Verdict {
        holds: burning.is_some(),
        summary: format!(
            "{} error budget burn rate {} over {} and {} over {}, above {}x ({} of the budget in {})",
            status.name,
            rate(shown.short_burn),
            span(shown.short_ms),
            rate(shown.long_burn),
            span(shown.long_ms),
            trim_float(shown.factor),
            format_percent(shown.factor * shown.long_ms as f64 / status.period_ms as f64),
            span(shown.long_ms),
        ),
        value: shown.short_burn.unwrap_or(0.0),
    }
}

fn p95_verdict(recent: &[Duration], bound: Duration, firing: bool, window: Millis) -> Verdict {
    let level = if firing {
        bound.mul_f64(CLEAR_SHARE)
    } else {
        bound
    };
    let p95 = nearest_rank(recent, 95.0);
    Verdict {
        holds: p95.is_some_and(|p| p > level),
        summary: format!(
            "p95 latency {} over the last {} ({} probes) is above {}",
            p95.map_or("no data".to_string(), |p| format!(
                "{:.1}ms",
                p.as_secs_f64() * 1000.0
            )),
            span(window),
            recent.len(),
            humantime::format_duration(bound),
        ),
        value: p95.map_or(0.0, |p| p.as_secs_f64()),
    }
}

/// The `p`th percentile of sorted durations by nearest rank (exact: probes are few).
fn nearest_rank(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn percentiles(durations: &mut [Duration]) -> (Option<f64>, Option<f64>, Option<f64>) {
    durations.sort_unstable();
    let ms = |p: f64| nearest_rank(durations, p).map(|d| d.as_secs_f64() * 1000.0);
    (ms(50.0), ms(95.0), ms(99.0))
}

/// `5m`, `1h`, `3days`.
pub fn span(ms: Millis) -> String {
    humantime::format_duration(Duration::from_secs(ms / 1000)).to_string()
}

fn trim_float(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
