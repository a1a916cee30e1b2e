//! Test fixture whose threads wait in known ways for `SECONDS` (default 10): `long_waits`
//! sleeps 500 ms at a time, `short_waits` 1 ms at a time, `blocked_forever` waits for a
//! connection that never comes, and the main thread sleeps the whole time in one call.
//!
//! Usage: `plumb-fixture-threads [SECONDS]`.

use std::net::TcpListener;
use std::time::Duration;

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    std::thread::spawn(long_waits);
    std::thread::spawn(short_waits);
    let listener = TcpListener::bind("127.0.0.1:0").expect("a listener");
    std::thread::spawn(move || blocked_forever(listener));
    std::thread::sleep(Duration::from_secs_f64(seconds));
}

#[inline(never)]
fn long_waits() {
    loop {
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[inline(never)]
fn short_waits() {
    loop {
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[inline(never)]
fn blocked_forever(listener: TcpListener) {
    let _ = listener.accept();
}
