//! plumb's HTTP load engine.
//!
//! One single-threaded tokio event loop per worker thread owns its connections and records into
//! its own HDR histograms; once per second each thread hands its recorder to the coordinator
//! ([`engine`]), so nothing crosses threads per request and memory stays flat however long a run
//! lasts. HTTP/1.1 uses plumb's own client ([`http1`]): the request is serialized once and
//! responses are parsed in place. HTTP/2 goes through the h2 crate's client directly.
//!
//! Two load models: closed (`connections` sending back to back) and open (requests released on a
//! precise schedule, latency measured from the *intended* send time, so a stalled target cannot
//! hide behind a queue; the uncorrected service time is kept too).

mod dry_run;
mod endpoint;
mod engine;
mod error;
mod flow_metrics;
mod flow_report;
mod http1;
mod http2;
mod recorder;
mod report;
mod schedule;
mod settings;
mod timer;
mod usage;
mod windows;
mod wire;
mod worker;

pub use dry_run::{dry_run, DryRun, DrySession, DryStep};
pub use endpoint::Endpoint;
pub use engine::{
    effective_threads, run, validate_segment, Control, Observer, Progress, StopSignal, Unobserved,
    MAX_LATE_START, MAX_START_WAIT, MAX_STREAMS,
};
pub use error::LoadError;
pub use flow_metrics::{FlowRecorder, FlowStats, StepStats};
pub use recorder::{DetailCount, ErrorClass, Exchange, Failure, Recorder};
pub use report::{
    evaluate_thresholds, load_metrics, percentiles, settings_fingerprint, GeneratorStats,
    LoadReport, WindowStats,
};
pub use schedule::Ramp;
pub use settings::{
    default_threads, Checks, HttpVersion, LoadModel, LoadSettings, Segment, Stage, StatusRange,
    TlsSettings,
};
pub use windows::{with_windows, RollingThresholds, WindowFailure};
pub use wire::{WireError, WireRecorder};

#[cfg(test)]
mod http1_props;
