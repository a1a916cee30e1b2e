//! Finding, launching and tearing down Chromium. Each launch gets a fresh profile in a temporary
//! directory, runs in a process group of its own and talks over `--remote-debugging-pipe` (no
//! port to find, nothing listening). Teardown asks the browser to close, then kills the whole
//! group and reaps it, on every path: [`Browser`]'s `Drop` does it, so an error or a panic leaves
//! no browser behind; plumb's second-signal exit kills the group too (it is led by plumb's child).

use crate::cdp::Cdp;
use crate::error::PageError;
use serde_json::json;
use std::os::unix::io::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The names a Chromium goes by on PATH, in the order tried.
const NAMES: [&str; 5] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
];

/// How long a browser may take to answer its first call.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a browser may take to close when asked, before its group is killed.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How long killed processes may take to be gone (a loaded machine tears a browser's memory down
/// slowly), before the profile is deleted anyway.
const GONE_LIMIT: Duration = Duration::from_secs(15);

/// The browser to run: `--browser PATH`, or the first Chromium on PATH.
pub fn find(given: Option<&Path>) -> Result<PathBuf, PageError> {
    if let Some(path) = given {
        return if is_executable(path) {
            Ok(path.to_owned())
        } else {
            Err(PageError::BrowserMissing {
                looked: path.display().to_string(),
            })
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|dir| NAMES.iter().map(move |name| dir.join(name)))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| PageError::BrowserMissing {
            looked: format!("{} on PATH", NAMES.join(", ")),
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A running browser with its DevTools connection; closed and killed when dropped.
pub struct Browser {
    child: Child,
    /// The process group the browser leads (its pid).
    group: i32,
    /// The connection.
    pub cdp: Cdp,
    /// `Chrome/156.0.8078.114`.
    pub product: String,
    dir: tempfile::TempDir,
    closed: bool,
}

impl Browser {
    /// Start `path` headless with a fresh profile and `window` (width, height) as its window.
    pub fn launch(path: &Path, window: (u32, u32)) -> Result<Browser, PageError> {
        let dir = tempfile::Builder::new()
            .prefix("plumb-page-")
            .tempdir()
            .map_err(|e| PageError::Io("cannot create a browser profile directory".into(), e))?;
        let stderr = std::fs::File::create(dir.path().join("stderr.log"))
            .map_err(|e| PageError::Io("cannot create the browser's log".into(), e))?;
        let (commands_read, commands_write) =
            pipe().map_err(|e| PageError::Io("cannot create the DevTools pipe".into(), e))?;
        let (replies_read, replies_write) =
            pipe().map_err(|e| PageError::Io("cannot create the DevTools pipe".into(), e))?;
        let mut command = Command::new(path);
        command
            .args(arguments(&dir.path().join("profile"), window))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .process_group(0);
        let (read_fd, write_fd) = (commands_read.as_raw_fd(), replies_write.as_raw_fd());
        // SAFETY: the closure runs in the forked child before exec and only calls prctl, fcntl
        // and dup2, which are async-signal-safe, on descriptors that are open in the child.
        unsafe { command.pre_exec(move || in_child(read_fd, write_fd)) };
        let child = command.spawn().map_err(|e| PageError::Launch {
            browser: path.display().to_string(),
            reason: e.to_string(),
        })?;
        drop((commands_read, replies_write));
        let group = child.id() as i32;
        let mut browser = Browser {
            child,
            group,
            cdp: Cdp::new(commands_write, replies_read),
            product: String::new(),
            dir,
            closed: false,
        };
        browser.product = browser.version(path)?;
        Ok(browser)
    }

    fn version(&mut self, path: &Path) -> Result<String, PageError> {
        let deadline = Instant::now() + START_TIMEOUT;
        match self.cdp.call("Browser.getVersion", json!({}), deadline) {
            Ok(v) => Ok(v["product"].as_str().unwrap_or("unknown").to_owned()),
            Err(e) => Err(PageError::Launch {
                browser: path.display().to_string(),
                reason: format!("{e}{}", self.log_tail()),
            }),
        }
    }

    /// The last lines the browser wrote to stderr, for an error message.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = &lines[lines.len().saturating_sub(5)..];
        if tail.is_empty() {
            String::new()
        } else {
            format!("; it said:\n  {}", tail.join("\n  "))
        }
    }

    /// The process group the browser leads (for tests that check nothing survives).
    pub fn group(&self) -> i32 {
        self.group
    }

    /// Ask the browser to close, then kill its group and reap it.
    pub fn close(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.cdp.use_session(None);
        let deadline = Instant::now() + CLOSE_GRACE;
        let _ = self.cdp.call("Browser.close", json!({}), deadline);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The browser's helpers (zygote, renderers, utilities) are in its group: kill them all,
        // whether or not the browser itself has exited.
        // SAFETY: killpg with the group our child leads and a valid signal number.
        unsafe { libc::killpg(self.group, libc::SIGKILL) };
        let _ = self.child.kill();
        let _ = self.child.wait();
        let deadline = Instant::now() + GONE_LIMIT;
        loop {
            let outside = mentioning(self.dir.path());
            for &pid in &outside {
                // SAFETY: kill with a pid read from /proc and a valid signal number.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            let gone = outside.is_empty() && group_members(self.group).is_empty();
            if gone || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Live processes whose command line names `dir` (the crash handlers, which leave the group).
fn mentioning(dir: &Path) -> Vec<i32> {
    let needle = dir.as_os_str().as_encoded_bytes();
    live_processes()
        .into_iter()
        .filter(|(pid, _)| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|line| line.windows(needle.len()).any(|w| w == needle))
        })
        .map(|(pid, _)| pid)
        .collect()
}

/// (pid, process group) of every live (not zombie) process, from /proc.
fn live_processes() -> Vec<(i32, i32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // After the command's closing parenthesis: state, ppid, pgrp.
            let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
            let state = fields.next()?;
            let pgrp: i32 = fields.nth(1)?.parse().ok()?;
            (state != "Z" && state != "X").then_some((pid, pgrp))
        })
        .collect()
}

/// The live processes of process group `group`.
pub fn group_members(group: i32) -> Vec<i32> {
    live_processes()
        .into_iter()
        .filter(|&(_, pgrp)| pgrp == group)
        .map(|(pid, _)| pid)
        .collect()
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// Chromium's flags: new headless, no sandbox (plumb often runs as root in a container), no GPU,
/// nothing fetched in the background, the profile given, DevTools on the pipe.
fn arguments(profile: &Path, (width, height): (u32, u32)) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-breakpad",
        "--disable-extensions",
        "--disable-default-apps",
        "--disable-dev-shm-usage",
        "--mute-audio",
        "--remote-debugging-pipe",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([
        format!("--user-data-dir={}", profile.display()),
        // The crash handlers run outside the process group: their database names the
        // temporary directory, so teardown can find them (and ~/.config stays untouched).
        format!(
            "--crash-dumps-dir={}",
            profile.with_file_name("crash").display()
        ),
        format!("--window-size={width},{height}"),
        "about:blank".to_owned(),
    ])
    .collect()
}

/// A pipe, (read end, write end), both close-on-exec (the child gets its ends by `dup2`).
pub(crate) fn pipe() -> std::io::Result<(std::fs::File, std::fs::File)> {
    use std::os::unix::io::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given; the result is checked.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened by pipe2 and are owned by nothing else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((read.into(), write.into()))
}

/// In the child, before exec: die with plumb (a SIGKILLed or aborted plumb runs no `Drop`; the
/// browser's helpers exit when the browser does, and closing the pipe does not end it), then
/// make the commands pipe fd 3 and the replies pipe fd 4. Both are first moved above 10, since
/// either may already sit on 3 or 4.
fn in_child(read: RawFd, write: RawFd) -> std::io::Result<()> {
    let check = |fd: i32| {
        if fd < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(fd)
        }
    };
    // SAFETY: prctl with a valid option and signal; fcntl and dup2 on descriptors open in this
    // process; the results are checked.
    unsafe {
        check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL))?;
        let read = check(libc::fcntl(read, libc::F_DUPFD_CLOEXEC, 10))?;
        let write = check(libc::fcntl(write, libc::F_DUPFD_CLOEXEC, 10))?;
        check(libc::dup2(read, 3))?;
        check(libc::dup2(write, 4))?;
    }
    Ok(())
}
