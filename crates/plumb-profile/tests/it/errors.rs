//! Clear errors: a PID that does not exist, a command that cannot be found, and (as a pure
//! diagnosis) every reason perf events can be refused.

use crate::{launch, profile};
use plumb_profile::{diagnose, DeniedContext, ProfileError, ProfileSettings, Target};
use std::time::Duration;

/// A PID above the kernel's maximum cannot exist.
fn impossible_pid() -> u32 {
    let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    max + 1
}

#[test]
fn nonexistent_pid_is_a_clear_error() {
    let pid = impossible_pid();
    let settings = ProfileSettings::new(Target::Pid {
        pid,
        duration: Some(Duration::from_secs(1)),
    });
    let err = profile(&settings).unwrap_err();
    assert!(
        matches!(err, ProfileError::NoSuchProcess { pid: p } if p == pid),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&format!("no process with PID {pid}")) && message.contains("hint:"),
        "{message}"
    );
}

#[test]
fn missing_command_is_a_clear_error() {
    let err = profile(&launch("plumb-no-such-command", &[])).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("command `plumb-no-such-command` not found") && message.contains("hint:"),
        "{message}"
    );
}

#[test]
fn strict_paranoid_level_says_which_setting_allows_sampling() {
    let own_uid = 1000;
    let diagnosis = diagnose(&DeniedContext {
        errno: Some(libc::EACCES),
        paranoid: Some(3),
        pid: 42,
        target_uid: Some(own_uid),
        own_uid,
        while_mapping: false,
    });
    assert!(
        diagnosis.reason.contains("kernel.perf_event_paranoid is 3"),
        "{}",
        diagnosis.reason
    );
    assert!(
        diagnosis
            .hint
            .contains("sysctl kernel.perf_event_paranoid=2"),
        "{}",
        diagnosis.hint
    );
    assert!(diagnosis.hint.contains("CAP_PERFMON"), "{}", diagnosis.hint);
}
