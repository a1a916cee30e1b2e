//! Flow sessions on a worker's connection: a virtual user takes a job (the closed model's next
//! turn, the open model's scheduled session start), picks a flow by the weighted mix, and runs its
//! steps on its own keep-alive connection, rendering each request from the session's variables,
//! keeping what captures and checks read, and pausing for think times.
//!
//! Separate from the single-URL path ([`super::Worker::connection`]), which stays as it was: the
//! choice is made once per connection task, never per request.

use super::{may_retry, ConnSlot, Connection, Worker};
use crate::endpoint::Stream;
use crate::flow_metrics::FlowRecorder;
use crate::http1::{self, ExchangeError, Kept};
use crate::recorder::{ErrorClass, Exchange, Failure};
use bytes::BytesMut;
use plumb_flow::{CheckKind, FlowPlan, Mixer, ResponseView, Step, StepOutcome};
use rand::SeedableRng;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionEnd {
    /// Every step got a response, and every capture matched.
    Completed,
    /// A request failed before a response, or a capture matched nothing.
    Failed,
    /// The run stopped in the middle.
    Stopped,
    /// A data file it reads ran out (`on_eof = "stop"`): no session started.
    Exhausted,
}

/// One virtual user's reusable state.
struct VirtualUser {
    conn: ConnSlot,
    buf: BytesMut,
    request: Vec<u8>,
    body: Vec<u8>,
    kept: Kept,
    mixer: Mixer,
    rng: rand::rngs::SmallRng,
}

/// Run sessions on this connection slot until the worker's pacing says stop.
pub(super) async fn virtual_user(worker: Rc<Worker>, slot: Option<usize>, plan: Arc<FlowPlan>) {
    // Wrapping: the open model's users have no slot (u64::MAX), and an overflow panic would end
    // this thread's user task silently, leaving its share of the schedule unsent.
    let seed = worker
        .plan
        .lane
        .wrapping_mul(1_000_003)
        .wrapping_add(slot.map_or(u64::MAX, |s| s as u64));
    let mut user = VirtualUser {
        conn: ConnSlot::default(),
        buf: BytesMut::with_capacity(8 * 1024),
        request: Vec::with_capacity(1024),
        body: Vec::new(),
        kept: Kept::default(),
        mixer: plan.mixer(),
        rng: rand::rngs::SmallRng::seed_from_u64(seed),
    };
    while let Some(intended) = worker.next_job(slot).await {
        worker.in_flight.set(worker.in_flight.get() + 1);
        let end = user.session(&worker, &plan, intended).await;
        worker.in_flight.set(worker.in_flight.get() - 1);
        if end == SessionEnd::Exhausted {
            worker.exhausted.set(true);
            worker.job_ready.notify_waiters();
            break;
        }
        if let (Some(pause), super::Pacing::Closed { .. }) =
            (user.conn.connect_backoff(), &worker.plan.pacing)
        {
            tokio::time::sleep(pause).await;
        }
    }
    worker
        .live_connections
        .set(worker.live_connections.get() - 1);
    worker.finished.notify_one();
}

impl VirtualUser {
    async fn session(
        &mut self,
        worker: &Worker,
        plan: &Arc<FlowPlan>,
        intended: Option<Instant>,
    ) -> SessionEnd {
        let flow_index = self.mixer.next_flow();
        let id = worker.sessions.get();
        worker.sessions.set(id + 1);
        let id = id * worker.plan.stride + worker.plan.lane;
        let Some(mut session) =
            plan.start_session(flow_index, worker.plan.thread, id, &mut self.rng)
        else {
            return SessionEnd::Exhausted;
        };
        if let Some(at) = intended {
            let lag = Instant::now().saturating_duration_since(at);
            worker.recorder.borrow_mut().send_lag.record(lag);
        }
        with_flows(worker, plan, |f| f.flows[flow_index].started += 1);
        let flow = &plan.flows[flow_index];
        let started = intended.unwrap_or_else(Instant::now);
        for (index, step) in flow.steps.iter().enumerate() {
            if worker.should_stop() {
                return SessionEnd::Stopped;
            }
            let step_intended = if index == 0 { intended } else { None };
            let ok = self
                .step(
                    worker,
                    plan,
                    (flow_index, index),
                    step,
                    &mut session,
                    step_intended,
                )
                .await;
            if !ok {
                with_flows(worker, plan, |f| f.flows[flow_index].failed += 1);
                return SessionEnd::Failed;
            }
            let pause = step.think.sample(&mut self.rng);
            if !pause.is_zero() {
                worker.sleep_until_stopped_or(Instant::now() + pause).await;
            }
        }
        let took = Instant::now().saturating_duration_since(started);
        with_flows(worker, plan, |f| {
            let stats = &mut f.flows[flow_index];
            stats.completed += 1;
            stats.duration.record(took);
        });
        SessionEnd::Completed
    }

    /// One step: render, exchange (one retry on a fresh connection where the single-URL rule
    /// allows), apply captures and checks, record. Whether the session can go on.
    async fn step(
        &mut self,
        worker: &Worker,
        plan: &Arc<FlowPlan>,
        at: (usize, usize),
        step: &Step,
        session: &mut plumb_flow::Session,
        intended: Option<Instant>,
    ) -> bool {
        if plan
            .render_http1(step, session, &mut self.request, &mut self.body)
            .is_err()
        {
            record_failure(
                worker,
                plan,
                at,
                Failure::new(ErrorClass::Capture, "a variable had no value"),
                0,
            );
            return false;
        }
        self.kept.keep_body = step.reads_body;
        self.kept.keep_all_headers = step.reads_headers;
        let head = step.method.eq_ignore_ascii_case("HEAD");
        match self.exchange(worker, head).await {
            Err(failure) => {
                record_failure(worker, plan, at, failure, self.request.len() as u64);
                false
            }
            Ok((response, sent)) => {
                let view = ResponseView {
                    status: response.status,
                    headers: &self.kept.headers,
                    body: &self.kept.body,
                };
                let outcome = plan.apply(step, session, &view, None);
                let done = Instant::now();
                let exchange = Exchange {
                    latency: done.saturating_duration_since(intended.unwrap_or(sent)),
                    service: done.saturating_duration_since(sent),
                    ttfb: response.first_byte.saturating_duration_since(sent),
                    status: response.status,
                    bytes_sent: self.request.len() as u64,
                    bytes_received: response.bytes,
                };
                record_outcome(worker, plan, at, &exchange, &outcome);
                outcome.missed_captures.is_empty()
            }
        }
    }

    /// Send the rendered request, connecting first if needed.
    async fn exchange(
        &mut self,
        worker: &Worker,
        head: bool,
    ) -> Result<(http1::Response, Instant), Failure> {
        let mut retried = false;
        // Bounded: at most one retry.
        loop {
            if self.conn.open.is_none() {
                self.buf.clear();
                worker.connect_slot(&mut self.conn).await?;
            }
            let Some(open) = self.conn.open.as_mut() else {
                return Err(Failure::from(ErrorClass::Io));
            };
            let sent = Instant::now();
            let result = tokio::time::timeout(
                worker.plan.exchange.timeout,
                exchange_on(open, &self.request, &mut self.buf, head, &mut self.kept),
            )
            .await
            .unwrap_or(Err(ExchangeError {
                class: ErrorClass::Timeout,
                detail: Some("no complete response within --timeout"),
                bytes: 0,
            }));
            match result {
                Ok(response) => {
                    self.conn.reused = true;
                    if !response.keep_alive {
                        self.conn.close();
                    }
                    return Ok((response, sent));
                }
                Err(error) => {
                    let retry = !retried && may_retry(&error, self.conn.reused);
                    self.conn.close();
                    if retry {
                        retried = true;
                        worker
                            .recorder
                            .borrow_mut()
                            .record_retry(self.request.len() as u64, error.bytes);
                        continue;
                    }
                    return Err(error.failure());
                }
            }
        }
    }
}

async fn exchange_on(
    connection: &mut Connection,
    request: &[u8],
    buf: &mut BytesMut,
    head: bool,
    kept: &mut Kept,
) -> Result<http1::Response, ExchangeError> {
    match connection {
        Connection::H1(Stream::Plain(tcp)) => {
            http1::exchange_keeping(tcp, request, buf, head, kept).await
        }
        Connection::H1(Stream::Tls(tls)) => {
            http1::exchange_keeping(&mut **tls, request, buf, head, kept).await
        }
        // The engine refuses flows over HTTP/2 before the run.
        Connection::H2(_) => Err(ExchangeError::before_response(ErrorClass::Io)),
    }
}

/// Run `f` on the worker's flow figures, creating them shaped like the plan.
fn with_flows(worker: &Worker, plan: &Arc<FlowPlan>, f: impl FnOnce(&mut FlowRecorder)) {
    let mut recorder = worker.recorder.borrow_mut();
    let flows = recorder
        .flows
        .get_or_insert_with(|| Box::new(FlowRecorder::for_plan(plan)));
    f(flows);
}

fn record_failure(
    worker: &Worker,
    plan: &Arc<FlowPlan>,
    at: (usize, usize),
    failure: Failure,
    sent: u64,
) {
    worker
        .recorder
        .borrow_mut()
        .record_failure(failure, sent, 0);
    with_flows(worker, plan, |f| {
        f.record_step(at.0, at.1, None, Some(failure.class));
    });
}

/// The class a response is counted under: a failed status first, then a missed capture, then
/// the other checks.
fn class_of(outcome: &StepOutcome) -> Option<ErrorClass> {
    match (outcome.failed_check, outcome.missing_capture()) {
        (Some(CheckKind::Status), _) => Some(ErrorClass::Status),
        (_, Some(_)) => Some(ErrorClass::Capture),
        (Some(CheckKind::Body), None) => Some(ErrorClass::Body),
        (Some(CheckKind::Json), None) => Some(ErrorClass::Check),
        (None, None) => None,
    }
}

fn record_outcome(
    worker: &Worker,
    plan: &Arc<FlowPlan>,
    at: (usize, usize),
    exchange: &Exchange,
    outcome: &StepOutcome,
) {
    let class = class_of(outcome);
    worker
        .recorder
        .borrow_mut()
        .record_exchange(exchange, class);
    with_flows(worker, plan, |f| {
        if let Some(stats) = f.record_step(at.0, at.1, Some(exchange.latency), class) {
            stats.checks_passed += u64::from(outcome.checks_passed);
            stats.checks_failed += u64::from(outcome.checks_failed);
            // Every capture that missed, not only the first: each counts its own misses.
            for &miss in &outcome.missed_captures {
                if let Some(count) = stats.capture_misses.get_mut(miss) {
                    *count += 1;
                }
            }
        }
    });
}
