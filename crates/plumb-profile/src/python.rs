//! Python stacks of a CPython 3.8 to 3.13 process, read from its memory without stopping it,
//! with py-spy as a library (its non-blocking mode: `process_vm_readv`, no ptrace pause).
//!
//! The reader runs on its own thread beside the perf sampler, at the same rate, and keeps only
//! threads that were on a CPU (as perf's CPU clock does), so its shares compare with the CPU
//! profile's. Frames are named `function (file:line)`, the file as py-spy shortens it (relative
//! to `sys.path`: `flask/app.py`). Why py-spy rather than hand-written reading: docs/profile.md.

use crate::analysis::{self, NamedStack, COVER_FRACTION};
use plumb_schema::profile::{CpuProfile, PythonProfile};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long to keep trying to find the interpreter of a process that just started.
const FIND_FOR: Duration = Duration::from_secs(3);
/// Pause between two tries.
const RETRY_EVERY: Duration = Duration::from_millis(20);

/// What reading the interpreter gave.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PythonOutcome {
    /// Stacks were read.
    Sampled {
        /// The exact version (`3.12.1`).
        version: String,
        /// Unique stacks, root first, with their counts.
        stacks: HashMap<Vec<String>, u64>,
        /// Reads that failed.
        failed: u64,
    },
    /// The interpreter could not be read; why.
    Failed(String),
}

/// Read the Python stacks of `pid` `frequency_hz` times a second until `stop` is set.
pub(crate) fn sample(pid: u32, frequency_hz: u32, stop: &AtomicBool) -> PythonOutcome {
    let mut spy = match find_interpreter(pid, stop) {
        Ok(spy) => spy,
        Err(reason) => return PythonOutcome::Failed(reason),
    };
    let period = Duration::from_secs_f64(1.0 / f64::from(frequency_hz.max(1)));
    // Two readings of "running": the thread holding the GIL (the one executing Python code),
    // and the thread the OS says is running. The first is kept when the interpreter reports a
    // GIL holder at all: py-spy's mapping of Python threads to OS threads can be wrong without
    // native unwinding, which counted a thread blocked in accept() as running.
    let (mut holding, mut running): (HashMap<Vec<String>, u64>, HashMap<Vec<String>, u64>) =
        Default::default();
    let mut failed = 0;
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        match spy.get_stack_traces() {
            Ok(traces) => {
                for trace in &traces {
                    let Some(stack) = on_cpu_stack(trace) else {
                        continue;
                    };
                    if trace.owns_gil {
                        *holding.entry(stack.clone()).or_default() += 1;
                    }
                    *running.entry(stack).or_default() += 1;
                }
            }
            Err(_) if !is_alive(pid) => break,
            Err(_) => failed += 1,
        }
        next += period;
        let now = Instant::now();
        match next.checked_duration_since(now) {
            Some(wait) => std::thread::sleep(wait),
            None => next = now,
        }
    }
    let stacks = if holding.is_empty() { running } else { holding };
    PythonOutcome::Sampled {
        version: spy.version.to_string(),
        stacks,
        failed,
    }
}

/// The outcomes of several processes as one: their stacks added up (the version of the first
/// that was read); when none was read, the first reason.
pub(crate) fn merge(outcomes: Vec<PythonOutcome>) -> Option<PythonOutcome> {
    let mut merged: Option<PythonOutcome> = None;
    for outcome in outcomes {
        merged = Some(match (merged, outcome) {
            (None, outcome)
            | (Some(PythonOutcome::Failed(_)), outcome @ PythonOutcome::Sampled { .. }) => outcome,
            (Some(kept), PythonOutcome::Failed(_)) => kept,
            (
                Some(PythonOutcome::Sampled {
                    version,
                    mut stacks,
                    failed,
                }),
                PythonOutcome::Sampled {
                    stacks: more,
                    failed: more_failed,
                    ..
                },
            ) => {
                for (stack, count) in more {
                    *stacks.entry(stack).or_default() += count;
                }
                PythonOutcome::Sampled {
                    version,
                    stacks,
                    failed: failed + more_failed,
                }
            }
        });
    }
    merged
}

/// py-spy's view of the process, retried while a just-started interpreter is not ready.
fn find_interpreter(pid: u32, stop: &AtomicBool) -> Result<py_spy::PythonSpy, String> {
    let mut config = py_spy::Config::default();
    config.blocking = py_spy::config::LockingStrategy::NonBlocking;
    let started = Instant::now();
    loop {
        let error = match py_spy::PythonSpy::new(pid as py_spy::Pid, &config) {
            Ok(mut spy) => match spy.get_stack_traces() {
                Ok(_) => return Ok(spy),
                Err(error) => error,
            },
            Err(error) => error,
        };
        if stop.load(Ordering::Relaxed) || started.elapsed() > FIND_FOR || !is_alive(pid) {
            return Err(describe(&error));
        }
        std::thread::sleep(RETRY_EVERY);
    }
}

/// The error and its root cause, with what allows reading another process's memory.
fn describe(error: &anyhow::Error) -> String {
    let root = error.root_cause().to_string();
    let text = if root == error.to_string() {
        root.clone()
    } else {
        format!("{error}: {root}")
    };
    if root.contains("Permission denied") || root.contains("Operation not permitted") {
        format!("{text} (reading another process's memory needs root, CAP_SYS_PTRACE, or kernel.yama.ptrace_scope=0)")
    } else {
        text
    }
}

fn is_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// The frames of a thread that was running, root first.
fn on_cpu_stack(trace: &py_spy::StackTrace) -> Option<Vec<String>> {
    if !(trace.active || trace.owns_gil) || trace.frames.is_empty() {
        return None;
    }
    Some(trace.frames.iter().rev().map(frame_name).collect())
}

/// `function (file:line)`.
fn frame_name(frame: &py_spy::Frame) -> String {
    let file = frame
        .short_filename
        .as_deref()
        .unwrap_or_else(|| crate::symbols::short_path(&frame.filename));
    format!("{} ({file}:{})", frame.name, frame.line)
}

/// The Python view for the report: ranked and folded like the CPU profile.
pub(crate) fn profile(outcome: &PythonOutcome, frequency_hz: u32) -> Option<PythonProfile> {
    let PythonOutcome::Sampled {
        version,
        stacks,
        failed,
    } = outcome
    else {
        return None;
    };
    let mut named: Vec<NamedStack> = stacks
        .iter()
        .map(|(frames, count)| (frames.clone(), *count))
        .collect();
    named.sort();
    let hot_functions = analysis::rank(&named);
    Some(PythonProfile {
        interpreter: format!("CPython {version}"),
        profile: CpuProfile {
            frequency_hz,
            unwinding: "python-frames".into(),
            samples: stacks.values().sum(),
            lost_samples: 0,
            cover_80_percent: analysis::cover(&hot_functions, COVER_FRACTION),
            hot_functions,
            folded: analysis::fold(&named),
        },
        failed_reads: *failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampled(stacks: &[(&str, u64)], failed: u64) -> PythonOutcome {
        PythonOutcome::Sampled {
            version: "3.12.1".into(),
            stacks: stacks
                .iter()
                .map(|(stack, count)| (vec![stack.to_string()], *count))
                .collect(),
            failed,
        }
    }

    #[test]
    fn merged_processes_add_their_stacks_and_keep_a_reason_only_when_none_was_read() {
        let merged = merge(vec![
            PythonOutcome::Failed("gone".into()),
            sampled(&[("a", 2)], 1),
            sampled(&[("a", 3), ("b", 1)], 0),
        ]);
        assert_eq!(merged, Some(sampled(&[("a", 5), ("b", 1)], 1)));
        let failed = merge(vec![PythonOutcome::Failed("denied".into())]);
        assert_eq!(failed, Some(PythonOutcome::Failed("denied".into())));
        assert_eq!(merge(Vec::new()), None);
    }
}
