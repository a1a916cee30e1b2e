//! Histograms, percentiles, thresholds and sample statistics for plumb (comparisons live in
//! plumb-compare).
//!
//! This crate is pure: it does no I/O and reads no clock, so every function here can be tested with
//! plain values. Engines record into its histograms; renderers and the ledger read them back.

mod histogram;
mod metrics;
mod page;
pub mod sample;
mod tagged;
mod threshold;

pub use histogram::{DurationHistogram, HistogramConfig, HistogramDecodeError};
pub use metrics::{LoadMetrics, WithDatabase};
pub use page::{PageMetric, PageMetrics};
pub use tagged::{status_value, tagged_value, StepFigures, TaggedFigures};
pub use threshold::{
    Aggregation, Comparison, Evaluation, Metric, MetricSource, NoData, Tag, TagKey, Threshold,
    ThresholdParseError, ThresholdStatus,
};
