//! Before/after comparison of one metric with a verdict against a practical tolerance δ.
//!
//! Values are first put on a scale where a change is additive: the natural log for positive times
//! and rates ([`Scale::Log`], so +5% and −5% are symmetric), or a fraction of the baseline's median
//! for values that can be zero, like error rates ([`Scale::Linear`]). On that scale the shift is
//! estimated with Hodges–Lehmann: the median of all candidate−baseline differences for independent
//! samples (with the distribution-free Mann–Whitney/Moses interval), or the median of the Walsh
//! averages of paired differences (with the Wilcoxon signed-rank interval). Critical values are
//! exact for small samples and normal approximations for large ones; an interval that the sample
//! size cannot support is unbounded, so tiny samples come out inconclusive rather than over-claimed.
//! A seeded bootstrap of the difference of medians is reported next to it as a cross-check.
//!
//! The verdict follows the equivalence-style three-way rule: **regressed** when the whole interval
//! is worse than δ, **improved** when it is wholly better than δ, **equivalent** when it lies inside
//! ±δ, and **inconclusive** otherwise, with an estimate of the runs that would likely settle it.
//! [`benjamini_hochberg`] controls false alarms when many metrics are judged at once.
//! Pure: no I/O, no clock; the bootstrap takes a seed.

use crate::sample::{self, median_of_sorted, quantile_of_sorted, sorted, SplitMix64};

/// Whether a larger value is worse (times) or better (throughput).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Times, memory, error rates: up is a regression.
    LowerIsBetter,
    /// Throughput: down is a regression.
    HigherIsBetter,
}

/// How the two samples were collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Design {
    /// Two separate runs (a stored baseline against a new run).
    Independent,
    /// Rounds that ran baseline and candidate back to back: value *i* of each belongs together.
    Paired,
}

/// The scale on which a change is measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// Log ratios: for strictly positive values (times, rates, bytes).
    Log,
    /// Differences as a fraction of the baseline's median, itself at least `floor` (for values
    /// that can be zero, such as an error rate, where a ratio means nothing).
    Linear {
        /// The smallest reference a difference is divided by.
        floor: f64,
    },
}

/// The three-way verdict, plus "cannot tell yet".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The whole interval is worse than the tolerance.
    Regressed,
    /// The whole interval is better than the tolerance.
    Improved,
    /// The whole interval lies within ±tolerance.
    Equivalent,
    /// The interval straddles a tolerance bound (or the samples are too small).
    Inconclusive,
}

impl Verdict {
    /// The word shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Equivalent => "equivalent",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// Knobs of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareSettings {
    /// The practical tolerance δ as a fraction (0.02 = 2%).
    pub tolerance: f64,
    /// Confidence level of the interval (0.95).
    pub confidence: f64,
    /// Bootstrap resamples of the cross-check.
    pub resamples: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
}

impl Default for CompareSettings {
    fn default() -> Self {
        CompareSettings {
            tolerance: 0.02,
            confidence: 0.95,
            resamples: 2000,
            seed: 0x0070_6c75_6d62,
        }
    }
}

/// The estimated change of the candidate against the baseline, as a fraction (+0.05 = 5% more).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    /// Hodges–Lehmann point estimate.
    pub change: f64,
    /// Lower bound of the distribution-free interval (−∞ when the samples cannot bound it).
    pub low: f64,
    /// Upper bound (+∞ when the samples cannot bound it).
    pub high: f64,
    /// Two-sided p-value of "no shift" (Mann–Whitney or Wilcoxon signed-rank).
    pub p_value: f64,
    /// The bootstrap's interval of the same change, as a cross-check.
    pub bootstrap: Option<(f64, f64)>,
}

/// A metric's comparison: the shift, the verdict, and how many more runs would likely settle an
/// inconclusive one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    /// The estimate; `None` when a sample is empty or unusable on the scale.
    pub shift: Option<Shift>,
    /// The verdict against the tolerance.
    pub verdict: Verdict,
    /// For an inconclusive verdict: about how many more runs per side would settle it (`None`
    /// when no reasonable number would, e.g. a change sitting right on the tolerance).
    pub more_runs: Option<u64>,
}

/// Runs beyond which "more runs" is not a useful suggestion.
const MAX_SUGGESTED_RUNS: f64 = 100_000.0;

/// Above this many pairwise differences, each side is thinned to its quantiles first.
const MAX_DIFFERENCES: usize = 4_000_000;

/// Compare `candidate` with `baseline` and judge the change.
pub fn compare(
    baseline: &[f64],
    candidate: &[f64],
    design: Design,
    scale: Scale,
    direction: Direction,
    settings: &CompareSettings,
) -> Judgement {
    let paired = design == Design::Paired && baseline.len() == candidate.len();
    let Some((x, y)) = transform(baseline, candidate, scale) else {
        return unusable();
    };
    let interval = if paired {
        paired_shift(&x, &y, settings)
    } else {
        independent_shift(&x, &y, settings)
    };
    let Some(t) = interval else {
        return unusable();
    };
    let bound = match scale {
        Scale::Log => settings.tolerance.ln_1p(),
        Scale::Linear { .. } => settings.tolerance,
    };
    let verdict = verdict_of(t.low, t.high, bound, direction);
    let more_runs = (verdict == Verdict::Inconclusive)
        .then(|| more_runs(&x, &y, paired, &t, bound, settings.confidence))
        .flatten();
    // An unbounded side stays unbounded (exp_m1(−∞) would read as a bound of −100%).
    let to_change = |v: f64| match scale {
        Scale::Log if v.is_finite() => v.exp_m1(),
        Scale::Log | Scale::Linear { .. } => v,
    };
    Judgement {
        shift: Some(Shift {
            change: to_change(t.estimate),
            low: to_change(t.low),
            high: to_change(t.high),
            p_value: t.p_value,
            bootstrap: t.bootstrap.map(|(lo, hi)| (to_change(lo), to_change(hi))),
        }),
        verdict,
        more_runs,
    }
}

fn unusable() -> Judgement {
    Judgement {
        shift: None,
        verdict: Verdict::Inconclusive,
        more_runs: None,
    }
}

/// Both samples on the comparison scale; `None` when a value does not fit it (a non-positive
/// value on the log scale) or a sample is empty.
fn transform(baseline: &[f64], candidate: &[f64], scale: Scale) -> Option<(Vec<f64>, Vec<f64>)> {
    if baseline.is_empty() || candidate.is_empty() {
        return None;
    }
    let all = || baseline.iter().chain(candidate);
    if all().any(|v| !v.is_finite()) {
        return None;
    }
    match scale {
        Scale::Log => {
            if all().any(|v| *v <= 0.0) {
                return None;
            }
            Some((
                baseline.iter().map(|v| v.ln()).collect(),
                candidate.iter().map(|v| v.ln()).collect(),
            ))
        }
        Scale::Linear { floor } => {
            let reference = sample::median(baseline).max(floor);
            if reference <= 0.0 {
                return None;
            }
            Some((
                baseline.iter().map(|v| v / reference).collect(),
                candidate.iter().map(|v| v / reference).collect(),
            ))
        }
    }
}

/// The shift on the comparison scale.
struct Interval {
    estimate: f64,
    low: f64,
    high: f64,
    p_value: f64,
    bootstrap: Option<(f64, f64)>,
}

/// Hodges–Lehmann shift of `y` against `x` with the Mann–Whitney (Moses) interval.
fn independent_shift(x: &[f64], y: &[f64], settings: &CompareSettings) -> Option<Interval> {
    let p_value = sample::mann_whitney_u(y, x)?.p_value;
    let (x, y) = (thin(x), thin(y));
    let (n, m) = (x.len(), y.len());
    let mut differences: Vec<f64> = Vec::with_capacity(n * m);
    for yj in &y {
        differences.extend(x.iter().map(|xi| yj - xi));
    }
    let differences = sorted(&differences);
    let alpha = 1.0 - settings.confidence;
    let k = mann_whitney_k(n, m, alpha);
    let (low, high) = order_interval(&differences, k);
    Some(Interval {
        estimate: median_of_sorted(&differences),
        low,
        high,
        p_value,
        bootstrap: bootstrap_independent(&x, &y, settings),
    })
}

/// Hodges–Lehmann shift of paired differences with the Wilcoxon signed-rank interval.
fn paired_shift(x: &[f64], y: &[f64], settings: &CompareSettings) -> Option<Interval> {
    let d: Vec<f64> = y.iter().zip(x).map(|(b, a)| b - a).collect();
    if d.is_empty() {
        return None;
    }
    let mut walsh = Vec::with_capacity(d.len() * (d.len() + 1) / 2);
    for i in 0..d.len() {
        walsh.extend(d[i..].iter().map(|dj| (d[i] + dj) / 2.0));
    }
    let walsh = sorted(&walsh);
    let alpha = 1.0 - settings.confidence;
    let k = signed_rank_k(d.len(), alpha);
    let (low, high) = order_interval(&walsh, k);
    Some(Interval {
        estimate: median_of_sorted(&walsh),
        low,
        high,
        p_value: signed_rank_p(&d),
        bootstrap: bootstrap_paired(&d, settings),
    })
}

/// `[v(k), v(N−k+1)]` (1-based order statistics); unbounded when `k` is zero.
fn order_interval(sorted: &[f64], k: usize) -> (f64, f64) {
    if k == 0 || k > sorted.len() {
        return (f64::NEG_INFINITY, f64::INFINITY);
    }
    (sorted[k - 1], sorted[sorted.len() - k])
}

/// A sample of at most 2000 values: itself, or its evenly spaced quantiles.
fn thin(values: &[f64]) -> Vec<f64> {
    let limit = (MAX_DIFFERENCES as f64).sqrt() as usize;
    if values.len() <= limit {
        return values.to_vec();
    }
    let s = sorted(values);
    (0..limit)
        .map(|i| quantile_of_sorted(&s, (i as f64 + 0.5) / limit as f64))
        .collect()
}

/// The largest `k` with P(U ≤ k − 1) ≤ α/2 under "no shift" (0 when even U = 0 is too likely):
/// exact for samples up to 50 each, normal approximation beyond.
fn mann_whitney_k(n: usize, m: usize, alpha: f64) -> usize {
    if n <= 50 && m <= 50 {
        let counts = mann_whitney_counts(n, m);
        return lower_k(&counts, alpha / 2.0);
    }
    let (n, m) = (n as f64, m as f64);
    let spread = (n * m * (n + m + 1.0) / 12.0).sqrt();
    let k = (n * m / 2.0 - normal_quantile(1.0 - alpha / 2.0) * spread).floor();
    k.max(0.0) as usize
}

/// Number of arrangements giving each value of U for sample sizes `n`, `m`: the coefficients of
/// the Gaussian binomial ∏ᵢ (1 − q^(m+i)) / (1 − qⁱ), i = 1..n.
fn mann_whitney_counts(n: usize, m: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * m + 1];
    c[0] = 1.0;
    for i in 1..=n {
        for u in (m + i..=n * m).rev() {
            c[u] -= c[u - m - i];
        }
        for u in i..=n * m {
            c[u] += c[u - i];
        }
    }
    c
}

/// The largest `k` with P(T⁺ ≤ k − 1) ≤ α/2 for `r` paired differences: exact up to 300 rounds.
fn signed_rank_k(r: usize, alpha: f64) -> usize {
    if r <= 300 {
        let total = r * (r + 1) / 2;
        let mut c = vec![0.0; total + 1];
        c[0] = 1.0;
        for i in 1..=r {
            for t in (i..=total).rev() {
                c[t] += c[t - i];
            }
        }
        return lower_k(&c, alpha / 2.0);
    }
    let r = r as f64;
    let spread = (r * (r + 1.0) * (2.0 * r + 1.0) / 24.0).sqrt();
    let k = (r * (r + 1.0) / 4.0 - normal_quantile(1.0 - alpha / 2.0) * spread).floor();
    k.max(0.0) as usize
}

/// From counts of each statistic value, the number of lowest values whose total probability stays
/// within `tail`.
fn lower_k(counts: &[f64], tail: f64) -> usize {
    let total: f64 = counts.iter().sum();
    let mut cumulative = 0.0;
    let mut k = 0;
    for count in counts {
        cumulative += count;
        if cumulative / total > tail {
            break;
        }
        k += 1;
    }
    k
}

/// Two-sided p-value of the Wilcoxon signed-rank test (normal approximation with tie and
/// continuity corrections; zero differences dropped).
fn signed_rank_p(d: &[f64]) -> f64 {
    let mut nonzero: Vec<f64> = d.iter().copied().filter(|v| *v != 0.0).collect();
    if nonzero.is_empty() {
        return 1.0;
    }
    nonzero.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
    let n = nonzero.len() as f64;
    let (mut t_plus, mut tie_term, mut start) = (0.0, 0.0, 0);
    while start < nonzero.len() {
        let mut end = start + 1;
        while end < nonzero.len() && nonzero[end].abs() == nonzero[start].abs() {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        t_plus += rank * nonzero[start..end].iter().filter(|v| **v > 0.0).count() as f64;
        let t = (end - start) as f64;
        tie_term += t * t * t - t;
        start = end;
    }
    let variance = n * (n + 1.0) * (2.0 * n + 1.0) / 24.0 - tie_term / 48.0;
    if variance <= 0.0 {
        return 1.0;
    }
    let z = ((t_plus - n * (n + 1.0) / 4.0).abs() - 0.5).max(0.0) / variance.sqrt();
    (2.0 * sample::standard_normal_upper_tail(z)).min(1.0)
}

/// The standard normal quantile, by bisection on the upper tail (plenty fast for a handful of
/// calls, and exact to 1e-12).
pub fn normal_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0_f64, 40.0_f64);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if 1.0 - sample::standard_normal_upper_tail(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Percentile-bootstrap interval of median(y) − median(x), each side resampled independently.
fn bootstrap_independent(x: &[f64], y: &[f64], s: &CompareSettings) -> Option<(f64, f64)> {
    if s.resamples == 0 {
        return None;
    }
    let mut rng = SplitMix64::new(s.seed);
    let (mut sx, mut sy) = (vec![0.0; x.len()], vec![0.0; y.len()]);
    let shifts: Vec<f64> = (0..s.resamples)
        .map(|_| resampled_median(y, &mut sy, &mut rng) - resampled_median(x, &mut sx, &mut rng))
        .collect();
    Some(percentile_interval(&shifts, s.confidence))
}

/// Percentile-bootstrap interval of the median paired difference, resampling rounds.
fn bootstrap_paired(d: &[f64], s: &CompareSettings) -> Option<(f64, f64)> {
    if s.resamples == 0 {
        return None;
    }
    let mut rng = SplitMix64::new(s.seed);
    let mut scratch = vec![0.0; d.len()];
    let medians: Vec<f64> = (0..s.resamples)
        .map(|_| resampled_median(d, &mut scratch, &mut rng))
        .collect();
    Some(percentile_interval(&medians, s.confidence))
}

fn resampled_median(values: &[f64], scratch: &mut [f64], rng: &mut SplitMix64) -> f64 {
    for slot in scratch.iter_mut() {
        *slot = values[rng.below(values.len())];
    }
    sample::median(scratch)
}

fn percentile_interval(values: &[f64], confidence: f64) -> (f64, f64) {
    let s = sorted(values);
    let tail = (1.0 - confidence) / 2.0;
    (
        quantile_of_sorted(&s, tail),
        quantile_of_sorted(&s, 1.0 - tail),
    )
}

/// The three-way rule on an interval of the shift, with the tolerance `bound` on the same scale.
fn verdict_of(low: f64, high: f64, bound: f64, direction: Direction) -> Verdict {
    let (worse_above, better_below) = if low > bound {
        (true, false)
    } else if high < -bound {
        (false, true)
    } else if low >= -bound && high <= bound {
        return Verdict::Equivalent;
    } else {
        return Verdict::Inconclusive;
    };
    match (direction, worse_above, better_below) {
        (Direction::LowerIsBetter, true, _) | (Direction::HigherIsBetter, _, true) => {
            Verdict::Regressed
        }
        _ => Verdict::Improved,
    }
}

/// About how many more runs per side would shrink the interval enough to settle the verdict:
/// the half-width needed is the distance from the estimate to the nearest tolerance bound it must
/// clear, and the half-width shrinks as 1/√n.
fn more_runs(
    x: &[f64],
    y: &[f64],
    paired: bool,
    t: &Interval,
    bound: f64,
    confidence: f64,
) -> Option<u64> {
    let theta = t.estimate;
    let target = if theta.abs() < bound {
        (bound - theta.abs()).min(bound + theta.abs())
    } else {
        theta.abs() - bound
    };
    if target < 1e-9 {
        return None;
    }
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let (now, needed) = if paired {
        let d: Vec<f64> = y.iter().zip(x).map(|(b, a)| b - a).collect();
        let sigma = spread(&d);
        (d.len(), (z * sigma / target).powi(2))
    } else {
        let sigma = (spread(x).powi(2) + spread(y).powi(2)).sqrt();
        (x.len().min(y.len()), (z * sigma / target).powi(2))
    };
    // Below these sizes no interval exists at 95% whatever the data.
    let floor = if paired { 6.0 } else { 4.0 };
    let needed = needed.max(floor).ceil();
    if needed > MAX_SUGGESTED_RUNS {
        return None;
    }
    Some((needed as u64).saturating_sub(now as u64).max(1))
}

/// A robust σ (scaled MAD), or the standard deviation when more than half the values tie.
fn spread(values: &[f64]) -> f64 {
    let mad = sample::mad(values);
    if mad > 0.0 {
        mad
    } else {
        sample::stddev(values).unwrap_or(0.0)
    }
}

/// Benjamini–Hochberg: which of `p_values` are discoveries at false-discovery rate `q`.
pub fn benjamini_hochberg(p_values: &[f64], q: f64) -> Vec<bool> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|a, b| p_values[*a].total_cmp(&p_values[*b]));
    let cutoff = order
        .iter()
        .enumerate()
        .filter(|(rank, i)| p_values[**i] <= q * (*rank + 1) as f64 / m as f64)
        .map(|(rank, _)| rank + 1)
        .max()
        .unwrap_or(0);
    let mut rejected = vec![false; m];
    for i in &order[..cutoff] {
        rejected[*i] = true;
    }
    rejected
}

/// Demote to inconclusive every regressed or improved verdict whose p-value is not a discovery at
/// false-discovery rate `q` across all of `judgements` (the suite-level control of false alarms).
pub fn control_false_discoveries(judgements: &mut [Judgement], q: f64) {
    let p: Vec<f64> = judgements
        .iter()
        .map(|j| j.shift.map_or(1.0, |s| s.p_value))
        .collect();
    let keep = benjamini_hochberg(&p, q);
    for (j, discovered) in judgements.iter_mut().zip(keep) {
        let decisive = matches!(j.verdict, Verdict::Regressed | Verdict::Improved);
        if decisive && !discovered {
            j.verdict = Verdict::Inconclusive;
        }
    }
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
