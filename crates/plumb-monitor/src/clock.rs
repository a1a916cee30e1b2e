//! The monitor's clock: every window, budget and alert reads time through [`Clock`], so tests
//! drive a [`ManualClock`] through a 30-day window in milliseconds while production sleeps on
//! the system clock.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch: the one time unit of the monitor's state.
pub type Millis = u64;

/// A source of wall-clock time that can also wait.
pub trait Clock: Send + Sync {
    /// Now, in milliseconds since the Unix epoch.
    fn now(&self) -> Millis;
    /// Wait until `at` or until `stop` is set, whichever comes first.
    fn sleep_until(&self, at: Millis, stop: &AtomicBool);
}

/// The system clock; waits in slices of at most 100 ms so a stop is seen promptly.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    fn sleep_until(&self, at: Millis, stop: &AtomicBool) {
        // Bounded: each slice moves the system clock on by up to 100 ms.
        while !stop.load(Ordering::SeqCst) {
            let now = self.now();
            if now >= at {
                return;
            }
            std::thread::sleep(Duration::from_millis((at - now).min(100)));
        }
    }
}

/// A clock the caller moves: `sleep_until` jumps straight to the deadline.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock that reads `start`.
    pub fn new(start: Millis) -> ManualClock {
        ManualClock {
            now: Arc::new(AtomicU64::new(start)),
        }
    }

    /// Move the clock to `at` (never backwards).
    pub fn set(&self, at: Millis) {
        self.now.fetch_max(at, Ordering::SeqCst);
    }

    /// Move the clock on by `by`.
    pub fn advance(&self, by: Duration) {
        self.now.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }

    fn sleep_until(&self, at: Millis, _stop: &AtomicBool) {
        self.set(at);
    }
}

/// `at` as RFC 3339 UTC with seconds, for messages and JSON.
pub fn rfc3339(at: Millis) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(at)).to_string()
}
