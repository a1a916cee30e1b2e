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
//!
//! With a stop flag ([`ProcessExecutor::stopped_by`]), each child leads its own process group, so
//! that a stop (Ctrl-C, SIGTERM) can end it and
//! whatever it started: the executor waits on a pidfd (woken the moment the child exits, so no
//! polling delay reaches the measurement), checks the stop flag every [`STOP_CHECK`], and on a
//! stop sends SIGTERM to the group, SIGKILL after [`KILL_GRACE`], and reaps the child.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a wait looks at the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(25);

/// How long a stopped child's group has between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_millis(500);

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
    /// Set by the caller (a signal handler) to stop the running child.
    stop: Option<Arc<AtomicBool>>,
}

impl ProcessExecutor {
    /// An executor; `/dev/null` is opened on first use.
    pub fn new() -> Self {
        ProcessExecutor::default()
    }

    /// An executor that ends the running child's process group once `stop` is set; the run then
    /// fails with [`io::ErrorKind::Interrupted`].
    pub fn stopped_by(stop: Arc<AtomicBool>) -> Self {
        ProcessExecutor {
            dev_null: None,
            stop: Some(stop),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst))
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
        if self.stopped() {
            return Err(stopped());
        }
        let (stdin, stdout, stderr) = (self.null()?, self.null()?, self.null()?);
        let start = Instant::now();
        let mut command = Command::new(&invocation.program);
        command
            .args(&invocation.args)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr);
        if self.stop.is_some() {
            // Its own group, which a stop ends. Without a stop flag the child stays in plumb's
            // group, so a Ctrl-C at the terminal reaches it as it reaches plumb.
            command.process_group(0);
        }
        let child = command.spawn()?;
        let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
        if let Some(stop) = &self.stop {
            if wait_or_stop(pid, stop)? == Waited::Stopped {
                end_group(pid);
                wait_for(pid)?;
                return Err(stopped());
            }
        }
        let (status, usage) = wait_for(pid)?;
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

fn stopped() -> io::Error {
    io::Error::new(
        io::ErrorKind::Interrupted,
        "stopped before the command ended",
    )
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waited {
    /// The child exited (not reaped yet).
    Exited,
    /// The stop flag was set first; the child still runs.
    Stopped,
}

/// Wait until child `pid` exits or `stop` is set, without reaping it. On a pidfd, so the wait
/// ends the moment the child does; where pidfds are missing (Linux < 5.3), `waitid(WNOWAIT)`.
fn wait_or_stop(pid: libc::pid_t, stop: &AtomicBool) -> io::Result<Waited> {
    let pidfd = PidFd::open(pid);
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(Waited::Stopped);
        }
        let exited = match &pidfd {
            Ok(pidfd) => pidfd.readable_within(STOP_CHECK)?,
            Err(_) => {
                let exited = has_exited(pid)?;
                if !exited {
                    std::thread::sleep(Duration::from_millis(1));
                }
                exited
            }
        };
        if exited {
            return Ok(Waited::Exited);
        }
    }
}

/// A pidfd: readable once its process has exited.
struct PidFd(std::os::fd::OwnedFd);

impl PidFd {
    fn open(pid: libc::pid_t) -> io::Result<PidFd> {
        use std::os::fd::FromRawFd;
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = i32::try_from(fd).map_err(io::Error::other)?;
        // SAFETY: the descriptor was just returned to us and nothing else owns it.
        Ok(PidFd(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
    }

    /// Whether the process exits within `timeout`.
    fn readable_within(&self, timeout: Duration) -> io::Result<bool> {
        use std::os::fd::AsRawFd;
        let mut poll = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: `poll` is one valid pollfd, live for the call.
        match unsafe { libc::poll(&mut poll, 1, millis) } {
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => Ok(false),
            -1 => Err(io::Error::last_os_error()),
            ready => Ok(ready > 0),
        }
    }
}

/// Whether child `pid` has exited, leaving it to be reaped.
fn has_exited(pid: libc::pid_t) -> io::Result<bool> {
    // SAFETY: an all-zero siginfo_t is a valid value of this plain C struct.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // SAFETY: `info` is valid and writable for the call.
    if unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: waitid filled `info`; si_pid is 0 when no child has changed state.
    Ok(unsafe { info.si_pid() } != 0)
}

/// End the process group led by child `pid`: SIGTERM, then SIGKILL after [`KILL_GRACE`]. The
/// child is not reaped yet, so its pid (the group's id) cannot have been reused.
fn end_group(pid: libc::pid_t) {
    // SAFETY: kill takes plain integers; a negative pid names the process group.
    unsafe { libc::kill(-pid, libc::SIGTERM) };
    let deadline = Instant::now() + KILL_GRACE;
    while Instant::now() < deadline && !has_exited(pid).unwrap_or(true) {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Whatever is left of the group (a child that ignores SIGTERM, or its own children).
    // SAFETY: as above.
    unsafe { libc::kill(-pid, libc::SIGKILL) };
}

/// Reap `pid` with `wait4`, retrying on `EINTR`.
fn wait_for(pid: libc::pid_t) -> io::Result<(libc::c_int, libc::rusage)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_ends_the_childs_group_at_once_and_reaps_it() {
        let stop = Arc::new(AtomicBool::new(false));
        let mut executor = ProcessExecutor::stopped_by(Arc::clone(&stop));
        let pid_file = std::env::temp_dir().join(format!("plumb-executor-{}", std::process::id()));
        let _ = std::fs::remove_file(&pid_file);
        let (setter, written) = (Arc::clone(&stop), pid_file.clone());
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            while std::fs::read_to_string(&written).map_or(true, |pid| !pid.ends_with('\n')) {
                std::thread::sleep(Duration::from_millis(10));
            }
            setter.store(true, Ordering::SeqCst);
        });
        // `sh` waits for its own child `sleep`: both are in the group the stop ends.
        let script = format!("echo $$ > '{}'; sleep 30; true", pid_file.display());
        let invocation = Invocation {
            program: "sh".into(),
            args: vec!["-c".into(), script],
        };
        let error = executor.execute(&invocation).unwrap_err();
        thread.join().unwrap();
        assert_eq!(error.kind(), io::ErrorKind::Interrupted);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let _ = std::fs::remove_file(&pid_file);
        // Reaped, not a zombie: the process is gone.
        assert!(!std::path::Path::new(&format!("/proc/{}", pid.trim())).exists());
    }

    #[test]
    fn without_a_stop_a_run_is_measured_as_before() {
        let invocation = Invocation {
            program: "sh".into(),
            args: vec!["-c".into(), "exit 3".into()],
        };
        let measured = ProcessExecutor::new().execute(&invocation).unwrap();
        assert_eq!(measured.exit, ExitKind::Code(3));
    }
}
