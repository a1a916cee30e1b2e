//! A small DevTools-protocol client over Chromium's `--remote-debugging-pipe`: JSON messages
//! separated by NUL bytes, commands written to the browser's fd 3, replies and events read from
//! its fd 4. Messages stay `serde_json::Value`s and only the few methods plumb needs are called
//! by name, so a browser that adds fields or events cannot break the client (the typed crates'
//! failure: chromiumoxide's "data did not match any variant of untagged enum Message").
//!
//! A reader thread turns the pipe into a channel; every wait has a deadline.

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Instant;

/// Why a DevTools call did not answer.
#[derive(Debug, thiserror::Error)]
pub enum CdpError {
    /// The browser closed the pipe (it exited or crashed).
    #[error("the browser closed the DevTools pipe during {method}")]
    Closed {
        /// The call or wait in progress.
        method: String,
    },
    /// No answer before the deadline.
    #[error("the browser did not answer {method} in time")]
    Timeout {
        /// The call in progress.
        method: String,
    },
    /// The browser answered with an error.
    #[error("the browser refused {method}: {message}")]
    Protocol {
        /// The call.
        method: String,
        /// The browser's message.
        message: String,
    },
    /// Writing to the pipe failed.
    #[error("cannot write to the browser's DevTools pipe")]
    Write(#[source] std::io::Error),
}

/// An event the browser sent.
#[derive(Debug, Clone)]
pub struct Event {
    /// `Network.requestWillBeSent`, ...
    pub method: String,
    /// Its parameters.
    pub params: Value,
}

/// One connection to a browser over its pipe.
pub struct Cdp {
    writer: Box<dyn Write + Send>,
    incoming: Receiver<Value>,
    events: VecDeque<Event>,
    next_id: u64,
    session: Option<String>,
}

impl Cdp {
    /// Talk over `writer` (the browser's fd 3) and `reader` (its fd 4).
    pub fn new(writer: impl Write + Send + 'static, reader: impl Read + Send + 'static) -> Cdp {
        let (send, incoming) = mpsc::channel();
        std::thread::Builder::new()
            .name("plumb-cdp".into())
            .spawn(move || read_messages(reader, &send))
            .expect("a thread for the DevTools pipe");
        Cdp {
            writer: Box::new(writer),
            incoming,
            events: VecDeque::new(),
            next_id: 1,
            session: None,
        }
    }

    /// Send later calls to this target session (flat mode), or to the browser with `None`.
    pub fn use_session(&mut self, session: Option<String>) {
        self.session = session;
    }

    /// Call `method` and wait for its result until `deadline`; events that arrive meanwhile are
    /// kept for [`Cdp::next_event`].
    pub fn call(
        &mut self,
        method: &str,
        params: Value,
        deadline: Instant,
    ) -> Result<Value, CdpError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = &self.session {
            message["sessionId"] = Value::String(session.clone());
        }
        let mut bytes = serde_json::to_vec(&message).expect("a JSON value serializes");
        bytes.push(0);
        self.writer.write_all(&bytes).map_err(CdpError::Write)?;
        self.writer.flush().map_err(CdpError::Write)?;
        loop {
            let reply = self.receive(method, deadline)?;
            if reply.get("id").and_then(Value::as_u64) == Some(id) {
                return answer(method, reply);
            }
            self.keep_event(reply);
        }
    }

    /// The next event, waiting until `deadline`; `None` when none came by then.
    pub fn next_event(&mut self, deadline: Instant) -> Result<Option<Event>, CdpError> {
        if let Some(event) = self.events.pop_front() {
            return Ok(Some(event));
        }
        loop {
            match self.receive("waiting for events", deadline) {
                Ok(message) => {
                    self.keep_event(message);
                    if let Some(event) = self.events.pop_front() {
                        return Ok(Some(event));
                    }
                }
                Err(CdpError::Timeout { .. }) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    fn receive(&mut self, method: &str, deadline: Instant) -> Result<Value, CdpError> {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(wait) {
            Ok(message) => Ok(message),
            Err(RecvTimeoutError::Timeout) => Err(CdpError::Timeout {
                method: method.to_owned(),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(CdpError::Closed {
                method: method.to_owned(),
            }),
        }
    }

    fn keep_event(&mut self, message: Value) {
        if let Some(method) = message.get("method").and_then(Value::as_str) {
            self.events.push_back(Event {
                method: method.to_owned(),
                params: message.get("params").cloned().unwrap_or(Value::Null),
            });
        }
    }
}

fn answer(method: &str, reply: Value) -> Result<Value, CdpError> {
    if let Some(error) = reply.get("error") {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("an error without a message");
        return Err(CdpError::Protocol {
            method: method.to_owned(),
            message: message.to_owned(),
        });
    }
    Ok(reply.get("result").cloned().unwrap_or(Value::Null))
}

/// The reader thread: one JSON value per NUL-terminated message, until the pipe closes.
fn read_messages(reader: impl Read, send: &mpsc::Sender<Value>) {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(0, &mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if buffer.last() == Some(&0) {
            buffer.pop();
        }
        let Ok(message) = serde_json::from_slice::<Value>(&buffer) else {
            continue;
        };
        if send.send(message).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn replies_are_matched_by_id_and_events_kept() {
        let (to_client, from_test) = crate::browser::pipe().unwrap();
        let (_unused_reader, sink) = crate::browser::pipe().unwrap();
        let mut cdp = Cdp::new(sink, to_client);
        let mut feed = from_test;
        feed.write_all(b"{\"method\":\"Page.loadEventFired\",\"params\":{\"timestamp\":1}}\0")
            .unwrap();
        feed.write_all(b"{\"id\":1,\"result\":{\"ok\":true}}\0")
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let result = cdp.call("Page.enable", json!({}), deadline).unwrap();
        assert_eq!(result["ok"], true);
        let event = cdp.next_event(deadline).unwrap().unwrap();
        assert_eq!(event.method, "Page.loadEventFired");
        drop(feed);
        let closed = cdp.call("Page.navigate", json!({}), deadline);
        assert!(matches!(closed, Err(CdpError::Closed { .. })), "{closed:?}");
    }
}
