//! The coordinator (`plumb coordinate --segments N`): waits for N segments of one test, gives
//! them one start on its clock, merges their seconds as they arrive, judges the thresholds over
//! the whole fleet once every segment has reported a second, and broadcasts an abort.

use crate::protocol::{self, now_ms, ToCoordinator, ToSegment};
use crate::CoordinateError;
use plumb_load::Recorder;
use plumb_stats::{NoData, Threshold, ThresholdStatus};
use std::collections::BTreeMap;
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// How the coordinator runs.
#[derive(Debug, Clone)]
pub struct FleetSettings {
    /// Segments to wait for.
    pub segments: u32,
    /// Thresholds judged over the whole fleet every second and at the end.
    pub thresholds: Vec<Threshold>,
    /// Stop every segment at the first failing threshold.
    pub abort_on_fail: bool,
    /// What a threshold with no data counts as.
    pub no_data: NoData,
    /// How long to wait for every segment to join.
    pub join_timeout: Duration,
    /// From the last join to the agreed start: time for every segment to hear of it.
    pub lead: Duration,
    /// How long the run may last once started, ended or not (a bound on the coordinator).
    pub run_timeout: Duration,
}

/// One second of the fleet, once every segment still running reported it.
pub struct FleetSecond<'a> {
    /// Seconds since the agreed start.
    pub t_s: u64,
    /// The fleet's second.
    pub second: &'a Recorder,
    /// The fleet's totals so far.
    pub totals: &'a Recorder,
    /// The thresholds' verdicts over the totals so far.
    pub verdicts: &'a [(String, ThresholdStatus, Option<f64>)],
}

/// What the coordinator saw.
#[derive(Debug)]
pub struct FleetReport {
    /// Every segment's seconds merged.
    pub totals: Recorder,
    /// Whole seconds judged.
    pub seconds: u64,
    /// The thresholds' final verdicts over the totals: expression, status, observed.
    pub verdicts: Vec<(String, ThresholdStatus, Option<f64>)>,
    /// Why the coordinator aborted the fleet, if it did.
    pub aborted: Option<String>,
    /// Segments whose connection ended before they said they were done.
    pub lost: Vec<u32>,
    /// Segments that ended early by themselves.
    pub interrupted: Vec<u32>,
}

/// A message from one segment's connection.
enum Event {
    Joined {
        conn: usize,
        index: u32,
        count: u32,
        test: String,
    },
    Window {
        conn: usize,
        t_s: u64,
        recorder: Box<Recorder>,
    },
    Done {
        conn: usize,
        interrupted: bool,
    },
    Gone {
        conn: usize,
    },
}

/// Run the coordinator on `listener` until every segment is done (or lost).
pub fn coordinate(
    listener: &TcpListener,
    settings: &FleetSettings,
    on_second: &mut dyn FnMut(&FleetSecond<'_>),
) -> Result<FleetReport, CoordinateError> {
    let (events, incoming) = mpsc::channel();
    let mut fleet = Fleet::new(settings);
    fleet.gather(listener, &events, &incoming)?;
    drop(events);
    let at_ms = now_ms() + settings.lead.as_secs_f64() * 1e3;
    fleet.broadcast(&ToSegment::Start { at_ms });
    let deadline = Instant::now() + settings.lead + settings.run_timeout;
    fleet.follow(&incoming, deadline, on_second);
    Ok(fleet.finish())
}

/// The coordinator's state.
struct Fleet<'a> {
    settings: &'a FleetSettings,
    /// Per connection: its writer and, once it said hello, its segment index.
    writers: Vec<TcpStream>,
    index_of: Vec<Option<u32>>,
    test: Option<String>,
    /// Segments still running (joined, not done, not lost).
    running: Vec<bool>,
    pending: BTreeMap<u64, (Recorder, u32)>,
    reported: Vec<Option<u64>>,
    totals: Recorder,
    seconds: u64,
    verdicts: Vec<(String, ThresholdStatus, Option<f64>)>,
    aborted: Option<String>,
    lost: Vec<u32>,
    interrupted: Vec<u32>,
}

impl<'a> Fleet<'a> {
    fn new(settings: &'a FleetSettings) -> Fleet<'a> {
        let n = settings.segments as usize;
        Fleet {
            settings,
            writers: Vec::new(),
            index_of: Vec::new(),
            test: None,
            running: vec![false; n],
            pending: BTreeMap::new(),
            reported: vec![None; n],
            totals: Recorder::new(),
            seconds: 0,
            verdicts: Vec::new(),
            aborted: None,
            lost: Vec::new(),
            interrupted: Vec::new(),
        }
    }

    /// Accept connections until every segment said hello, refusing strangers.
    fn gather(
        &mut self,
        listener: &TcpListener,
        events: &Sender<Event>,
        incoming: &Receiver<Event>,
    ) -> Result<(), CoordinateError> {
        let deadline = Instant::now() + self.settings.join_timeout;
        listener
            .set_nonblocking(true)
            .map_err(CoordinateError::Io)?;
        while self.joined() < self.settings.segments as usize {
            if Instant::now() >= deadline {
                return Err(self.missing_segments());
            }
            match listener.accept() {
                Ok((stream, _)) => self.add_connection(stream, events)?,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(CoordinateError::Io(e)),
            }
            match incoming.recv_timeout(Duration::from_millis(20)) {
                Ok(event) => self.on_join_event(event),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {}
            }
        }
        Ok(())
    }

    fn joined(&self) -> usize {
        self.running.iter().filter(|r| **r).count()
    }

    fn missing_segments(&self) -> CoordinateError {
        let missing: Vec<String> = (0..self.settings.segments)
            .filter(|i| !self.running[*i as usize])
            .map(|i| i.to_string())
            .collect();
        CoordinateError::Incomplete {
            missing: missing.join(", "),
            waited: self.settings.join_timeout,
        }
    }

    fn add_connection(
        &mut self,
        stream: TcpStream,
        events: &Sender<Event>,
    ) -> Result<(), CoordinateError> {
        stream.set_nonblocking(false).map_err(CoordinateError::Io)?;
        stream.set_nodelay(true).map_err(CoordinateError::Io)?;
        let conn = self.writers.len();
        let reader = stream.try_clone().map_err(CoordinateError::Io)?;
        let ponger = stream.try_clone().map_err(CoordinateError::Io)?;
        self.writers.push(stream);
        self.index_of.push(None);
        let events = events.clone();
        std::thread::spawn(move || read_segment(conn, reader, ponger, &events));
        Ok(())
    }

    fn on_join_event(&mut self, event: Event) {
        match event {
            Event::Joined {
                conn,
                index,
                count,
                test,
            } => self.hello(conn, index, count, test),
            Event::Gone { conn } => {
                if let Some(index) = self.index_of[conn].take() {
                    self.running[index as usize] = false;
                }
            }
            // Windows before the start cannot come: a segment sends none until it started.
            Event::Window { .. } | Event::Done { .. } => {}
        }
    }

    fn hello(&mut self, conn: usize, index: u32, count: u32, test: String) {
        let reason = if count != self.settings.segments {
            Some(format!(
                "this coordinator waits for {} segments, and the segment says {count}",
                self.settings.segments
            ))
        } else if index >= count {
            Some(format!("segment {index} of {count} does not exist"))
        } else if self.running[index as usize] {
            Some(format!("segment {index} has already joined"))
        } else if self.test.as_ref().is_some_and(|t| *t != test) {
            Some(format!(
                "segment {index} runs a different test from the segments that joined first (its settings differ)"
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            let _ = protocol::send(&mut self.writers[conn], &ToSegment::Refused { reason });
            let _ = self.writers[conn].shutdown(std::net::Shutdown::Both);
            return;
        }
        self.test.get_or_insert(test);
        self.index_of[conn] = Some(index);
        self.running[index as usize] = true;
    }

    fn broadcast(&mut self, message: &ToSegment) {
        for (conn, writer) in self.writers.iter_mut().enumerate() {
            if self.index_of[conn].is_some() {
                let _ = protocol::send(writer, message);
            }
        }
    }

    /// Merge seconds as they arrive until every segment is done or lost, or the deadline.
    fn follow(
        &mut self,
        incoming: &Receiver<Event>,
        deadline: Instant,
        on_second: &mut dyn FnMut(&FleetSecond<'_>),
    ) {
        while self.running.iter().any(|r| *r) {
            let wait = deadline.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                self.abort("the run outlasted the coordinator's --run-timeout".into());
                break;
            }
            let Ok(event) = incoming.recv_timeout(wait.min(Duration::from_secs(1))) else {
                continue;
            };
            match event {
                Event::Window {
                    conn,
                    t_s,
                    recorder,
                } => self.window(conn, t_s, &recorder),
                Event::Done { conn, interrupted } => self.segment_ended(conn, interrupted, false),
                Event::Gone { conn } => self.segment_ended(conn, false, true),
                Event::Joined { conn, .. } => {
                    let reason = "the test has started: no segment joins now".to_string();
                    let _ = protocol::send(&mut self.writers[conn], &ToSegment::Refused { reason });
                }
            }
            self.judge_complete_seconds(on_second);
        }
        self.flush_all(on_second);
    }

    fn window(&mut self, conn: usize, t_s: u64, recorder: &Recorder) {
        let Some(index) = self.index_of[conn] else {
            return;
        };
        let entry = self
            .pending
            .entry(t_s)
            .or_insert_with(|| (Recorder::new(), 0));
        entry.0.merge(recorder);
        entry.1 += 1;
        let seen = &mut self.reported[index as usize];
        *seen = (*seen).max(Some(t_s));
    }

    fn segment_ended(&mut self, conn: usize, interrupted: bool, lost: bool) {
        let Some(index) = self.index_of[conn].take() else {
            return;
        };
        self.running[index as usize] = false;
        if lost {
            self.lost.push(index);
        } else if interrupted {
            self.interrupted.push(index);
        }
    }

    /// A second is complete once every segment still running reported it or a later one.
    fn judge_complete_seconds(&mut self, on_second: &mut dyn FnMut(&FleetSecond<'_>)) {
        while let Some((&t_s, _)) = self.pending.first_key_value() {
            let complete =
                (0..self.running.len()).all(|i| !self.running[i] || self.reported[i] >= Some(t_s));
            if !complete {
                return;
            }
            self.judge(t_s, on_second);
        }
    }

    fn flush_all(&mut self, on_second: &mut dyn FnMut(&FleetSecond<'_>)) {
        while let Some((&t_s, _)) = self.pending.first_key_value() {
            self.judge(t_s, on_second);
        }
    }

    fn judge(&mut self, t_s: u64, on_second: &mut dyn FnMut(&FleetSecond<'_>)) {
        let Some((second, _)) = self.pending.remove(&t_s) else {
            return;
        };
        self.totals.merge(&second);
        self.seconds = self.seconds.max(t_s + 1);
        self.verdicts = self.evaluate(Duration::from_secs(t_s + 1));
        on_second(&FleetSecond {
            t_s,
            second: &second,
            totals: &self.totals,
            verdicts: &self.verdicts,
        });
        let failed = self
            .verdicts
            .iter()
            .find(|(_, status, _)| *status == ThresholdStatus::Failed);
        if let (true, None, Some((expression, _, observed))) =
            (self.settings.abort_on_fail, &self.aborted, failed)
        {
            let observed = observed.map_or(String::new(), |o| format!(" (observed {o:.3})"));
            self.abort(format!(
                "threshold '{expression}' failed over the whole fleet in second {t_s} (the totals of its first {} s){observed}",
                t_s + 1
            ));
        }
    }

    fn evaluate(&self, elapsed: Duration) -> Vec<(String, ThresholdStatus, Option<f64>)> {
        let source = plumb_load::load_metrics(&self.totals, elapsed);
        self.settings
            .thresholds
            .iter()
            .map(|t| {
                let e = t.evaluate(&source);
                let status = match e.status {
                    ThresholdStatus::NoData if self.settings.no_data == NoData::Passes => {
                        ThresholdStatus::Passed
                    }
                    status => status,
                };
                (t.source.clone(), status, e.observed)
            })
            .collect()
    }

    fn abort(&mut self, reason: String) {
        self.broadcast(&ToSegment::Abort {
            reason: reason.clone(),
        });
        self.aborted.get_or_insert(reason);
    }

    fn finish(self) -> FleetReport {
        FleetReport {
            totals: self.totals,
            seconds: self.seconds,
            verdicts: self.verdicts,
            aborted: self.aborted,
            lost: self.lost,
            interrupted: self.interrupted,
        }
    }
}

/// One segment's connection: answer pings at once (the clock probe's accuracy depends on it),
/// pass everything else on.
fn read_segment(conn: usize, stream: TcpStream, mut ponger: TcpStream, events: &Sender<Event>) {
    let mut reader = BufReader::new(stream);
    loop {
        let event = match protocol::receive::<ToCoordinator>(&mut reader) {
            Ok(Some(ToCoordinator::Ping { seq, t0_ms })) => {
                let pong = ToSegment::Pong {
                    seq,
                    t0_ms,
                    coordinator_ms: now_ms(),
                };
                if protocol::send(&mut ponger, &pong).is_err() {
                    break;
                }
                continue;
            }
            Ok(Some(ToCoordinator::Hello {
                index, count, test, ..
            })) => Event::Joined {
                conn,
                index,
                count,
                test,
            },
            Ok(Some(ToCoordinator::Window { t_s, recorder })) => match recorder.to_recorder() {
                Ok(recorder) => Event::Window {
                    conn,
                    t_s,
                    recorder: Box::new(recorder),
                },
                Err(_) => break,
            },
            Ok(Some(ToCoordinator::Done { interrupted })) => Event::Done { conn, interrupted },
            Ok(None) | Err(_) => break,
        };
        if events.send(event).is_err() {
            return;
        }
    }
    let _ = events.send(Event::Gone { conn });
}
