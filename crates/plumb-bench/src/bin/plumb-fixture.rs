//! A test fixture with known costs, for plumb's real-process tests and scripts/bench-commands:
//!
//! - `plumb-fixture alloc MIB`: allocate MIB mebibytes, touch every page, exit (peak RSS ≈ MIB);
//! - `plumb-fixture spin ITERATIONS`: burn CPU for a fixed amount of work, exit;
//! - `plumb-fixture exit CODE`: exit with CODE.

use std::hint::black_box;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = args.get(1).and_then(|n| n.parse::<u64>().ok());
    match (args.first().map(String::as_str), number) {
        (Some("alloc"), Some(mib)) => alloc(mib),
        (Some("spin"), Some(iterations)) => spin(iterations),
        (Some("exit"), Some(code)) => return ExitCode::from(u8::try_from(code).unwrap_or(255)),
        _ => {
            eprintln!("usage: plumb-fixture alloc MIB | spin ITERATIONS | exit CODE");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

/// Allocate and touch `mib` MiB so that all of it is resident.
fn alloc(mib: u64) {
    let bytes = usize::try_from(mib * 1024 * 1024).expect("size fits in memory");
    let mut block = vec![0u8; bytes];
    for page in block.chunks_mut(4096) {
        page[0] = 1;
    }
    black_box(&block);
}

/// A dependent chain of integer operations the optimizer cannot remove.
fn spin(iterations: u64) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..iterations {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
    }
    black_box(state);
}
