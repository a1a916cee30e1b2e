//! Launching a command so that sampling starts exactly at its `exec`.
//!
//! The child pauses between fork and exec: it reports its PID through one pipe and waits on
//! another. Meanwhile plumb opens the perf events on it (enabled on exec), then lets it go.
//! `Command::spawn` returns only after the exec, so it runs on a helper thread.
//!
//! The command leads its own process group, so that a stop (Ctrl-C, SIGTERM, SIGHUP sent to
//! plumb) ends it and whatever it started: [`wait`] sends SIGTERM to the group, SIGKILL after
//! [`KILL_GRACE`], and reaps the command, and the profile covers the run until then. The
//! command is reaped with `wait4`, whose resource usage holds the CPU of the command and of the
//! descendants it reaped, so what its children did is not lost between two /proc readings.

use crate::error::ProfileError;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often [`wait`] looks at the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(25);

/// How long a stopped command's group has between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_millis(500);

/// Start `program args`, calling `before_exec(pid)` while the child waits just before exec.
pub(crate) fn launch(
    program: &str,
    args: &[String],
    before_exec: impl FnOnce(u32),
) -> Result<Child, ProfileError> {
    let io_error = |source| ProfileError::Io {
        context: "creating a pipe to start the command".into(),
        source,
    };
    let (pid_reader, pid_writer) = pipe().map_err(io_error)?;
    let (go_reader, go_writer) = pipe().map_err(io_error)?;
    let mut command = Command::new(program);
    command.args(args);
    let (pid_fd, go_fd, pid_reader_fd, go_writer_fd) = (
        pid_writer.as_raw_fd(),
        go_reader.as_raw_fd(),
        pid_reader.as_raw_fd(),
        go_writer.as_raw_fd(),
    );
    // SAFETY: the hook runs in the forked child before exec and only calls async-signal-safe
    // functions (setpgid, close, getpid, write, read) on descriptors that are open in the child.
    unsafe {
        command.pre_exec(move || {
            libc::setpgid(0, 0);
            libc::close(pid_reader_fd);
            libc::close(go_writer_fd);
            let pid = libc::getpid().to_ne_bytes();
            libc::write(pid_fd, pid.as_ptr().cast(), pid.len());
            let mut go = [0u8; 1];
            libc::read(go_fd, go.as_mut_ptr().cast(), 1);
            Ok(())
        });
    }
    let spawned = std::thread::scope(|scope| {
        let spawner = scope.spawn(move || {
            let spawned = command.spawn();
            drop((pid_writer, go_reader));
            spawned
        });
        if let Some(pid) = read_pid(pid_reader) {
            before_exec(pid);
        }
        release(go_writer);
        spawner
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the spawning thread panicked")))
    });
    spawned.map_err(|source| spawn_error(program, source))
}

fn spawn_error(program: &str, source: io::Error) -> ProfileError {
    if source.kind() == io::ErrorKind::NotFound {
        ProfileError::CommandNotFound {
            program: program.to_string(),
        }
    } else {
        ProfileError::Spawn {
            program: program.to_string(),
            source,
        }
    }
}

/// The PID the child wrote, or `None` when it never got that far (the fork failed).
fn read_pid(reader: OwnedFd) -> Option<u32> {
    let mut bytes = [0u8; 4];
    std::fs::File::from(reader).read_exact(&mut bytes).ok()?;
    u32::try_from(libc::pid_t::from_ne_bytes(bytes)).ok()
}

/// Let the child go on to exec (closing the pipe would too; the byte makes it explicit).
fn release(writer: OwnedFd) {
    let _ = std::fs::File::from(writer).write_all(&[1]);
}

/// How a launched command ended, with the CPU the kernel accounted to it when it was reaped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reaped {
    /// Its exit status.
    pub status: ExitStatus,
    /// User and system CPU of the command and of every descendant reaped under it (`wait4`'s
    /// rusage), in clock ticks: what /proc cannot show of processes that exited between readings.
    pub cpu_ticks: (u64, u64),
}

/// Wait for the command to end; once `stop` is set, end its process group (SIGTERM, then
/// SIGKILL after [`KILL_GRACE`]) and reap it.
pub(crate) fn wait(child: &mut Child, stop: &AtomicBool) -> io::Result<Reaped> {
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    let pidfd = PidFd::open(pid);
    loop {
        if stop.load(Ordering::SeqCst) {
            end_group(pid);
            return reap(pid);
        }
        let exited = match &pidfd {
            Ok(pidfd) => pidfd.readable_within(STOP_CHECK)?,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                has_exited(pid)?
            }
        };
        if exited {
            return reap(pid);
        }
    }
}

/// Reap child `pid` with `wait4`, keeping its resource usage (std's `Child::wait` drops it).
/// The `Child` is not waited on again afterwards; dropping it does nothing.
fn reap(pid: libc::pid_t) -> io::Result<Reaped> {
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid and writable for the call.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if reaped < 0 && err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let ticks = procfs::ticks_per_second() as f64;
    let to_ticks =
        |t: libc::timeval| ((t.tv_sec as f64 + t.tv_usec as f64 / 1e6) * ticks).round() as u64;
    Ok(Reaped {
        status: std::os::unix::process::ExitStatusExt::from_raw(status),
        cpu_ticks: (to_ticks(usage.ru_utime), to_ticks(usage.ru_stime)),
    })
}

/// SIGTERM to the group led by `pid`, SIGKILL to what is left after the grace. The leader is not
/// reaped yet, so its pid (the group's id) cannot have been reused.
fn end_group(pid: libc::pid_t) {
    // SAFETY: kill takes plain integers; a negative pid names the process group.
    unsafe { libc::kill(-pid, libc::SIGTERM) };
    let deadline = Instant::now() + KILL_GRACE;
    while Instant::now() < deadline && !has_exited(pid).unwrap_or(true) {
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: as above.
    unsafe { libc::kill(-pid, libc::SIGKILL) };
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

/// A pidfd: readable once its process has exited, so a wait ends the moment the command does.
struct PidFd(OwnedFd);

impl PidFd {
    fn open(pid: libc::pid_t) -> io::Result<PidFd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = i32::try_from(fd).map_err(io::Error::other)?;
        // SAFETY: the descriptor was just returned to us and nothing else owns it.
        Ok(PidFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Whether the process exits within `timeout`.
    fn readable_within(&self, timeout: Duration) -> io::Result<bool> {
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

/// A close-on-exec pipe.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both are fresh descriptors owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}
