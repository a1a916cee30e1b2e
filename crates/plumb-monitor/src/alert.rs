//! Alert states with hysteresis, as Prometheus rules behave: a condition must hold for `for`
//! before its alert fires (pending until then), and a firing alert resolves only once its
//! condition has stayed clear for `keep_firing_for`; value alerts also clear below a lower
//! level than they fire at (see `monitor.rs`). Each transition is an [`AlertEvent`] that says
//! what crossed what, and since when.

use crate::clock::{rfc3339, Millis};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// The condition holds.
    Firing,
    /// The condition has cleared.
    Resolved,
}

impl AlertStatus {
    /// `firing` or `resolved`.
    pub fn name(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// Where one alert stands (what the ledger saves, so a restart does not fire it again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "lowercase")]
pub enum Phase {
    /// The condition does not hold.
    Inactive,
    /// The condition has held since `since`, not yet for `for`.
    Pending {
        /// When it began to hold.
        since: Millis,
    },
    /// Fired; `clear_since` is when the condition last stopped holding, if it has.
    Firing {
        /// When the condition began to hold.
        since: Millis,
        /// When the condition cleared (the resolve waits `keep_firing_for` from here).
        clear_since: Option<Millis>,
    },
}

/// One condition's verdict at an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Whether the condition holds.
    pub holds: bool,
    /// What crossed what, in words: `burn rate 40x over 5m and 33.3x over 1h > 14.4x`.
    pub summary: String,
    /// The value compared, for the alert's annotations.
    pub value: f64,
}

/// One alert rule's identity and state.
#[derive(Debug, Clone)]
pub struct Alert {
    /// The alert's name, e.g. `SloBurnPage`.
    pub name: String,
    /// Labels identifying it (never values: those go into the summary).
    pub labels: BTreeMap<String, String>,
    /// How long a condition must hold before firing, ms.
    pub hold: Millis,
    /// How long a firing alert's condition must stay clear before resolving, ms.
    pub keep: Millis,
    /// Where it stands.
    pub phase: Phase,
    /// The summary of the last verdict that held (what the resolve message repeats).
    pub last_summary: String,
}

/// A firing or a resolve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    /// The alert's name.
    pub name: String,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// The labels (alertname included).
    pub labels: BTreeMap<String, String>,
    /// What crossed what.
    pub summary: String,
    /// When the condition began to hold, ms since the epoch.
    pub since: Millis,
    /// When this event happened, ms since the epoch.
    pub at: Millis,
    /// The value compared when the alert fired (or last held).
    pub value: f64,
}

impl AlertEvent {
    /// One line for the log: `FIRING SloBurnPage{slo=availability}: ... since 2026-...`.
    pub fn line(&self) -> String {
        let labels: Vec<String> = self
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != "alertname")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let tail = match self.status {
            AlertStatus::Firing => format!("since {}", rfc3339(self.since)),
            AlertStatus::Resolved => format!(
                "resolved at {} (fired for a condition holding since {})",
                rfc3339(self.at),
                rfc3339(self.since)
            ),
        };
        format!(
            "{} {}{{{}}}: {}; {tail}",
            self.status.name().to_uppercase(),
            self.name,
            labels.join(","),
            self.summary
        )
    }
}

impl Alert {
    /// An inactive alert.
    pub fn new(name: &str, labels: BTreeMap<String, String>, hold: Millis, keep: Millis) -> Alert {
        let mut labels = labels;
        labels.insert("alertname".to_string(), name.to_string());
        Alert {
            name: name.to_string(),
            labels,
            hold,
            keep,
            phase: Phase::Inactive,
            last_summary: String::new(),
        }
    }

    /// A key naming this alert among a monitor's (its name and labels).
    pub fn key(&self) -> String {
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        labels.join(",")
    }

    /// Whether it is firing.
    pub fn is_firing(&self) -> bool {
        matches!(self.phase, Phase::Firing { .. })
    }

    /// Move on with the verdict at `now`; a firing or resolve comes back as an event.
    pub fn step(&mut self, now: Millis, verdict: &Verdict) -> Option<AlertEvent> {
        if verdict.holds {
            self.last_summary.clone_from(&verdict.summary);
        }
        let (next, status) = match (self.phase, verdict.holds) {
            (Phase::Inactive, false) => (Phase::Inactive, None),
            (Phase::Inactive, true) | (Phase::Pending { .. }, true) => {
                let since = match self.phase {
                    Phase::Pending { since } => since,
                    _ => now,
                };
                if now.saturating_sub(since) >= self.hold {
                    (
                        Phase::Firing {
                            since,
                            clear_since: None,
                        },
                        Some(AlertStatus::Firing),
                    )
                } else {
                    (Phase::Pending { since }, None)
                }
            }
            (Phase::Pending { .. }, false) => (Phase::Inactive, None),
            (Phase::Firing { since, .. }, true) => (
                Phase::Firing {
                    since,
                    clear_since: None,
                },
                None,
            ),
            (Phase::Firing { since, clear_since }, false) => {
                let cleared = clear_since.unwrap_or(now);
                if now.saturating_sub(cleared) >= self.keep {
                    (Phase::Inactive, Some(AlertStatus::Resolved))
                } else {
                    (
                        Phase::Firing {
                            since,
                            clear_since: Some(cleared),
                        },
                        None,
                    )
                }
            }
        };
        let since = match (self.phase, next) {
            (_, Phase::Firing { since, .. }) | (Phase::Firing { since, .. }, _) => since,
            _ => now,
        };
        self.phase = next;
        status.map(|status| AlertEvent {
            name: self.name.clone(),
            status,
            labels: self.labels.clone(),
            summary: if verdict.holds {
                verdict.summary.clone()
            } else {
                self.last_summary.clone()
            },
            since,
            at: now,
            value: verdict.value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(holds: bool) -> Verdict {
        Verdict {
            holds,
            summary: "x > 1".to_string(),
            value: 2.0,
        }
    }

    #[test]
    fn fires_after_its_hold_and_resolves_after_staying_clear_for_keep() {
        let mut a = Alert::new("A", BTreeMap::new(), 10, 20);
        assert_eq!(a.step(0, &verdict(true)), None);
        let fired = a.step(10, &verdict(true)).unwrap();
        assert_eq!((fired.status, fired.since), (AlertStatus::Firing, 0));
        // A blip of clear does not resolve; clear for 20 does.
        assert_eq!(a.step(15, &verdict(false)), None);
        assert_eq!(a.step(20, &verdict(true)), None);
        assert_eq!(a.step(25, &verdict(false)), None);
        let resolved = a.step(45, &verdict(false)).unwrap();
        assert_eq!(
            (resolved.status, resolved.since, resolved.at),
            (AlertStatus::Resolved, 0, 45)
        );
        assert_eq!(a.step(50, &verdict(false)), None);
    }

    #[test]
    fn a_pending_condition_that_clears_never_fires() {
        let mut a = Alert::new("A", BTreeMap::new(), 10, 0);
        assert_eq!(a.step(0, &verdict(true)), None);
        assert_eq!(a.step(5, &verdict(false)), None);
        assert_eq!(a.step(12, &verdict(true)), None);
        assert!(!a.is_firing());
    }
}
