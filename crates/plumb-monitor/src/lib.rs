//! `plumb monitor`: synthetic probes on a schedule, SLOs with error budgets and burn rates,
//! multi-window multi-burn-rate alerts (plus p95, error-rate spike, and the host's or a watched
//! process tree's CPU and memory) with hysteresis, delivered
//! to a webhook in Alertmanager's format, a command and the log; Prometheus `/metrics`, rules in
//! Sloth's shape, remote write for `plumb load`, and a live dashboard.
//!
//! The state is aggregated windows ([`window`]), never probes, so memory and the ledger stay
//! bounded however long a monitor runs; every time is read from a [`Clock`] the tests drive.

#![forbid(unsafe_code)]

mod alert;
mod clock;
mod config;
mod metrics;
mod monitor;
mod notify;
mod probe;
pub mod remote_write;
mod resources;
pub mod rules;
mod run;
mod server;
mod slo;
mod window;

pub use alert::{AlertEvent, AlertStatus, Phase};
pub use clock::{rfc3339, Clock, ManualClock, Millis, SystemClock};
pub use config::{parse_statuses, ConfigError, MonitorConfig, PlanError};
pub use metrics::Metrics;
pub use monitor::{AlertView, Monitor, MonitorStatus, Point, SavedState};
pub use notify::{alertmanager_body, NotifyError};
pub use probe::{HttpProber, ProbeResult, Prober};
pub use resources::{ResourceLevels, ResourceSource, SystemResources};
pub use run::{run, NoStore, Observer, RunSummary, Runtime, StateStore};
pub use server::{serve, Server, Shared};
pub use slo::{BurnStatus, Severity, Sli, SloParseError, SloSpec, SloStatus};
pub use window::{Bucket, Counts, EventWindow};
