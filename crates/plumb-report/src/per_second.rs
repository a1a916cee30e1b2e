//! `plumb load --per-second`: a table of every second of a run (completed requests, errors, p50,
//! p95, p99 and max latency), printed after the summary. p95 comes from the second's own
//! histogram; a result without one (older plumb) shows `-` there.

use crate::format::{count, ms};
use plumb_schema::load::{LoadResult, SecondWindow};
use plumb_stats::DurationHistogram;
use std::fmt::{self, Write};

/// The table, one line per second of the run.
pub fn text(result: &LoadResult) -> String {
    crate::html::build(|out| write_table(out, result))
}

fn write_table(out: &mut String, result: &LoadResult) -> fmt::Result {
    writeln!(out)?;
    writeln!(
        out,
        "  {:>6} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "second", "req/s", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"
    )?;
    for w in &result.timeseries {
        writeln!(
            out,
            "  {:>6} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9}",
            w.t_s,
            count(w.requests),
            count(w.errors),
            latency(w, w.latency_p50_ms),
            p95(w),
            latency(w, w.latency_p99_ms),
            latency(w, w.latency_max_ms)
        )?;
    }
    if result.timeseries.is_empty() {
        writeln!(out, "  (no whole second was measured)")?;
    }
    Ok(())
}

/// A latency of the second, or `-` when no request in it measured one (none completed, or every
/// one failed before an answer).
fn latency(w: &SecondWindow, v: f64) -> String {
    if w.requests == 0 || w.latency_max_ms <= 0.0 {
        "-".into()
    } else {
        ms(v)
    }
}

fn p95(w: &SecondWindow) -> String {
    w.latency_histogram
        .as_deref()
        .and_then(|h| DurationHistogram::from_base64(h).ok())
        .filter(|h| !h.is_empty())
        .map_or("-".into(), |h| ms(h.percentile(95.0).as_secs_f64() * 1e3))
}
