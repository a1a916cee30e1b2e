//! The monitor's Prometheus metrics, through prometheus-client (OpenMetrics text): probe
//! counts and success, a histogram of passed probes' durations whose buckets include every
//! latency SLO's bound (so the generated rules can read `le` at the bound), and the SLO,
//! budget, burn-rate and alert gauges. Every series carries the `monitor` label.

use crate::config::MonitorConfig;
use crate::monitor::MonitorStatus;
use crate::probe::ProbeResult;
use crate::slo::Sli;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::borrow::Cow;
use std::sync::atomic::AtomicU64;

type Labels = Vec<(String, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// The Content-Type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Duration buckets of passed probes, in seconds (the SLO bounds are added).
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The metric handles and their registry.
pub struct Metrics {
    registry: Registry,
    probes: Family<Labels, Counter>,
    success: FloatGauge,
    duration: Histogram,
    objective: Family<Labels, FloatGauge>,
    sli: Family<Labels, FloatGauge>,
    remaining: Family<Labels, FloatGauge>,
    burn: Family<Labels, FloatGauge>,
    firing: Family<Labels, FloatGauge>,
}

impl Metrics {
    /// The metrics of one monitor.
    pub fn new(config: &MonitorConfig) -> Metrics {
        let monitor = (
            Cow::Borrowed("monitor"),
            Cow::Owned(config.display_name().to_string()),
        );
        let mut registry = Registry::with_labels(std::iter::once(monitor));
        let mut buckets: Vec<f64> = BUCKETS.to_vec();
        for slo in &config.slo {
            if let Sli::Latency { under } = slo.sli {
                buckets.push(under.as_secs_f64());
            }
        }
        buckets.sort_by(f64::total_cmp);
        buckets.dedup();
        let m = Metrics {
            registry: Registry::default(),
            probes: Family::default(),
            success: FloatGauge::default(),
            duration: Histogram::new(buckets),
            objective: Family::default(),
            sli: Family::default(),
            remaining: Family::default(),
            burn: Family::default(),
            firing: Family::default(),
        };
        registry.register(
            "plumb_probes",
            "Probes sent, by result (ok, fail)",
            m.probes.clone(),
        );
        registry.register(
            "plumb_probe_success",
            "Whether the last probe passed (1) or failed (0)",
            m.success.clone(),
        );
        registry.register(
            "plumb_probe_duration_seconds",
            "Connect plus exchange time of passed probes",
            m.duration.clone(),
        );
        registry.register(
            "plumb_slo_objective_ratio",
            "The SLO's objective",
            m.objective.clone(),
        );
        registry.register(
            "plumb_slo_sli_ratio",
            "Good events over valid events, over the SLO's period",
            m.sli.clone(),
        );
        registry.register(
            "plumb_slo_error_budget_remaining_ratio",
            "Error budget left over the period (1 - E(P)/B)",
            m.remaining.clone(),
        );
        registry.register(
            "plumb_slo_burn_rate",
            "Error ratio over budget, by window",
            m.burn.clone(),
        );
        registry.register(
            "plumb_alert_firing",
            "1 while the alert fires",
            m.firing.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Count a probe and publish the monitor's status.
    pub fn update(&self, probe: &ProbeResult, status: &MonitorStatus) {
        let result = if probe.ok { "ok" } else { "fail" };
        self.probes
            .get_or_create(&vec![("result".to_string(), result.to_string())])
            .inc();
        self.success.set(if probe.ok { 1.0 } else { 0.0 });
        if probe.ok {
            self.duration.observe(probe.took.as_secs_f64());
        }
        for slo in &status.slos {
            let labels = vec![("slo".to_string(), slo.name.clone())];
            self.objective.get_or_create(&labels).set(slo.objective);
            if let Some(sli) = slo.sli {
                self.sli.get_or_create(&labels).set(sli);
            }
            if let Some(r) = slo.budget_remaining {
                self.remaining.get_or_create(&labels).set(r);
            }
            for w in &slo.windows {
                for (ms, burn) in [(w.long_ms, w.long_burn), (w.short_ms, w.short_burn)] {
                    if let Some(burn) = burn {
                        let mut l = labels.clone();
                        l.push(("window".to_string(), crate::rules::prom_duration(ms)));
                        self.burn.get_or_create(&l).set(burn);
                    }
                }
            }
        }
        for alert in &status.alerts {
            let labels: Labels = alert
                .labels
                .iter()
                .filter(|(k, _)| k.as_str() != "monitor")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            self.firing
                .get_or_create(&labels)
                .set(if alert.state == "firing" { 1.0 } else { 0.0 });
        }
    }

    /// The exposition text.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
