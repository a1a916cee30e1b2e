//! Where alerts go: an Alertmanager-format webhook (POSTed through plumb's HTTP engine) and a
//! shell command (the same JSON on stdin, `PLUMB_ALERT_*` in its environment, bounded in time).
//! The log line is the binary's to print ([`crate::Observer`]).

use crate::alert::{AlertEvent, AlertStatus};
use crate::clock::rfc3339;
use crate::probe::one_request;
use plumb_load::{StopSignal, Unobserved};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a webhook or an alert command may take.
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// A notification that could not be delivered (a warning; the monitor goes on).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The webhook did not answer 2xx.
    #[error("webhook {url}: {why}")]
    Webhook {
        /// The webhook URL.
        url: String,
        /// What happened.
        why: String,
    },
    /// The alert command failed.
    #[error("alert command '{command}': {why}")]
    Command {
        /// The command.
        command: String,
        /// What happened.
        why: String,
    },
}

/// Alertmanager's webhook body (version 4) for one event of monitor `receiver`.
pub fn alertmanager_body(event: &AlertEvent) -> Value {
    let status = event.status.name();
    let ends_at = match event.status {
        AlertStatus::Firing => "0001-01-01T00:00:00Z".to_string(),
        AlertStatus::Resolved => rfc3339(event.at),
    };
    let annotations = json!({
        "summary": event.summary,
        "description": event.line(),
        "value": event.value.to_string(),
    });
    let alert = json!({
        "status": status,
        "labels": event.labels,
        "annotations": annotations,
        "startsAt": rfc3339(event.since),
        "endsAt": ends_at,
        "generatorURL": "",
        "fingerprint": fingerprint(event),
    });
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{}\"}}", event.name),
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "plumb",
        "groupLabels": {"alertname": event.name},
        "commonLabels": event.labels,
        "commonAnnotations": annotations,
        "externalURL": "",
        "alerts": [alert],
    })
}

/// A stable 16-hex-digit fingerprint of the labels (FNV-1a), as Alertmanager gives one.
fn fingerprint(event: &AlertEvent) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in &event.labels {
        for byte in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// POST the event to an Alertmanager-format webhook.
pub fn webhook(url: &str, event: &AlertEvent) -> Result<(), NotifyError> {
    let mut settings = one_request(
        url,
        NOTIFY_TIMEOUT,
        plumb_load::Checks {
            expect_status: vec![plumb_load::StatusRange { from: 200, to: 299 }],
            expect_body: None,
        },
    );
    settings.method = "POST".to_string();
    settings.headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    settings.body = alertmanager_body(event).to_string().into_bytes();
    let fail = |why: String| NotifyError::Webhook {
        url: url.to_string(),
        why,
    };
    let report = plumb_load::run(&settings, &mut Unobserved, &StopSignal::new())
        .map_err(|e| fail(e.to_string()))?;
    if report.totals.errors > 0 || report.totals.requests == 0 {
        let statuses: Vec<String> = report
            .totals
            .statuses()
            .map(|(c, _)| c.to_string())
            .collect();
        return Err(fail(if statuses.is_empty() {
            "no response".to_string()
        } else {
            format!("answered {}", statuses.join(", "))
        }));
    }
    Ok(())
}

/// Run `command` with `sh -c`, the webhook JSON on stdin and the event in `PLUMB_ALERT_*`;
/// killed after [`NOTIFY_TIMEOUT`].
pub fn command(command: &str, event: &AlertEvent) -> Result<(), NotifyError> {
    let fail = |why: String| NotifyError::Command {
        command: command.to_string(),
        why,
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("PLUMB_ALERT_NAME", &event.name)
        .env("PLUMB_ALERT_STATUS", event.status.name())
        .env("PLUMB_ALERT_SUMMARY", &event.summary)
        .env("PLUMB_ALERT_SINCE", rfc3339(event.since))
        .env("PLUMB_ALERT_LINE", event.line())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its stdin is not an error.
        let _ = stdin.write_all(alertmanager_body(event).to_string().as_bytes());
    }
    let deadline = Instant::now() + NOTIFY_TIMEOUT;
    // Bounded by the deadline.
    loop {
        match child.try_wait().map_err(|e| fail(e.to_string()))? {
            Some(status) if status.success() => return Ok(()),
            Some(status) => return Err(fail(format!("exited with {status}"))),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "still running after {}s, killed",
                    NOTIFY_TIMEOUT.as_secs()
                )));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}
