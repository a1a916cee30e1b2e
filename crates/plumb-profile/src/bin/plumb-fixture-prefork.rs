//! Test fixture shaped like a pre-forking server (gunicorn, uwsgi, PostgreSQL): a master that
//! forks `WORKERS` workers and only waits, while each worker burns `--share` percent of a core
//! (default 30) in `worker_burn` for `SECONDS`.
//!
//!     plumb-fixture-prefork WORKERS SECONDS [--share PERCENT] [--late MS] [--report FILE]
//!
//! `--late MS` forks one more worker MS milliseconds after the others (a worker started during a
//! run). `--report FILE` makes the master write, once it has reaped every worker, the kernel's
//! accounting of its children (`getrusage(RUSAGE_CHILDREN)`: user and system seconds) to FILE:
//! the independent figure a test compares plumb's with. Workers die with the master.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Length of one busy-then-idle period of a worker.
const PERIOD: Duration = Duration::from_millis(50);

struct Options {
    workers: u32,
    seconds: f64,
    share: f64,
    late: Option<Duration>,
    report: Option<String>,
}

fn main() {
    let options = parse(std::env::args().skip(1).collect());
    let end = Instant::now() + Duration::from_secs_f64(options.seconds);
    let mut children = Vec::new();
    for _ in 0..options.workers {
        children.push(fork_worker(end, options.share));
    }
    if let Some(late) = options.late {
        std::thread::sleep(late);
        children.push(fork_worker(end, options.share));
    }
    for pid in children {
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid status pointer.
        unsafe { libc::waitpid(pid, &mut status, 0) };
    }
    if let Some(path) = options.report {
        let (user, system) = children_cpu();
        std::fs::write(path, format!("{user} {system}\n")).expect("the report file is writable");
    }
}

fn parse(args: Vec<String>) -> Options {
    let number = |text: &str| -> f64 { text.parse().expect("a number") };
    let mut options = Options {
        workers: args
            .first()
            .map_or(3, |w| w.parse().expect("WORKERS is a count")),
        seconds: args.get(1).map_or(2.0, |s| number(s)),
        share: 30.0,
        late: None,
        report: None,
    };
    let mut rest = args.iter().skip(2);
    while let Some(flag) = rest.next() {
        let value = rest.next().expect("every option takes a value");
        match flag.as_str() {
            "--share" => options.share = number(value),
            "--late" => options.late = Some(Duration::from_millis(number(value) as u64)),
            "--report" => options.report = Some(value.clone()),
            other => panic!("unknown option {other}"),
        }
    }
    options
}

/// Fork a worker that burns until `end`; returns its PID in the master.
fn fork_worker(end: Instant, share: f64) -> libc::pid_t {
    // SAFETY: the master is single-threaded, so the child may run any code after fork.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // A test that kills the master ends its workers too.
        // SAFETY: prctl with two integer arguments.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
        black_box(worker(end, share));
        // SAFETY: leaving the child without running the master's exit handlers.
        unsafe { libc::_exit(0) };
    }
    pid
}

/// Busy for `share` percent of every period, asleep for the rest, until `end`.
fn worker(end: Instant, share: f64) -> u64 {
    let busy = PERIOD.mul_f64((share / 100.0).clamp(0.0, 1.0));
    let mut sink = 0;
    while Instant::now() < end {
        let period_end = Instant::now() + PERIOD;
        sink ^= worker_burn(Instant::now() + busy);
        let now = Instant::now();
        if now < period_end {
            std::thread::sleep(period_end - now);
        }
    }
    sink
}

/// The worker's CPU: spin until `until`. Only primitive operators in the loop, so that an
/// unoptimized build calls no helper functions either and the samples land here.
#[inline(never)]
fn worker_burn(until: Instant) -> u64 {
    let mut acc: u64 = 1;
    while Instant::now() < until {
        let end: u64 = black_box(20_000);
        let mut i: u64 = 0;
        while i < end {
            acc = (acc << 1) ^ (acc >> 3) ^ i;
            i += 1;
        }
    }
    acc
}

/// User and system seconds of the reaped children.
fn children_cpu() -> (f64, f64) {
    // SAFETY: an all-zero rusage is valid; getrusage only writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is valid and writable.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (seconds(usage.ru_utime), seconds(usage.ru_stime))
}
