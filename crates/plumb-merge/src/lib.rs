//! `plumb merge`'s one owner: the results of the segments of one load test
//! (`plumb load --segment I/N --start-at TIME`, one per process or machine) merged into the
//! result one impossibly large machine would have written.
//!
//! Histograms are added bucket by bucket (every one read with plumb's single configuration, or
//! refused), counters summed, percentiles read again from the merged histograms, per-second
//! windows aligned by their second since the agreed start, flows merged per flow and step, and
//! thresholds judged on the merged figures: the segments' own verdicts are per segment and never
//! carried over. A segment whose generator was saturated marks the merged run invalid
//! ([`is_invalid`]). Pure: no I/O, no clock; the binary reads the files and prints.

#![forbid(unsafe_code)]

mod check;
mod error;
mod flows;
mod hist;
mod judge;
mod summary;
mod windows;

pub use check::MAX_SEGMENTS;
pub use error::MergeError;
pub use judge::{is_invalid, INVALID, SKEW_TOLERANCE_MS};
pub use summary::percentiles;

use plumb_schema::load::{LoadResult, LOAD_SCHEMA_VERSION};
use plumb_stats::Threshold;

/// One segment's result and where it came from (a file name), for errors to name.
#[derive(Debug, Clone)]
pub struct Part {
    /// The file (or other source) it was read from.
    pub name: String,
    /// The result.
    pub result: LoadResult,
}

/// A merged run and the thresholds it was judged by (in the order of its `thresholds`).
#[derive(Debug, Clone)]
pub struct Merged {
    /// The merged result, with `merged_from` listing the segments.
    pub result: LoadResult,
    /// The segments' thresholds and the extra ones, each once.
    pub thresholds: Vec<Threshold>,
}

/// Merge the segments of one test and judge `thresholds` (and every threshold a segment
/// recorded) on the merged figures. Refuses results that are not the segments of one test,
/// each once and none missing.
pub fn merge(parts: Vec<Part>, thresholds: &[Threshold]) -> Result<Merged, MergeError> {
    let parts = check::segments(parts)?;
    let histograms = summary::Histograms::of(&parts)?;
    let first = &parts[0].result;
    let mut merged = LoadResult {
        schema_version: LOAD_SCHEMA_VERSION,
        kind: "load".into(),
        plumb_version: env!("CARGO_PKG_VERSION").into(),
        started_at: check::record(&parts[0]).start_at.clone(),
        interrupted: parts.iter().any(|p| p.result.interrupted),
        stop_reason: stop_reason(&parts),
        settings: first.settings.clone(),
        summary: summary::summary(&parts, &histograms),
        thresholds: Vec::new(),
        histograms: histograms.encoded(),
        timeseries: windows::merge(&parts)?,
        warnings: Vec::new(),
        server: None,
        host_noise: None,
        db: None,
        flows: flows::merge(&parts)?,
        segment: None,
        merged_from: Some(parts.iter().map(|p| check::record(p).clone()).collect()),
    };
    merged.warnings = judge::warnings(&parts, &merged);
    let thresholds = judge::thresholds(&parts, thresholds)?;
    merged.thresholds = judge::judge(&merged, &thresholds)?;
    Ok(Merged {
        result: merged,
        thresholds,
    })
}

/// Every segment's reason for stopping early, named by its index.
fn stop_reason(parts: &[Part]) -> Option<String> {
    let reasons: Vec<String> = parts
        .iter()
        .filter_map(|p| {
            let reason = p.result.stop_reason.as_deref()?;
            Some(format!("segment {}: {reason}", check::record(p).index))
        })
        .collect();
    (!reasons.is_empty()).then(|| reasons.join("; "))
}
