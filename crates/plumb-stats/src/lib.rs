//! Histograms, percentiles, thresholds and comparisons for plumb (pure: no I/O).

pub mod sample;
