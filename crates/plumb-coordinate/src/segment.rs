//! The segment's side (`plumb load --segment I/N --coordinator ADDR`): join the coordinator,
//! measure the clock offset, wait for the agreed start, stream each second, and stop when the
//! coordinator says abort or is lost.

use crate::protocol::{self, now_ms, ToCoordinator, ToSegment};
use crate::CoordinateError;
use plumb_load::{Recorder, StopSignal, WireRecorder};
use std::io::{BufRead, BufReader};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Clock probes sent when joining; the one with the shortest round trip is kept.
const PINGS: usize = 8;

/// Who this segment is, for the coordinator.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The segment's index.
    pub index: u32,
    /// How many segments the test has.
    pub count: u32,
    /// The test's fingerprint: the same text for every segment of one test.
    pub test: String,
}

/// A segment joined to its coordinator, waiting to start or running.
pub struct Joined {
    /// When to start, by this host's clock.
    pub start_at: SystemTime,
    /// This host's clock minus the coordinator's, in milliseconds.
    pub clock_offset_ms: f64,
    /// The round trip of the clock probe the offset came from, in milliseconds: the offset's
    /// uncertainty is half of it.
    pub round_trip_ms: f64,
    writer: Arc<Mutex<TcpStream>>,
    reader: Option<BufReader<TcpStream>>,
}

/// Connect to `address`, retrying until `wait` passes (the coordinator's pod may start later than
/// this one), say hello, measure the clock, and wait (up to `wait`) for the agreed start; a
/// `stop` (Ctrl-C, SIGTERM) ends the wait at once.
pub fn join(
    address: &str,
    identity: &Identity,
    wait: Duration,
    stop: &StopSignal,
) -> Result<Joined, CoordinateError> {
    let deadline = Instant::now() + wait;
    let stream = connect_until(address, deadline, stop)?;
    let lost = |e: std::io::Error| CoordinateError::Lost(format!("{address}: {e}"));
    stream.set_nodelay(true).map_err(lost)?;
    let mut writer = stream.try_clone().map_err(lost)?;
    let mut reader = BufReader::new(stream);
    let hello = ToCoordinator::Hello {
        index: identity.index,
        count: identity.count,
        test: identity.test.clone(),
        host: hostname(),
    };
    // The clock first: once the last segment says hello the start comes, and no pong after it.
    let (clock_offset_ms, round_trip_ms) = measure_clock(&mut writer, &mut reader, address)?;
    protocol::send(&mut writer, &hello).map_err(lost)?;
    let remaining = deadline.saturating_duration_since(Instant::now());
    let at_ms = wait_for_start(
        &mut reader,
        address,
        remaining.max(Duration::from_secs(1)),
        stop,
    )?;
    let local_ms = at_ms + clock_offset_ms;
    let start_at = UNIX_EPOCH + Duration::from_secs_f64(local_ms.max(0.0) / 1e3);
    Ok(Joined {
        start_at,
        clock_offset_ms,
        round_trip_ms,
        writer: Arc::new(Mutex::new(writer)),
        reader: Some(reader),
    })
}

fn connect_until(
    address: &str,
    deadline: Instant,
    stop: &StopSignal,
) -> Result<TcpStream, CoordinateError> {
    loop {
        if stop.is_stopped() {
            return Err(CoordinateError::Stopped);
        }
        let last = match address.to_socket_addrs() {
            Ok(addrs) => {
                let mut last = None;
                for addr in addrs {
                    match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                        Ok(stream) => return Ok(stream),
                        Err(e) => last = Some(e.to_string()),
                    }
                }
                last.unwrap_or_else(|| "no address".into())
            }
            // A pod's DNS name may not resolve until the pod exists.
            Err(e) => e.to_string(),
        };
        if Instant::now() >= deadline {
            return Err(CoordinateError::Unreachable {
                address: address.to_string(),
                reason: last,
            });
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// NTP's estimate from the probe with the shortest round trip: the coordinator answered halfway.
fn measure_clock(
    writer: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    address: &str,
) -> Result<(f64, f64), CoordinateError> {
    let lost = |e: std::io::Error| CoordinateError::Lost(format!("{address}: {e}"));
    let mut best: Option<(f64, f64)> = None;
    reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(lost)?;
    for seq in 0..PINGS as u32 {
        let t0_ms = now_ms();
        protocol::send(writer, &ToCoordinator::Ping { seq, t0_ms }).map_err(lost)?;
        match protocol::receive::<ToSegment>(reader).map_err(lost)? {
            Some(ToSegment::Pong {
                seq: echoed,
                coordinator_ms,
                ..
            }) if echoed == seq => {
                let t2_ms = now_ms();
                let round_trip = t2_ms - t0_ms;
                let offset = (t0_ms + t2_ms) / 2.0 - coordinator_ms;
                if best.is_none_or(|(_, rtt)| round_trip < rtt) {
                    best = Some((offset, round_trip));
                }
            }
            other => return Err(unexpected(other, address)),
        }
    }
    best.ok_or_else(|| CoordinateError::Lost(format!("{address}: no clock probe came back")))
}

fn wait_for_start(
    reader: &mut BufReader<TcpStream>,
    address: &str,
    wait: Duration,
    stop: &StopSignal,
) -> Result<f64, CoordinateError> {
    let lost = |e: std::io::Error| CoordinateError::Lost(format!("{address}: {e}"));
    let deadline = Instant::now() + wait;
    // Short reads, so a stop is heard within a second; a line is read whole once it starts.
    reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(1)))
        .map_err(lost)?;
    let message = loop {
        if stop.is_stopped() {
            return Err(CoordinateError::Stopped);
        }
        match reader.fill_buf() {
            Ok(_) => break protocol::receive::<ToSegment>(reader).map_err(lost)?,
            Err(e) if timed_out(&e) && Instant::now() < deadline => {}
            Err(e) if timed_out(&e) => {
                return Err(CoordinateError::NoStart {
                    address: address.to_string(),
                    waited: wait,
                })
            }
            Err(e) => return Err(lost(e)),
        }
    };
    reader.get_ref().set_read_timeout(None).map_err(lost)?;
    match message {
        Some(ToSegment::Start { at_ms }) => Ok(at_ms),
        other => Err(unexpected(other, address)),
    }
}

fn timed_out(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

fn unexpected(message: Option<ToSegment>, address: &str) -> CoordinateError {
    match message {
        Some(ToSegment::Refused { reason }) => CoordinateError::Refused(reason),
        Some(ToSegment::Abort { reason }) => CoordinateError::Refused(reason),
        None => CoordinateError::Lost(format!("{address}: the coordinator closed the connection")),
        Some(other) => CoordinateError::Lost(format!("{address}: unexpected {other:?}")),
    }
}

impl Joined {
    /// Watch the coordinator in the background: an `abort` stops the run with its reason, and a
    /// lost coordinator stops it too (a segment never runs on unwatched).
    pub fn watch(&mut self, stop: StopSignal) {
        let Some(mut reader) = self.reader.take() else {
            return;
        };
        std::thread::spawn(move || loop {
            match protocol::receive::<ToSegment>(&mut reader) {
                Ok(Some(ToSegment::Abort { reason })) => {
                    return stop.stop(&format!("the coordinator aborted the test (--abort-on-fail over the whole fleet): {reason}"));
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => {
                    return stop.stop("lost the coordinator: a segment never runs unwatched");
                }
            }
        });
    }

    /// Send one whole second; a failure to send is left to the watcher, which sees the
    /// connection end.
    pub fn send_window(&self, t_s: u64, recorder: &Recorder) {
        let message = ToCoordinator::Window {
            t_s,
            recorder: WireRecorder::of(recorder),
        };
        if let Ok(mut writer) = self.writer.lock() {
            let _ = protocol::send(&mut *writer, &message);
        }
    }

    /// Say the load ended.
    pub fn done(&self, interrupted: bool) {
        if let Ok(mut writer) = self.writer.lock() {
            let _ = protocol::send(&mut *writer, &ToCoordinator::Done { interrupted });
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}
