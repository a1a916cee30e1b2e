//! The one interrupt path: SIGINT (Ctrl-C), SIGTERM (`docker stop`, Kubernetes, `timeout`, CI
//! cancellation) and SIGHUP (a closed terminal) all stop the run the same way. The first one fires
//! the stop token: engines stop, kill and reap their children, and plumb prints, writes and saves
//! what was measured, marked interrupted. A second signal (200 ms or more after the first: one
//! request delivered twice, as `timeout` does, is one request) exits at once (128 + its number).

use plumb_load::StopSignal;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};

/// The signals that stop a run.
const STOPPING: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// The process-wide stop token, in the shapes the engines take.
#[derive(Clone)]
pub struct Stop {
    /// For the load engine (carries the reason into the result).
    signal: StopSignal,
    /// For the bench executor and the profiler.
    flag: Arc<AtomicBool>,
    /// The signal that fired, 0 before.
    received: Arc<AtomicI32>,
}

static STOP: OnceLock<Stop> = OnceLock::new();

/// Set when a second signal is ending plumb.
static EXITING: AtomicBool = AtomicBool::new(false);

/// Whether a second signal is ending plumb; the exit code is then 128 + that signal, and the main
/// thread waits for the signal thread to exit rather than exit with the run's own code.
pub fn exiting() -> bool {
    EXITING.load(Ordering::SeqCst)
}

/// The stop token; the first call installs the handlers for SIGINT, SIGTERM and SIGHUP.
pub fn stop() -> Stop {
    STOP.get_or_init(install).clone()
}

impl Stop {
    /// The token the load engine takes.
    pub fn signal(&self) -> &StopSignal {
        &self.signal
    }

    /// The flag the bench executor and the profiler poll.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }

    /// Whether a signal has stopped the run.
    pub fn is_stopped(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// "interrupted (SIGTERM)" once a signal has fired.
    pub fn reason(&self) -> Option<String> {
        let signal = self.received.load(Ordering::SeqCst);
        (signal != 0).then(|| reason(signal))
    }
}

/// The stop reason for `signal`, as results and messages show it.
fn reason(signal: i32) -> String {
    format!("interrupted ({})", signal_name(signal))
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

fn install() -> Stop {
    let stop = Stop {
        signal: StopSignal::new(),
        flag: Arc::new(AtomicBool::new(false)),
        received: Arc::new(AtomicI32::new(0)),
    };
    match signal_hook::iterator::Signals::new(STOPPING) {
        Ok(signals) => {
            let handler = stop.clone();
            let spawned = std::thread::Builder::new()
                .name("plumb-signals".into())
                .spawn(move || handle(signals, &handler));
            if let Err(e) = spawned {
                warn(&format!(
                    "warning: cannot watch for signals ({e}); an interrupt will lose the run"
                ));
            }
        }
        Err(e) => warn(&format!(
            "warning: cannot handle SIGINT/SIGTERM/SIGHUP ({e}); an interrupt will lose the run"
        )),
    }
    stop
}

/// A second signal within this time of the first is the same request delivered twice (GNU
/// `timeout` signals the child and then its process group; a terminal's Ctrl-C reaches the whole
/// foreground group): it must not turn "stop and report" into "quit now".
const SAME_REQUEST: std::time::Duration = std::time::Duration::from_millis(200);

/// Runs on its own thread: the first signal stops the run; another one, 200 ms or more later,
/// exits at once.
fn handle(mut signals: signal_hook::iterator::Signals, stop: &Stop) {
    let mut first: Option<std::time::Instant> = None;
    for signal in signals.forever() {
        if first.is_some_and(|at| at.elapsed() < SAME_REQUEST) {
            continue;
        }
        if stop.received.swap(signal, Ordering::SeqCst) != 0 {
            // The main thread must not exit with the run's code once the children are gone.
            EXITING.store(true, Ordering::SeqCst);
            kill_child_groups();
            std::process::exit(128 + signal);
        }
        let again = match signal {
            SIGINT => "Ctrl-C again to quit now".to_owned(),
            _ => format!("{} again to quit now", signal_name(signal)),
        };
        warn(&format!(
            "\n{}: stopping and reporting what was measured ({again})",
            reason(signal)
        ));
        stop.signal.stop(&reason(signal));
        stop.flag.store(true, Ordering::SeqCst);
        first = Some(std::time::Instant::now());
    }
}

/// Before exiting on a second signal: SIGKILL the process groups that plumb's children lead (a
/// benchmarked or profiled command still in its grace period), so that none outlives plumb.
fn kill_child_groups() {
    let plumb = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
        if fields.get(1) == Some(&plumb.as_str())
            && fields.get(2) == Some(&pid.to_string().as_str())
        {
            // SAFETY: kill takes plain integers; -pid is the group this child of ours leads.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
    }
}

/// A line on stderr; a stderr that cannot be written is not worth a panic.
fn warn(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_names_the_signal() {
        assert_eq!(reason(SIGTERM), "interrupted (SIGTERM)");
        assert_eq!(reason(SIGHUP), "interrupted (SIGHUP)");
        assert_eq!(reason(SIGINT), "interrupted (SIGINT)");
    }
}
