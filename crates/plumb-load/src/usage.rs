//! CPU accounting of the generator's own threads, and the open-files limit it needs.

use std::time::Duration;

/// User and system CPU time of the calling thread at one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ThreadCpu {
    user: Duration,
    system: Duration,
}

/// The calling thread's CPU time so far (getrusage RUSAGE_THREAD).
pub(crate) fn thread_cpu() -> ThreadCpu {
    // SAFETY: an all-zero rusage is a valid value to be overwritten by getrusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we pass; RUSAGE_THREAD is valid on Linux.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    let to_duration = |tv: libc::timeval| {
        Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
    };
    ThreadCpu {
        user: to_duration(usage.ru_utime),
        system: to_duration(usage.ru_stime),
    }
}

impl ThreadCpu {
    /// (user, system) time used since `earlier`.
    pub(crate) fn since(self, earlier: ThreadCpu) -> (Duration, Duration) {
        (
            self.user.saturating_sub(earlier.user),
            self.system.saturating_sub(earlier.system),
        )
    }
}

/// Raise the soft open-files limit to the hard limit, so thousands of connections can open.
pub(crate) fn raise_open_files_limit() -> Option<u64> {
    // SAFETY: an all-zero rlimit is valid; getrlimit/setrlimit read and write the struct we pass.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
        Some(limit.rlim_cur as u64)
    }
}
