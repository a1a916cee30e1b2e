//! Aggregated event windows: good and total counts per fixed-width time bucket, kept for one
//! horizon (an SLO's period) and no longer, so memory is bounded by `horizon / width` buckets
//! however long the monitor runs, and never grows with the number of probes.

use crate::clock::Millis;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// One bucket: the events whose time falls in `[start, start + width)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Start of the bucket, ms since the epoch (a multiple of the width).
    pub start: Millis,
    /// Good events.
    pub good: u64,
    /// All valid events.
    pub total: u64,
}

/// Good and total events in a span of time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Good events.
    pub good: u64,
    /// All valid events.
    pub total: u64,
}

impl Counts {
    /// Bad events over all events; `None` with no events (no data is not zero errors).
    pub fn error_ratio(&self) -> Option<f64> {
        (self.total > 0).then(|| (self.total - self.good) as f64 / self.total as f64)
    }
}

/// Counts in buckets of `width` ms, the newest last, none older than `horizon` ms.
#[derive(Debug, Clone)]
pub struct EventWindow {
    width: Millis,
    horizon: Millis,
    buckets: VecDeque<Bucket>,
    /// Sum of every kept bucket: the whole horizon, without a pass over them.
    kept: Counts,
}

impl EventWindow {
    /// An empty window of `horizon` ms in buckets of `width` ms (both at least 1).
    pub fn new(width: Millis, horizon: Millis) -> EventWindow {
        let width = width.max(1);
        EventWindow {
            width,
            horizon: horizon.max(width),
            buckets: VecDeque::new(),
            kept: Counts::default(),
        }
    }

    /// The bucket width in ms.
    pub fn width(&self) -> Millis {
        self.width
    }

    /// Count one event at `at`; events older than the newest bucket go into it (the clock
    /// only moves forward, a late event is counted now).
    pub fn record(&mut self, at: Millis, good: bool) {
        let start = at - at % self.width;
        match self.buckets.back_mut() {
            Some(last) if last.start >= start => add(last, good),
            _ => {
                let mut bucket = Bucket {
                    start,
                    good: 0,
                    total: 0,
                };
                add(&mut bucket, good);
                self.buckets.push_back(bucket);
            }
        }
        self.kept.total += 1;
        self.kept.good += u64::from(good);
        self.expire(at);
    }

    /// Drop buckets that ended before `now - horizon`.
    pub fn expire(&mut self, now: Millis) {
        let oldest = now.saturating_sub(self.horizon);
        // Bounded: each pass removes one bucket.
        while let Some(first) = self.buckets.front() {
            if first.start + self.width > oldest {
                break;
            }
            self.kept.total -= first.total;
            self.kept.good -= first.good;
            self.buckets.pop_front();
        }
    }

    /// Counts of the last `span` ms: the bucket holding `now` and the whole buckets before it,
    /// `ceil(span / width)` buckets in all.
    pub fn counts(&self, now: Millis, span: Millis) -> Counts {
        if span >= self.horizon {
            return self.kept;
        }
        let n = span.div_ceil(self.width).max(1);
        let now_bucket = now - now % self.width;
        let from = now_bucket.saturating_sub((n - 1) * self.width);
        let mut counts = Counts::default();
        for bucket in self.buckets.iter().rev() {
            if bucket.start < from {
                break;
            }
            counts.good += bucket.good;
            counts.total += bucket.total;
        }
        counts
    }

    /// Every event kept, the whole horizon.
    pub fn kept(&self) -> Counts {
        self.kept
    }

    /// The kept buckets, oldest first (what the ledger saves).
    pub fn buckets(&self) -> impl Iterator<Item = &Bucket> {
        self.buckets.iter()
    }

    /// The newest bucket, if any (what changed since the last save).
    pub fn newest(&self) -> Option<&Bucket> {
        self.buckets.back()
    }

    /// Put saved buckets back (oldest first), then expire those outside the horizon at `now`.
    pub fn restore(&mut self, saved: impl IntoIterator<Item = Bucket>, now: Millis) {
        for bucket in saved {
            let start = bucket.start - bucket.start % self.width;
            match self.buckets.back_mut() {
                Some(last) if last.start >= start => {
                    last.good += bucket.good;
                    last.total += bucket.total;
                }
                _ => self.buckets.push_back(Bucket { start, ..bucket }),
            }
            self.kept.good += bucket.good;
            self.kept.total += bucket.total;
        }
        self.expire(now);
    }

    /// How many buckets are kept (bounded by `horizon / width + 1`).
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no bucket is kept.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

fn add(bucket: &mut Bucket, good: bool) {
    bucket.total += 1;
    bucket.good += u64::from(good);
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;

    #[test]
    fn sums_whole_buckets_of_a_span_and_forgets_past_the_horizon() {
        let mut w = EventWindow::new(MIN, 60 * MIN);
        for i in 0..120 {
            w.record(i * 30_000, i % 10 != 0);
        }
        // 120 events over the last hour: 12 bad.
        let now = 119 * 30_000;
        assert_eq!(
            w.counts(now, 60 * MIN),
            Counts {
                good: 108,
                total: 120
            }
        );
        assert_eq!(w.counts(now, 5 * MIN), Counts { good: 9, total: 10 });
        w.record(130 * MIN, true);
        assert_eq!(w.kept(), Counts { good: 1, total: 1 });
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn no_events_is_no_data() {
        assert_eq!(Counts::default().error_ratio(), None);
    }
}
