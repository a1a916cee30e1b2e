//! Why perf_event_open was refused, and which setting would allow it.
//!
//! The diagnosis is a pure function of the error and the machine's settings, so tests can feed it
//! any paranoid level or user without changing the machine.

use std::io;

/// `kernel.perf_event_paranoid` as this machine has it, if readable.
pub(crate) fn read_paranoid_level() -> Option<i32> {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// What was known when perf_event_open (or its mmap) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeniedContext {
    /// The raw OS error number.
    pub errno: Option<i32>,
    /// `kernel.perf_event_paranoid`, if readable.
    pub paranoid: Option<i32>,
    /// The profiled PID.
    pub pid: u32,
    /// Real UID of the profiled process, if known.
    pub target_uid: Option<u32>,
    /// UID plumb runs as.
    pub own_uid: u32,
    /// Whether the failure came from mapping the ring buffer rather than opening the event.
    pub while_mapping: bool,
}

/// A refusal explained: the reason and what would allow sampling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// Why sampling is not possible.
    pub reason: String,
    /// What would allow it.
    pub hint: String,
}

const SETCAP_HINT: &str = "sudo setcap cap_perfmon+ep \"$(command -v plumb)\"";

/// Explain a refusal in the user's terms.
pub fn diagnose(context: &DeniedContext) -> Diagnosis {
    let errno = context.errno.unwrap_or(0);
    if context.while_mapping && errno == libc::EPERM {
        return Diagnosis {
            reason: "the perf ring buffer could not be locked in memory (kernel.perf_event_mlock_kb is too small)".into(),
            hint: "raise it: `sudo sysctl kernel.perf_event_mlock_kb=2048`, or lower --frequency".into(),
        };
    }
    match errno {
        libc::EACCES | libc::EPERM => diagnose_permission(context),
        libc::ENOSYS => Diagnosis {
            reason: "this kernel has no perf events (perf_event_open returned ENOSYS), or a sandbox hides the system call".into(),
            hint: "use a kernel built with CONFIG_PERF_EVENTS; in a container, allow perf_event_open in its seccomp profile".into(),
        },
        libc::ENOENT | libc::EOPNOTSUPP | libc::ENODEV => Diagnosis {
            reason: "this kernel does not offer the software CPU-clock event".into(),
            hint: "CPU sampling needs perf software events (CONFIG_PERF_EVENTS); the resource timeline does not".into(),
        },
        libc::ESRCH => Diagnosis {
            reason: format!("PID {} exited before sampling could start", context.pid),
            hint: "profile a process that runs longer, or launch it with `plumb profile -- CMD`".into(),
        },
        libc::EMFILE | libc::ENFILE => Diagnosis {
            reason: "too many open files: plumb opens one perf event per thread and CPU".into(),
            hint: "raise the limit with `ulimit -n 65536`".into(),
        },
        _ => Diagnosis {
            reason: format!("perf_event_open failed: {}", io::Error::from_raw_os_error(errno)),
            hint: "the resource timeline below is still valid; report this with `uname -a`".into(),
        },
    }
}

fn diagnose_permission(context: &DeniedContext) -> Diagnosis {
    let paranoid = context.paranoid;
    if let Some(target_uid) = context
        .target_uid
        .filter(|&uid| uid != context.own_uid && context.own_uid != 0)
    {
        return Diagnosis {
            reason: format!(
                "perf events on PID {} were refused: it belongs to another user (uid {target_uid}; plumb runs as uid {})",
                context.pid, context.own_uid
            ),
            hint: format!(
                "profile it as its owner (uid {target_uid}), as root, or give plumb the CAP_PERFMON capability: {SETCAP_HINT}"
            ),
        };
    }
    match paranoid {
        Some(level) if level > 2 => Diagnosis {
            reason: format!(
                "perf events are not allowed for unprivileged users: kernel.perf_event_paranoid is {level} (2 or lower is needed)"
            ),
            hint: format!(
                "`sudo sysctl kernel.perf_event_paranoid=2` allows profiling your own processes (user space only); or give plumb the CAP_PERFMON capability: {SETCAP_HINT}"
            ),
        },
        _ => Diagnosis {
            reason: format!(
                "perf_event_open was refused although kernel.perf_event_paranoid is {}: a container's seccomp profile or a security module (SELinux, AppArmor) blocks it",
                paranoid.map_or_else(|| "unreadable".to_string(), |level| level.to_string())
            ),
            hint: "in Docker or Kubernetes add the CAP_PERFMON capability (`--cap-add PERFMON`) or a seccomp profile that allows perf_event_open; on a host, check `sysctl kernel.perf_event_paranoid` (2 or lower)".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(errno: i32, paranoid: i32, target_uid: u32, own_uid: u32) -> DeniedContext {
        DeniedContext {
            errno: Some(errno),
            paranoid: Some(paranoid),
            pid: 42,
            target_uid: Some(target_uid),
            own_uid,
            while_mapping: false,
        }
    }

    fn check(context: DeniedContext, reason_has: &[&str], hint_has: &[&str]) {
        let diagnosis = diagnose(&context);
        for needle in reason_has {
            assert!(
                diagnosis.reason.contains(needle),
                "{needle:?} not in {:?}",
                diagnosis.reason
            );
        }
        for needle in hint_has {
            assert!(
                diagnosis.hint.contains(needle),
                "{needle:?} not in {:?}",
                diagnosis.hint
            );
        }
    }

    #[test]
    fn strict_paranoid_level_names_the_sysctl_and_the_capability() {
        check(
            context(libc::EACCES, 3, 1000, 1000),
            &["kernel.perf_event_paranoid is 3", "2 or lower"],
            &["sysctl kernel.perf_event_paranoid=2", "CAP_PERFMON"],
        );
        check(
            context(libc::EPERM, 4, 1000, 1000),
            &["is 4"],
            &["CAP_PERFMON"],
        );
    }

    #[test]
    fn another_users_process_names_the_owner_and_the_capability() {
        check(
            context(libc::EACCES, 2, 0, 1000),
            &["PID 42", "another user", "uid 0"],
            &["CAP_PERFMON", "setcap"],
        );
    }

    #[test]
    fn refusal_at_a_permissive_level_points_at_containers() {
        check(
            context(libc::EACCES, 2, 1000, 1000),
            &["is 2", "seccomp"],
            &["CAP_PERFMON"],
        );
    }

    #[test]
    fn ring_buffer_lock_limit_names_mlock_kb() {
        let mut denied = context(libc::EPERM, 2, 1000, 1000);
        denied.while_mapping = true;
        check(denied, &["perf_event_mlock_kb"], &["perf_event_mlock_kb"]);
    }
}
