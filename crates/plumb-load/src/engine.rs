//! The coordinator: validates settings, starts one worker thread per event loop, merges their
//! per-second recorders, reports progress to an [`Observer`], and assembles the [`LoadReport`].

use crate::endpoint::{tls_config, Endpoint};
use crate::error::LoadError;
use crate::http1::encode_request;
use crate::http2::H2Request;
use crate::recorder::Recorder;
use crate::report::{GeneratorStats, LoadReport, WindowStats};
use crate::schedule::Ramp;
use crate::settings::{HttpVersion, LoadModel, LoadSettings, Segment};
use crate::usage::raise_open_files_limit;
use crate::worker::{self, ExchangePlan, Pacing, WorkerDone, WorkerMessage, WorkerPlan};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// Lets another thread (a Ctrl-C handler) stop a running test; the partial result is kept.
#[derive(Clone, Default)]
pub struct StopSignal {
    flag: Arc<AtomicBool>,
    reason: Arc<Mutex<Option<String>>>,
}

impl StopSignal {
    /// A signal that has not fired.
    pub fn new() -> StopSignal {
        StopSignal::default()
    }

    /// Stop the test; the first reason given is the one reported.
    pub fn stop(&self, reason: &str) {
        if let Ok(mut slot) = self.reason.lock() {
            slot.get_or_insert_with(|| reason.to_string());
        }
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Whether the signal fired.
    pub fn is_stopped(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    fn reason(&self) -> Option<String> {
        self.reason.lock().ok().and_then(|r| r.clone())
    }
}

/// What the observer decides after each second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Keep going.
    Continue,
    /// Stop now, for this reason (e.g. a threshold failed with `--abort-on-fail`).
    Stop(String),
}

/// The state of a running test, once per second.
pub struct Progress<'a> {
    /// Time since the load started.
    pub elapsed: Duration,
    /// The planned length, when the run is time-bound.
    pub planned: Option<Duration>,
    /// Everything recorded so far (all threads, whole seconds).
    pub totals: &'a Recorder,
    /// The last whole second, once one has completed.
    pub last_second: Option<&'a WindowStats>,
}

impl plumb_stats::MetricSource for Progress<'_> {
    fn value(
        &self,
        metric: plumb_stats::Metric,
        aggregation: plumb_stats::Aggregation,
    ) -> Option<f64> {
        crate::report::metric_value(self.totals, self.elapsed, metric, aggregation)
    }

    /// Submetrics of a flow run (`{step:login}`), so `--abort-on-fail` judges them live too.
    fn tagged_value(
        &self,
        metric: plumb_stats::Metric,
        aggregation: plumb_stats::Aggregation,
        tag: &plumb_stats::Tag,
    ) -> Option<f64> {
        crate::flow_report::tagged_value(self.totals, self.elapsed, metric, aggregation, tag)
    }
}

/// Receives progress once per second; may stop the run.
pub trait Observer {
    /// Called after each whole second of load.
    fn on_tick(&mut self, progress: &Progress<'_>) -> Control;

    /// Called with each second's merged recorder once every worker has reported it, in order
    /// and with no second skipped (a second with no message gets an empty recorder). Rolling
    /// windows of thresholds are judged here.
    fn on_second(&mut self, _t_s: u64, _second: &Recorder) -> Control {
        Control::Continue
    }
}

/// An observer that watches nothing.
pub struct Unobserved;

impl Observer for Unobserved {
    fn on_tick(&mut self, _: &Progress<'_>) -> Control {
        Control::Continue
    }
}

/// Run one load test to completion (or until stopped) and return everything measured.
pub fn run(
    settings: &LoadSettings,
    observer: &mut dyn Observer,
    stop: &StopSignal,
) -> Result<LoadReport, LoadError> {
    validate(settings)?;
    let endpoint = Endpoint::resolve(&settings.url)?;
    // Build the TLS configuration for https, and also to check a --cacert given with http.
    let tls = (endpoint.tls || settings.tls.cacert.is_some())
        .then(|| tls_config(&settings.tls, settings.http_version))
        .transpose()?
        .filter(|_| endpoint.tls);
    ensure_open_files(settings)?;
    let threads = effective_threads(settings);
    let segment = settings.segment.unwrap_or(Segment::WHOLE);
    let (start, started_at, late_start) = start_time(settings.start_at)?;
    let planned = settings.planned_duration();
    let deadline = planned.map(|d| start + d);
    let (to_coordinator, from_workers) = mpsc::channel();
    let mut handles = Vec::with_capacity(threads);
    let mut returns = Vec::with_capacity(threads);
    for thread in 0..threads {
        let (give_back, recycled) = mpsc::channel();
        returns.push(give_back);
        let (lane, stride) = lane_of(segment, thread, threads);
        let plan = WorkerPlan {
            thread,
            lane,
            stride,
            start,
            deadline,
            pacing: pacing_for(settings, segment, thread, threads),
            exchange: exchange_plan(settings, &endpoint, tls.clone())?,
            stop: Arc::clone(&stop.flag),
            recycled,
            flows: settings.flows.clone(),
        };
        let sender = to_coordinator.clone();
        let handle = std::thread::Builder::new()
            .name(format!("plumb-load-{thread}"))
            .spawn(move || worker::run(plan, sender))
            .map_err(LoadError::Runtime)?;
        handles.push(handle);
    }
    drop(to_coordinator);
    let mut collector = Collector::new(threads, returns);
    collect(
        &mut collector,
        &from_workers,
        start,
        planned,
        observer,
        stop,
    );
    for handle in handles {
        match handle.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(LoadError::Runtime(e)),
            Err(_) => {
                return Err(LoadError::Runtime(std::io::Error::other(
                    "a load worker thread panicked",
                )))
            }
        }
    }
    let requested_rate = match settings.model {
        LoadModel::Open { rate, .. } if settings.stages.is_empty() => {
            Some(rate / f64::from(segment.count))
        }
        _ => None,
    };
    let mut report = collector.finish(started_at, start, stop.reason(), requested_rate);
    report.late_start = late_start;
    Ok(report)
}

/// When the load begins: 20 ms from now, or at the agreed `--start-at`. A segment that reaches
/// the agreed time late keeps the agreed schedule (its overdue requests count as send lag), so
/// every segment's per-second windows count from the same instant; the lateness is returned.
fn start_time(start_at: Option<SystemTime>) -> Result<(Instant, SystemTime, Duration), LoadError> {
    let Some(at) = start_at else {
        let lead = Duration::from_millis(20);
        return Ok((
            Instant::now() + lead,
            SystemTime::now() + lead,
            Duration::ZERO,
        ));
    };
    let (now, wall) = (Instant::now(), SystemTime::now());
    match at.duration_since(wall) {
        Ok(wait) if wait <= MAX_START_WAIT => Ok((now + wait, at, Duration::ZERO)),
        Ok(wait) => Err(LoadError::Settings {
            message: format!(
                "--start-at is {} from now, beyond the limit of {} h",
                humantime::format_duration(Duration::from_secs(wait.as_secs())),
                MAX_START_WAIT.as_secs() / 3600
            ),
            hint: "give a time within the next day, e.g. --start-at +30s".into(),
        }),
        Err(past) if past.duration() <= MAX_LATE_START => {
            let late = past.duration();
            let start = now.checked_sub(late).unwrap_or(now);
            Ok((start, at, late))
        }
        Err(past) => Err(LoadError::Settings {
            message: format!(
                "--start-at was {:.1} s ago: this segment is too late to join the test",
                past.duration().as_secs_f64()
            ),
            hint: format!(
                "start every segment before the agreed time (at most {} s late), or check this host's clock",
                MAX_LATE_START.as_secs()
            ),
        }),
    }
}

/// The longest `--start-at` waits.
pub const MAX_START_WAIT: Duration = Duration::from_secs(24 * 3600);
/// How late a segment may reach the agreed start and still join (catching up on its schedule).
pub const MAX_LATE_START: Duration = Duration::from_secs(5);

/// Receive workers' messages until all are done, ticking the observer once per second.
fn collect(
    collector: &mut Collector,
    from_workers: &mpsc::Receiver<WorkerMessage>,
    start: Instant,
    planned: Option<Duration>,
    observer: &mut dyn Observer,
    stop: &StopSignal,
) {
    // Tick a little after each second so the workers' windows have arrived.
    let mut next_tick = start + Duration::from_millis(1_050);
    while !collector.all_done() {
        let wait = next_tick.saturating_duration_since(Instant::now());
        match from_workers.recv_timeout(wait) {
            Ok(WorkerMessage::Window {
                thread,
                index,
                recorder,
            }) => {
                collector.add_window(thread, index, &recorder, observer);
                collector.give_back(thread, recorder);
            }
            Ok(WorkerMessage::Done(done)) => collector.add_done(*done, observer),
            Err(RecvTimeoutError::Timeout) => {
                let progress = Progress {
                    elapsed: start.elapsed(),
                    planned,
                    totals: &collector.totals,
                    last_second: collector.series.last(),
                };
                if let Control::Stop(reason) = observer.on_tick(&progress) {
                    stop.stop(&reason);
                }
                next_tick += Duration::from_secs(1);
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if let Some(reason) = collector.window_stop.take() {
            stop.stop(&reason);
        }
    }
    collector.flush_all(observer);
}

/// Merges workers' recorders into totals and per-second windows, recycling their memory.
struct Collector {
    totals: Recorder,
    /// Windows not yet final: second -> merged recorder.
    pending: BTreeMap<u64, Recorder>,
    /// Per worker: the last second it reported (workers report seconds in order).
    reported_up_to: Vec<Option<u64>>,
    /// Per worker: whether it sent its final report.
    finished: Vec<bool>,
    series: Vec<WindowStats>,
    finals: Vec<WorkerDone>,
    /// Where each worker takes back cleared recorders.
    returns: Vec<mpsc::Sender<Box<Recorder>>>,
    /// Cleared window recorders, reused for the next pending window.
    spare_windows: Vec<Recorder>,
    /// What the observer said about a completed second, when it asked to stop.
    window_stop: Option<String>,
    /// Handed to the observer for a second in which nothing was reported.
    nothing: Recorder,
}

impl Collector {
    fn new(threads: usize, returns: Vec<mpsc::Sender<Box<Recorder>>>) -> Collector {
        Collector {
            totals: Recorder::new(),
            pending: BTreeMap::new(),
            reported_up_to: vec![None; threads],
            finished: vec![false; threads],
            series: Vec::new(),
            finals: Vec::new(),
            returns,
            spare_windows: Vec::new(),
            window_stop: None,
            nothing: Recorder::new(),
        }
    }

    fn all_done(&self) -> bool {
        self.finished.iter().all(|f| *f)
    }

    /// Merge worker `thread`'s recorder of second `index` into the totals and that second.
    fn add_window(
        &mut self,
        thread: usize,
        index: u64,
        recorder: &Recorder,
        observer: &mut dyn Observer,
    ) {
        self.totals.merge(recorder);
        let spare = &mut self.spare_windows;
        self.pending
            .entry(index)
            .or_insert_with(|| spare.pop().unwrap_or_default())
            .merge(recorder);
        let seen = &mut self.reported_up_to[thread];
        *seen = (*seen).max(Some(index));
        self.flush_complete_windows(observer);
    }

    /// Hand a merged recorder back to its worker, cleared, so its memory is reused.
    fn give_back(&self, thread: usize, mut recorder: Box<Recorder>) {
        recorder.clear();
        let _ = self.returns[thread].send(recorder);
    }

    fn add_done(&mut self, mut done: WorkerDone, observer: &mut dyn Observer) {
        let recorder = std::mem::take(&mut done.recorder);
        self.add_window(done.thread, done.window_index, &recorder, observer);
        self.finished[done.thread] = true;
        self.finals.push(done);
        self.flush_complete_windows(observer);
    }

    /// Windows still pending when every worker is done (or gone).
    fn flush_all(&mut self, observer: &mut dyn Observer) {
        let pending = std::mem::take(&mut self.pending);
        for (index, recorder) in pending {
            self.push_window(index, &recorder, observer);
        }
    }

    /// A second is final once every worker still running has reported it.
    fn flush_complete_windows(&mut self, observer: &mut dyn Observer) {
        while let Some(entry) = self.pending.first_entry() {
            let index = *entry.key();
            let complete = self
                .reported_up_to
                .iter()
                .zip(&self.finished)
                .all(|(seen, finished)| *finished || *seen >= Some(index));
            if !complete {
                break;
            }
            let mut recorder = entry.remove();
            self.push_window(index, &recorder, observer);
            recorder.clear();
            self.spare_windows.push(recorder);
        }
    }

    fn push_window(&mut self, index: u64, recorder: &Recorder, observer: &mut dyn Observer) {
        // Seconds without any message (a stalled target) still get a point.
        while (self.series.len() as u64) < index {
            let t_s = self.series.len() as u64;
            self.series.push(WindowStats::empty(t_s));
            let control = observer.on_second(t_s, &self.nothing);
            self.note_stop(control);
        }
        self.series.push(WindowStats::of(index, recorder));
        let control = observer.on_second(index, recorder);
        self.note_stop(control);
    }

    fn note_stop(&mut self, control: Control) {
        if let Control::Stop(reason) = control {
            self.window_stop.get_or_insert(reason);
        }
    }

    fn finish(
        self,
        started_at: SystemTime,
        start: Instant,
        stop_reason: Option<String>,
        requested_rate: Option<f64>,
    ) -> LoadReport {
        let stop_reason = stop_reason.or_else(|| {
            self.finals.iter().any(|f| f.exhausted).then(|| {
                "the data ran out (on_eof = \"stop\"): no session started after it".to_owned()
            })
        });
        let ended = self.finals.iter().map(|f| f.ended).max().unwrap_or(start);
        let elapsed = ended
            .saturating_duration_since(start)
            .max(Duration::from_micros(1));
        let generator = GeneratorStats {
            user: self.finals.iter().map(|f| f.cpu_user).sum(),
            system: self.finals.iter().map(|f| f.cpu - f.cpu_user).sum(),
            busiest_load: self
                .finals
                .iter()
                .map(|f| f.cpu.as_secs_f64() / f.wall.as_secs_f64().max(1e-9))
                .fold(0.0, f64::max),
        };
        LoadReport {
            started_at,
            elapsed,
            in_flight_at_end: self.finals.iter().map(|f| f.in_flight_at_end).sum(),
            missed_sends: self.finals.iter().map(|f| f.missed_sends).sum(),
            cap_waits: self.finals.iter().map(|f| f.cap_waits).sum(),
            totals: self.totals,
            series: self.series,
            generator,
            stop_reason,
            requested_rate,
            late_start: Duration::ZERO,
        }
    }
}

/// The highest request rate plumb schedules (per second); the CLI bounds `--rate` the same way.
pub const MAX_RATE: f64 = 10_000_000.0;
/// The longest run, stage plan or timeout plumb accepts.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);
/// The most connections (or the open model's cap) plumb opens.
pub const MAX_CONNECTIONS: u32 = 1_000_000;
/// The most connections a run opens at once: the closed model's peak, the open model's cap.
fn peak_connections(settings: &LoadSettings) -> u64 {
    match settings.model {
        LoadModel::Closed { connections } => Ramp::new(f64::from(connections), &settings.stages)
            .peak()
            .ceil() as u64,
        LoadModel::Open {
            max_connections, ..
        } => u64::from(max_connections),
    }
}

/// The most HTTP/2 streams per connection (`-p`).
pub const MAX_STREAMS: u32 = 1_000;
/// File descriptors kept free beside the connections (the runtime, the ledger, the output).
const SPARE_FILES: u64 = 64;

/// Raise the open-files limit to the hard limit and refuse a run whose connections cannot fit,
/// instead of failing every connect with EMFILE.
fn ensure_open_files(settings: &LoadSettings) -> Result<(), LoadError> {
    let Some(limit) = raise_open_files_limit() else {
        return Ok(());
    };
    let connections = peak_connections(settings);
    let needed = connections + SPARE_FILES;
    if needed <= limit {
        return Ok(());
    }
    Err(LoadError::Settings {
        message: format!(
            "-c {connections} needs about {needed} open files, but this process may open only {limit} (ulimit -n, already raised to the hard limit)"
        ),
        hint: format!(
            "lower -c to at most {}, or raise the hard limit (e.g. `ulimit -Hn {needed}` as root, or LimitNOFILE= in a systemd unit)",
            limit.saturating_sub(SPARE_FILES)
        ),
    })
}

fn validate(settings: &LoadSettings) -> Result<(), LoadError> {
    let bad = |message: String, hint: &str| {
        Err(LoadError::Settings {
            message,
            hint: hint.to_string(),
        })
    };
    validate_bounds(settings)?;
    validate_segment(settings)?;
    validate_streams(settings)?;
    if settings.threads == 0 {
        return bad(
            "--threads must be at least 1".into(),
            "omit -t for one thread per core",
        );
    }
    if settings.timeout.is_zero() {
        return bad("--timeout must be positive".into(), "e.g. --timeout 5s");
    }
    if settings.flows.is_some() && settings.http_version == HttpVersion::Http2 {
        return bad(
            "flows (-f) speak HTTP/1.1 only in this version".into(),
            "drop --http2 to run the flows, or load one URL over HTTP/2 without -f",
        );
    }
    match settings.model {
        LoadModel::Closed { connections }
            if Ramp::new(f64::from(connections), &settings.stages).peak() < 1.0 =>
        {
            bad(
                "no connection would ever be open".into(),
                "e.g. -c 50, or ramp up with --stages 10s:50",
            )
        }
        LoadModel::Open { rate, .. } if !(rate.is_finite() && rate >= 0.0) => bad(
            format!("--rate {rate} is not a usable rate"),
            "e.g. --rate 1000",
        ),
        LoadModel::Open { rate, .. } if Ramp::new(rate, &settings.stages).peak() <= 0.0 => bad(
            "the rate never rises above 0, so nothing would be sent".into(),
            "give a positive --rate, or ramp up with --stages, e.g. --rate 0 --stages 30s:1000",
        ),
        LoadModel::Open {
            max_connections: 0, ..
        } => bad(
            "the connection cap must be at least 1".into(),
            "-c sets the cap in the open model",
        ),
        _ if settings.requests == Some(0) => bad(
            "--requests 0 sends nothing".into(),
            "give a positive count, or omit -n",
        ),
        _ if settings.duration.is_some_and(|d| d.is_zero()) => {
            bad("--duration must be positive".into(), "e.g. -d 10s")
        }
        _ => Ok(()),
    }
}

/// Streams share an HTTP/2 connection; every connection's streams are tasks, so their product is
/// bounded like connections.
fn validate_streams(settings: &LoadSettings) -> Result<(), LoadError> {
    let bad = |message: String, hint: &str| {
        Err(LoadError::Settings {
            message,
            hint: hint.to_string(),
        })
    };
    let streams = settings.streams;
    if streams == 0 || streams > MAX_STREAMS {
        return bad(
            format!("-p {streams} is not from 1 to {MAX_STREAMS} streams per connection"),
            "e.g. -p 10",
        );
    }
    if streams > 1 && settings.http_version != HttpVersion::Http2 {
        return bad(
            format!("-p {streams} multiplexes HTTP/2 streams, and this run speaks HTTP/1.1"),
            "add --http2, or drop -p",
        );
    }
    let connections = peak_connections(settings);
    if connections.saturating_mul(u64::from(streams)) > u64::from(MAX_CONNECTIONS) {
        return bad(
            format!(
                "{connections} connections x {streams} streams is above plumb's limit of {MAX_CONNECTIONS} requests in flight"
            ),
            "lower -c or -p",
        );
    }
    Ok(())
}

/// A segment must have work of its own: a closed-model connection, a request under `-n`.
pub fn validate_segment(settings: &LoadSettings) -> Result<(), LoadError> {
    let Some(segment) = settings.segment else {
        return Ok(());
    };
    let bad = |message: String, hint: String| Err(LoadError::Settings { message, hint });
    if segment.count == 0 || segment.index >= segment.count {
        return bad(
            format!("segment {}/{} does not exist", segment.index, segment.count),
            "segments count from 0: --segment 0/4 ... --segment 3/4".into(),
        );
    }
    if let LoadModel::Closed { connections } = settings.model {
        let peak = Ramp::new(f64::from(connections), &settings.stages)
            .peak()
            .ceil() as u64;
        if peak < u64::from(segment.count) {
            return bad(
                format!(
                    "{peak} connections cannot be split into {} segments: each segment needs one of its own",
                    segment.count
                ),
                format!("give -c {} or more, or fewer segments", segment.count),
            );
        }
    }
    if let Some(n) = settings.requests.filter(|n| *n < u64::from(segment.count)) {
        return bad(
            format!("-n {n} cannot be split into {} segments", segment.count),
            format!("give -n {} or more, or fewer segments", segment.count),
        );
    }
    Ok(())
}

/// Every value within the limits that keep the schedule's arithmetic exact and finite.
fn validate_bounds(settings: &LoadSettings) -> Result<(), LoadError> {
    let bad = |message: String, hint: String| Err(LoadError::Settings { message, hint });
    let days = MAX_DURATION.as_secs() / 86_400;
    let too_long = |d: Duration| d > MAX_DURATION;
    if settings.duration.is_some_and(too_long) {
        return bad(
            format!("--duration is longer than the limit of {days} days"),
            "give a shorter -d, e.g. -d 1h".into(),
        );
    }
    if too_long(settings.timeout) {
        return bad(
            format!("--timeout is longer than the limit of {days} days"),
            "e.g. --timeout 30s".into(),
        );
    }
    let plan: Duration = settings
        .stages
        .iter()
        .map(|s| s.duration)
        .fold(Duration::ZERO, |a, b| a.saturating_add(b));
    if too_long(plan) {
        return bad(
            format!("--stages last longer than the limit of {days} days"),
            "shorten the stages".into(),
        );
    }
    if let Some(stage) = settings
        .stages
        .iter()
        .find(|s| !(s.target.is_finite() && s.target >= 0.0))
    {
        return bad(
            format!(
                "a stage's target {} is not a number of 0 or more",
                stage.target
            ),
            "write stages as DURATION:TARGET, e.g. --stages 10s:100,30s:100".into(),
        );
    }
    let (start, limit, what) = match settings.model {
        LoadModel::Closed { connections } => (
            f64::from(connections),
            f64::from(MAX_CONNECTIONS),
            "connections",
        ),
        LoadModel::Open { rate, .. } => (rate, MAX_RATE, "requests per second"),
    };
    let peak = Ramp::new(start, &settings.stages).peak();
    if peak > limit {
        return bad(
            format!("the load would reach {peak} {what}, above plumb's limit of {limit}"),
            "lower --rate, -c or the stages' targets".into(),
        );
    }
    if let LoadModel::Open {
        max_connections, ..
    } = settings.model
    {
        if max_connections > MAX_CONNECTIONS {
            return bad(
                format!(
                    "-c {max_connections} is above plumb's limit of {MAX_CONNECTIONS} connections"
                ),
                "lower -c".into(),
            );
        }
    }
    Ok(())
}

/// The worker threads a run of `settings` starts: no more than connections in the closed model,
/// or than requests (a flow plan's data partitions are made for this many).
pub fn effective_threads(settings: &LoadSettings) -> usize {
    let mut threads = settings.threads.max(1);
    let segment = settings.segment.unwrap_or(Segment::WHOLE);
    if let LoadModel::Closed { connections } = settings.model {
        let peak = Ramp::new(f64::from(connections), &settings.stages)
            .peak()
            .ceil() as u64;
        threads = threads.min(segment.share(peak).max(1) as usize);
    }
    if let Some(n) = settings.requests {
        threads = threads.min(segment.share(n).max(1) as usize);
    }
    threads
}

/// Thread `thread`'s pacing. Its connection slots (closed) and request indices (open) are
/// `lane, lane + stride, ...` with `lane = segment + segments * thread` and `stride = segments *
/// threads`, so every (segment, thread) pair owns one residue class of the whole test's.
fn pacing_for(settings: &LoadSettings, segment: Segment, thread: usize, threads: usize) -> Pacing {
    let (lane, stride) = lane_of(segment, thread, threads);
    match settings.model {
        LoadModel::Closed { connections } => {
            let ramp = Ramp::new(f64::from(connections), &settings.stages);
            let total = ramp.peak().ceil() as u64;
            Pacing::Closed {
                slots: (lane..total)
                    .step_by(stride as usize)
                    .map(|s| s as usize)
                    .collect(),
                ramp: (!settings.stages.is_empty()).then_some(ramp),
                quota: settings
                    .requests
                    .map(|n| share(segment.share(n), thread, threads)),
            }
        }
        LoadModel::Open {
            rate,
            max_connections,
        } => {
            let segment_cap = segment.share(u64::from(max_connections));
            Pacing::Open {
                ramp: Ramp::new(rate, &settings.stages),
                cap: u32::try_from(share(segment_cap, thread, threads).max(1)).unwrap_or(u32::MAX),
                limit: settings.requests,
            }
        }
    }
}

/// The residue class of (segment, thread): its first index and the stride between its indices.
fn lane_of(segment: Segment, thread: usize, threads: usize) -> (u64, u64) {
    let segments = u64::from(segment.count);
    (
        u64::from(segment.index) + segments * thread as u64,
        segments * threads as u64,
    )
}

/// Thread `thread`'s share of `total` split as evenly as possible.
fn share(total: u64, thread: usize, threads: usize) -> u64 {
    let (base, extra) = (total / threads as u64, total % threads as u64);
    base + u64::from((thread as u64) < extra)
}

fn exchange_plan(
    settings: &LoadSettings,
    endpoint: &Endpoint,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<ExchangePlan, LoadError> {
    let h2_request = match settings.http_version {
        HttpVersion::Http1 => None,
        HttpVersion::Http2 => Some(h2_request(settings, endpoint)?),
    };
    Ok(ExchangePlan {
        connector_endpoint: endpoint.clone(),
        tls,
        http1_request: encode_request(settings, &endpoint.authority, &endpoint.path_and_query),
        h2_request,
        head_request: settings.method.eq_ignore_ascii_case("HEAD"),
        needle: settings
            .checks
            .expect_body
            .as_ref()
            .map(|t| t.as_bytes().to_vec()),
        checks: settings.checks.clone(),
        timeout: settings.timeout,
        streams: settings.streams.max(1),
    })
}

fn h2_request(settings: &LoadSettings, endpoint: &Endpoint) -> Result<H2Request, LoadError> {
    let bad_header = |name: &str| LoadError::Settings {
        message: format!("header '{name}' is not valid for HTTP/2"),
        hint: "header names must be tokens and values visible ASCII".into(),
    };
    let mut headers = http::HeaderMap::new();
    for (name, value) in &settings.headers {
        if name.eq_ignore_ascii_case("host") || name.eq_ignore_ascii_case("connection") {
            continue;
        }
        let name_parsed =
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad_header(name))?;
        let value_parsed = http::HeaderValue::from_str(value).map_err(|_| bad_header(name))?;
        headers.append(name_parsed, value_parsed);
    }
    Ok(H2Request {
        method: http::Method::from_bytes(settings.method.as_bytes()).map_err(|_| {
            LoadError::Settings {
                message: format!("'{}' is not a valid HTTP method", settings.method),
                hint: "e.g. -m POST".into(),
            }
        })?,
        uri: endpoint.url.parse().map_err(|_| LoadError::InvalidUrl {
            url: endpoint.url.clone(),
            reason: "not a valid URI".into(),
            hint: "e.g. http://127.0.0.1:8080/".into(),
        })?,
        headers,
        body: bytes::Bytes::from(settings.body.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_split_evenly() {
        let parts: Vec<u64> = (0..3).map(|t| share(10, t, 3)).collect();
        assert_eq!(parts, vec![4, 3, 3]);
        assert_eq!(parts.iter().sum::<u64>(), 10);
    }

    /// Every (segment, thread) pair of every split owns its own residue class: together they
    /// hold each connection slot exactly once and each request under `-n` exactly once.
    #[test]
    fn segments_and_threads_deal_every_slot_and_request_once() {
        for segments in 1..=5u32 {
            for threads in 1..=4usize {
                let mut closed = LoadSettings::new("http://127.0.0.1/");
                closed.model = LoadModel::Closed { connections: 23 };
                closed.requests = Some(1_001);
                let mut slots = Vec::new();
                let mut quota = 0;
                for index in 0..segments {
                    let segment = Segment {
                        index,
                        count: segments,
                    };
                    for thread in 0..threads {
                        let Pacing::Closed {
                            slots: s, quota: q, ..
                        } = pacing_for(&closed, segment, thread, threads)
                        else {
                            unreachable!()
                        };
                        slots.extend(s);
                        quota += q.unwrap();
                    }
                }
                slots.sort_unstable();
                assert_eq!(slots, (0..23).collect::<Vec<_>>(), "{segments}x{threads}");
                assert_eq!(quota, 1_001);
                let mut indices: Vec<u64> = (0..segments)
                    .flat_map(|index| {
                        (0..threads).flat_map(move |thread| {
                            let segment = Segment {
                                index,
                                count: segments,
                            };
                            let (lane, stride) = lane_of(segment, thread, threads);
                            (lane..1_001).step_by(stride as usize)
                        })
                    })
                    .collect();
                indices.sort_unstable();
                assert_eq!(indices, (0..1_001).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn segment_shares_sum_to_the_whole() {
        let shares: Vec<u64> = (0..4)
            .map(|index| Segment { index, count: 4 }.share(10))
            .collect();
        assert_eq!(shares, vec![3, 3, 2, 2]);
    }

    #[test]
    fn start_times_too_far_or_too_late_are_refused() {
        let later = SystemTime::now() + Duration::from_secs(2 * 24 * 3600);
        assert!(start_time(Some(later)).is_err());
        let late = SystemTime::now() - Duration::from_secs(60);
        let error = start_time(Some(late)).unwrap_err().to_string();
        assert!(error.contains("too late"), "{error}");
        let (start, _, lateness) =
            start_time(Some(SystemTime::now() - Duration::from_secs(1))).unwrap();
        assert!(lateness >= Duration::from_secs(1));
        assert!(start <= Instant::now() - Duration::from_secs(1));
    }

    #[test]
    fn threads_never_exceed_connections() {
        let mut s = LoadSettings::new("http://127.0.0.1/");
        s.threads = 8;
        s.model = LoadModel::Closed { connections: 3 };
        assert_eq!(effective_threads(&s), 3);
    }
}

#[cfg(test)]
mod collector_tests {
    use super::*;
    use crate::recorder::Exchange;

    fn recorder(requests: u64) -> Recorder {
        let mut r = Recorder::new();
        for _ in 0..requests {
            let d = Duration::from_millis(1);
            let exchange = Exchange {
                latency: d,
                service: d,
                ttfb: d,
                status: 200,
                bytes_sent: 1,
                bytes_received: 1,
            };
            r.record_exchange(&exchange, None);
        }
        r
    }

    fn done(thread: usize, window_index: u64, requests: u64) -> WorkerDone {
        WorkerDone {
            thread,
            window_index,
            recorder: recorder(requests),
            in_flight_at_end: 1,
            missed_sends: 0,
            cap_waits: 0,
            cpu: Duration::from_millis(10),
            cpu_user: Duration::from_millis(4),
            wall: Duration::from_secs(3),
            ended: Instant::now(),
            exhausted: false,
        }
    }

    #[test]
    fn windows_merge_across_threads_and_gaps_become_empty_seconds() {
        let (a, _ra) = mpsc::channel();
        let (b, _rb) = mpsc::channel();
        let mut collector = Collector::new(2, vec![a, b]);
        let mut seconds = SecondsSeen(Vec::new());
        collector.add_window(0, 0, &recorder(3), &mut seconds);
        assert!(
            collector.series.is_empty(),
            "window 0 must wait for both threads"
        );
        collector.add_window(1, 0, &recorder(4), &mut seconds);
        assert_eq!(collector.series.len(), 1);
        assert_eq!(collector.series[0].requests, 7);
        // Thread A ends in second 2 (second 1 passed with no message at all); B in second 1.
        collector.add_done(done(0, 2, 5), &mut seconds);
        assert_eq!(collector.series.len(), 1, "second 1 must wait for thread 1");
        collector.add_done(done(1, 1, 1), &mut seconds);
        // The observer saw every second once, in order, with its merged requests.
        assert_eq!(seconds.0, vec![(0, 7), (1, 1), (2, 5)]);
        let report = collector.finish(SystemTime::now(), Instant::now(), None, None);
        let counts: Vec<u64> = report.series.iter().map(|w| w.requests).collect();
        assert_eq!(counts, vec![7, 1, 5]);
        assert_eq!(report.totals.requests, 13);
        assert_eq!(report.in_flight_at_end, 2);
        assert!((report.generator.busiest_load - 0.01 / 3.0).abs() < 1e-9);
    }

    /// Records the seconds handed to `on_second`.
    struct SecondsSeen(Vec<(u64, u64)>);

    impl Observer for SecondsSeen {
        fn on_tick(&mut self, _: &Progress<'_>) -> Control {
            Control::Continue
        }

        fn on_second(&mut self, t_s: u64, second: &Recorder) -> Control {
            self.0.push((t_s, second.requests));
            Control::Continue
        }
    }

    #[test]
    fn merged_recorders_go_back_to_their_worker_cleared() {
        let (a, returned) = mpsc::channel();
        let collector = Collector::new(1, vec![a]);
        collector.give_back(0, Box::new(recorder(9)));
        let back = returned.try_recv().unwrap();
        assert_eq!(back.requests, 0);
        assert!(back.latency.is_empty());
    }
}
