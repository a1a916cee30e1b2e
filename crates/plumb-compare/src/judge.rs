//! From a statistic's two values and its bootstrap interval to the row's change and verdict.
//!
//! The three-way rule: **regressed** when the whole interval is worse than the tolerance,
//! **improved** when it is wholly better, **equivalent** when it lies within it, and
//! **inconclusive** otherwise, with an estimate of the samples that would likely settle it. Ratios
//! are judged on the log scale, so +δ and its mirror 1/(1+δ) − 1 are symmetric.

use crate::{Change, ChangeKind, Direction, Verdict};

/// What judging one row produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The change, when there is one.
    pub change: Option<Change>,
    /// The verdict.
    pub verdict: Verdict,
    /// For an inconclusive verdict, about how many more samples per side would settle it.
    pub more_samples: Option<u64>,
}

/// Beyond this many samples, "more samples" is not a useful suggestion.
const MAX_SUGGESTED: f64 = 10_000.0;

/// Judge a ratio statistic: `ratio_interval` bounds candidate/baseline.
pub fn judge_ratio(
    baseline: f64,
    candidate: f64,
    ratio_interval: Option<(f64, f64)>,
    direction: Direction,
    tolerance: f64,
    samples: (usize, usize),
) -> Judged {
    if !(baseline > 0.0 && baseline.is_finite() && candidate >= 0.0 && candidate.is_finite()) {
        return not_comparable("the baseline's value is zero, so a ratio means nothing");
    }
    let Some((low, high)) = ratio_interval else {
        return not_comparable("too few usable samples for an interval");
    };
    let point = candidate / baseline - 1.0;
    // The interval always holds the point, and never goes below -100%.
    let (low, high) = ((low - 1.0).min(point).max(-1.0), (high - 1.0).max(point));
    let up = tolerance;
    let down = 1.0 / (1.0 + tolerance) - 1.0;
    let (worse, better) = match direction {
        Direction::LowerIsBetter => (low > up, high < down),
        Direction::HigherIsBetter => (high < down, low > up),
    };
    let verdict = three_way(worse, better, low >= down && high <= up);
    let more_samples = (verdict == Verdict::Inconclusive)
        .then(|| more_samples_log(point, low, high, tolerance, samples))
        .flatten();
    Judged {
        change: Some(Change {
            point,
            low,
            high,
            kind: ChangeKind::Relative,
        }),
        verdict,
        more_samples,
    }
}

/// Judge a difference of fractions (error rates): `interval` bounds candidate − baseline and
/// `tolerance` is absolute (0.001 = 0.1 percentage point).
pub fn judge_difference(
    baseline: f64,
    candidate: f64,
    interval: Option<(f64, f64)>,
    direction: Direction,
    tolerance: f64,
    samples: (usize, usize),
) -> Judged {
    let Some((low, high)) = interval else {
        return not_comparable("too few usable samples for an interval");
    };
    let point = candidate - baseline;
    let (low, high) = (low.min(point), high.max(point));
    let (worse, better) = match direction {
        Direction::LowerIsBetter => (low > tolerance, high < -tolerance),
        Direction::HigherIsBetter => (high < -tolerance, low > tolerance),
    };
    let verdict = three_way(worse, better, low >= -tolerance && high <= tolerance);
    let more_samples = (verdict == Verdict::Inconclusive)
        .then(|| more_samples_linear(point, low, high, tolerance, samples))
        .flatten();
    Judged {
        change: Some(Change {
            point,
            low,
            high,
            kind: ChangeKind::Difference,
        }),
        verdict,
        more_samples,
    }
}

/// A row that cannot support a verdict.
pub(crate) fn not_comparable(reason: &str) -> Judged {
    Judged {
        change: None,
        verdict: Verdict::NotComparable(reason.to_string()),
        more_samples: None,
    }
}

fn three_way(worse: bool, better: bool, within: bool) -> Verdict {
    if worse {
        Verdict::Regressed
    } else if better {
        Verdict::Improved
    } else if within {
        Verdict::Equivalent
    } else {
        Verdict::Inconclusive
    }
}

/// Samples per side at which the interval (shrinking as 1/√n around the point, on the log
/// scale) would clear the tolerance bounds it now crosses.
fn more_samples_log(
    point: f64,
    low: f64,
    high: f64,
    tolerance: f64,
    samples: (usize, usize),
) -> Option<u64> {
    let log = |x: f64| (1.0 + x).max(1e-12).ln();
    let (lp, llow, lhigh, bound) = (log(point), log(low), log(high), (1.0 + tolerance).ln());
    shrink_needed(lp, llow, lhigh, bound, samples)
}

/// How much the interval's sides must shrink: a point beyond a bound needs the side towards it
/// to clear that bound; a point within needs both sides inside.
fn shrink_needed(
    point: f64,
    low: f64,
    high: f64,
    bound: f64,
    samples: (usize, usize),
) -> Option<u64> {
    let ratio = |side: f64, target: f64| {
        let room = (point - target).abs();
        (room > 1e-9).then(|| (point - side).abs() / room)
    };
    let factor = if point > bound {
        ratio(low, bound)?
    } else if point < -bound {
        ratio(high, -bound)?
    } else {
        ratio(low, -bound)?.max(ratio(high, bound)?)
    };
    let n = samples.0.min(samples.1).max(1) as f64;
    let needed = n * factor * factor;
    (needed.is_finite() && needed < MAX_SUGGESTED).then(|| (needed - n).ceil().max(1.0) as u64)
}

fn more_samples_linear(
    point: f64,
    low: f64,
    high: f64,
    tolerance: f64,
    samples: (usize, usize),
) -> Option<u64> {
    shrink_needed(point, low, high, tolerance, samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_interval_never_goes_below_minus_100_percent_and_holds_the_point() {
        let j = judge_ratio(
            0.447,
            0.168,
            Some((-1.4, 0.9)),
            Direction::LowerIsBetter,
            0.02,
            (10, 10),
        );
        let c = j.change.unwrap();
        assert!(
            c.low >= -1.0 && c.low <= c.point && c.point <= c.high,
            "{c:?}"
        );
        assert!((c.point - (0.168 / 0.447 - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn three_way_rule_on_both_directions() {
        let judge = |low, high, direction| {
            judge_ratio(
                1.0,
                (low + high) / 2.0,
                Some((low, high)),
                direction,
                0.02,
                (30, 30),
            )
            .verdict
        };
        use Direction::*;
        assert_eq!(judge(1.10, 1.20, LowerIsBetter), Verdict::Regressed);
        assert_eq!(judge(1.10, 1.20, HigherIsBetter), Verdict::Improved);
        assert_eq!(judge(0.80, 0.90, LowerIsBetter), Verdict::Improved);
        assert_eq!(judge(0.99, 1.01, LowerIsBetter), Verdict::Equivalent);
        assert_eq!(judge(0.99, 1.05, LowerIsBetter), Verdict::Inconclusive);
        let zero = judge_ratio(0.0, 1.0, Some((1.0, 1.0)), LowerIsBetter, 0.02, (3, 3));
        assert!(matches!(zero.verdict, Verdict::NotComparable(_)));
    }
}
