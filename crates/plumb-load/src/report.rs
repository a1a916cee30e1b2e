//! What a load test measured ([`LoadReport`]), the values thresholds read from it, and its
//! conversion into the versioned result format of `plumb-schema`.

use crate::recorder::{ErrorClass, Recorder};
use crate::settings::{HttpVersion, LoadModel, LoadSettings};
use plumb_schema::load::{
    ErrorDetail, GeneratorUsage, LoadHistograms, LoadResult, LoadSettingsRecord, LoadSummary,
    Percentiles, SecondWindow, SegmentRecord, StageRecord, ThresholdOutcome, LOAD_SCHEMA_VERSION,
};
use plumb_stats::{Aggregation, DurationHistogram, LoadMetrics, Metric, MetricSource, Threshold};
use std::time::{Duration, SystemTime};

/// Busiest-thread CPU share above which the generator is called saturated.
const SATURATED_LOAD: f64 = 0.9;
/// Below this share of a core, a lagging generator was kept off the CPU by others, not saturated.
const BUSY_GENERATOR: f64 = 0.5;

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Wall-clock start of the load phase.
    pub started_at: SystemTime,
    /// Length of the load phase.
    pub elapsed: Duration,
    /// All threads' recorders merged.
    pub totals: Recorder,
    /// One point per second.
    pub series: Vec<WindowStats>,
    /// Requests in flight when the run ended (not in the totals).
    pub in_flight_at_end: u64,
    /// Open model: requests due before the end that were never sent.
    pub missed_sends: u64,
    /// Open model: times a due request found every connection busy at the cap.
    pub cap_waits: u64,
    /// The generator's own CPU use.
    pub generator: GeneratorStats,
    /// Why the run stopped early, if it did.
    pub stop_reason: Option<String>,
    /// The requested constant rate (open model without stages); a segment's share of it.
    pub requested_rate: Option<f64>,
    /// How late the load began after the agreed `--start-at`.
    pub late_start: Duration,
}

/// CPU used by the generator's worker threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct GeneratorStats {
    /// User CPU time, all workers.
    pub user: Duration,
    /// System CPU time, all workers.
    pub system: Duration,
    /// The busiest worker's CPU time over its wall time.
    pub busiest_load: f64,
}

/// Numbers of one second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowStats {
    /// Seconds since the start.
    pub t_s: u64,
    /// Requests completed.
    pub requests: u64,
    /// Requests failed.
    pub errors: u64,
    /// Median latency.
    pub latency_p50: Duration,
    /// 99th percentile latency.
    pub latency_p99: Duration,
    /// Largest latency.
    pub latency_max: Duration,
    /// Median service time.
    pub service_p50: Duration,
    /// Bytes received.
    pub bytes_received: u64,
    /// The window's latency histogram (base64 V2 deflate; empty when nothing completed), so a
    /// comparison can block-bootstrap whole-run percentiles from the run's seconds.
    pub latency_histogram: String,
    /// The window's service-time histogram, likewise.
    pub service_histogram: String,
}

impl WindowStats {
    /// A second in which nothing completed.
    pub fn empty(t_s: u64) -> WindowStats {
        WindowStats {
            t_s,
            ..WindowStats::default()
        }
    }

    /// The numbers of one second's merged recorder.
    pub fn of(t_s: u64, recorder: &Recorder) -> WindowStats {
        WindowStats {
            t_s,
            requests: recorder.requests,
            errors: recorder.errors,
            latency_p50: recorder.latency.percentile(50.0),
            latency_p99: recorder.latency.percentile(99.0),
            latency_max: recorder.latency.max(),
            service_p50: recorder.service.percentile(50.0),
            bytes_received: recorder.bytes_received,
            latency_histogram: if recorder.latency.is_empty() {
                String::new()
            } else {
                recorder.latency.to_base64()
            },
            service_histogram: if recorder.service.is_empty() {
                String::new()
            } else {
                recorder.service.to_base64()
            },
        }
    }
}

impl LoadReport {
    /// Whether the run ended early.
    pub fn interrupted(&self) -> bool {
        self.stop_reason.is_some()
    }

    /// Completed requests per second over the load phase.
    pub fn rps(&self) -> f64 {
        self.totals.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// Whether the generator, not the target, likely limited the run.
    pub fn generator_saturated(&self) -> bool {
        self.generator.busiest_load >= SATURATED_LOAD
            || (self.generator_behind_schedule() && !self.machine_delayed_the_generator())
    }

    /// Sends lagged although plumb's busiest thread was mostly idle: other processes (or the
    /// hypervisor) kept plumb's threads off the CPU, so the machine, not plumb, was saturated.
    fn machine_delayed_the_generator(&self) -> bool {
        self.generator.busiest_load < BUSY_GENERATOR
    }

    /// Open model: sends lagged their schedule although connections were free.
    fn generator_behind_schedule(&self) -> bool {
        let lag = &self.totals.send_lag;
        !lag.is_empty() && lag.percentile(99.0) > Duration::from_millis(5) && self.cap_waits == 0
    }

    /// Evaluate thresholds against the whole run.
    pub fn evaluate(&self, thresholds: &[Threshold]) -> Vec<ThresholdOutcome> {
        evaluate_thresholds(thresholds, self)
    }

    /// Things a reader must know to trust (or distrust) the numbers.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let t = &self.totals;
        if t.requests > 0 && t.errors == t.requests {
            let why = ErrorClass::ALL
                .iter()
                .filter(|c| t.errors_of(**c) > 0)
                .map(|c| format!("{} {}", t.errors_of(*c), c.name()))
                .collect::<Vec<_>>()
                .join(", ");
            warnings.push(format!(
                "EVERY REQUEST FAILED ({why}): no latency here describes a working server"
            ));
        } else if t.requests == 0 {
            warnings.push("no request completed: there is nothing to measure".to_string());
        }
        if self.generator.busiest_load >= SATURATED_LOAD {
            warnings.push(format!(
                "the load generator's busiest thread used {:.0}% of a core: plumb itself may have \
                 limited the result; add threads (-t) or run plumb on another machine",
                self.generator.busiest_load * 100.0
            ));
        }
        if self.generator_behind_schedule() {
            let lag = fmt_ms(self.totals.send_lag.percentile(99.0));
            let busiest = self.generator.busiest_load * 100.0;
            warnings.push(if self.machine_delayed_the_generator() {
                format!(
                    "sends lagged their schedule (p99 {lag}) although plumb's busiest thread used only \
                     {busiest:.0}% of a core: the machine was busy (other processes kept plumb off the \
                     CPU), so latencies include that delay; run on a quieter machine"
                )
            } else {
                format!(
                    "sends lagged their schedule (p99 {lag}) while connections were free and plumb's \
                     busiest thread used {busiest:.0}% of a core: plumb itself could not keep up with \
                     the rate; add threads (-t)"
                )
            });
        }
        if self.missed_sends > 0 {
            warnings.push(format!(
                "{} requests due before the end were never sent",
                self.missed_sends
            ));
        }
        if self.cap_waits > 0 {
            warnings.push(format!(
                "{} requests waited for a free connection at the cap (their wait counts in latency); \
                 raise -c to allow more connections",
                self.cap_waits
            ));
        }
        let clamped = self.totals.latency.clamped();
        if clamped > 0 {
            warnings.push(format!(
                "{clamped} latencies above one hour were recorded as one hour"
            ));
        }
        warnings
    }

    /// The versioned result, as written by `--json`.
    pub fn to_result(
        &self,
        settings: &LoadSettings,
        thresholds: Vec<ThresholdOutcome>,
    ) -> LoadResult {
        LoadResult {
            schema_version: LOAD_SCHEMA_VERSION,
            kind: "load".to_string(),
            plumb_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: humantime::format_rfc3339_millis(self.started_at).to_string(),
            interrupted: self.interrupted(),
            stop_reason: self.stop_reason.clone(),
            settings: settings_record(settings),
            summary: self.summary(),
            thresholds,
            histograms: LoadHistograms {
                latency: self.totals.latency.to_base64(),
                service_time: self.totals.service.to_base64(),
                connect: self.totals.connect.to_base64(),
                ttfb: self.totals.ttfb.to_base64(),
                send_lag: self.totals.send_lag.to_base64(),
            },
            timeseries: self
                .series
                .iter()
                .map(|w| second_window(w, settings.segment.is_some()))
                .collect(),
            warnings: [
                self.warnings(),
                crate::flow_report::warnings(&self.totals, settings.flows.as_deref()),
            ]
            .concat(),
            server: None,
            host_noise: None,
            db: None,
            flows: crate::flow_report::result(&self.totals, settings.flows.as_deref()),
            segment: settings.segment.map(|segment| self.segment_record(segment)),
            merged_from: None,
        }
    }

    fn segment_record(&self, segment: crate::settings::Segment) -> SegmentRecord {
        SegmentRecord {
            index: u64::from(segment.index),
            count: u64::from(segment.count),
            start_at: humantime::format_rfc3339_millis(self.started_at).to_string(),
            late_start_ms: ms(self.late_start),
            clock_offset_ms: None,
            host: std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_default(),
            generator_saturated: self.generator_saturated(),
        }
    }

    fn summary(&self) -> LoadSummary {
        let t = &self.totals;
        LoadSummary {
            requests: t.requests,
            rps: self.rps(),
            errors: t.errors,
            error_rate: ratio(t.errors, t.requests),
            duration_s: self.elapsed.as_secs_f64(),
            requested_rps: self.requested_rate,
            latency_ms: percentiles(&t.latency),
            service_time_ms: percentiles(&t.service),
            connect_ms: percentiles(&t.connect),
            ttfb_ms: percentiles(&t.ttfb),
            send_lag_ms: (!t.send_lag.is_empty()).then(|| percentiles(&t.send_lag)),
            missed_sends: self.missed_sends,
            in_flight_at_end: self.in_flight_at_end,
            connections_opened: t.connections_opened,
            status_codes: t.statuses().map(|(c, n)| (c.to_string(), n)).collect(),
            errors_by_class: ErrorClass::ALL
                .iter()
                .filter(|c| t.errors_of(**c) > 0)
                .map(|c| (c.name().to_string(), t.errors_of(*c)))
                .collect(),
            error_details: error_details(t),
            retries: t.retries,
            bytes_sent: t.bytes_sent,
            bytes_received: t.bytes_received,
            generator: GeneratorUsage {
                user_s: self.generator.user.as_secs_f64(),
                system_s: self.generator.system.as_secs_f64(),
                busiest_thread_load: self.generator.busiest_load,
                saturated: self.generator_saturated(),
            },
        }
    }
}

/// The recorder's reasons of failure, most frequent first.
fn error_details(totals: &Recorder) -> Vec<ErrorDetail> {
    let mut details: Vec<ErrorDetail> = totals
        .details
        .iter()
        .map(|d| ErrorDetail {
            class: d.class.name().to_string(),
            detail: d.detail.to_string(),
            count: d.count,
        })
        .collect();
    details.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.detail.cmp(&b.detail)));
    details
}

impl MetricSource for LoadReport {
    fn value(&self, metric: Metric, aggregation: Aggregation) -> Option<f64> {
        metric_value(&self.totals, self.elapsed, metric, aggregation)
    }

    fn tagged_value(
        &self,
        metric: Metric,
        aggregation: Aggregation,
        tag: &plumb_stats::Tag,
    ) -> Option<f64> {
        crate::flow_report::tagged_value(&self.totals, self.elapsed, metric, aggregation, tag)
    }
}

/// The value of `metric` reduced by `aggregation` (durations in milliseconds): what
/// `plumb_stats::LoadMetrics` reads from this recorder.
pub fn metric_value(
    totals: &Recorder,
    elapsed: Duration,
    metric: Metric,
    aggregation: Aggregation,
) -> Option<f64> {
    load_metrics(totals, elapsed).value(metric, aggregation)
}

/// The recorder's figures as thresholds read them.
pub fn load_metrics(totals: &Recorder, elapsed: Duration) -> LoadMetrics<'_> {
    LoadMetrics {
        latency: &totals.latency,
        service: &totals.service,
        ttfb: &totals.ttfb,
        connect: &totals.connect,
        requests: totals.requests,
        errors: totals.errors,
        bytes_sent: totals.bytes_sent,
        bytes_received: totals.bytes_received,
        elapsed,
    }
}

/// Verdicts of `thresholds` against `source`, in order.
pub fn evaluate_thresholds(
    thresholds: &[Threshold],
    source: &dyn MetricSource,
) -> Vec<ThresholdOutcome> {
    thresholds
        .iter()
        .map(|t| {
            let evaluation = t.evaluate(source);
            ThresholdOutcome {
                expression: t.source.clone(),
                status: evaluation.status,
                observed: evaluation.observed,
                window: None,
            }
        })
        .collect()
}

/// A histogram summarized in milliseconds.
pub fn percentiles(h: &DurationHistogram) -> Percentiles {
    Percentiles::of(h)
}

/// One second of the result; a segment's also carries its service-time histogram, so that
/// `plumb merge` recomputes the merged second's median exactly.
fn second_window(w: &WindowStats, segment: bool) -> SecondWindow {
    SecondWindow {
        t_s: w.t_s,
        requests: w.requests,
        errors: w.errors,
        latency_p50_ms: ms(w.latency_p50),
        latency_p99_ms: ms(w.latency_p99),
        latency_max_ms: ms(w.latency_max),
        service_p50_ms: ms(w.service_p50),
        bytes_received: w.bytes_received,
        latency_histogram: (!w.latency_histogram.is_empty()).then(|| w.latency_histogram.clone()),
        service_histogram: (segment && !w.service_histogram.is_empty())
            .then(|| w.service_histogram.clone()),
    }
}

/// What identifies a test across the processes that run its segments: the whole test's settings
/// as results record them, and plumb's version.
pub fn settings_fingerprint(settings: &LoadSettings) -> String {
    format!(
        "plumb {} {:?}",
        env!("CARGO_PKG_VERSION"),
        settings_record(settings)
    )
}

fn settings_record(s: &LoadSettings) -> LoadSettingsRecord {
    let (model, connections, rate) = match s.model {
        LoadModel::Closed { connections } => ("closed", u64::from(connections), None),
        LoadModel::Open {
            rate,
            max_connections,
        } => ("open", u64::from(max_connections), Some(rate)),
    };
    LoadSettingsRecord {
        url: s.url.clone(),
        method: s.method.clone(),
        model: model.to_string(),
        connections,
        rate,
        duration_s: s.planned_duration().map(|d| d.as_secs_f64()),
        requests: s.requests,
        threads: s.threads as u64,
        stages: s
            .stages
            .iter()
            .map(|st| StageRecord {
                duration_s: st.duration.as_secs_f64(),
                target: st.target,
            })
            .collect(),
        timeout_ms: ms(s.timeout),
        http_version: match s.http_version {
            HttpVersion::Http1 => "1.1",
            HttpVersion::Http2 => "2",
        }
        .to_string(),
        streams: (s.streams > 1).then_some(u64::from(s.streams)),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn fmt_ms(d: Duration) -> String {
    format!("{:.2} ms", ms(d))
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::Exchange;

    fn report(requests: u64, failed: u64, busiest_load: f64) -> LoadReport {
        let mut totals = Recorder::new();
        for i in 0..requests {
            let d = Duration::from_millis(1 + i % 10);
            let exchange = Exchange {
                latency: d,
                service: d / 2,
                ttfb: d / 4,
                status: if i < failed { 500 } else { 200 },
                bytes_sent: 100,
                bytes_received: 1000,
            };
            totals.record_exchange(&exchange, (i < failed).then_some(ErrorClass::Status));
        }
        LoadReport {
            started_at: SystemTime::UNIX_EPOCH,
            elapsed: Duration::from_secs(2),
            totals,
            series: Vec::new(),
            in_flight_at_end: 0,
            missed_sends: 0,
            cap_waits: 0,
            generator: GeneratorStats {
                busiest_load,
                ..GeneratorStats::default()
            },
            stop_reason: None,
            requested_rate: None,
            late_start: Duration::ZERO,
        }
    }

    fn value(r: &LoadReport, metric: Metric, aggregation: Aggregation) -> f64 {
        r.value(metric, aggregation).expect("a value")
    }

    #[test]
    fn a_lagging_idle_generator_blames_the_machine_and_a_busy_one_blames_plumb() {
        let lagging = |busiest| {
            let mut r = report(100, 0, busiest);
            for _ in 0..100 {
                r.totals.send_lag.record(Duration::from_millis(20));
            }
            r
        };
        let idle = lagging(0.01);
        let warning = idle.warnings().join("\n");
        assert!(
            warning.contains("used only 1% of a core: the machine was busy"),
            "{warning}"
        );
        assert!(!idle.generator_saturated());
        let busy = lagging(0.8);
        let warning = busy.warnings().join("\n");
        assert!(
            warning.contains("plumb itself could not keep up"),
            "{warning}"
        );
        assert!(busy.generator_saturated());
    }

    #[test]
    fn every_request_failing_is_said_first() {
        let r = report(10, 10, 0.1);
        let mut failed = r.clone();
        failed.totals = Recorder::new();
        for _ in 0..10 {
            failed.totals.record_failure(ErrorClass::Refused, 0, 0);
        }
        assert_eq!(
            failed.warnings()[0],
            "EVERY REQUEST FAILED (10 refused): no latency here describes a working server"
        );
        let none = LoadReport {
            totals: Recorder::new(),
            ..r
        };
        assert_eq!(
            none.warnings()[0],
            "no request completed: there is nothing to measure"
        );
    }

    #[test]
    fn metric_values_for_thresholds() {
        let r = report(1000, 10, 0.5);
        assert_eq!(value(&r, Metric::HttpReqs, Aggregation::Count), 1000.0);
        assert_eq!(value(&r, Metric::HttpReqs, Aggregation::Rate), 500.0);
        assert!((value(&r, Metric::HttpReqFailed, Aggregation::Rate) - 0.01).abs() < 1e-12);
        assert!((value(&r, Metric::Checks, Aggregation::Rate) - 0.99).abs() < 1e-12);
        assert_eq!(
            value(&r, Metric::DataReceived, Aggregation::Count),
            1_000_000.0
        );
        let max = value(&r, Metric::HttpReqDuration, Aggregation::Max);
        assert!((max - 10.0).abs() < 0.01, "{max}");
        let service_max = value(&r, Metric::HttpReqServiceTime, Aggregation::Max);
        assert!((service_max - 5.0).abs() < 0.01, "{service_max}");
    }

    #[test]
    fn no_samples_means_no_data_not_zero() {
        let r = report(0, 0, 0.1);
        assert_eq!(
            r.value(Metric::HttpReqDuration, Aggregation::Percentile(95.0)),
            None
        );
        assert_eq!(r.value(Metric::HttpReqFailed, Aggregation::Rate), None);
        assert_eq!(r.value(Metric::HttpReqs, Aggregation::Count), None);
        let t = Threshold::parse("http_req_duration: p(95)<1s").unwrap();
        assert_eq!(
            r.evaluate(&[t])[0].status,
            plumb_stats::ThresholdStatus::NoData
        );
    }

    #[test]
    fn a_saturated_generator_is_said_plainly() {
        let busy = report(10, 0, 0.97);
        assert!(busy.generator_saturated());
        assert!(busy.warnings()[0].contains("97% of a core"));
        let idle = report(10, 0, 0.3);
        assert!(!idle.generator_saturated());
        assert!(idle.warnings().is_empty());
    }

    #[test]
    fn result_carries_histograms_that_decode_to_the_totals() {
        let r = report(100, 0, 0.2);
        let result = r.to_result(&LoadSettings::new("http://127.0.0.1/"), Vec::new());
        assert_eq!(result.summary.requests, 100);
        assert_eq!(result.summary.rps, 50.0);
        let back = DurationHistogram::from_base64(&result.histograms.latency).unwrap();
        assert_eq!(back.len(), 100);
        assert_eq!(result.summary.status_codes.get("200"), Some(&100));
    }
}
