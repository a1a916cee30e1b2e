//! The Universal Scalability Law over the steps, `X(N) = λN / (1 + σ(N−1) + κN(N−1))`, with
//! throughput X and concurrency N (Little's law: X times the mean latency), and the knee of
//! latency against rate.
//!
//! The fit is the linear least squares of `N/X = 1/λ + (σ/λ)(N−1) + (κ/λ)N(N−1)`, refitted
//! without a term whose coefficient comes out negative (σ and κ are never below zero). The
//! predicted peak `N* = √((1−σ)/κ)` gets an interval from a seeded bootstrap over the steps.

use crate::measured;
use plumb_schema::capacity::{CapacityStep, UslFit};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Fewer measured steps than this support no fit.
const MIN_POINTS: usize = 4;
/// Bootstrap resamples of the steps.
const RESAMPLES: usize = 300;

/// The three coefficients.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Coefficients {
    sigma: f64,
    kappa: f64,
    lambda: f64,
}

impl Coefficients {
    fn peak(&self) -> Option<(f64, f64)> {
        if self.kappa <= 0.0 || self.sigma >= 1.0 {
            return None;
        }
        let n = ((1.0 - self.sigma) / self.kappa).sqrt();
        Some((n, self.throughput(n)))
    }

    fn throughput(&self, n: f64) -> f64 {
        self.lambda * n / (1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0))
    }
}

/// Fit the law over the measured steps; `None` with fewer than four.
pub fn fit_usl(steps: &[CapacityStep], seed: u64) -> Option<UslFit> {
    let points: Vec<(f64, f64)> = measured(steps)
        .filter(|s| s.concurrency > 0.0 && s.achieved_rps > 0.0)
        .map(|s| (s.concurrency, s.achieved_rps))
        .collect();
    if points.len() < MIN_POINTS {
        return None;
    }
    let fit = fit(&points)?;
    let max_n = points.iter().map(|p| p.0).fold(0.0, f64::max);
    let peak = fit.peak();
    let (low, high) = peak.and_then(|_| bootstrap_peak(&points, seed)).unzip();
    Some(UslFit {
        sigma: fit.sigma,
        kappa: fit.kappa,
        lambda: fit.lambda,
        peak_rps: peak.map(|p| p.1),
        peak_rps_low: low,
        peak_rps_high: high,
        peak_concurrency: peak.map(|p| p.0),
        extrapolated: peak.is_some_and(|(n, _)| n > max_n),
        points: points.len() as u64,
    })
}

/// Least squares with every term, then without those that came out negative.
fn fit(points: &[(f64, f64)]) -> Option<Coefficients> {
    let full = solve(points, [true, true])?;
    let with = match (full.sigma < 0.0, full.kappa < 0.0) {
        (false, false) => return Some(full),
        (true, false) => [false, true],
        (false, true) => [true, false],
        (true, true) => [false, false],
    };
    let refit = solve(points, with)?;
    match (refit.sigma < 0.0, refit.kappa < 0.0) {
        (false, false) => Some(refit),
        _ => solve(points, [false, false]),
    }
}

/// Solve the normal equations with the σ and κ terms switched on or off.
fn solve(points: &[(f64, f64)], [with_sigma, with_kappa]: [bool; 2]) -> Option<Coefficients> {
    let rows: Vec<(Vec<f64>, f64)> = points
        .iter()
        .map(|&(n, x)| {
            let mut row = vec![1.0];
            if with_sigma {
                row.push(n - 1.0);
            }
            if with_kappa {
                row.push(n * (n - 1.0));
            }
            (row, n / x)
        })
        .collect();
    let beta = least_squares(&rows)?;
    let inverse_lambda = beta[0];
    if inverse_lambda <= 0.0 {
        return None;
    }
    let mut terms = beta[1..].iter();
    let sigma = if with_sigma { *terms.next()? } else { 0.0 };
    let kappa = if with_kappa { *terms.next()? } else { 0.0 };
    Some(Coefficients {
        sigma: sigma / inverse_lambda,
        kappa: kappa / inverse_lambda,
        lambda: 1.0 / inverse_lambda,
    })
}

/// Ordinary least squares by the normal equations and Gaussian elimination.
fn least_squares(rows: &[(Vec<f64>, f64)]) -> Option<Vec<f64>> {
    let k = rows.first()?.0.len();
    let mut a = vec![vec![0.0; k + 1]; k];
    for (x, y) in rows {
        for i in 0..k {
            for j in 0..k {
                a[i][j] += x[i] * x[j];
            }
            a[i][k] += x[i] * y;
        }
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))?;
        a.swap(col, pivot);
        if a[col][col].abs() < 1e-12 {
            return None;
        }
        let pivot_row = a[col].clone();
        for (row, values) in a.iter_mut().enumerate() {
            if row != col {
                let factor = values[col] / pivot_row[col];
                for (value, pivot) in values.iter_mut().zip(&pivot_row).skip(col) {
                    *value -= factor * pivot;
                }
            }
        }
    }
    Some((0..k).map(|i| a[i][k] / a[i][i]).collect())
}

fn bootstrap_peak(points: &[(f64, f64)], seed: u64) -> Option<(f64, f64)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut peaks = Vec::with_capacity(RESAMPLES);
    let mut sample = Vec::with_capacity(points.len());
    for _ in 0..RESAMPLES {
        sample.clear();
        sample.extend((0..points.len()).map(|_| points[rng.random_range(0..points.len())]));
        if let Some((_, x)) = fit(&sample).and_then(|c| c.peak()) {
            peaks.push(x);
        }
    }
    if peaks.len() < RESAMPLES / 2 {
        return None;
    }
    peaks.sort_by(f64::total_cmp);
    let at = |q: f64| peaks[((peaks.len() - 1) as f64 * q).round() as usize];
    Some((at(0.025), at(0.975)))
}

/// The highest rate before the goal's statistic doubled over its value at the lowest rate.
pub fn knee(steps: &[CapacityStep]) -> Option<f64> {
    let mut by_rate: Vec<&CapacityStep> = measured(steps)
        .filter(|s| !s.confirmation && s.observed.is_some())
        .collect();
    by_rate.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    let base = by_rate.first()?.observed?;
    let mut last_flat = None;
    for step in by_rate {
        if step.observed? > 2.0 * base {
            return last_flat;
        }
        last_flat = Some(step.rate);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(concurrency: f64, throughput: f64) -> CapacityStep {
        CapacityStep {
            rate: throughput,
            confirmation: false,
            requests: 1000,
            errors: 0,
            achieved_rps: throughput,
            error_rate: 0.0,
            observed: Some(concurrency / throughput * 1e3),
            observed_low: None,
            observed_high: None,
            p50_ms: None,
            p99_ms: None,
            concurrency,
            verdict: "pass".into(),
            reason: String::new(),
        }
    }

    #[test]
    fn the_law_is_recovered_from_its_own_curve() {
        let truth = Coefficients {
            sigma: 0.05,
            kappa: 0.002,
            lambda: 100.0,
        };
        let steps: Vec<CapacityStep> = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 48.0]
            .iter()
            .map(|&n| point(n, truth.throughput(n)))
            .collect();
        let fit = fit_usl(&steps, 1).expect("a fit");
        assert!((fit.sigma - 0.05).abs() < 1e-6, "{fit:?}");
        assert!((fit.kappa - 0.002).abs() < 1e-8, "{fit:?}");
        assert!((fit.lambda - 100.0).abs() < 1e-4, "{fit:?}");
        let (n, x) = truth.peak().unwrap();
        assert!((fit.peak_concurrency.unwrap() - n).abs() < 1e-3);
        assert!((fit.peak_rps.unwrap() - x).abs() < 1e-3);
        assert!(
            !fit.extrapolated,
            "the peak ({n:.1}) lies inside the points"
        );
    }

    #[test]
    fn a_plateau_has_no_peak_and_no_negative_coefficient() {
        let steps: Vec<CapacityStep> = [1.0, 2.0, 4.0, 8.0, 16.0]
            .iter()
            .map(|&n| point(n, 800.0 * n / (n + 0.5)))
            .collect();
        let fit = fit_usl(&steps, 1).expect("a fit");
        assert!(fit.sigma >= 0.0 && fit.kappa >= 0.0, "{fit:?}");
    }

    #[test]
    fn three_points_are_too_few() {
        let steps: Vec<CapacityStep> = [1.0, 2.0, 4.0]
            .iter()
            .map(|&n| point(n, n * 10.0))
            .collect();
        assert!(fit_usl(&steps, 1).is_none());
    }

    #[test]
    fn the_knee_is_the_last_rate_before_latency_doubled() {
        let mut steps = Vec::new();
        for (rate, p99) in [(100.0, 10.0), (200.0, 11.0), (400.0, 14.0), (800.0, 35.0)] {
            let mut s = point(1.0, rate);
            s.rate = rate;
            s.observed = Some(p99);
            steps.push(s);
        }
        assert_eq!(knee(&steps), Some(400.0));
    }
}
