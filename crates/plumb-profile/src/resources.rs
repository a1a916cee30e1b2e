//! The resource timeline: CPU, RSS, threads, context switches, I/O and open files of a process,
//! read from /proc on a fixed interval by a background thread.

use crate::error::ProfileError;
use crate::StopOnDrop;
use plumb_schema::profile::{ResourcePoint, ResourceTimeline};
use procfs::process::Process;
use procfs::ProcError;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Starts the /proc sampler of a process.
pub struct ResourceSampler;

/// A running /proc sampler; [`ResourceSamplerHandle::stop`] returns the timeline (dropping the
/// handle stops the sampler and discards it).
pub struct ResourceSamplerHandle {
    stop: StopOnDrop,
    thread: JoinHandle<ResourceTimeline>,
}

impl ResourceSampler {
    /// Check that `pid` exists and can be read, then sample it every `interval` on a thread
    /// until stopped or until the process exits.
    pub fn start(pid: u32, interval: Duration) -> Result<ResourceSamplerHandle, ProfileError> {
        let process = open_process(pid)?;
        process.stat().map_err(|err| proc_error(pid, err))?;
        Ok(Self::start_unchecked(pid, interval))
    }

    /// Start without checking: for a process plumb launched itself (which may exit at once).
    pub(crate) fn start_unchecked(pid: u32, interval: Duration) -> ResourceSamplerHandle {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("plumb-resources".into())
            .spawn(move || sample_until(pid, interval, &flag))
            .expect("spawning a thread only fails when the system is out of resources");
        ResourceSamplerHandle {
            stop: StopOnDrop(stop),
            thread,
        }
    }
}

impl ResourceSamplerHandle {
    /// Whether sampling ended by itself (the process exited).
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Stop sampling and return the timeline.
    pub fn stop(self) -> ResourceTimeline {
        self.stop.stop();
        self.thread
            .join()
            .unwrap_or_else(|_| crate::summary::timeline(Duration::ZERO, Vec::new(), Vec::new()))
    }
}

fn open_process(pid: u32) -> Result<Process, ProfileError> {
    let id = i32::try_from(pid).map_err(|_| ProfileError::NoSuchProcess { pid })?;
    if id <= 0 {
        return Err(ProfileError::NoSuchProcess { pid });
    }
    Process::new(id).map_err(|err| proc_error(pid, err))
}

fn proc_error(pid: u32, err: ProcError) -> ProfileError {
    match err {
        ProcError::NotFound(_) => ProfileError::NoSuchProcess { pid },
        ProcError::PermissionDenied(_) => ProfileError::ProcDenied {
            pid,
            hint: "run plumb as the process's owner, or as root".into(),
        },
        other => ProfileError::Io {
            context: format!("reading /proc/{pid}"),
            source: std::io::Error::other(other.to_string()),
        },
    }
}

/// `PF_EXITING` of the kernel's task flags (`/proc/PID/stat` field 9).
const PF_EXITING: u32 = 0x4;

/// Counters read at one instant.
#[derive(Debug, Clone)]
struct Reading {
    at: Instant,
    cpu_ticks: (u64, u64),
    point: ResourcePoint,
}

fn sample_until(pid: u32, interval: Duration, stop: &AtomicBool) -> ResourceTimeline {
    let started = Instant::now();
    let mut unreadable = BTreeSet::new();
    let mut points = Vec::new();
    let mut previous: Option<Reading> = None;
    let mut next_tick = started;
    while !stop.load(Ordering::Relaxed) {
        let Some(mut reading) = read(pid, started, &mut unreadable) else {
            break;
        };
        if let Some(before) = &previous {
            follow(&mut reading, before);
        }
        points.push(reading.point.clone());
        previous = Some(reading);
        next_tick += interval;
        sleep_until(next_tick, stop);
    }
    crate::summary::timeline(interval, points, unreadable.into_iter().collect())
}

/// Sleep until `deadline`, waking early to notice `stop`.
fn sleep_until(deadline: Instant, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
}

/// Fill in what needs the previous reading: CPU percentages, and context-switch sums that never
/// go back (a thread that exits takes its counts with it).
fn follow(now: &mut Reading, before: &Reading) {
    let point = &mut now.point;
    point.voluntary_ctx_switches = point
        .voluntary_ctx_switches
        .max(before.point.voluntary_ctx_switches);
    point.involuntary_ctx_switches = point
        .involuntary_ctx_switches
        .max(before.point.involuntary_ctx_switches);
    let elapsed = now.at.duration_since(before.at).as_secs_f64();
    if elapsed <= 0.0 {
        return;
    }
    let ticks = procfs::ticks_per_second() as f64;
    let percent = |from: u64, to: u64| 100.0 * to.saturating_sub(from) as f64 / ticks / elapsed;
    point.cpu_user_percent = percent(before.cpu_ticks.0, now.cpu_ticks.0);
    point.cpu_system_percent = percent(before.cpu_ticks.1, now.cpu_ticks.1);
}

/// One reading, or `None` once the process is gone (or a zombie).
fn read(pid: u32, started: Instant, unreadable: &mut BTreeSet<String>) -> Option<Reading> {
    let process = Process::new(pid as i32).ok()?;
    let stat = process.stat().ok()?;
    // An exiting process is tearing its memory down: its last readings would be misleading.
    if stat.state == 'Z' || stat.state == 'X' || stat.flags & PF_EXITING != 0 {
        return None;
    }
    let at = Instant::now();
    let io = note_unreadable(process.io(), "io (/proc/PID/io)", unreadable);
    let open_fds = note_unreadable(process.fd_count(), "open files (/proc/PID/fd)", unreadable);
    let (voluntary, involuntary) = context_switches(&process);
    Some(Reading {
        at,
        cpu_ticks: (stat.utime, stat.stime),
        point: ResourcePoint {
            t_secs: at.duration_since(started).as_secs_f64(),
            cpu_user_percent: 0.0,
            cpu_system_percent: 0.0,
            rss_bytes: stat.rss * procfs::page_size(),
            threads: u64::try_from(stat.num_threads).unwrap_or(0),
            voluntary_ctx_switches: voluntary,
            involuntary_ctx_switches: involuntary,
            read_bytes: io.as_ref().map(|io| io.rchar),
            written_bytes: io.as_ref().map(|io| io.wchar),
            open_fds: open_fds.map(|count| count as u64),
        },
    })
}

fn note_unreadable<T>(
    result: procfs::ProcResult<T>,
    what: &str,
    unreadable: &mut BTreeSet<String>,
) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(_) => {
            unreadable.insert(what.to_string());
            None
        }
    }
}

/// Context switches summed over all threads (the per-process status line counts one thread only).
fn context_switches(process: &Process) -> (u64, u64) {
    let Ok(tasks) = process.tasks() else {
        return (0, 0);
    };
    tasks.flatten().filter_map(|task| task.status().ok()).fold(
        (0, 0),
        |(voluntary, involuntary), status| {
            (
                voluntary + status.voluntary_ctxt_switches.unwrap_or(0),
                involuntary + status.nonvoluntary_ctxt_switches.unwrap_or(0),
            )
        },
    )
}
