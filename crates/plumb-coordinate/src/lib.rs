//! A test split over several processes or machines, live: segments (`plumb load --segment I/N
//! --coordinator ADDR`) join one coordinator (`plumb coordinate --segments N`), which gives them
//! one start on its own clock (each segment measures its offset to it), merges their seconds as
//! they arrive, judges thresholds over the whole fleet every second and broadcasts an abort.
//! `plumb merge` later joins the segments' full results exactly; this crate is the live view.
//!
//! `protocol.rs` holds the messages (JSON lines over TCP), `segment.rs` the segment's side,
//! `fleet.rs` the coordinator's.

mod fleet;
pub mod protocol;
mod segment;

pub use fleet::{coordinate, FleetReport, FleetSecond, FleetSettings};
pub use segment::{join, Identity, Joined};

use std::time::Duration;

/// What went wrong between a segment and its coordinator.
#[derive(Debug, thiserror::Error)]
pub enum CoordinateError {
    /// The coordinator could not be reached in time.
    #[error("the coordinator at {address} could not be reached: {reason}\nhint: start `plumb coordinate --segments N` first (it listens on --listen), and check the address and port")]
    Unreachable {
        /// The address given.
        address: String,
        /// The last connect error.
        reason: String,
    },
    /// The coordinator refused this segment.
    #[error("the coordinator refused this segment: {0}\nhint: every segment of one test runs the same command but for --segment, and each index joins once")]
    Refused(String),
    /// The connection to the coordinator broke.
    #[error(
        "lost the coordinator: {0}\nhint: the coordinator stopped, or the network to it went away"
    )]
    Lost(String),
    /// The coordinator gave no start in time.
    #[error("the coordinator at {address} gave no start within {}\nhint: it starts the test once every segment has joined: are all the segments running?", humantime_secs(*waited))]
    NoStart {
        /// The coordinator's address.
        address: String,
        /// How long this segment waited.
        waited: Duration,
    },
    /// Not every segment joined in time.
    #[error("segment(s) {missing} did not join within {}\nhint: start every segment with --coordinator pointing here, or raise --join-timeout", humantime_secs(*waited))]
    Incomplete {
        /// The indices that never joined.
        missing: String,
        /// How long the coordinator waited.
        waited: Duration,
    },
    /// The run was stopped (Ctrl-C, SIGTERM) while waiting for the coordinator.
    #[error("stopped while waiting for the coordinator: nothing was measured")]
    Stopped,
    /// The coordinator's socket failed.
    #[error("the coordinator's socket failed: {0}")]
    Io(std::io::Error),
}

fn humantime_secs(d: Duration) -> String {
    format!("{} s", d.as_secs())
}
