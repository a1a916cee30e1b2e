//! Test fixture that leaks in one function: `STEPS` times (default 8) `grow_cache` keeps a new
//! `STEP_MIB` MiB block (default 8) it has written, while `scratch` works in one small buffer
//! that is reused (no new memory after the first round); then it exits without freeing.
//!
//! Usage: `plumb-fixture-leak [STEPS] [STEP_MIB]`.

use std::hint::black_box;
use std::time::Duration;

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|arg| arg.parse::<usize>().ok());
    let steps = args.next().flatten().unwrap_or(8);
    let step_mib = args.next().flatten().unwrap_or(8);
    let mut cache: Vec<Vec<u8>> = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    for _ in 0..steps {
        grow_cache(&mut cache, step_mib);
        scratch(&mut buffer);
        std::thread::sleep(Duration::from_millis(50));
    }
    std::mem::forget(black_box(cache));
}

/// Keep `mib` MiB more, every page written.
#[inline(never)]
fn grow_cache(cache: &mut Vec<Vec<u8>>, mib: usize) {
    let mut block = Vec::with_capacity(mib * 1024 * 1024);
    for i in 0..mib * 1024 * 1024 {
        block.push((i % 251) as u8);
    }
    cache.push(black_box(block));
}

/// Work in a reused buffer.
#[inline(never)]
fn scratch(buffer: &mut [u8]) {
    for _ in 0..16 {
        for (i, byte) in buffer.iter_mut().enumerate() {
            *byte = byte.wrapping_add(i as u8);
        }
    }
    black_box(buffer);
}
