//! HTTP/2 multiplexing (`-p N`): one connection shared by N lanes of the same thread, each lane a
//! task sending one stream at a time, so a connection carries up to N streams at once.
//!
//! A lane holds a clone of the connection's request handle in its own [`super::ConnSlot`]; the
//! group keeps the handle the lanes clone from, opens it once when it is missing (the other lanes
//! wait for that connect instead of opening connections of their own), and forgets it when the
//! connection fails, so the next lane to send opens a fresh one.

use crate::http1::ExchangeError;
use crate::http2::{H2Connection, REFUSED_STREAM, STREAM_FAILED};
use crate::recorder::ErrorClass;
use std::cell::{Cell, RefCell};
use tokio::sync::Notify;

/// The connection shared by one group of lanes.
#[derive(Default)]
pub(crate) struct H2Group {
    /// The live connection and its generation (bumped on each connect).
    open: RefCell<Option<(u64, H2Connection)>>,
    generation: Cell<u64>,
    /// The connection has served a response, so a failure before any byte may be a stale one.
    served: Cell<bool>,
    /// A lane is connecting for the group; the others wait on `connected`.
    connecting: Cell<bool>,
    connected: Notify,
}

/// What a lane took from its group: a handle on the live connection.
pub(crate) struct Joined {
    pub connection: H2Connection,
    pub generation: u64,
    pub served: bool,
}

impl H2Group {
    /// A clone of the live connection's handle, if it has one that still takes streams.
    pub(crate) fn live(&self) -> Option<Joined> {
        let mut open = self.open.borrow_mut();
        if open.as_ref().is_some_and(|(_, c)| c.is_closed()) {
            *open = None;
        }
        open.as_ref().map(|(generation, connection)| Joined {
            connection: connection.clone(),
            generation: *generation,
            served: self.served.get(),
        })
    }

    /// Whether a lane is connecting for the group.
    pub(crate) fn is_connecting(&self) -> bool {
        self.connecting.get()
    }

    /// Wait while another lane connects; returns once no connect is under way.
    pub(crate) async fn wait_for_connect(&self) {
        while self.connecting.get() {
            self.connected.notified().await;
        }
    }

    /// Mark a connect begun by this lane.
    pub(crate) fn begin_connect(&self) {
        self.connecting.set(true);
    }

    /// End this lane's connect, keeping the new connection for the group when it succeeded.
    pub(crate) fn end_connect(&self, connection: Option<&H2Connection>) -> u64 {
        let generation = self.generation.get() + 1;
        if let Some(connection) = connection {
            self.generation.set(generation);
            *self.open.borrow_mut() = Some((generation, connection.clone()));
            self.served.set(false);
        }
        self.connecting.set(false);
        self.connected.notify_waiters();
        generation
    }

    /// A response arrived on the connection of `generation`.
    pub(crate) fn mark_served(&self, generation: u64) {
        if self.generation.get() == generation {
            self.served.set(true);
        }
    }

    /// An exchange on the connection of `generation` failed: forget the connection when the
    /// failure was the connection's, not one stream's (a reset or refused stream, a timeout).
    pub(crate) fn failed(&self, generation: u64, error: &ExchangeError) {
        if self.generation.get() == generation && ends_connection(error) {
            *self.open.borrow_mut() = None;
        }
    }
}

/// Whether a failed exchange means its HTTP/2 connection is gone.
fn ends_connection(error: &ExchangeError) -> bool {
    let one_stream = matches!(error.detail, Some(STREAM_FAILED) | Some(REFUSED_STREAM));
    !one_stream && !matches!(error.class, ErrorClass::Timeout)
}
