//! Statistics over small samples of measurements (one value per run), as `plumb bench` records them.
//!
//! Everything here is unit-agnostic: callers pass plain `f64` values (seconds, bytes, ...) and get
//! values in the same unit back. Pure functions: no I/O and no clock; the bootstrap takes a seed so
//! that a result can be reproduced exactly.

/// Scale that turns a median absolute deviation into a consistent estimate of σ for normal data.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// The modified z-score above which a value is an outlier (Iglewicz & Hoaglin, 1993).
pub const OUTLIER_Z: f64 = 3.5;

/// Descriptive statistics of one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of values.
    pub count: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1); `None` for fewer than two values.
    pub stddev: Option<f64>,
    /// Median (mean of the two middle values for an even count).
    pub median: f64,
    /// Median absolute deviation from the median, scaled by [`MAD_TO_SIGMA`] (a robust σ).
    pub mad: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Summary {
    /// Summarize `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.is_empty() {
            return None;
        }
        let sorted = sorted(values);
        Some(Summary {
            count: values.len(),
            mean: mean(values),
            stddev: stddev(values),
            median: median_of_sorted(&sorted),
            mad: mad(values),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        })
    }
}

/// Arithmetic mean (NaN for an empty slice).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample standard deviation with Bessel's correction; `None` for fewer than two values.
pub fn stddev(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values);
    let squares: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some((squares / (values.len() - 1) as f64).sqrt())
}

/// Median (NaN for an empty slice).
pub fn median(values: &[f64]) -> f64 {
    median_of_sorted(&sorted(values))
}

/// Median absolute deviation, scaled by [`MAD_TO_SIGMA`].
pub fn mad(values: &[f64]) -> f64 {
    let center = median(values);
    let deviations: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    MAD_TO_SIGMA * median(&deviations)
}

/// Modified z-scores `(x − median) / MAD` (with the scaled MAD), one per value.
///
/// When more than half of the values are equal the MAD is zero; then the mean absolute deviation
/// (scaled by 1.2533, its own consistency constant) stands in, and when that is zero too every
/// score is zero: a constant sample has no outliers.
pub fn modified_z_scores(values: &[f64]) -> Vec<f64> {
    let center = median(values);
    let mut spread = mad(values);
    if spread == 0.0 {
        let absolute: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
        spread = 1.2533 * mean(&absolute);
    }
    values
        .iter()
        .map(|v| {
            if spread == 0.0 {
                0.0
            } else {
                (v - center) / spread
            }
        })
        .collect()
}

/// Indices of the values whose modified z-score exceeds [`OUTLIER_Z`] in absolute value.
pub fn outlier_indices(values: &[f64]) -> Vec<usize> {
    modified_z_scores(values)
        .iter()
        .enumerate()
        .filter(|(_, z)| z.abs() > OUTLIER_Z)
        .map(|(index, _)| index)
        .collect()
}

/// A point estimate with a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The point estimate from the observed samples.
    pub value: f64,
    /// Lower bound of the interval.
    pub low: f64,
    /// Upper bound of the interval.
    pub high: f64,
    /// Confidence level of the interval, e.g. 0.95.
    pub confidence: f64,
}

/// The ratio `median(numerator) / median(denominator)` with a percentile-bootstrap interval.
///
/// Each of the `resamples` rounds draws both samples independently with replacement (they are
/// not paired). `seed` makes the interval reproducible. `None` when a sample is empty or the
/// denominator's median is zero.
pub fn bootstrap_ratio_of_medians(
    numerator: &[f64],
    denominator: &[f64],
    resamples: usize,
    confidence: f64,
    seed: u64,
) -> Option<Estimate> {
    if numerator.is_empty() || denominator.is_empty() || median(denominator) == 0.0 {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut ratios = Vec::with_capacity(resamples);
    let mut scratch_n = vec![0.0; numerator.len()];
    let mut scratch_d = vec![0.0; denominator.len()];
    for _ in 0..resamples {
        let top = resampled_median(numerator, &mut scratch_n, &mut rng);
        let bottom = resampled_median(denominator, &mut scratch_d, &mut rng);
        if bottom > 0.0 {
            ratios.push(top / bottom);
        }
    }
    let ratios = sorted(&ratios);
    let tail = (1.0 - confidence) / 2.0;
    Some(Estimate {
        value: median(numerator) / median(denominator),
        low: quantile_of_sorted(&ratios, tail),
        high: quantile_of_sorted(&ratios, 1.0 - tail),
        confidence,
    })
}

/// The result of a two-sided Mann–Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U statistic of the first sample (the number of pairs where it is larger, ties counting ½).
    pub u: f64,
    /// Two-sided p-value from the normal approximation with tie and continuity corrections.
    pub p_value: f64,
}

/// Two-sided Mann–Whitney U test of "the two samples come from the same distribution".
///
/// Uses the normal approximation, which is adequate from about eight values per sample; with
/// fewer the p-value is approximate. `None` when a sample is empty.
pub fn mann_whitney_u(first: &[f64], second: &[f64]) -> Option<MannWhitney> {
    if first.is_empty() || second.is_empty() {
        return None;
    }
    let (n1, n2) = (first.len() as f64, second.len() as f64);
    let (rank_sum_first, tie_term) = rank_sum_and_ties(first, second);
    let u = rank_sum_first - n1 * (n1 + 1.0) / 2.0;
    let n = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance <= 0.0 {
        // Every value is the same: no evidence of any difference.
        return Some(MannWhitney { u, p_value: 1.0 });
    }
    let distance = (u - n1 * n2 / 2.0).abs();
    let z = (distance - 0.5).max(0.0) / variance.sqrt();
    let p_value = (2.0 * standard_normal_upper_tail(z)).min(1.0);
    Some(MannWhitney { u, p_value })
}

/// Sum of the (mid-)ranks of `first` in the pooled sample, and Σ(t³ − t) over groups of ties.
fn rank_sum_and_ties(first: &[f64], second: &[f64]) -> (f64, f64) {
    let mut pooled: Vec<(f64, bool)> = first.iter().map(|&v| (v, true)).collect();
    pooled.extend(second.iter().map(|&v| (v, false)));
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut tie_term, mut start) = (0.0, 0.0, 0);
    while start < pooled.len() {
        let mut end = start + 1;
        while end < pooled.len() && pooled[end].0 == pooled[start].0 {
            end += 1;
        }
        let mid_rank = (start + end + 1) as f64 / 2.0;
        let in_first = pooled[start..end].iter().filter(|p| p.1).count() as f64;
        rank_sum += mid_rank * in_first;
        let ties = (end - start) as f64;
        tie_term += ties * ties * ties - ties;
        start = end;
    }
    (rank_sum, tie_term)
}

/// P(Z > z) for a standard normal Z, from the complementary error function.
/// The standard normal quantile, by bisection on the upper tail (plenty fast for a handful of
/// calls, and exact to 1e-12).
pub fn normal_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0_f64, 40.0_f64);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if 1.0 - standard_normal_upper_tail(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

pub(crate) fn standard_normal_upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function, Chebyshev fit with fractional error below 1.2e-7 everywhere
/// (Numerical Recipes, `erfcc`).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let answer = t * poly.exp();
    if x >= 0.0 {
        answer
    } else {
        2.0 - answer
    }
}

fn resampled_median(values: &[f64], scratch: &mut [f64], rng: &mut SplitMix64) -> f64 {
    for slot in scratch.iter_mut() {
        *slot = values[rng.below(values.len())];
    }
    median_in_place(scratch)
}

/// Median by selection (linear time): the bootstrap takes thousands of medians.
fn median_in_place(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let (below, middle, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    let middle = *middle;
    if n % 2 == 1 {
        return middle;
    }
    let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lower + middle) / 2.0
}

/// Quantile `q` in [0, 1] of `values`, linear between closest ranks (NaN for none): the median
/// at 0.5, as [`median`] gives it.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    quantile_of_sorted(&sorted(values), q)
}

/// A distribution-free interval of the `q` quantile from the order statistics: the narrowest
/// run of ranks around `n·q` whose binomial coverage reaches `confidence`, or the whole sample
/// (with the coverage it has) when too few values cannot reach it. `value` is [`quantile`].
/// `None` for no values.
pub fn quantile_interval(values: &[f64], q: f64, confidence: f64) -> Option<Estimate> {
    let sorted = sorted(values);
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let q = q.clamp(0.0, 1.0);
    // P(exactly k of n values lie below the quantile), k = 0..=n.
    let pmf: Vec<f64> = (0..=n).map(|k| binomial_pmf(n, k, q)).collect();
    let start = ((n as f64 * q).floor() as usize).min(n - 1);
    let (mut low, mut high) = (start, start);
    // [sorted[low], sorted[high]] covers the quantile when low < k <= high values lie below it.
    let mut coverage = 0.0;
    while coverage < confidence && (low > 0 || high < n - 1) {
        let grow_low = low > 0 && (high == n - 1 || pmf[low] >= pmf[high + 1]);
        if grow_low {
            coverage += pmf[low];
            low -= 1;
        } else {
            high += 1;
            coverage += pmf[high];
        }
    }
    Some(Estimate {
        value: quantile_of_sorted(&sorted, q),
        low: sorted[low],
        high: sorted[high],
        confidence: coverage.min(1.0),
    })
}

fn binomial_pmf(n: usize, k: usize, p: f64) -> f64 {
    let ln_choose = (1..=k)
        .map(|i| ((n - k + i) as f64 / i as f64).ln())
        .sum::<f64>();
    let (k, rest) = (k as f64, (n - k) as f64);
    let ln_p = if k > 0.0 { k * p.ln() } else { 0.0 };
    let ln_q = if rest > 0.0 {
        rest * (1.0 - p).ln()
    } else {
        0.0
    };
    (ln_choose + ln_p + ln_q).exp()
}

pub(crate) fn sorted(values: &[f64]) -> Vec<f64> {
    let mut copy = values.to_vec();
    copy.sort_unstable_by(f64::total_cmp);
    copy
}

pub(crate) fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Quantile `q` in [0, 1] by linear interpolation between closest ranks.
pub(crate) fn quantile_of_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

/// A small, fast, seedable generator (SplitMix64) so the bootstrap is reproducible without
/// pulling a random-number crate into this pure crate.
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index in `0..bound` (Lemire's multiply-shift; the bias is below 2⁻³² here).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next_u64()) * bound as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn quantile_intervals_cover_by_order_statistics() {
        // Five runs: the median's interval is the whole sample, at 1 - 2/32 = 93.75%.
        let five = [5.0, 1.0, 4.0, 2.0, 3.0];
        let m = quantile_interval(&five, 0.5, 0.95).unwrap();
        assert_eq!((m.value, m.low, m.high), (3.0, 1.0, 5.0));
        assert!((m.confidence - 0.9375).abs() < 1e-12, "{m:?}");
        // Twenty runs of 1..=20: the median's 95% interval is ranks 6..15 (coverage 95.9%).
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        let m = quantile_interval(&twenty, 0.5, 0.95).unwrap();
        assert_eq!((m.low, m.high), (6.0, 15.0), "{m:?}");
        assert!(m.confidence >= 0.95 && m.confidence < 0.97, "{m:?}");
        assert_eq!(quantile(&twenty, 0.75), 15.25);
        assert!(quantile_interval(&[], 0.5, 0.95).is_none());
    }
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "expected {expected} ± {tolerance}, got {actual}"
        );
    }

    #[test]
    fn summary_of_a_known_sample() {
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(s.count, 8);
        close(s.mean, 5.0, 1e-12);
        close(s.stddev.unwrap(), 2.138_089_935, 1e-9);
        close(s.median, 4.5, 1e-12);
        close(s.mad, 1.4826 * 0.5, 1e-12);
        assert_eq!((s.min, s.max), (2.0, 9.0));
    }

    #[test]
    fn summary_of_nothing_is_none_and_one_value_has_no_stddev() {
        assert!(Summary::of(&[]).is_none());
        let one = Summary::of(&[3.0]).unwrap();
        assert_eq!(one.stddev, None);
        assert_eq!(one.median, 3.0);
    }

    #[test]
    fn outliers_are_found_by_modified_z_score() {
        let values = [10.0, 10.1, 9.9, 10.0, 10.2, 9.8, 10.0, 30.0];
        assert_eq!(outlier_indices(&values), vec![7]);
    }

    #[test]
    fn a_constant_sample_has_no_outliers_and_a_mad_of_zero_falls_back() {
        assert!(outlier_indices(&[1.0; 10]).is_empty());
        let mostly_constant = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0];
        assert_eq!(outlier_indices(&mostly_constant), vec![6]);
    }

    #[test]
    fn erfc_matches_reference_values() {
        close(erfc(0.0), 1.0, 1e-7);
        close(erfc(1.0), 0.157_299_207, 1e-7);
        close(erfc(-1.0), 1.842_700_793, 1e-7);
        close(2.0 * standard_normal_upper_tail(1.959_964), 0.05, 1e-6);
    }

    #[test]
    fn mann_whitney_matches_an_independent_computation() {
        // Reference values from a separate Python implementation of the same normal
        // approximation (mid-ranks, tie correction, continuity correction, math.erfc).
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let b = [6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5, 13.5];
        let result = mann_whitney_u(&a, &b).unwrap();
        assert_eq!(result.u, 3.0);
        close(result.p_value, 0.002_761_6, 1e-6);
        let with_ties = mann_whitney_u(
            &[1.0, 2.0, 2.0, 3.0, 4.0, 5.0],
            &[2.0, 3.0, 3.0, 5.0, 6.0, 7.0, 8.0],
        );
        let with_ties = with_ties.unwrap();
        assert_eq!(with_ties.u, 9.5);
        close(with_ties.p_value, 0.111_559_3, 1e-6);
    }

    #[test]
    fn mann_whitney_sees_no_difference_between_equal_samples() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!(mann_whitney_u(&a, &a).unwrap().p_value > 0.9);
        assert_eq!(mann_whitney_u(&[1.0; 4], &[1.0; 4]).unwrap().p_value, 1.0);
        assert!(mann_whitney_u(&[], &a).is_none());
    }

    #[test]
    fn bootstrap_interval_brackets_the_ratio_and_is_reproducible() {
        let fast: Vec<f64> = (0..30).map(|i| 1.0 + f64::from(i % 5) * 0.01).collect();
        let slow: Vec<f64> = fast.iter().map(|v| v * 2.0).collect();
        let first = bootstrap_ratio_of_medians(&slow, &fast, 2_000, 0.95, 7).unwrap();
        let again = bootstrap_ratio_of_medians(&slow, &fast, 2_000, 0.95, 7).unwrap();
        assert_eq!(first, again);
        close(first.value, 2.0, 1e-12);
        assert!(first.low <= first.value && first.value <= first.high);
        assert!(first.high - first.low < 0.1, "{first:?}");
    }

    #[test]
    fn bootstrap_refuses_a_zero_denominator() {
        assert!(bootstrap_ratio_of_medians(&[1.0], &[0.0, 0.0], 10, 0.95, 1).is_none());
        assert!(bootstrap_ratio_of_medians(&[], &[1.0], 10, 0.95, 1).is_none());
    }

    #[test]
    fn median_by_selection_agrees_with_sorting() {
        for values in [
            vec![3.0],
            vec![4.0, 1.0],
            vec![5.0, 1.0, 4.0, 2.0, 3.0],
            vec![9.0, 1.0, 8.0, 2.0, 7.0, 3.0],
        ] {
            let mut scratch = values.clone();
            assert_eq!(median_in_place(&mut scratch), median(&values), "{values:?}");
        }
    }

    #[test]
    fn quantiles_interpolate() {
        let s = [1.0, 2.0, 3.0, 4.0];
        close(quantile_of_sorted(&s, 0.0), 1.0, 1e-12);
        close(quantile_of_sorted(&s, 0.5), 2.5, 1e-12);
        close(quantile_of_sorted(&s, 1.0), 4.0, 1e-12);
    }
}
