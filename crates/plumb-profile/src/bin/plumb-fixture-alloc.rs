//! Test fixture that grows its memory in steps: `STEPS` times (default 5) it allocates and
//! touches `STEP_MIB` MiB (default 20), then pauses `PAUSE_MS` (default 400), and finally holds
//! everything for one more pause before exiting.
//!
//! Usage: `plumb-fixture-alloc [STEPS] [STEP_MIB] [PAUSE_MS]`.

use std::hint::black_box;
use std::time::Duration;

fn main() {
    let mut args = std::env::args().skip(1).map(|arg| arg.parse::<u64>().ok());
    let steps = args.next().flatten().unwrap_or(5);
    let step_mib = args.next().flatten().unwrap_or(20);
    let pause = Duration::from_millis(args.next().flatten().unwrap_or(400));
    let mut held: Vec<Vec<u8>> = Vec::new();
    std::thread::sleep(pause);
    for _ in 0..steps {
        // Every byte is written, so every page becomes resident.
        held.push(vec![1u8; (step_mib * 1024 * 1024) as usize]);
        black_box(&held);
        std::thread::sleep(pause);
    }
    std::thread::sleep(pause);
    // Exit without freeing, so RSS never steps down at the end.
    std::mem::forget(black_box(held));
}
