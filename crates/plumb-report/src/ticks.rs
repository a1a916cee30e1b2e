//! Axis ticks a person can read: linear axes step by 1, 2 or 5 times a power of ten (0, 20, 40,
//! never 3.52, 7.04), and the percentile axis is in "nines" (p50, p90, p99, p99.9, ...), where
//! each step to the right is ten times rarer.

/// The ticks of one axis: the domain they span (which covers the data) and each tick with its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    /// The axis' lowest value (the first tick).
    pub lo: f64,
    /// The axis' highest value (the last tick).
    pub hi: f64,
    /// Each tick's value and label, lowest first.
    pub marks: Vec<(f64, String)>,
}

/// A round step (1, 2 or 5 × 10ⁿ) that cuts `span` into at most about `target` parts.
pub fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span.abs() / target.max(1) as f64;
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|n| fraction <= *n * (1.0 + 1e-9))
        .unwrap_or(10.0);
    nice * magnitude
}

/// Ticks of a linear axis over `[lo, hi]`, about `target` of them, at multiples of a round step.
pub fn linear(lo: f64, hi: f64, target: usize) -> Ticks {
    let (lo, hi) = match (lo.is_finite(), hi.is_finite()) {
        (true, true) if hi > lo => (lo, hi),
        (true, _) => (lo, lo + 1.0),
        _ => (0.0, 1.0),
    };
    let step = nice_step(hi - lo, target);
    let first = (lo / step + 1e-9).floor();
    let last = (hi / step - 1e-9).ceil();
    let decimals = decimals(step);
    let marks = (0..=((last - first) as i64).max(1))
        .map(|i| {
            let v = (first + i as f64) * step;
            (v, label(v, decimals))
        })
        .collect::<Vec<_>>();
    Ticks {
        lo: first * step,
        hi: marks.last().map_or(hi, |m| m.0),
        marks,
    }
}

/// Ticks of a linear axis of whole numbers (seconds, runs): like `linear`, but never a step
/// below 1.
pub fn whole(lo: f64, hi: f64, target: usize) -> Ticks {
    let t = linear(lo, hi, target);
    if t.marks.len() < 2 || t.marks[1].0 - t.marks[0].0 >= 1.0 {
        return t;
    }
    let (first, last) = (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
    Ticks {
        lo: first,
        hi: last,
        marks: (first as i64..=last as i64)
            .map(|v| (v as f64, label(v as f64, 0)))
            .collect(),
    }
}

/// Decimals a label needs to show multiples of `step` exactly: 0 for 20, 1 for 0.5, 2 for 0.05.
fn decimals(step: f64) -> usize {
    let d = -(step.log10() + 1e-9).floor();
    d.clamp(0.0, 12.0) as usize
}

/// `1,000`, `0.5`, `-20`; never `-0`.
fn label(v: f64, decimals: usize) -> String {
    let v = if v.abs() < 1e-12 { 0.0 } else { v };
    if decimals == 0 && v.abs() >= 1000.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        return format!("{sign}{}", crate::format::count(v.abs().round() as u64));
    }
    format!("{v:.decimals$}")
}

/// A percentile (0 to 100) as its place on the nines axis: 0 → 0, p90 → 1, p99 → 2, p99.9 → 3.
pub fn nines(percentile: f64) -> f64 {
    let rest = (1.0 - percentile / 100.0).max(1e-9);
    -rest.log10()
}

/// Ticks of the nines axis up to the highest percentile `top_nines` reaches: p0, p50, p90, p99,
/// p99.9, ... (the last tick at or beyond the data).
pub fn nines_axis(top_nines: f64) -> Ticks {
    const MARKS: [(f64, &str); 8] = [
        (0.0, "p0"),
        (50.0, "p50"),
        (90.0, "p90"),
        (99.0, "p99"),
        (99.9, "p99.9"),
        (99.99, "p99.99"),
        (99.999, "p99.999"),
        (99.9999, "p99.9999"),
    ];
    let mut marks = Vec::new();
    for (p, name) in MARKS {
        let x = nines(p);
        marks.push((x, name.to_string()));
        if x >= top_nines - 1e-9 && x >= 1.0 {
            break;
        }
    }
    Ticks {
        lo: 0.0,
        hi: marks.last().map_or(1.0, |m| m.0),
        marks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Ticks) -> Vec<&str> {
        t.marks.iter().map(|m| m.1.as_str()).collect()
    }

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        for (span, parts, step) in [
            (14.08, 4, 5.0),
            (100.0, 5, 20.0),
            (1.0, 5, 0.2),
            (0.07, 5, 0.02),
            (9_000.0, 4, 5_000.0),
            (10.0, 5, 2.0),
            (0.0, 5, 1.0),
        ] {
            let got = nice_step(span, parts);
            assert!((got - step).abs() < step * 1e-9, "{span}/{parts}: {got}");
        }
    }

    #[test]
    fn linear_ticks_cover_the_data_at_round_values() {
        let t = linear(0.0, 14.08, 4);
        assert_eq!(labels(&t), ["0", "5", "10", "15"]);
        assert_eq!((t.lo, t.hi), (0.0, 15.0));
        let t = linear(0.0, 1.94, 5);
        assert_eq!(labels(&t), ["0.0", "0.5", "1.0", "1.5", "2.0"]);
        let t = linear(0.0, 19_998.7, 5);
        assert_eq!(labels(&t), ["0", "5,000", "10,000", "15,000", "20,000"]);
        let t = linear(0.011, 0.0132, 4);
        assert_eq!(labels(&t), ["0.011", "0.012", "0.013", "0.014"]);
    }

    #[test]
    fn whole_numbers_step_by_one_at_least() {
        assert_eq!(labels(&whole(0.0, 4.0, 8)), ["0", "1", "2", "3", "4"]);
        assert_eq!(labels(&whole(0.0, 19.0, 8)), ["0", "5", "10", "15", "20"]);
        assert_eq!(labels(&whole(0.0, 0.0, 8)), ["0", "1"]);
    }

    #[test]
    fn values_that_are_not_finite_give_a_plain_axis() {
        assert_eq!(
            labels(&linear(0.0, f64::INFINITY, 5)),
            ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
        );
        assert_eq!(linear(f64::NAN, 3.0, 5).marks.len(), 6);
    }

    #[test]
    fn an_empty_range_still_has_ticks() {
        let t = linear(3.0, 3.0, 5);
        assert!(t.marks.len() >= 2, "{t:?}");
        assert!(t.lo <= 3.0 && t.hi >= 4.0);
    }

    #[test]
    fn the_percentile_axis_is_labelled_in_nines() {
        assert!((nines(99.0) - 2.0).abs() < 1e-9);
        assert!((nines(99.9) - 3.0).abs() < 1e-9);
        let t = nines_axis(3.4);
        assert_eq!(labels(&t), ["p0", "p50", "p90", "p99", "p99.9", "p99.99"]);
        assert!((t.hi - 4.0).abs() < 1e-9);
        let t = nines_axis(0.2);
        assert_eq!(labels(&t), ["p0", "p50", "p90"]);
    }
}
