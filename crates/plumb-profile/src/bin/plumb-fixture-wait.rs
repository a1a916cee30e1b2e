//! Test fixture that waits on a socket most of the time: `ROUNDS` times (default 100) it spins
//! `SPIN_MS` (default 2) in `compute`, then sends one byte to `127.0.0.1:PORT` and blocks in
//! `wait_for_reply` until the server answers (the tests' server answers after 8 ms: 80% waiting).
//!
//! Usage: `plumb-fixture-wait PORT [ROUNDS] [SPIN_MS]`.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .and_then(|p| p.parse().ok())
        .expect("usage: plumb-fixture-wait PORT [ROUNDS] [SPIN_MS]");
    let rounds: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(100);
    let spin = Duration::from_millis(args.next().and_then(|s| s.parse().ok()).unwrap_or(2));
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the server listens");
    stream.set_nodelay(true).expect("nodelay");
    for _ in 0..rounds {
        compute(spin);
        wait_for_reply(&mut stream);
    }
}

/// Burn the CPU for `spin`.
#[inline(never)]
fn compute(spin: Duration) {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < spin {
        x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// Send a request byte and block until the answer byte arrives.
#[inline(never)]
fn wait_for_reply(stream: &mut TcpStream) {
    stream.write_all(b"?").expect("send");
    let mut answer = [0u8; 1];
    stream.read_exact(&mut answer).expect("answer");
}
