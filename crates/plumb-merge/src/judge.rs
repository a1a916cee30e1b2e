//! What the merged run says about itself: thresholds judged on the merged figures (never a
//! segment's own verdicts), and the warnings that void it (a saturated generator) or qualify it
//! (segments that started or kept time too far apart, figures that stay per machine).

use crate::check::record;
use crate::{MergeError, Part};
use plumb_compare::SavedLoadMetrics;
use plumb_schema::load::{LoadResult, ThresholdOutcome};
use plumb_stats::Threshold;

/// Segments whose starts or clocks differ by more than this blur the per-second series.
pub const SKEW_TOLERANCE_MS: f64 = 100.0;

/// The prefix of the warning that marks a merged run invalid.
pub const INVALID: &str = "INVALID:";

/// The thresholds the segments recorded (their expressions, in order of first appearance), then
/// `extra`, each once.
pub fn thresholds(parts: &[Part], extra: &[Threshold]) -> Result<Vec<Threshold>, MergeError> {
    let mut all: Vec<Threshold> = Vec::new();
    for part in parts {
        for t in &part.result.thresholds {
            if all.iter().any(|a| a.source == t.expression) {
                continue;
            }
            let parsed = Threshold::parse(&t.expression).map_err(|e| MergeError::Threshold {
                name: part.name.clone(),
                expression: t.expression.clone(),
                why: e.to_string(),
            })?;
            all.push(parsed);
        }
    }
    for t in extra {
        if !all.iter().any(|a| a.source == t.source) {
            all.push(t.clone());
        }
    }
    Ok(all)
}

/// Judge `thresholds` on the merged result, as `plumb gate --threshold` judges a saved run.
pub fn judge(
    result: &LoadResult,
    thresholds: &[Threshold],
) -> Result<Vec<ThresholdOutcome>, MergeError> {
    let saved = SavedLoadMetrics::from_result(result).map_err(|source| MergeError::Histogram {
        name: "the merged run".into(),
        what: "whole-run".into(),
        source,
    })?;
    Ok(plumb_compare::check_saved(thresholds, &saved, None)
        .into_iter()
        .map(|t| ThresholdOutcome {
            expression: t.expression,
            status: t.status,
            observed: t.observed,
            window: None,
        })
        .collect())
}

/// The merged run's warnings: what voids it first, then what qualifies it, then each segment's
/// own (named by its index), leaving out those the merged figures decide afresh.
pub fn warnings(parts: &[Part], merged: &LoadResult) -> Vec<String> {
    let mut out: Vec<String> = saturated(parts).into_iter().collect();
    out.extend(alarm(merged));
    out.extend(skew(parts, "started", |p| Some(record(p).late_start_ms)));
    out.extend(skew(parts, "kept clocks", |p| record(p).clock_offset_ms));
    out.extend(per_machine(parts));
    for part in parts {
        let index = record(part).index;
        for w in part.result.warnings.iter().filter(|w| !is_alarm(w)) {
            out.push(format!("segment {index}: {w}"));
        }
    }
    out
}

/// Whether a merged result is invalid: a segment's generator was saturated.
pub fn is_invalid(result: &LoadResult) -> bool {
    result
        .merged_from
        .as_ref()
        .is_some_and(|segments| segments.iter().any(|s| s.generator_saturated))
}

fn saturated(parts: &[Part]) -> Option<String> {
    let named: Vec<String> = parts
        .iter()
        .map(record)
        .filter(|s| s.generator_saturated)
        .map(|s| {
            format!(
                "{} on {}",
                s.index,
                if s.host.is_empty() { "?" } else { &s.host }
            )
        })
        .collect();
    (!named.is_empty()).then(|| {
        format!(
            "{INVALID} the load generator of segment {} was saturated, so the merged figures may \
             describe plumb rather than the target; split the test into more segments or give each \
             more threads (-t)",
            named.join(", segment ")
        )
    })
}

/// The whole-run alarms a single run would raise, decided on the merged counts.
fn alarm(merged: &LoadResult) -> Option<String> {
    let s = &merged.summary;
    if s.requests == 0 {
        return Some("no request completed: there is nothing to measure".into());
    }
    if s.errors < s.requests {
        return None;
    }
    let why: Vec<String> = s
        .errors_by_class
        .iter()
        .map(|(class, n)| format!("{n} {class}"))
        .collect();
    Some(format!(
        "EVERY REQUEST FAILED ({}): no latency here describes a working server",
        why.join(", ")
    ))
}

fn is_alarm(warning: &str) -> bool {
    warning.starts_with("EVERY REQUEST FAILED") || warning.starts_with("no request completed")
}

/// Segments whose `value` (late start, clock offset) spreads wider than the tolerance.
fn skew(parts: &[Part], what: &str, value: impl Fn(&Part) -> Option<f64>) -> Option<String> {
    let values: Vec<(u64, f64)> = parts
        .iter()
        .filter_map(|p| Some((record(p).index, value(p)?)))
        .collect();
    let (lo, hi) = min_max(&values)?;
    (hi.1 - lo.1 > SKEW_TOLERANCE_MS).then(|| {
        format!(
            "segments {what} {:.0} ms apart (segment {}: {:.0} ms, segment {}: {:.0} ms), more than \
             the {SKEW_TOLERANCE_MS:.0} ms the per-second series tolerates: its seconds mix \
             moments that far apart (whole-run figures are unaffected); synchronise the hosts' \
             clocks (NTP) and start the segments well before --start-at",
            hi.1 - lo.1,
            lo.0,
            lo.1,
            hi.0,
            hi.1
        )
    })
}

fn min_max(values: &[(u64, f64)]) -> Option<((u64, f64), (u64, f64))> {
    let first = *values.first()?;
    Some(values.iter().fold((first, first), |(lo, hi), &v| {
        (
            if v.1 < lo.1 { v } else { lo },
            if v.1 > hi.1 { v } else { hi },
        )
    }))
}

/// What each machine measured of its own and the merge leaves out.
fn per_machine(parts: &[Part]) -> Option<String> {
    let watched = parts.iter().any(|p| p.result.server.is_some());
    let db = parts.iter().any(|p| p.result.db.is_some());
    let windows = parts
        .iter()
        .flat_map(|p| &p.result.thresholds)
        .any(|t| t.window.is_some());
    let left: Vec<&str> = [
        (watched, "the watched server (--watch-pid)"),
        (db, "the database figures (--db)"),
        (windows, "the rolling windows of --threshold-window"),
    ]
    .into_iter()
    .filter_map(|(present, what)| present.then_some(what))
    .collect();
    (!left.is_empty()).then(|| {
        format!(
            "{} stay in each segment's result and are not merged; thresholds are judged on the \
             merged whole run",
            left.join(", ")
        )
    })
}
