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
    /// Whether any record of it arrived (a registered thread may have none: it never switched).
    seen: bool,
    /// Nanoseconds waited from each sampled stack (scaled to `waiting_ns` at the end).
    sampled: HashMap<Vec<u64>, u64>,
}

/// Waiting time of the sampled threads.
#[derive(Debug, Default)]
pub(crate) struct WaitTracker {
    /// When accounting started (CLOCK_MONOTONIC ns).
    started: u64,
    pending: Vec<(u64, WaitEvent)>,
    threads: HashMap<u32, ThreadState>,
    /// Nanoseconds waited, by (process, address stack leaf first), filled by `finish`: each
    /// thread's sampled stacks scaled to its measured waiting time.
    pub stacks: HashMap<(u32, Vec<u64>), u64>,
    /// Waits with no sampled stack, by (process, label): a thread blocked the whole time, or
    /// one whose waits were never sampled.
    pub unattributed: Vec<(u32, String, u64)>,
}

/// What /proc says of a thread that sent no record: its state letter and where it sleeps.
pub(crate) type ThreadLookup<'a> = &'a dyn Fn(u32, u32) -> Option<(char, String)>;

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

    /// A thread that exists when accounting starts: if it sends no record at all, it either ran
    /// or waited the whole time, which `finish` asks /proc.
    pub fn register(&mut self, pid: u32, tid: u32) {
        let started = self.started;
        self.threads.entry(tid).or_insert_with(|| ThreadState {
            pid,
            from: started,
            ..ThreadState::default()
        });
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
        let tid = match &event {
            WaitEvent::Stack { tid, .. }
            | WaitEvent::Born { tid, .. }
            | WaitEvent::Died { tid } => *tid,
            WaitEvent::Switch(switch) => switch.tid,
        };
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
        if let Some(thread) = self.threads.get_mut(&tid) {
            thread.seen = true;
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
                *thread.sampled.entry(stack).or_default() += waited;
            }
        }
    }

    /// Close every wait still open at `end`, settle the threads that sent no record (asking
    /// `lookup`), scale each thread's sampled stacks to its waiting time, and total the threads.
    pub fn finish(&mut self, end: u64, lookup: ThreadLookup<'_>) -> WaitTotals {
        self.flush();
        let mut totals = WaitTotals::default();
        let tids: Vec<u32> = self.threads.keys().copied().collect();
        for tid in tids {
            self.close_open_wait(tid, end);
            let mut thread = self.threads.remove(&tid).unwrap_or_default();
            let until = thread.until.unwrap_or(end);
            let span = until.saturating_sub(thread.from);
            if !thread.seen {
                match lookup(thread.pid, tid) {
                    Some((state, wchan)) if "SDI".contains(state) => {
                        thread.waiting_ns = span;
                        let label = format!("[blocked the whole time in {wchan}]");
                        self.unattributed.push((thread.pid, label, span));
                    }
                    Some(_) => {}
                    None => continue,
                }
            } else {
                self.attribute(&thread);
            }
            totals.threads += 1;
            totals.thread_ns += span;
            totals.waiting_ns += thread.waiting_ns;
            totals.runnable_ns += thread.runnable_ns;
        }
        totals
    }

    /// A wait still open at the end (or at the thread's death) ends there.
    fn close_open_wait(&mut self, tid: u32, end: u64) {
        let Some(thread) = self.threads.get(&tid) else {
            return;
        };
        if let Some((since, preempted)) = thread.out {
            let switch = Switch {
                pid: thread.pid,
                tid,
                time: thread.until.unwrap_or(end).max(since),
                out: false,
                preempted,
            };
            self.apply_switch(self.started, switch);
        }
    }

    /// Charge a thread's waiting time to its sampled stacks, in proportion to what each sampled
    /// wait lasted; waits with no sampled stack are named as such.
    fn attribute(&mut self, thread: &ThreadState) {
        let sampled: u64 = thread.sampled.values().sum();
        if sampled == 0 {
            if thread.waiting_ns > 0 {
                let label = "[waits of a thread whose stacks were not sampled]".to_string();
                self.unattributed
                    .push((thread.pid, label, thread.waiting_ns));
            }
            return;
        }
        let scale = thread.waiting_ns as f64 / sampled as f64;
        for (stack, ns) in &thread.sampled {
            let scaled = (*ns as f64 * scale).round() as u64;
            *self.stacks.entry((thread.pid, stack.clone())).or_default() += scaled;
        }
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
            period: 1,
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
        let totals = tracker.finish(1000, &|_, _| None);
        assert_eq!(totals.waiting_ns, 800);
        assert_eq!(totals.thread_ns, 1000);
        assert_eq!(tracker.stacks[&(1, vec![0xa, 0xb])], 800);
    }

    #[test]
    fn each_threads_stacks_are_scaled_to_its_own_waiting_time() {
        let mut tracker = WaitTracker::new(0);
        // Thread 5 waits 600 in one sampled wait; thread 6 waits 600 in six waits of 100, of
        // which one was sampled (its event ran at a longer period).
        tracker.on_fork(1, 5, 0);
        tracker.on_fork(1, 6, 0);
        stack_sample(&mut tracker, 5, 10, vec![0xa]);
        tracker.on_switch(switch(5, 11, true, false));
        tracker.on_switch(switch(5, 611, false, false));
        stack_sample(&mut tracker, 6, 10, vec![0xb]);
        for i in 0..6 {
            tracker.on_switch(switch(6, 11 + i * 150, true, false));
            tracker.on_switch(switch(6, 111 + i * 150, false, false));
        }
        let totals = tracker.finish(1000, &|_, _| None);
        assert_eq!(totals.waiting_ns, 1200);
        assert_eq!(tracker.stacks[&(1, vec![0xa])], 600);
        assert_eq!(tracker.stacks[&(1, vec![0xb])], 600);
    }

    #[test]
    fn a_thread_blocked_the_whole_time_is_found_through_proc() {
        let mut tracker = WaitTracker::new(1000);
        tracker.register(1, 7);
        tracker.register(1, 8);
        let lookup = |_: u32, tid: u32| {
            Some(if tid == 7 {
                ('S', "pipe_read".to_string())
            } else {
                ('R', "0".to_string())
            })
        };
        let totals = tracker.finish(3000, &lookup);
        assert_eq!(totals.threads, 2);
        assert_eq!(totals.thread_ns, 4000);
        assert_eq!(totals.waiting_ns, 2000);
        assert_eq!(
            tracker.unattributed,
            vec![(1, "[blocked the whole time in pipe_read]".to_string(), 2000)]
        );
    }

    #[test]
    fn a_preemption_is_runnable_time_not_waiting() {
        let mut tracker = WaitTracker::new(0);
        tracker.on_fork(1, 5, 0);
        tracker.on_switch(switch(5, 100, true, true));
        tracker.on_switch(switch(5, 300, false, false));
        let totals = tracker.finish(1000, &|_, _| None);
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
        let totals = tracker.finish(1000, &|_, _| None);
        assert_eq!(totals.waiting_ns, 300);
    }

    #[test]
    fn a_thread_waiting_at_the_start_or_the_end_is_charged_for_it() {
        let mut tracker = WaitTracker::new(1000);
        // Already blocked when accounting began; switched in at 1400.
        tracker.on_switch(switch(5, 1400, false, false));
        tracker.on_switch(switch(5, 1600, true, false));
        let totals = tracker.finish(2000, &|_, _| None);
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
        let totals = tracker.finish(10_000, &|_, _| None);
        assert_eq!(totals.waiting_ns, 100);
        assert_eq!(totals.thread_ns, 250);
    }
}
