//! Seeded bootstrap intervals of a ratio (or difference) of one statistic between two samples.
//!
//! Independent values (the runs of a benchmark) are resampled one by one; values in time order
//! (the seconds of a load run, where neighbours are correlated) are resampled in moving blocks of
//! about n^(1/3) seconds, so the interval keeps the run's autocorrelation.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How the values of one side were collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resampling {
    /// Independent values: resample one at a time.
    Independent,
    /// A time series: resample moving blocks.
    Blocks,
    /// Paired values (value *i* of each side ran in the same round): resample rounds, keeping
    /// each round's two values together.
    Paired,
}

/// Indices of one bootstrap resample of `n` values.
pub(crate) fn resample(n: usize, how: Resampling, rng: &mut StdRng, out: &mut Vec<usize>) {
    out.clear();
    if n == 0 {
        return;
    }
    let block = block_len(n, how);
    let starts = n - block + 1;
    while out.len() < n {
        let start = rng.random_range(0..starts);
        for i in start..start + block {
            if out.len() == n {
                break;
            }
            out.push(i);
        }
    }
}

/// How many consecutive values a resample takes at once.
pub(crate) fn block_len(n: usize, how: Resampling) -> usize {
    match how {
        Resampling::Independent | Resampling::Paired => 1,
        Resampling::Blocks => ((n as f64).cbrt().floor() as usize).clamp(1, n.max(1)),
    }
}

/// The independent units behind samples of these sizes: values, or blocks of them.
pub(crate) fn units(sizes: (usize, usize), how: Resampling) -> f64 {
    let n = sizes.0.min(sizes.1);
    n as f64 / block_len(n, how) as f64
}

/// The `(low, high)` interval of `stat(candidate*) / stat(baseline*)` over resamples, or of the
/// difference when `difference` is set, widened for few units and for `floor_sd` of run-to-run
/// noise (`crate::widen`). `stat` sees the resampled indices of its side. `None` when too few
/// resamples gave a finite value, or too few units support an interval.
pub(crate) fn interval<S>(
    sizes: (usize, usize),
    how: Resampling,
    settings: &crate::CompareSettings,
    (difference, floor_sd): (bool, f64),
    mut stat: S,
) -> Option<(f64, f64)>
where
    S: FnMut(Side, &[usize]) -> Option<f64>,
{
    let mut rng = StdRng::seed_from_u64(settings.seed);
    let (mut base_idx, mut cand_idx) = (Vec::new(), Vec::new());
    let mut values = Vec::with_capacity(settings.resamples);
    for _ in 0..settings.resamples {
        resample(sizes.0, how, &mut rng, &mut base_idx);
        if how == Resampling::Paired && sizes.0 == sizes.1 {
            cand_idx.clone_from(&base_idx);
        } else {
            resample(sizes.1, how, &mut rng, &mut cand_idx);
        }
        let (Some(b), Some(c)) = (
            stat(Side::Baseline, &base_idx),
            stat(Side::Candidate, &cand_idx),
        ) else {
            continue;
        };
        let value = if difference { c - b } else { c / b };
        if value.is_finite() {
            values.push(value);
        }
    }
    if values.len() < settings.resamples / 2 || values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let alpha = 1.0 - settings.confidence;
    let raw = (
        quantile(&values, alpha / 2.0),
        quantile(&values, 1.0 - alpha / 2.0),
    );
    let units = units(sizes, how);
    if difference {
        crate::widen::widen_difference(raw, units, settings.confidence)
    } else {
        crate::widen::widen_ratio(raw, units, floor_sd, settings.confidence)
    }
}

/// Which side a statistic is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Baseline,
    Candidate,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    let weight = position - low as f64;
    sorted[low] * (1.0 - weight) + sorted[high] * weight
}

/// Median of the values at `indices`.
pub(crate) fn median_at(values: &[f64], indices: &[usize], scratch: &mut Vec<f64>) -> Option<f64> {
    scratch.clear();
    scratch.extend(indices.iter().map(|&i| values[i]));
    if scratch.is_empty() {
        return None;
    }
    scratch.sort_by(f64::total_cmp);
    Some(quantile(scratch, 0.5))
}

/// Mean of the values at `indices`.
pub(crate) fn mean_at(values: &[f64], indices: &[usize]) -> Option<f64> {
    if indices.is_empty() {
        return None;
    }
    Some(indices.iter().map(|&i| values[i]).sum::<f64>() / indices.len() as f64)
}

/// The median of all values.
pub(crate) fn median(values: &[f64]) -> f64 {
    let all: Vec<usize> = (0..values.len()).collect();
    median_at(values, &all, &mut Vec::new()).unwrap_or(0.0)
}

/// The mean of all values.
pub(crate) fn mean(values: &[f64]) -> f64 {
    let all: Vec<usize> = (0..values.len()).collect();
    mean_at(values, &all).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_n_indices_in_runs() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut out = Vec::new();
        resample(27, Resampling::Blocks, &mut rng, &mut out);
        assert_eq!(out.len(), 27);
        assert!(out.windows(2).filter(|w| w[1] == w[0] + 1).count() >= 12);
        resample(1, Resampling::Blocks, &mut rng, &mut out);
        assert_eq!(out, vec![0]);
    }
}
