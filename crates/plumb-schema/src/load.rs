//! The result of `plumb load`: settings, summary, thresholds, histograms and the per-second series.
//!
//! Times are in milliseconds (fractional, so microseconds survive) unless a field name says otherwise.
//! Histograms are base64 of the standard HdrHistogram V2 deflate encoding, in nanoseconds, so results
//! from several runs or segments merge exactly.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of this layout; bumped on every incompatible change.
pub const LOAD_SCHEMA_VERSION: u32 = 1;

/// One `plumb load` run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LoadResult {
    /// Layout version, [`LOAD_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always `"load"`.
    pub kind: String,
    /// Version of plumb that produced the result.
    pub plumb_version: String,
    /// Start of the run, RFC 3339 UTC.
    pub started_at: String,
    /// True when the run was stopped early (Ctrl-C or `--abort-on-fail`).
    pub interrupted: bool,
    /// Why the run stopped early, when it did.
    pub stop_reason: Option<String>,
    /// The settings the run used.
    pub settings: LoadSettingsRecord,
    /// The headline numbers.
    pub summary: LoadSummary,
    /// Threshold verdicts, in the order given.
    pub thresholds: Vec<ThresholdOutcome>,
    /// Full histograms, mergeable.
    pub histograms: LoadHistograms,
    /// One entry per second of the run.
    pub timeseries: Vec<SecondWindow>,
    /// Things the reader should know: generator saturation, clamped samples, missed sends.
    pub warnings: Vec<String>,
    /// The server process watched during the load (`--watch-pid`, `--profile-pid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<WatchedServer>,
    /// How busy the host was during the run (load average, CPU pressure, steal, plumb's share).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_noise: Option<crate::host::HostNoise>,
    /// What the load cost the database (`--db`): queries and database time per request, the
    /// top statements, N+1 suspects, cache hit ratio and connections during the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db: Option<crate::db::LoadDbStats>,
    /// Per-flow and per-step figures of a run of flows (`plumb load -f FILE`), keyed by the
    /// flows' and steps' names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows: Option<FlowsResult>,
    /// This run was one segment of a test split over several processes (`--segment I/N`): its
    /// `settings` are the whole test's, its `summary` and histograms this segment's share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentRecord>,
    /// A run merged by `plumb merge` from segment results: the segments it was made of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<Vec<SegmentRecord>>,
}

/// One segment of a test split over several processes or machines (`--segment I/N`). Segment
/// `index` of `count` sends the open model's request indices `index, index + count, ...` and the
/// closed model's connections `index, index + count, ...`, so the segments together reproduce the
/// single-process schedule with no overlap and no gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SegmentRecord {
    /// This segment's index, from 0.
    pub index: u64,
    /// How many segments the test was split into.
    pub count: u64,
    /// The agreed absolute start of every segment, RFC 3339 UTC with milliseconds; per-second
    /// windows (`timeseries[].t_s`) count seconds from it.
    pub start_at: String,
    /// How late this segment's load began after `start_at` by its own clock, in milliseconds.
    pub late_start_ms: f64,
    /// This host's clock minus the coordinator's, in milliseconds, when a coordinator measured
    /// it (`--coordinator`); absent with `--start-at`, where clocks are trusted as synchronised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_offset_ms: Option<f64>,
    /// The host the segment ran on.
    pub host: String,
    /// The segment's generator was saturated (its busiest thread near a full core): a merged run
    /// with such a segment is marked invalid.
    pub generator_saturated: bool,
}

/// The server processes observed while they were under load (one process, a tree or a cgroup:
/// `resources.processes` says which).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WatchedServer {
    /// Its process id: the first watched PID (0 when only a cgroup was watched).
    pub pid: u32,
    /// CPU, memory, threads, context switches and I/O sampled from /proc.
    pub resources: crate::profile::ResourceTimeline,
    /// Its CPU stacks (`--profile-pid`), or why they could not be sampled.
    pub cpu: Option<crate::profile::CpuOutcome>,
    /// CPU (user + system) of the watched processes during the run per completed request, in
    /// milliseconds; absent when no request completed (and in results of older plumb).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ms_per_request: Option<f64>,
}

/// The resolved settings of a run, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LoadSettingsRecord {
    /// Target URL.
    pub url: String,
    /// HTTP method.
    pub method: String,
    /// `"closed"` (connections send back to back) or `"open"` (requests on a rate schedule).
    pub model: String,
    /// Connections (closed model) or the connection cap (open model).
    pub connections: u64,
    /// Requested rate in requests per second (open model).
    pub rate: Option<f64>,
    /// Requested duration in seconds.
    pub duration_s: Option<f64>,
    /// Requested number of requests.
    pub requests: Option<u64>,
    /// Worker threads (one event loop each).
    pub threads: u64,
    /// Stages as `duration_s:target` pairs.
    pub stages: Vec<StageRecord>,
    /// Per-request timeout in milliseconds.
    pub timeout_ms: f64,
    /// `"1.1"` or `"2"`.
    pub http_version: String,
    /// HTTP/2 streams per connection (`-p`); absent for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams: Option<u64>,
}

/// One ramping stage.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StageRecord {
    /// Stage length in seconds.
    pub duration_s: f64,
    /// Rate (open model) or connections (closed model) reached at the end of the stage.
    pub target: f64,
}

/// Headline numbers of a run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LoadSummary {
    /// Completed requests (successes and failures with a response or an error).
    pub requests: u64,
    /// Completed requests per second over the run.
    pub rps: f64,
    /// Requests counted as failed (any error class).
    pub errors: u64,
    /// `errors / requests`.
    pub error_rate: f64,
    /// Wall time of the load phase, seconds.
    pub duration_s: f64,
    /// Requested rate (open model).
    pub requested_rps: Option<f64>,
    /// Latency from the intended send time (equals service time in the closed model).
    pub latency_ms: Percentiles,
    /// Service time: from the actual send to the end of the response.
    pub service_time_ms: Percentiles,
    /// TCP (+TLS) connect time.
    pub connect_ms: Percentiles,
    /// Time to first response byte, from the actual send.
    pub ttfb_ms: Percentiles,
    /// Lag of actual sends behind their intended time (open model).
    pub send_lag_ms: Option<Percentiles>,
    /// Requests due before the end that were never sent.
    pub missed_sends: u64,
    /// Requests still in flight when the run ended (not counted above).
    pub in_flight_at_end: u64,
    /// Connections opened during the run.
    pub connections_opened: u64,
    /// Responses by status code.
    pub status_codes: BTreeMap<String, u64>,
    /// Errors by class: refused, connect, reset, closed, timeout, tls, malformed, status, body, io.
    pub errors_by_class: BTreeMap<String, u64>,
    /// Why requests failed, where plumb can tell ("certificate expired", "too many open files"),
    /// most frequent first.
    #[serde(default)]
    pub error_details: Vec<ErrorDetail>,
    /// Requests sent a second time on a fresh connection because a reused keep-alive connection
    /// failed before any byte of the response (closed while idle, HTTP/2 GOAWAY). Not errors:
    /// the retried attempt's outcome is what counts.
    #[serde(default)]
    pub retries: u64,
    /// Bytes written to the target: whole requests over HTTP/1.1, request bodies (DATA) over
    /// HTTP/2, whose compressed headers are not counted.
    pub bytes_sent: u64,
    /// Bytes read from the target: whole responses over HTTP/1.1, response bodies (DATA) over
    /// HTTP/2.
    pub bytes_received: u64,
    /// CPU used by plumb's load generator.
    pub generator: GeneratorUsage,
}

/// One reason of failure and how many requests failed for it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ErrorDetail {
    /// The error class the requests were counted under.
    pub class: String,
    /// The reason in words.
    pub detail: String,
    /// Requests.
    pub count: u64,
}

/// The usual summary of a distribution, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Smallest.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// The summary of a histogram (nanoseconds) in milliseconds: what every result records, so a
    /// run's figures and a merge's are read the same way.
    pub fn of(h: &plumb_stats::DurationHistogram) -> Percentiles {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        Percentiles {
            count: h.len(),
            min: ms(h.min()),
            mean: ms(h.mean()),
            p50: ms(h.percentile(50.0)),
            p90: ms(h.percentile(90.0)),
            p95: ms(h.percentile(95.0)),
            p99: ms(h.percentile(99.0)),
            p999: ms(h.percentile(99.9)),
            max: ms(h.max()),
        }
    }
}

/// CPU used by the load generator, to tell a saturated generator from a slow target.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct GeneratorUsage {
    /// User CPU seconds of all worker threads.
    pub user_s: f64,
    /// System CPU seconds of all worker threads.
    pub system_s: f64,
    /// Busiest worker thread's CPU time over its wall time (1.0 = one core fully used).
    pub busiest_thread_load: f64,
    /// True when the generator, not the target, likely limited the result.
    pub saturated: bool,
}

/// Verdict of one threshold.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ThresholdOutcome {
    /// The expression as given.
    pub expression: String,
    /// `"passed"`, `"failed"`, or `"no data"`.
    pub status: plumb_stats::ThresholdStatus,
    /// The observed value (milliseconds for durations).
    pub observed: Option<f64>,
    /// With `--threshold-window`: the threshold judged over every rolling window too (`status`
    /// then fails when the whole run or any window failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<ThresholdWindow>,
}

/// A threshold judged over every rolling window of whole seconds (`--threshold-window`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ThresholdWindow {
    /// The window's length in seconds; windows slide by one second.
    pub seconds: u64,
    /// Windows judged (full windows with a value).
    pub windows: u64,
    /// Windows in which the threshold failed.
    pub failed_windows: u64,
    /// `"passed"`, `"failed"`, or `"no data"` (the run was shorter than one window).
    pub status: plumb_stats::ThresholdStatus,
    /// Seconds since the start at which the first failing window begins.
    pub first_failed_from_s: Option<u64>,
    /// Seconds since the start at which the worst failing window begins.
    pub worst_from_s: Option<u64>,
    /// The worst failing window's value (milliseconds for durations).
    pub worst_observed: Option<f64>,
}

/// Serialized HDR histograms (nanoseconds).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct LoadHistograms {
    /// Latency from the intended send time.
    pub latency: String,
    /// Service time.
    pub service_time: String,
    /// Connect time.
    pub connect: String,
    /// Time to first byte.
    pub ttfb: String,
    /// Send lag behind schedule.
    pub send_lag: String,
}

/// Numbers of one second of the run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct SecondWindow {
    /// Seconds since the start (the window covers `[t_s, t_s + 1)`).
    pub t_s: u64,
    /// Requests completed in the window.
    pub requests: u64,
    /// Failed requests in the window.
    pub errors: u64,
    /// Median latency of the window.
    pub latency_p50_ms: f64,
    /// 99th percentile latency of the window.
    pub latency_p99_ms: f64,
    /// Largest latency of the window.
    pub latency_max_ms: f64,
    /// Median service time of the window.
    pub service_p50_ms: f64,
    /// Bytes received in the window.
    pub bytes_received: u64,
    /// The window's latency histogram (base64 V2 deflate, ns), absent when nothing completed or
    /// in results of older plumb versions: comparisons block-bootstrap whole-run percentiles
    /// from these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_histogram: Option<String>,
    /// The window's service-time histogram (base64 V2 deflate, ns), written by segment runs
    /// (`--segment`) so `plumb merge` recomputes `service_p50_ms` exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_histogram: Option<String>,
}

/// The flows of a run (`plumb load -f FILE`): per flow its sessions, per step its latency,
/// errors and checks. Keyed by the names in the file, never by rendered URLs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct FlowsResult {
    /// The flow file.
    pub file: String,
    /// The flows that ran, in the file's order.
    pub flows: Vec<FlowResult>,
}

/// One flow's figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct FlowResult {
    /// Its name.
    pub name: String,
    /// Its weight in the mix.
    pub weight: u32,
    /// Sessions started.
    pub sessions_started: u64,
    /// Sessions whose every step got a response and every capture matched.
    pub sessions_completed: u64,
    /// Sessions ended early (no response, or a capture matched nothing).
    pub sessions_failed: u64,
    /// `sessions_completed / sessions_started` (sessions still running at the end count as not
    /// completed).
    pub completion_rate: f64,
    /// Completed sessions' duration, from the intended start, think times included.
    pub session_duration_ms: Percentiles,
    /// The same as an HDR histogram (base64 V2 deflate, ns).
    pub session_duration_histogram: String,
    /// Its steps, in order.
    pub steps: Vec<StepResult>,
}

/// One step's figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct StepResult {
    /// Its name (`name`, or the method and the URL as written).
    pub name: String,
    /// Its line in the flow file.
    pub line: u64,
    /// Requests sent (answered or failed).
    pub requests: u64,
    /// Requests counted as failed.
    pub errors: u64,
    /// Failed requests by class (`status`, `body`, `check`, `capture`, and the transport classes).
    pub errors_by_class: BTreeMap<String, u64>,
    /// Checks written in the file that passed.
    pub checks_passed: u64,
    /// Checks that failed.
    pub checks_failed: u64,
    /// Latency: the first step's from the session's intended start, the others' from their send.
    pub latency_ms: Percentiles,
    /// The same as an HDR histogram (base64 V2 deflate, ns).
    pub latency_histogram: String,
    /// Per capture that missed at least once: the responses in which it matched nothing.
    pub captures_missed: BTreeMap<String, u64>,
}
