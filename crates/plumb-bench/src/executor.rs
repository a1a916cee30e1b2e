//! Running one process and measuring it: the [`Executor`] trait, and [`ProcessExecutor`], which
//! spawns a real child and reads its resource usage from `wait4`.
//!
//! Why `wait4` and not `getrusage(RUSAGE_CHILDREN)`: the latter accumulates over every child ever
//! waited for, and its `ru_maxrss` is the largest child so far, so it only ever grows from run to
//! run (hyperfine's memory figures have this bug). `wait4` reports the one child just reaped,
//! together with the descendants it waited for itself (a shell's command).
//!
//! The child is spawned with `std::process::Command`, which on Linux uses `posix_spawn`
//! (`clone(CLONE_VM | CLONE_VFORK)`): the parent's memory is not copied. Linux still folds the
//! peak RSS of the image that `exec` replaces into the child's `ru_maxrss`, so a child's peak is
//! never below plumb's own peak (a few MiB); that is a floor, not an offset added to large children.

use std::fs::{File, OpenOptions};
use std::io;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A program and its arguments, ready to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The program (looked up on `PATH` when it has no slash).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
}

impl ExitKind {
    /// Whether the child exited with code 0.
    pub fn is_success(self) -> bool {
        self == ExitKind::Code(0)
    }
}

impl std::fmt::Display for ExitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitKind::Code(code) => write!(f, "exit code {code}"),
            ExitKind::Signal(signal) => write!(f, "signal {signal}"),
        }
    }
}

/// What one run of one process cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measurement {
    /// From just before the spawn to the return of `wait4`.
    pub wall: Duration,
    /// User CPU time of the child (and the descendants it waited for).
    pub user: Duration,
    /// System CPU time of the child (and the descendants it waited for).
    pub system: Duration,
    /// Peak resident set size in bytes.
    pub peak_rss_bytes: u64,
    /// Voluntary context switches.
    pub voluntary_context_switches: u64,
    /// Involuntary context switches.
    pub involuntary_context_switches: u64,
    /// Block input operations.
    pub block_input_ops: u64,
    /// Block output operations.
    pub block_output_ops: u64,
    /// How it ended.
    pub exit: ExitKind,
}

/// Something that runs a process and measures it. Production uses [`ProcessExecutor`]; tests use
/// [`crate::mock::MockExecutor`], which also stands in for the clock: every duration the runner
/// sees comes from an executor.
pub trait Executor {
    /// Run `invocation` to completion and measure it.
    fn execute(&mut self, invocation: &Invocation) -> io::Result<Measurement>;

    /// The least peak RSS a child can report: the measuring process's own peak, which the
    /// kernel folds into every child's. `None` when unknown.
    fn peak_rss_floor(&self) -> Option<u64> {
        None
    }
}

/// Runs real processes, with stdin, stdout and stderr on `/dev/null`.
#[derive(Debug, Default)]
pub struct ProcessExecutor {
    /// `/dev/null`, opened once: duplicating a descriptor is cheaper than three `open`s a run.
    dev_null: Option<File>,
}

impl ProcessExecutor {
    /// An executor; `/dev/null` is opened on first use.
    pub fn new() -> Self {
        ProcessExecutor::default()
    }

    fn null(&mut self) -> io::Result<Stdio> {
        let file = match &self.dev_null {
            Some(file) => file,
            None => self.dev_null.insert(
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/null")?,
            ),
        };
        Ok(Stdio::from(file.try_clone()?))
    }
}

impl Executor for ProcessExecutor {
    fn execute(&mut self, invocation: &Invocation) -> io::Result<Measurement> {
        let (stdin, stdout, stderr) = (self.null()?, self.null()?, self.null()?);
        let start = Instant::now();
        let child = Command::new(&invocation.program)
            .args(&invocation.args)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()?;
        let (status, usage) = wait_for(child.id())?;
        let wall = start.elapsed();
        Ok(measurement(wall, status, &usage))
    }

    fn peak_rss_floor(&self) -> Option<u64> {
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `usage` is valid and writable for the call.
        let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
        (status == 0).then(|| non_negative(usage.ru_maxrss) * MAXRSS_UNIT)
    }
}

/// Reap `pid` with `wait4`, retrying on `EINTR`.
fn wait_for(pid: u32) -> io::Result<(libc::c_int, libc::rusage)> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid, writable and live for the call; `pid` is our
        // own child, which nothing else waits for (the `Child` handle is dropped without waiting).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok((status, usage));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

fn measurement(wall: Duration, status: libc::c_int, usage: &libc::rusage) -> Measurement {
    Measurement {
        wall,
        user: timeval(usage.ru_utime),
        system: timeval(usage.ru_stime),
        peak_rss_bytes: non_negative(usage.ru_maxrss) * MAXRSS_UNIT,
        voluntary_context_switches: non_negative(usage.ru_nvcsw),
        involuntary_context_switches: non_negative(usage.ru_nivcsw),
        block_input_ops: non_negative(usage.ru_inblock),
        block_output_ops: non_negative(usage.ru_oublock),
        exit: exit_kind(status),
    }
}

/// `ru_maxrss` is in kibibytes on Linux and the BSDs, in bytes on macOS.
#[cfg(target_os = "macos")]
const MAXRSS_UNIT: u64 = 1;
#[cfg(not(target_os = "macos"))]
const MAXRSS_UNIT: u64 = 1024;

fn exit_kind(status: libc::c_int) -> ExitKind {
    if libc::WIFSIGNALED(status) {
        ExitKind::Signal(libc::WTERMSIG(status))
    } else {
        ExitKind::Code(libc::WEXITSTATUS(status))
    }
}

fn timeval(tv: libc::timeval) -> Duration {
    let micros = non_negative(tv.tv_sec) * 1_000_000 + non_negative(tv.tv_usec);
    Duration::from_micros(micros)
}

fn non_negative(value: impl TryInto<u64>) -> u64 {
    value.try_into().unwrap_or(0)
}
