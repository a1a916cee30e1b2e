//! Test fixture with a known CPU profile: `hot_seventy` takes 70% of the CPU time,
//! `warm_twenty` 20% and `cool_ten` 10%, for `SECONDS` (first argument, default 2).
//!
//! The three functions run the same loop for 7, 2 and 1 units of work per round, so their shares
//! hold whatever the machine's speed. They are never inlined, so each is its own symbol.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Iterations of the spin loop in one unit of work.
const UNIT: u64 = 2_000;

// Only primitive operators: unoptimized (debug) builds call no helper functions either, so
// every sample lands in the function that runs the loop.
macro_rules! spin {
    ($units:expr) => {{
        let end: u64 = black_box($units * UNIT);
        let mut acc: u64 = 1;
        let mut i: u64 = 0;
        while i < end {
            acc = (acc << 1) ^ (acc >> 3) ^ i;
            i += 1;
        }
        acc
    }};
}

#[inline(never)]
fn hot_seventy() -> u64 {
    spin!(7)
}

#[inline(never)]
fn warm_twenty() -> u64 {
    spin!(2)
}

#[inline(never)]
fn cool_ten() -> u64 {
    spin!(1)
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(2.0);
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut sink = 0u64;
    while Instant::now() < end {
        sink ^= hot_seventy() ^ warm_twenty() ^ cool_ten();
    }
    black_box(sink);
}
