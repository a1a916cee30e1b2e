//! One worker thread: a single-threaded tokio event loop that owns its connections and recorder.
//!
//! Connections never leave their thread; the only cross-thread traffic is one message per second
//! (the thread's recorder, swapped for a fresh one) and one at the end.

use crate::endpoint::{Connector, Stream};
use crate::http1::{self, ExchangeError};
use crate::http2::{H2Connection, H2Request};
use crate::recorder::{ErrorClass, Exchange, Failure, Recorder};
use crate::schedule::Ramp;
use crate::timer::PreciseTimer;
use bytes::BytesMut;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

mod flow_session;
mod streams;

use streams::H2Group;

/// What a worker sends to the coordinator.
pub(crate) enum WorkerMessage {
    /// The recorder of one whole second (window `index`) of worker `thread`.
    Window {
        thread: usize,
        index: u64,
        recorder: Box<Recorder>,
    },
    /// The worker ended: its last partial window and its accounting.
    Done(Box<WorkerDone>),
}

/// A worker's final report.
pub(crate) struct WorkerDone {
    pub thread: usize,
    pub window_index: u64,
    pub recorder: Recorder,
    pub in_flight_at_end: u64,
    pub missed_sends: u64,
    pub cap_waits: u64,
    pub cpu: Duration,
    pub cpu_user: Duration,
    pub wall: Duration,
    /// When the load phase ended on this thread.
    pub ended: Instant,
    /// Flows: a data file ran out (`on_eof = "stop"`), so no more sessions started.
    pub exhausted: bool,
}

/// How this thread paces its requests.
pub(crate) enum Pacing {
    /// Back-to-back on each of `slots` (global connection indices); `ramp` gives how many are active.
    Closed {
        slots: Vec<usize>,
        ramp: Option<Ramp>,
        quota: Option<u64>,
    },
    /// On the global schedule; this thread sends indices `lane, lane + stride, ...`.
    Open {
        ramp: Ramp,
        cap: u32,
        limit: Option<u64>,
    },
}

/// Everything one worker thread needs, all owned or shared read-only.
pub(crate) struct WorkerPlan {
    pub thread: usize,
    /// The first global request (or session) index this thread sends: `segment + segments *
    /// thread`, so every thread of every segment has its own residue class.
    pub lane: u64,
    /// The distance between this thread's indices: `segments * threads`.
    pub stride: u64,
    pub start: Instant,
    pub deadline: Option<Instant>,
    pub pacing: Pacing,
    pub exchange: ExchangePlan,
    pub stop: Arc<AtomicBool>,
    /// Recorders the coordinator has merged, cleared and handed back, so memory is reused.
    pub recycled: Receiver<Box<Recorder>>,
    /// Flows to run instead of the single request (`plumb load -f`).
    pub flows: Option<Arc<plumb_flow::FlowPlan>>,
}

/// How to perform one exchange, shared by all of a thread's connections.
pub(crate) struct ExchangePlan {
    pub connector_endpoint: crate::endpoint::Endpoint,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub http1_request: Vec<u8>,
    pub h2_request: Option<H2Request>,
    pub head_request: bool,
    pub needle: Option<Vec<u8>>,
    pub checks: crate::settings::Checks,
    pub timeout: Duration,
    /// HTTP/2 streams per connection: lanes that share one connection (1: a lane each).
    pub streams: u32,
}

impl ExchangePlan {
    /// The bytes one request counts as sent: the whole HTTP/1.1 request, or with HTTP/2 its
    /// body (DATA), as received bytes count bodies (headers are compressed on the wire).
    fn request_bytes(&self) -> u64 {
        match &self.h2_request {
            Some(request) => request.body.len() as u64,
            None => self.http1_request.len() as u64,
        }
    }
}

/// Run one worker to completion on the current thread.
pub(crate) fn run(plan: WorkerPlan, to_coordinator: Sender<WorkerMessage>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    let thread_started = Instant::now();
    let cpu_before = crate::usage::thread_cpu();
    let worker = Rc::new(Worker::new(plan));
    let summary = local.block_on(&runtime, Rc::clone(&worker).drive(to_coordinator.clone()))?;
    let (cpu_user, cpu_system) = crate::usage::thread_cpu().since(cpu_before);
    let done = WorkerDone {
        thread: worker.plan.thread,
        window_index: summary.window_index,
        recorder: std::mem::take(&mut *worker.recorder.borrow_mut()),
        in_flight_at_end: worker.in_flight.get(),
        missed_sends: summary.missed_sends,
        cap_waits: worker.cap_waits.get(),
        cpu: cpu_user + cpu_system,
        cpu_user,
        wall: thread_started.elapsed(),
        ended: summary.ended,
        exhausted: worker.exhausted.get(),
    };
    drop(local);
    drop(runtime);
    let _ = to_coordinator.send(WorkerMessage::Done(Box::new(done)));
    Ok(())
}

struct DriveSummary {
    ended: Instant,
    window_index: u64,
    missed_sends: u64,
}

/// One thread's shared state; lives in an `Rc`, touched only by this thread's tasks.
struct Worker {
    plan: WorkerPlan,
    connector: Connector,
    recorder: RefCell<Recorder>,
    in_flight: Cell<u64>,
    live_connections: Cell<usize>,
    finished: Notify,
    /// Closed model: requests left to this thread under `-n`.
    quota: Cell<Option<u64>>,
    /// Open model: requests released but not yet taken by a connection.
    backlog: Cell<Backlog>,
    job_ready: Notify,
    idle_connections: Cell<usize>,
    open_connections: Cell<u32>,
    schedule_done: Cell<bool>,
    /// Open model: the next global request index this thread will release (`lane` plus a
    /// multiple of `stride`).
    next_index: Cell<u64>,
    cap_waits: Cell<u64>,
    /// Per-second windows handed to the coordinator so far.
    windows_sent: Cell<u64>,
    /// Flows: a data file ran out (`on_eof = "stop"`), so no more sessions start.
    exhausted: Cell<bool>,
    /// Flows: sessions started on this thread.
    sessions: Cell<u64>,
    /// Open model with `-p`: the group the next lane joins, and how many lanes joined it.
    open_group: RefCell<(Rc<H2Group>, u32)>,
}

/// The open model's released-but-unsent requests: this thread's indices `first, first + T, ...`,
/// `count` of them. Their intended times follow from the schedule, so memory is O(1) however far
/// behind the connections fall.
#[derive(Debug, Clone, Copy, Default)]
struct Backlog {
    first: u64,
    count: u64,
}

/// One connection slot: its open connection, if any, and what the retry and backoff rules need.
#[derive(Default)]
struct ConnSlot {
    open: Option<Connection>,
    /// At least one exchange completed on `open`: a failure before any byte may be a stale one.
    reused: bool,
    /// Connects that failed in a row (the closed model backs off instead of spinning).
    failed_connects: u32,
    /// `-p`: the HTTP/2 connection this slot shares with its group's other lanes, and the
    /// generation of it that `open` holds.
    shared: Option<(Rc<H2Group>, u64)>,
}

impl ConnSlot {
    /// A slot of its own, or one lane of a group sharing an HTTP/2 connection.
    fn new(group: Option<Rc<H2Group>>) -> ConnSlot {
        ConnSlot {
            shared: group.map(|g| (g, 0)),
            ..ConnSlot::default()
        }
    }

    fn close(&mut self) {
        self.open = None;
        self.reused = false;
    }

    /// A response arrived on the open connection.
    fn served(&mut self) {
        self.reused = true;
        if let Some((group, generation)) = &self.shared {
            group.mark_served(*generation);
        }
    }

    /// An exchange failed: close this lane's handle, and tell the group when its connection died.
    fn failed(&mut self, error: &ExchangeError) {
        if let Some((group, generation)) = &self.shared {
            group.failed(*generation, error);
        }
        self.close();
    }

    /// How long to wait before connecting again: 1 ms doubling to 100 ms while connects fail.
    fn connect_backoff(&self) -> Option<Duration> {
        let failed = self.failed_connects;
        (failed > 0).then(|| Duration::from_millis(1 << (failed - 1).min(7)).min(MAX_BACKOFF))
    }
}

/// The longest pause between failing connects on one slot of the closed model.
const MAX_BACKOFF: Duration = Duration::from_millis(100);

/// Whether a failed exchange may be sent once more on a fresh connection: the connection had
/// served a response before (so it may have gone stale while idle, or been shut down by GOAWAY)
/// and the server sent nothing of this response. Every method is retried under this rule, as
/// plumb's requests are replays of one request; a fresh connection that fails is an error. An
/// HTTP/2 stream the server reset after taking it ([`crate::http2::STREAM_FAILED`]) is never sent
/// again: only a refused stream or a GOAWAY is (RFC 9113 §8.7).
fn may_retry(error: &ExchangeError, reused: bool) -> bool {
    // A refused stream was never processed (RFC 9113 §8.7), even on a fresh connection: a burst
    // sent before the server's SETTINGS announced its stream limit is refused this way.
    let refused = error.detail == Some(crate::http2::REFUSED_STREAM);
    refused
        || reused
            && error.bytes == 0
            && matches!(error.class, ErrorClass::Closed | ErrorClass::Reset)
            && error.detail != Some(crate::http2::STREAM_FAILED)
}

/// An open connection of either protocol.
enum Connection {
    H1(Stream),
    H2(H2Connection),
}

async fn exchange_on(
    connection: &mut Connection,
    plan: &ExchangePlan,
    buf: &mut BytesMut,
) -> Result<http1::Response, ExchangeError> {
    let needle = plan.needle.as_deref();
    match connection {
        Connection::H1(Stream::Plain(tcp)) => {
            http1::exchange(tcp, &plan.http1_request, buf, plan.head_request, needle).await
        }
        Connection::H1(Stream::Tls(tls)) => {
            http1::exchange(
                &mut **tls,
                &plan.http1_request,
                buf,
                plan.head_request,
                needle,
            )
            .await
        }
        Connection::H2(h2) => match &plan.h2_request {
            Some(request) => h2.exchange(request, needle).await,
            None => Err(ExchangeError::before_response(ErrorClass::Io)),
        },
    }
}

impl Worker {
    fn new(plan: WorkerPlan) -> Worker {
        let connector =
            Connector::new(&plan.exchange.connector_endpoint, plan.exchange.tls.clone());
        let lane = plan.lane;
        let quota = match &plan.pacing {
            Pacing::Closed { quota, .. } => *quota,
            Pacing::Open { .. } => None,
        };
        Worker {
            plan,
            connector,
            recorder: RefCell::new(Recorder::new()),
            in_flight: Cell::new(0),
            live_connections: Cell::new(0),
            finished: Notify::new(),
            quota: Cell::new(quota),
            backlog: Cell::new(Backlog::default()),
            job_ready: Notify::new(),
            idle_connections: Cell::new(0),
            open_connections: Cell::new(0),
            schedule_done: Cell::new(false),
            next_index: Cell::new(lane),
            cap_waits: Cell::new(0),
            windows_sent: Cell::new(0),
            exhausted: Cell::new(false),
            sessions: Cell::new(0),
            open_group: RefCell::new((Rc::new(H2Group::default()), 0)),
        }
    }

    /// Start the connections (and the scheduler), then wait for the end: all work done,
    /// the deadline, or a stop request. Returns the last window's index.
    async fn drive(
        self: Rc<Self>,
        to_coordinator: Sender<WorkerMessage>,
    ) -> std::io::Result<DriveSummary> {
        tokio::time::sleep_until(self.plan.start.into()).await;
        let windows = tokio::task::spawn_local(Rc::clone(&self).send_windows(to_coordinator));
        let scheduler = self.start_pacing()?;
        self.wait_for_end().await;
        windows.abort();
        let missed_sends = match scheduler {
            Some(handle) => {
                handle.abort();
                self.missed_sends()
            }
            None => 0,
        };
        // What the recorder still holds belongs to the window after the last one sent.
        Ok(DriveSummary {
            ended: Instant::now(),
            window_index: self.windows_sent.get(),
            missed_sends,
        })
    }

    fn start_pacing(self: &Rc<Self>) -> std::io::Result<Option<tokio::task::JoinHandle<()>>> {
        match &self.plan.pacing {
            Pacing::Closed { slots, .. } => {
                let streams = self.plan.exchange.streams;
                for &slot in slots {
                    let group = (streams > 1).then(|| Rc::new(H2Group::default()));
                    for _ in 0..streams {
                        self.spawn_connection(Some(slot), group.clone());
                    }
                }
                Ok(None)
            }
            Pacing::Open { .. } => {
                let timer = PreciseTimer::new()?;
                // A couple of warm connections so the first sends do not all pay a connect.
                for _ in 0..2 {
                    self.spawn_open_lane();
                }
                Ok(Some(tokio::task::spawn_local(
                    Rc::clone(self).schedule(timer),
                )))
            }
        }
    }

    async fn wait_for_end(&self) {
        loop {
            if self.all_work_done() || self.should_stop() {
                return;
            }
            let tick = Duration::from_millis(50);
            let wake = match self.plan.deadline {
                Some(deadline) => deadline.min(Instant::now() + tick),
                None => Instant::now() + tick,
            };
            tokio::select! {
                _ = self.finished.notified() => {}
                _ = tokio::time::sleep_until(wake.into()) => {}
            }
        }
    }

    fn all_work_done(&self) -> bool {
        match self.plan.pacing {
            Pacing::Closed { .. } => self.live_connections.get() == 0,
            Pacing::Open { .. } => {
                (self.exhausted.get() || self.schedule_done.get() && self.backlog.get().count == 0)
                    && self.in_flight.get() == 0
            }
        }
    }

    fn should_stop(&self) -> bool {
        self.plan.stop.load(Ordering::Relaxed)
            || self.plan.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Every second, hand the coordinator this second's recorder. A time-bound run's last
    /// second (whole or partial) is left for the final report, so it never races the deadline.
    async fn send_windows(self: Rc<Self>, to_coordinator: Sender<WorkerMessage>) {
        let last_window = self.plan.deadline.map(|deadline| {
            let planned = deadline.saturating_duration_since(self.plan.start);
            planned.as_secs_f64().ceil().max(1.0) as u64 - 1
        });
        for index in 0u64.. {
            if last_window.is_some_and(|last| index >= last) {
                return;
            }
            let boundary = self.plan.start + Duration::from_secs(index + 1);
            tokio::time::sleep_until(boundary.into()).await;
            let fresh = self.plan.recycled.try_recv().unwrap_or_default();
            let full = std::mem::replace(&mut *self.recorder.borrow_mut(), *fresh);
            let message = WorkerMessage::Window {
                thread: self.plan.thread,
                index,
                recorder: Box::new(full),
            };
            if to_coordinator.send(message).is_err() {
                return;
            }
            self.windows_sent.set(index + 1);
        }
    }

    /// Start one lane: a connection of its own, or (`-p`) one stream of a shared connection.
    fn spawn_connection(self: &Rc<Self>, slot: Option<usize>, group: Option<Rc<H2Group>>) {
        self.live_connections.set(self.live_connections.get() + 1);
        self.open_connections.set(self.open_connections.get() + 1);
        match &self.plan.flows {
            Some(flows) => {
                let flows = Arc::clone(flows);
                tokio::task::spawn_local(flow_session::virtual_user(Rc::clone(self), slot, flows))
            }
            None => tokio::task::spawn_local(Rc::clone(self).connection(slot, group)),
        };
    }

    /// The open model's next lane; with `-p N`, every N lanes share one connection.
    fn spawn_open_lane(self: &Rc<Self>) {
        let streams = self.plan.exchange.streams;
        if streams <= 1 {
            return self.spawn_connection(None, None);
        }
        let group = {
            let mut open = self.open_group.borrow_mut();
            if open.1 == streams {
                *open = (Rc::new(H2Group::default()), 0);
            }
            open.1 += 1;
            Rc::clone(&open.0)
        };
        self.spawn_connection(None, Some(group));
    }

    /// One connection (or stream lane): take a job, perform it, repeat; reconnect after any
    /// failure.
    async fn connection(self: Rc<Self>, slot: Option<usize>, group: Option<Rc<H2Group>>) {
        let mut conn = ConnSlot::new(group);
        let mut buf = BytesMut::with_capacity(8 * 1024);
        while let Some(intended) = self.next_job(slot).await {
            self.in_flight.set(self.in_flight.get() + 1);
            self.perform(&mut conn, &mut buf, intended).await;
            self.in_flight.set(self.in_flight.get() - 1);
            if let (Some(pause), Pacing::Closed { .. }) =
                (conn.connect_backoff(), &self.plan.pacing)
            {
                tokio::time::sleep(pause).await;
            }
        }
        self.live_connections.set(self.live_connections.get() - 1);
        self.finished.notify_one();
    }

    /// The intended send time of this connection's next request, or `None` when it should stop.
    async fn next_job(&self, slot: Option<usize>) -> Option<Option<Instant>> {
        match &self.plan.pacing {
            Pacing::Closed { ramp, .. } => self.next_closed_job(slot?, ramp.as_ref()).await,
            Pacing::Open { .. } => self.next_open_job().await.map(Some),
        }
    }

    async fn next_closed_job(&self, slot: usize, ramp: Option<&Ramp>) -> Option<Option<Instant>> {
        loop {
            if self.should_stop() || self.exhausted.get() {
                return None;
            }
            if let Some(ramp) = ramp {
                let active = ramp.value_at(self.plan.start.elapsed()).round();
                if slot as f64 >= active {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
            if let Some(left) = self.quota.get() {
                if left == 0 {
                    return None;
                }
                self.quota.set(Some(left - 1));
            }
            // Closed model: the request is intended when it is sent.
            return Some(None);
        }
    }

    async fn next_open_job(&self) -> Option<Instant> {
        loop {
            if self.exhausted.get() {
                return None;
            }
            if let Some(index) = self.take_from_backlog() {
                return Some(self.intended_time(index));
            }
            if self.schedule_done.get() || self.should_stop() {
                return None;
            }
            // `release` decrements the idle count when it wakes us.
            self.idle_connections.set(self.idle_connections.get() + 1);
            self.job_ready.notified().await;
        }
    }

    /// The oldest released request, if any, by its global index.
    fn take_from_backlog(&self) -> Option<u64> {
        let backlog = self.backlog.get();
        if backlog.count == 0 {
            return None;
        }
        self.backlog.set(Backlog {
            first: backlog.first + self.plan.stride,
            count: backlog.count - 1,
        });
        Some(backlog.first)
    }

    /// When the open model's request `index` was due.
    fn intended_time(&self, index: u64) -> Instant {
        let Pacing::Open { ramp, .. } = &self.plan.pacing else {
            return Instant::now();
        };
        let offset = ramp.time_of_count(index as f64).unwrap_or_default();
        self.plan.start + offset
    }

    /// Release `count` due requests starting at global index `first`: wake idle connections, open
    /// new ones up to the cap, and count the rest as waits at the cap.
    fn release(self: &Rc<Self>, first: u64, count: u64, cap: u32) {
        let backlog = self.backlog.get();
        self.backlog.set(Backlog {
            first: if backlog.count == 0 {
                first
            } else {
                backlog.first
            },
            count: backlog.count + count,
        });
        let idle = self.idle_connections.get() as u64;
        let woken = idle.min(count);
        self.idle_connections.set((idle - woken) as usize);
        for _ in 0..woken {
            self.job_ready.notify_one();
        }
        let lanes = cap.saturating_mul(self.plan.exchange.streams);
        let room = u64::from(lanes.saturating_sub(self.open_connections.get()));
        let opened = room.min(count - woken);
        for _ in 0..opened {
            self.spawn_open_lane();
        }
        self.cap_waits
            .set(self.cap_waits.get() + (count - woken - opened));
    }

    /// Requests due before the end that were never sent: still in the backlog, or never
    /// released. Counted arithmetically, whatever the rate.
    fn missed_sends(&self) -> u64 {
        let Pacing::Open { ramp, limit, .. } = &self.plan.pacing else {
            return 0;
        };
        if self.exhausted.get() {
            // Sessions not started because the data ran out are not missed sends.
            return 0;
        }
        let end = match self.plan.deadline {
            Some(deadline) => deadline.min(Instant::now()),
            None => Instant::now(),
        };
        let due = ramp
            .count_before(end.saturating_duration_since(self.plan.start))
            .min(limit.unwrap_or(u64::MAX));
        let next = self.next_index.get();
        let never_released = due.saturating_sub(next).div_ceil(self.plan.stride);
        self.backlog.get().count + never_released
    }

    /// Perform one request on this connection slot, connecting first if needed, retrying once on a
    /// fresh connection where [`may_retry`] allows, and record the outcome.
    async fn perform(&self, conn: &mut ConnSlot, buf: &mut BytesMut, intended: Option<Instant>) {
        if let Some(at) = intended {
            // Dispatch lag: how late a connection picked the request up (connecting comes after).
            let lag = Instant::now().saturating_duration_since(at);
            self.recorder.borrow_mut().send_lag.record(lag);
        }
        let bytes_sent = self.plan.exchange.request_bytes();
        let mut first_send = None;
        let mut retried = false;
        loop {
            if conn.open.is_none() {
                // Whatever a failed exchange left in the buffer belongs to the dead connection.
                buf.clear();
                if let Err(failure) = self.connect_slot(conn).await {
                    return self.recorder.borrow_mut().record_failure(failure, 0, 0);
                }
            }
            let Some(open) = conn.open.as_mut() else {
                return;
            };
            let sent = Instant::now();
            let first = *first_send.get_or_insert(sent);
            let result = self.exchange_in_time(open, buf).await;
            match result {
                Ok(response) => {
                    conn.served();
                    if !response.keep_alive {
                        conn.close();
                    }
                    return self.record_response(&response, intended.unwrap_or(first), first);
                }
                Err(error) => {
                    let retry = !retried && may_retry(&error, conn.reused);
                    conn.failed(&error);
                    let mut recorder = self.recorder.borrow_mut();
                    if retry {
                        retried = true;
                        recorder.record_retry(bytes_sent, error.bytes);
                        continue;
                    }
                    return recorder.record_failure(error.failure(), bytes_sent, error.bytes);
                }
            }
        }
    }

    /// Open a connection into the slot within the timeout, keeping its run of failures; a lane
    /// of a group (`-p`) takes the group's live connection, or opens it for the whole group.
    async fn connect_slot(&self, conn: &mut ConnSlot) -> Result<(), Failure> {
        let Some((group, _)) = conn.shared.clone() else {
            return self.connect_own(conn).await;
        };
        loop {
            if let Some(joined) = group.live() {
                conn.open = Some(Connection::H2(joined.connection));
                conn.reused = joined.served;
                conn.shared = Some((group, joined.generation));
                return Ok(());
            }
            if !group.is_connecting() {
                break;
            }
            group.wait_for_connect().await;
        }
        group.begin_connect();
        let result = self.connect_own(conn).await;
        let opened = match &conn.open {
            Some(Connection::H2(h2)) => Some(h2),
            _ => None,
        };
        let generation = group.end_connect(opened);
        conn.shared = Some((group, generation));
        result
    }

    /// Open a connection of this slot's own within the timeout, keeping its run of failures.
    async fn connect_own(&self, conn: &mut ConnSlot) -> Result<(), Failure> {
        let timeout = self.plan.exchange.timeout;
        let opened = tokio::time::timeout(timeout, self.open_connection())
            .await
            .unwrap_or(Err(Failure::new(ErrorClass::Timeout, "connect timed out")));
        match opened {
            Ok(connection) => {
                conn.open = Some(connection);
                conn.failed_connects = 0;
                Ok(())
            }
            Err(failure) => {
                conn.failed_connects = conn.failed_connects.saturating_add(1);
                Err(failure)
            }
        }
    }

    async fn exchange_in_time(
        &self,
        open: &mut Connection,
        buf: &mut BytesMut,
    ) -> Result<http1::Response, ExchangeError> {
        let plan = &self.plan.exchange;
        tokio::time::timeout(plan.timeout, exchange_on(open, plan, buf))
            .await
            .unwrap_or(Err(ExchangeError {
                class: ErrorClass::Timeout,
                detail: Some("no complete response within --timeout"),
                // Bytes may have arrived: a timed-out request is never retried.
                bytes: 0,
            }))
    }

    /// Count a complete response, checked against the expected status and body.
    fn record_response(&self, response: &http1::Response, intended: Instant, sent: Instant) {
        let plan = &self.plan.exchange;
        let done = Instant::now();
        let failed = if !plan.checks.status_ok(response.status) {
            Some(ErrorClass::Status)
        } else if response.body_matched == Some(false) {
            Some(ErrorClass::Body)
        } else {
            None
        };
        let exchange = Exchange {
            latency: done.saturating_duration_since(intended),
            service: done.saturating_duration_since(sent),
            ttfb: response.first_byte.saturating_duration_since(sent),
            status: response.status,
            bytes_sent: plan.request_bytes(),
            bytes_received: response.bytes,
        };
        self.recorder
            .borrow_mut()
            .record_exchange(&exchange, failed);
    }

    async fn open_connection(&self) -> Result<Connection, Failure> {
        let (stream, took) = self.connector.connect().await?;
        self.recorder.borrow_mut().record_connect(took);
        if self.plan.exchange.h2_request.is_some() {
            Ok(Connection::H2(H2Connection::handshake(stream).await?))
        } else {
            Ok(Connection::H1(stream))
        }
    }

    /// Sleep until `deadline`, waking early if the run is stopped.
    async fn sleep_until_stopped_or(&self, deadline: Instant) {
        while Instant::now() < deadline && !self.should_stop() {
            let wake = deadline.min(Instant::now() + Duration::from_millis(50));
            tokio::time::sleep_until(wake.into()).await;
        }
    }

    /// The open model's scheduler: sleep until the next request is due, then release every
    /// request due by now in one step (O(1) however far behind the generator is).
    async fn schedule(self: Rc<Self>, mut timer: PreciseTimer) {
        let Pacing::Open { ramp, cap, limit } = &self.plan.pacing else {
            return;
        };
        let stride = self.plan.stride;
        let last = limit.unwrap_or(u64::MAX);
        let start = self.plan.start;
        let end_count = self.plan.deadline.map_or(u64::MAX, |d| {
            ramp.count_before(d.saturating_duration_since(start))
        });
        loop {
            let index = self.next_index.get();
            if index >= last || index >= end_count || self.should_stop() || self.exhausted.get() {
                break;
            }
            let Some(offset) = ramp.time_of_count(index as f64) else {
                break;
            };
            let intended = start + offset;
            if timer.sleep_until(intended).await.is_err() {
                tokio::time::sleep_until(intended.into()).await;
            }
            let now = Instant::now().saturating_duration_since(start);
            let due = ramp
                .count_before(now)
                .max(index + 1)
                .min(last)
                .min(end_count.max(index + 1));
            let count = (due - index).div_ceil(stride);
            self.next_index.set(index + count * stride);
            self.release(index, count, *cap);
            if count > 1 {
                // Behind schedule: let the connections run before releasing more.
                tokio::task::yield_now().await;
            }
        }
        // A time-bound run lasts its whole -d: the last send is due before the end, and the
        // quiet time after it is part of the run (at 0.5/s over 12 s, not 10 s of 0.6/s).
        let all_sent = self.next_index.get() >= last;
        if let Some(deadline) = self
            .plan
            .deadline
            .filter(|_| !all_sent && !self.should_stop() && !self.exhausted.get())
        {
            self.sleep_until_stopped_or(deadline).await;
        }
        self.schedule_done.set(true);
        self.job_ready.notify_waiters();
        self.finished.notify_one();
    }
}
