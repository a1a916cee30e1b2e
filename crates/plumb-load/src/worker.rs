//! One worker thread: a single-threaded tokio event loop that owns its connections and recorder.
//!
//! Connections never leave their thread; the only cross-thread traffic is one message per second
//! (the thread's recorder, swapped for a fresh one) and one at the end.

use crate::endpoint::{Connector, Stream};
use crate::http1::{self, ExchangeError};
use crate::http2::{H2Connection, H2Request};
use crate::recorder::{ErrorClass, Exchange, Recorder};
use crate::schedule::Ramp;
use crate::timer::PreciseTimer;
use bytes::BytesMut;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

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
}

/// How this thread paces its requests.
pub(crate) enum Pacing {
    /// Back-to-back on each of `slots` (global connection indices); `ramp` gives how many are active.
    Closed {
        slots: Vec<usize>,
        ramp: Option<Ramp>,
        quota: Option<u64>,
    },
    /// On the global schedule; this thread sends indices `thread, thread + threads, ...`.
    Open {
        ramp: Ramp,
        cap: u32,
        limit: Option<u64>,
    },
}

/// Everything one worker thread needs, all owned or shared read-only.
pub(crate) struct WorkerPlan {
    pub thread: usize,
    pub threads: usize,
    pub start: Instant,
    pub deadline: Option<Instant>,
    pub pacing: Pacing,
    pub exchange: ExchangePlan,
    pub stop: Arc<AtomicBool>,
    /// Recorders the coordinator has merged, cleared and handed back, so memory is reused.
    pub recycled: Receiver<Box<Recorder>>,
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
    /// Open model: intended send times waiting for a free connection.
    queue: RefCell<VecDeque<Instant>>,
    job_ready: Notify,
    idle_connections: Cell<usize>,
    open_connections: Cell<u32>,
    schedule_done: Cell<bool>,
    /// Open model: the next global request index this thread will release.
    next_index: Cell<u64>,
    cap_waits: Cell<u64>,
    /// Per-second windows handed to the coordinator so far.
    windows_sent: Cell<u64>,
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
            None => Err(ExchangeError {
                class: ErrorClass::Io,
                bytes: 0,
            }),
        },
    }
}

impl Worker {
    fn new(plan: WorkerPlan) -> Worker {
        let connector =
            Connector::new(&plan.exchange.connector_endpoint, plan.exchange.tls.clone());
        let plan_thread = plan.thread as u64;
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
            queue: RefCell::new(VecDeque::new()),
            job_ready: Notify::new(),
            idle_connections: Cell::new(0),
            open_connections: Cell::new(0),
            schedule_done: Cell::new(false),
            next_index: Cell::new(plan_thread),
            cap_waits: Cell::new(0),
            windows_sent: Cell::new(0),
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
                for &slot in slots {
                    self.spawn_connection(Some(slot));
                }
                Ok(None)
            }
            Pacing::Open { .. } => {
                let timer = PreciseTimer::new()?;
                // A couple of warm connections so the first sends do not all pay a connect.
                for _ in 0..2 {
                    self.spawn_connection(None);
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
                self.schedule_done.get()
                    && self.queue.borrow().is_empty()
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

    fn spawn_connection(self: &Rc<Self>, slot: Option<usize>) {
        self.live_connections.set(self.live_connections.get() + 1);
        self.open_connections.set(self.open_connections.get() + 1);
        tokio::task::spawn_local(Rc::clone(self).connection(slot));
    }

    /// One connection: take a job, perform it, repeat; reconnect after any failure.
    async fn connection(self: Rc<Self>, slot: Option<usize>) {
        let mut conn = None;
        let mut buf = BytesMut::with_capacity(8 * 1024);
        while let Some(intended) = self.next_job(slot).await {
            self.in_flight.set(self.in_flight.get() + 1);
            self.perform(&mut conn, &mut buf, intended).await;
            self.in_flight.set(self.in_flight.get() - 1);
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
            if self.should_stop() {
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
            if let Some(intended) = self.queue.borrow_mut().pop_front() {
                return Some(intended);
            }
            if self.schedule_done.get() || self.should_stop() {
                return None;
            }
            // `release` decrements the idle count when it wakes us.
            self.idle_connections.set(self.idle_connections.get() + 1);
            self.job_ready.notified().await;
        }
    }

    /// Queue one due request for a free connection, opening one if none is idle (up to the cap).
    fn release(self: &Rc<Self>, intended: Instant, cap: u32) {
        self.queue.borrow_mut().push_back(intended);
        let idle = self.idle_connections.get();
        if idle > 0 {
            self.idle_connections.set(idle - 1);
            self.job_ready.notify_one();
        } else if self.open_connections.get() < cap {
            self.spawn_connection(None);
        } else {
            self.cap_waits.set(self.cap_waits.get() + 1);
        }
    }

    /// Requests due before the end that were never sent: still queued, or never released.
    fn missed_sends(&self) -> u64 {
        let Pacing::Open { ramp, limit, .. } = &self.plan.pacing else {
            return 0;
        };
        let end = match self.plan.deadline {
            Some(deadline) => deadline.min(Instant::now()),
            None => Instant::now(),
        };
        let mut missed = self.queue.borrow().len() as u64;
        let mut index = self.next_index.get();
        while limit.is_none_or(|n| index < n) {
            match ramp.time_of_count(index as f64) {
                Some(offset) if self.plan.start + offset < end => missed += 1,
                _ => break,
            }
            index += self.plan.threads as u64;
        }
        missed
    }

    /// Perform one request on this connection, connecting first if needed, and record the outcome.
    async fn perform(
        &self,
        conn: &mut Option<Connection>,
        buf: &mut BytesMut,
        intended: Option<Instant>,
    ) {
        let plan = &self.plan.exchange;
        if let Some(at) = intended {
            // Dispatch lag: how late a connection picked the request up (connecting comes after).
            let lag = Instant::now().saturating_duration_since(at);
            self.recorder.borrow_mut().send_lag.record(lag);
        }
        if conn.is_none() {
            match tokio::time::timeout(plan.timeout, self.open_connection()).await {
                Ok(Ok(opened)) => *conn = Some(opened),
                Ok(Err(class)) => return self.recorder.borrow_mut().record_failure(class, 0, 0),
                Err(_) => {
                    return self
                        .recorder
                        .borrow_mut()
                        .record_failure(ErrorClass::Timeout, 0, 0)
                }
            }
        }
        let Some(open) = conn.as_mut() else { return };
        let sent = Instant::now();
        let intended = intended.unwrap_or(sent);
        let result = tokio::time::timeout(plan.timeout, exchange_on(open, plan, buf))
            .await
            .unwrap_or(Err(ExchangeError {
                class: ErrorClass::Timeout,
                bytes: 0,
            }));
        let done = Instant::now();
        let bytes_sent = plan.http1_request.len() as u64;
        match result {
            Ok(response) => {
                let failed = if !plan.checks.status_ok(response.status) {
                    Some(ErrorClass::Status)
                } else if response.body_matched == Some(false) {
                    Some(ErrorClass::Body)
                } else {
                    None
                };
                let exchange = Exchange {
                    latency: done.saturating_duration_since(intended),
                    service: done - sent,
                    ttfb: response.first_byte.saturating_duration_since(sent),
                    status: response.status,
                    bytes_sent,
                    bytes_received: response.bytes,
                };
                self.recorder
                    .borrow_mut()
                    .record_exchange(&exchange, failed);
                if !response.keep_alive {
                    *conn = None;
                }
            }
            Err(error) => {
                self.recorder
                    .borrow_mut()
                    .record_failure(error.class, bytes_sent, error.bytes);
                *conn = None;
            }
        }
    }

    async fn open_connection(&self) -> Result<Connection, ErrorClass> {
        let (stream, took) = self.connector.connect().await?;
        self.recorder.borrow_mut().record_connect(took);
        if self.plan.exchange.h2_request.is_some() {
            Ok(Connection::H2(H2Connection::handshake(stream).await?))
        } else {
            Ok(Connection::H1(stream))
        }
    }

    /// The open model's scheduler: release each request at its intended time.
    async fn schedule(self: Rc<Self>, mut timer: PreciseTimer) {
        let Pacing::Open { ramp, cap, limit } = &self.plan.pacing else {
            return;
        };
        let threads = self.plan.threads as u64;
        let mut index = self.next_index.get();
        while limit.is_none_or(|n| index < n) {
            let Some(offset) = ramp.time_of_count(index as f64) else {
                break;
            };
            let intended = self.plan.start + offset;
            if self.plan.deadline.is_some_and(|d| intended >= d) || self.should_stop() {
                break;
            }
            if timer.sleep_until(intended).await.is_err() {
                tokio::time::sleep_until(intended.into()).await;
            }
            self.release(intended, *cap);
            index += threads;
            self.next_index.set(index);
            // Catch up without sleeping while sends are overdue, but let connections run.
            if self.queue.borrow().len() > 64 {
                tokio::task::yield_now().await;
            }
        }
        self.schedule_done.set(true);
        self.job_ready.notify_waiters();
        self.finished.notify_one();
    }
}
