//! Capacity comparisons: the sustained rate of two sets of capacity searches, and the USL's
//! predicted peak when both sides have one. A search brackets its answer between the sustained
//! and the first failing rate; the interval of the ratio spans both brackets and, beyond them,
//! the run-to-run spread of a throughput ([`crate::widen`]'s load floor), since the same search
//! repeated on a busy machine does not land on the same rate.

use crate::judge::{judge_ratio, not_comparable, Judged};
use crate::widen::{floor_sd, SideNoise, FLOOR_THROUGHPUT};
use crate::{CompareSettings, Comparison, Direction, Row, Unit};
use plumb_schema::capacity::CapacityResult;
use plumb_stats::sample::normal_quantile;

/// Compare the capacity searches of `base` with those of `cand`.
pub fn compare_capacity(
    base: &[&CapacityResult],
    cand: &[&CapacityResult],
    settings: &CompareSettings,
) -> Comparison {
    let with_peaks = base.iter().chain(cand).all(|r| peak(r).is_some());
    let settings = &settings.per_row(if with_peaks { 2 } else { 1 });
    let sides = Some((
        SideNoise::of(&vec![None; base.len()]),
        SideNoise::of(&vec![None; cand.len()]),
    ));
    let floor = floor_sd(FLOOR_THROUGHPUT, sides);
    let mut rows = vec![sustained_row(base, cand, floor, settings)];
    if with_peaks {
        rows.push(peak_row(base, cand, floor, settings));
    }
    let mut warnings = Vec::new();
    let goals: Vec<&str> = base.iter().chain(cand).map(|r| r.goal.as_str()).collect();
    if goals.windows(2).any(|pair| pair[0] != pair[1]) {
        warnings.push(format!(
            "the searches judged different goals ({}): their rates answer different questions",
            goals.join(" vs ")
        ));
    }
    for r in base.iter().chain(cand).filter(|r| r.limited_by.is_some()) {
        warnings.push(format!(
            "a search of {} ended without a bracket: {}",
            r.url,
            r.limited_by.as_deref().unwrap_or_default()
        ));
    }
    Comparison {
        rows,
        warnings,
        row_confidence: settings.confidence,
    }
}

/// Each search's answer as (low, high): the sustained rate and the first failing one.
fn bracket(result: &CapacityResult) -> Option<(f64, f64)> {
    let low = result.sustained_rps?;
    let high = result.failing_rps.unwrap_or(low * (1.0 + result.precision));
    Some((low, high.max(low)))
}

fn peak(result: &CapacityResult) -> Option<(f64, f64, f64)> {
    let usl = result.usl.as_ref().filter(|u| !u.extrapolated)?;
    Some((usl.peak_rps?, usl.peak_rps_low?, usl.peak_rps_high?))
}

fn sustained_row(
    base: &[&CapacityResult],
    cand: &[&CapacityResult],
    floor: f64,
    settings: &CompareSettings,
) -> Row {
    let b: Option<Vec<(f64, f64)>> = base.iter().map(|r| bracket(r)).collect();
    let c: Option<Vec<(f64, f64)>> = cand.iter().map(|r| bracket(r)).collect();
    let judged = match (b.as_ref(), c.as_ref()) {
        (Some(b), Some(c)) => judge(mean_low(b), mean_low(c), spread(b, c), floor, settings),
        _ => not_comparable("a search on a side sustained no rate"),
    };
    row(
        "sustained rate",
        b.as_ref().map_or(0.0, |b| mean_low(b)),
        c.as_ref().map_or(0.0, |c| mean_low(c)),
        judged,
        (base.len(), cand.len()),
    )
}

fn peak_row(
    base: &[&CapacityResult],
    cand: &[&CapacityResult],
    floor: f64,
    settings: &CompareSettings,
) -> Row {
    let b: Vec<(f64, f64, f64)> = base.iter().filter_map(|r| peak(r)).collect();
    let c: Vec<(f64, f64, f64)> = cand.iter().filter_map(|r| peak(r)).collect();
    let mean = |v: &[(f64, f64, f64)]| v.iter().map(|p| p.0).sum::<f64>() / v.len().max(1) as f64;
    let lows = |v: &[(f64, f64, f64)]| v.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let highs = |v: &[(f64, f64, f64)]| v.iter().map(|p| p.2).fold(0.0, f64::max);
    let (bm, cm) = (mean(&b), mean(&c));
    let ratio = (lows(&c) / highs(&b), highs(&c) / lows(&b));
    let judged = judge(bm, cm, ratio, floor, settings);
    row("USL peak", bm, cm, judged, (base.len(), cand.len()))
}

fn mean_low(brackets: &[(f64, f64)]) -> f64 {
    brackets.iter().map(|b| b.0).sum::<f64>() / brackets.len().max(1) as f64
}

/// The ratio's range allowed by the brackets of both sides: candidate low over baseline high,
/// to candidate high over baseline low.
fn spread(b: &[(f64, f64)], c: &[(f64, f64)]) -> (f64, f64) {
    let low = |v: &[(f64, f64)]| v.iter().map(|x| x.0).fold(f64::INFINITY, f64::min);
    let high = |v: &[(f64, f64)]| v.iter().map(|x| x.1).fold(0.0, f64::max);
    (low(c) / high(b), high(c) / low(b))
}

/// Judge a ratio whose range `(low, high)` is widened by the run-to-run floor.
fn judge(
    base: f64,
    cand: f64,
    (low, high): (f64, f64),
    floor: f64,
    settings: &CompareSettings,
) -> Judged {
    let z = normal_quantile(1.0 - (1.0 - settings.confidence) / 2.0);
    let widen = (z * floor).exp();
    let interval = (low > 0.0 && high.is_finite()).then_some((low / widen, high * widen));
    judge_ratio(
        base,
        cand,
        interval,
        Direction::HigherIsBetter,
        settings.tolerance,
        (1, 1),
    )
}

fn row(
    metric: &str,
    baseline: f64,
    candidate: f64,
    judged: Judged,
    samples: (usize, usize),
) -> Row {
    Row {
        metric: metric.to_string(),
        statistic: "highest rate meeting the goal, mean of searches".to_string(),
        unit: Unit::PerSecond,
        direction: Direction::HigherIsBetter,
        baseline,
        candidate,
        change: judged.change,
        verdict: judged.verdict,
        more_samples: judged.more_samples,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn search(sustained: f64, failing: f64) -> CapacityResult {
        CapacityResult {
            schema_version: 1,
            kind: "capacity".into(),
            plumb_version: "test".into(),
            started_at: String::new(),
            url: "http://127.0.0.1:8080/".into(),
            goal: "http_req_duration: p(99)<250ms".into(),
            max_error_rate: 0.001,
            settle_s: 2.0,
            measure_s: 5.0,
            precision: 0.05,
            steps: Vec::new(),
            sustained_rps: Some(sustained),
            failing_rps: Some(failing),
            margin: Some((failing - sustained) / 2.0 / sustained),
            limited_by: None,
            usl: None,
            knee_rps: None,
            headline: String::new(),
            interrupted: false,
        }
    }

    #[test]
    fn twice_the_capacity_is_an_improvement_and_a_few_percent_is_not() {
        let settings = CompareSettings::default();
        let before = search(1000.0, 1040.0);
        let doubled = search(2000.0, 2080.0);
        let c = compare_capacity(&[&before], &[&doubled], &settings);
        assert_eq!(c.rows.len(), 1);
        assert_eq!((c.rows[0].baseline, c.rows[0].candidate), (1000.0, 2000.0));
        assert_eq!(c.rows[0].verdict, Verdict::Improved);
        let halved = search(500.0, 520.0);
        let c = compare_capacity(&[&before], &[&halved], &settings);
        assert_eq!(c.rows[0].verdict, Verdict::Regressed);
        let close = search(1040.0, 1080.0);
        let c = compare_capacity(&[&before], &[&close], &settings);
        assert!(!matches!(
            c.rows[0].verdict,
            Verdict::Regressed | Verdict::Improved
        ));
    }

    #[test]
    fn a_search_that_sustained_nothing_is_not_comparable() {
        let before = search(1000.0, 1040.0);
        let mut failed = search(0.0, 0.0);
        failed.sustained_rps = None;
        let c = compare_capacity(&[&before], &[&failed], &CompareSettings::default());
        assert!(matches!(c.rows[0].verdict, Verdict::NotComparable(_)));
    }
}
