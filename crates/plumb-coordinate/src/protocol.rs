//! The messages between a segment and its coordinator: one JSON object per line over TCP.
//!
//! A segment says `hello` (its index, the count and the test's fingerprint), measures the clock
//! offset with a few `ping`s, waits for `start` (an absolute time on the coordinator's clock),
//! then sends one `window` per second and `done` at the end. The coordinator may answer
//! `refused` (a different test, a duplicate index) or, at any time, `abort`.

use plumb_load::WireRecorder;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

/// What a segment sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToCoordinator {
    /// The first message: who this segment is.
    Hello {
        /// The segment's index, from 0.
        index: u32,
        /// How many segments the test has.
        count: u32,
        /// What identifies the test: every segment of one test sends the same text.
        test: String,
        /// The host the segment runs on.
        host: String,
    },
    /// A clock probe, stamped with the segment's clock (unix ms).
    Ping {
        /// The probe's number, echoed in its pong.
        seq: u32,
        /// When the segment sent it.
        t0_ms: f64,
    },
    /// One whole second of the segment's load, `t_s` seconds after the agreed start.
    Window {
        /// The second.
        t_s: u64,
        /// What the segment recorded in it.
        recorder: WireRecorder,
    },
    /// The segment's load ended.
    Done {
        /// It ended early (stopped, aborted, out of data).
        interrupted: bool,
    },
}

/// What the coordinator sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToSegment {
    /// The answer to a ping: its stamp back, and the coordinator's clock when it answered.
    Pong {
        /// The ping's number.
        seq: u32,
        /// The ping's stamp.
        t0_ms: f64,
        /// The coordinator's clock (unix ms).
        coordinator_ms: f64,
    },
    /// Every segment has joined: start at this time of the coordinator's clock (unix ms).
    Start {
        /// The agreed start.
        at_ms: f64,
    },
    /// This segment may not join.
    Refused {
        /// Why.
        reason: String,
    },
    /// Stop now: a threshold failed over the whole fleet (`--abort-on-fail`), or the
    /// coordinator was stopped.
    Abort {
        /// Why.
        reason: String,
    },
}

/// The longest line either side reads: a window's five histograms are a few kilobytes.
pub const MAX_LINE: u64 = 4 * 1024 * 1024;

/// Write one message as a line.
pub fn send<T: Serialize>(to: &mut impl Write, message: &T) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    line.push(b'\n');
    to.write_all(&line)?;
    to.flush()
}

/// Read one message; `Ok(None)` at the end of the stream. A line over [`MAX_LINE`] or one that
/// is not a message is an error.
pub fn receive<T: for<'de> Deserialize<'de>>(
    from: &mut impl BufRead,
) -> std::io::Result<Option<T>> {
    let mut line = Vec::new();
    let read = std::io::Read::take(&mut *from, MAX_LINE + 1).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if read as u64 > MAX_LINE {
        return Err(std::io::Error::other(format!(
            "a message longer than {MAX_LINE} bytes"
        )));
    }
    serde_json::from_slice(&line)
        .map(Some)
        .map_err(|e| std::io::Error::other(format!("not a plumb coordinator message: {e}")))
}

/// Unix milliseconds of this host's clock.
pub fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_lines() {
        let mut buffer = Vec::new();
        send(
            &mut buffer,
            &ToCoordinator::Ping {
                seq: 3,
                t0_ms: 12.5,
            },
        )
        .unwrap();
        send(&mut buffer, &ToCoordinator::Done { interrupted: true }).unwrap();
        let mut reader = std::io::BufReader::new(&buffer[..]);
        assert_eq!(
            receive::<ToCoordinator>(&mut reader).unwrap(),
            Some(ToCoordinator::Ping {
                seq: 3,
                t0_ms: 12.5,
            })
        );
        assert_eq!(
            receive::<ToCoordinator>(&mut reader).unwrap(),
            Some(ToCoordinator::Done { interrupted: true })
        );
        assert_eq!(receive::<ToCoordinator>(&mut reader).unwrap(), None);
    }

    #[test]
    fn garbage_is_an_error() {
        let mut reader = std::io::BufReader::new(&b"GET / HTTP/1.1\r\n"[..]);
        assert!(receive::<ToCoordinator>(&mut reader).is_err());
    }
}
