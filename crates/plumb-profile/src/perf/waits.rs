//! Waiting time from context switches: for every thread, how long it was switched out to wait
//! (blocked on a socket, a lock, the disk, a sleep) and how long it was switched out while still
//! runnable (preempted, waiting for a CPU), and, where the kernel allows the switch event itself,
//! the user stack each wait started from.
//!
//! The records of one drain arrive per CPU, so they are sorted by time before they are applied;
//! a thread's state (switched out since when, from which stack) carries over between drains.

use super::records::{Record, Sample, Switch};
use std::collections::HashMap;

/// One record that matters to waiting time.
#[derive(Debug, Clone)]
enum WaitEvent {
    /// The context-switch event fired: the thread is about to switch out from this stack.
    Stack { tid: u32, stack: Vec<u64> },
    /// A switch record.
    Switch(Switch),
    /// A new thread (`PERF_RECORD_FORK`): its time starts now, not at the start of the run.
    Born { pid: u32, tid: u32 },
    /// A thread ended (`PERF_RECORD_EXIT`): its time ends now.
    Died { tid: u32 },
}

/// What one thread did, so far.
#[derive(Debug, Clone, Default)]
struct ThreadState {
    pid: u32,
    /// Since when it is accounted (the start of the run, or its birth).
    from: u64,
    /// Until when (its death), or still running.
    until: Option<u64>,
    /// Switched out at this time, preempted or not.
    out: Option<(u64, bool)>,
    /// The stack of the switch in progress.
    stack: Option<Vec<u64>>,
    waiting_ns: u64,
    runnable_ns: u64,
}

/// Waiting time of the sampled threads.
#[derive(Debug, Default)]
pub(crate) struct WaitTracker {
    /// When accounting started (CLOCK_MONOTONIC ns).
    started: u64,
    pending: Vec<(u64, WaitEvent)>,
    threads: HashMap<u32, ThreadState>,
    /// Nanoseconds waited, by (process, address stack leaf first).
    pub stacks: HashMap<(u32, Vec<u64>), u64>,
}

/// The totals, at the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WaitTotals {
    /// Threads seen.
    pub threads: u64,
    /// Their accounted time together.
    pub thread_ns: u64,
    /// Switched out to wait.
    pub waiting_ns: u64,
    /// Switched out while runnable.
    pub runnable_ns: u64,
}

/// CLOCK_MONOTONIC now, in nanoseconds: the clock the switch events are set to.
pub(crate) fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `now` is.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

impl WaitTracker {
    /// Account from `started` on.
    pub fn new(started: u64) -> Self {
        Self {
            started,
            ..Self::default()
        }
    }

    /// A sample of the context-switch event, with its unwound stack.
    pub fn on_sample(&mut self, sample: &Sample<'_>, stack: Vec<u64>) {
        let event = WaitEvent::Stack {
            tid: sample.tid,
            stack,
        };
        self.pending.push((sample.time, event));
    }

    /// Take what matters to waiting from any record: switches, thread births and deaths.
    pub fn on_task_record(&mut self, record: Record<'_>) {
        match record {
            Record::Switch(switch) => self.on_switch(switch),
            Record::Fork(task) => self.on_fork(task.pid, task.tid, task.time),
            Record::Exit(task) => self.on_exit(task.tid, task.time),
            _ => {}
        }
    }

    /// A switch record.
    pub fn on_switch(&mut self, switch: Switch) {
        self.pending.push((switch.time, WaitEvent::Switch(switch)));
    }

    /// A thread born at `time`.
    pub fn on_fork(&mut self, pid: u32, tid: u32, time: u64) {
        self.pending.push((time, WaitEvent::Born { pid, tid }));
    }

    /// A thread ended at `time`.
    pub fn on_exit(&mut self, tid: u32, time: u64) {
        self.pending.push((time, WaitEvent::Died { tid }));
    }

    /// Apply what the last drain delivered, in time order.
    pub fn flush(&mut self) {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by_key(|(time, _)| *time);
        for (time, event) in pending {
            self.apply(time, event);
        }
    }

    fn apply(&mut self, time: u64, event: WaitEvent) {
        let started = self.started;
        match event {
            WaitEvent::Born { pid, tid } => {
                self.threads.insert(
                    tid,
                    ThreadState {
                        pid,
                        from: time,
                        ..ThreadState::default()
                    },
                );
            }
            WaitEvent::Died { tid } => {
                if let Some(thread) = self.threads.get_mut(&tid) {
                    thread.until = Some(time);
                    thread.out = None;
                }
            }
            WaitEvent::Stack { tid, stack } => {
                let thread = self.threads.entry(tid).or_insert_with(|| ThreadState {
                    from: started,
                    ..ThreadState::default()
                });
                thread.stack = Some(stack);
            }
            WaitEvent::Switch(switch) => self.apply_switch(started, switch),
        }
    }

    fn apply_switch(&mut self, started: u64, switch: Switch) {
        let thread = self
            .threads
            .entry(switch.tid)
            .or_insert_with(|| ThreadState {
                pid: switch.pid,
                from: started,
                ..ThreadState::default()
            });
        thread.pid = switch.pid;
        if switch.out {
            thread.out = Some((switch.time, switch.preempted));
            return;
        }
        // Switched in: the wait since its switch out (or since the start, for a thread that was
        // already waiting when accounting began) ends now.
        let (since, preempted) = match thread.out.take() {
            Some(out) => out,
            None if thread.waiting_ns == 0 && thread.runnable_ns == 0 => (thread.from, false),
            None => return,
        };
        let waited = switch.time.saturating_sub(since);
        let stack = thread.stack.take();
        if preempted {
            thread.runnable_ns += waited;
        } else {
            thread.waiting_ns += waited;
            if let Some(stack) = stack.filter(|s| !s.is_empty()) {
                *self.stacks.entry((thread.pid, stack)).or_default() += waited;
            }
        }
    }

    /// Close every wait still open at `end` and total the threads.
    pub fn finish(&mut self, end: u64) -> WaitTotals {
        self.flush();
        let mut totals = WaitTotals::default();
        let tids: Vec<u32> = self.threads.keys().copied().collect();
        for tid in tids {
            let thread = self.threads.get(&tid).cloned().unwrap_or_default();
            let until = thread.until.unwrap_or(end);
            if let Some((since, preempted)) = thread.out {
                let switch = Switch {
                    pid: thread.pid,
                    tid,
                    time: until.max(since),
                    out: false,
                    preempted,
                };
                self.apply_switch(self.started, switch);
            }
            let thread = &self.threads[&tid];
            totals.threads += 1;
            totals.thread_ns += until.saturating_sub(thread.from);
            totals.waiting_ns += thread.waiting_ns;
            totals.runnable_ns += thread.runnable_ns;
        }
        totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn switch(tid: u32, time: u64, out: bool, preempted: bool) -> Switch {
        Switch {
            pid: 1,
            tid,
            time,
            out,
            preempted,
        }
    }

    fn stack_sample(tracker: &mut WaitTracker, tid: u32, time: u64, stack: Vec<u64>) {
        let sample = Sample {
            pid: 1,
            tid,
            time,
            page_size: 0,
            callchain: Vec::new(),
            regs: Vec::new(),
            stack: &[],
        };
        tracker.on_sample(&sample, stack);
    }

    #[test]
    fn a_wait_is_charged_to_the_stack_it_started_from() {
        let mut tracker = WaitTracker::new(0);
        tracker.on_fork(1, 5, 0);
        stack_sample(&mut tracker, 5, 100, vec![0xa, 0xb]);
        tracker.on_switch(switch(5, 101, true, false));
        tracker.on_switch(switch(5, 901, false, false));
        let totals = tracker.finish(1000);
        assert_eq!(totals.waiting_ns, 800);
        assert_eq!(totals.thread_ns, 1000);
        assert_eq!(tracker.stacks[&(1, vec![0xa, 0xb])], 800);
    }

    #[test]
    fn a_preemption_is_runnable_time_not_waiting() {
        let mut tracker = WaitTracker::new(0);
        tracker.on_fork(1, 5, 0);
        tracker.on_switch(switch(5, 100, true, true));
        tracker.on_switch(switch(5, 300, false, false));
        let totals = tracker.finish(1000);
        assert_eq!((totals.waiting_ns, totals.runnable_ns), (0, 200));
        assert!(tracker.stacks.is_empty());
    }

    #[test]
    fn records_from_two_cpus_are_applied_in_time_order() {
        let mut tracker = WaitTracker::new(0);
        tracker.on_fork(1, 5, 0);
        // CPU 1's buffer (the switch in) is drained before CPU 0's (the switch out).
        tracker.on_switch(switch(5, 500, false, false));
        tracker.on_switch(switch(5, 200, true, false));
        let totals = tracker.finish(1000);
        assert_eq!(totals.waiting_ns, 300);
    }

    #[test]
    fn a_thread_waiting_at_the_start_or_the_end_is_charged_for_it() {
        let mut tracker = WaitTracker::new(1000);
        // Already blocked when accounting began; switched in at 1400.
        tracker.on_switch(switch(5, 1400, false, false));
        tracker.on_switch(switch(5, 1600, true, false));
        let totals = tracker.finish(2000);
        assert_eq!(totals.waiting_ns, 400 + 400);
        assert_eq!(totals.thread_ns, 1000);
    }

    #[test]
    fn a_dead_thread_stops_counting() {
        let mut tracker = WaitTracker::new(0);
        tracker.on_fork(1, 5, 0);
        tracker.on_switch(switch(5, 100, true, false));
        tracker.on_switch(switch(5, 200, false, false));
        tracker.on_switch(switch(5, 250, true, false));
        tracker.on_exit(5, 250);
        let totals = tracker.finish(10_000);
        assert_eq!(totals.waiting_ns, 100);
        assert_eq!(totals.thread_ns, 250);
    }
}
