//! Launching a command so that sampling starts exactly at its `exec`.
//!
//! The child pauses between fork and exec: it reports its PID through one pipe and waits on
//! another. Meanwhile plumb opens the perf events on it (enabled on exec), then lets it go.
//! `Command::spawn` returns only after the exec, so it runs on a helper thread.

use crate::error::ProfileError;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

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
    // functions (close, getpid, write, read) on descriptors that are open in the child.
    unsafe {
        command.pre_exec(move || {
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
