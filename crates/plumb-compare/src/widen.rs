//! What a bootstrap over one run's samples cannot see, added to its interval.
//!
//! 1. **Few independent samples.** A percentile bootstrap behaves like a normal interval with the
//!    plug-in spread: too narrow for a handful of runs, or a load run of a few seconds whose
//!    seconds are resampled in blocks. The half-width is scaled by `t(m−1) / z · √(m/(m−1))`,
//!    `m` being the independent units (runs, or seconds over the block length); fewer than
//!    [`MIN_UNITS`] support no interval at all.
//! 2. **Run-to-run noise.** Two runs made at different times differ by more than their own
//!    samples say: the machine's load, caches, the CPU's clock and the server's state change
//!    between them. Each side adds a floor, a log-scale standard deviation per run for the
//!    metric (see the `FLOOR_*` constants), divided by √(runs) when a side pools several and
//!    doubled when others disturbed its host (steal, or a load average above the CPUs before it
//!    started), combined in quadrature with the bootstrap's spread. Paired
//!    rounds (`compare --ab` with commands) add none: the pairing removes drift.
//!
//! The constants come from A/A runs on a shared 2-core VM (docs/ledger.md), where two 5 s load
//! runs made one after the other, on a quiet host, differed by up to 38% in throughput and 30% in
//! p50 with nothing changed (each run steady within itself: where the generator's and the
//! target's threads landed decided it): a conservative default, so one run a side shows only large changes; pool several
//! runs a side (the floor shrinks as 1/√runs), use `compare --ab` (interleaved rounds), or
//! `plumb calibrate` to see this machine's own noise.

use plumb_schema::host::HostNoise;

/// Fewer independent units than this support no interval.
pub(crate) const MIN_UNITS: f64 = 2.0;

/// A run's own noise for one metric: the log-scale standard deviation of its statistic between
/// runs of the same thing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Floor(pub f64);

/// Bench: the median of runs.
pub(crate) const FLOOR_MEDIAN_OF_RUNS: Floor = Floor(0.02);
/// Bench: the mean of runs (outliers from the machine land in it).
pub(crate) const FLOOR_MEAN_OF_RUNS: Floor = Floor(0.03);
/// Bench: user and system CPU.
pub(crate) const FLOOR_CPU_TIME: Floor = Floor(0.04);
/// Bench: peak memory.
pub(crate) const FLOOR_MEMORY: Floor = Floor(0.02);
/// Load: throughput.
pub(crate) const FLOOR_THROUGHPUT: Floor = Floor(0.15);
/// Load: the server's CPU.
pub(crate) const FLOOR_SERVER_CPU: Floor = Floor(0.15);
/// Load: the server's memory.
pub(crate) const FLOOR_SERVER_MEMORY: Floor = Floor(0.05);

/// Profile: one function's sampled CPU time, beyond its samples' own counting noise.
pub(crate) const FLOOR_PROFILE_FUNCTION: Floor = Floor(0.05);

/// Load: a whole-run percentile, noisier the further in the tail.
pub(crate) fn percentile_floor(q: f64) -> Floor {
    match q {
        q if q <= 0.9 => Floor(0.15),
        q if q <= 0.95 => Floor(0.20),
        _ => Floor(0.25),
    }
}

/// How one side of a comparison was measured, for its floor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SideNoise {
    /// Separate runs pooled on this side.
    pub runs: usize,
    /// Whether any of them ran on a busy host.
    pub busy: bool,
}

impl SideNoise {
    /// A side's runs, with the noise their hosts recorded.
    pub(crate) fn of(noises: &[Option<&HostNoise>]) -> SideNoise {
        SideNoise {
            runs: noises.len().max(1),
            busy: noises
                .iter()
                .flatten()
                .any(|n| crate::noise::disturbed_by_others(n)),
        }
    }

    fn sd(self, floor: Floor) -> f64 {
        let busy = if self.busy { 2.0 } else { 1.0 };
        floor.0 * busy / (self.runs as f64).sqrt()
    }
}

/// The run-to-run standard deviation (log scale) of a ratio between the two sides; zero for
/// paired rounds.
pub(crate) fn floor_sd(floor: Floor, sides: Option<(SideNoise, SideNoise)>) -> f64 {
    match sides {
        Some((b, c)) => b.sd(floor).hypot(c.sd(floor)),
        None => 0.0,
    }
}

/// Widen a ratio interval: `units` independent units behind it, `floor_sd` of run-to-run noise,
/// each row at `confidence`. `None` when too few units support any interval.
pub(crate) fn widen_ratio(
    (low, high): (f64, f64),
    units: f64,
    floor_sd: f64,
    confidence: f64,
) -> Option<(f64, f64)> {
    if units < MIN_UNITS || low <= 0.0 || high <= 0.0 {
        return None;
    }
    let (l, h) = (low.ln(), high.ln());
    let (centre, half) = ((l + h) / 2.0, (h - l) / 2.0);
    let half = widened_half(half, units, floor_sd, confidence);
    Some(((centre - half).exp(), (centre + half).exp()))
}

/// Widen an interval of a difference (error rates): no run-to-run floor, only the small-sample
/// correction.
pub(crate) fn widen_difference(
    (low, high): (f64, f64),
    units: f64,
    confidence: f64,
) -> Option<(f64, f64)> {
    if units < MIN_UNITS {
        return None;
    }
    let (centre, half) = ((low + high) / 2.0, (high - low) / 2.0);
    let half = widened_half(half, units, 0.0, confidence);
    Some((centre - half, centre + half))
}

fn widened_half(half: f64, units: f64, floor_sd: f64, confidence: f64) -> f64 {
    let p = 1.0 - (1.0 - confidence) / 2.0;
    let z = plumb_stats::sample::normal_quantile(p);
    let df = (units - 1.0).max(1.0);
    let small = student_t_quantile(p, df) / z * (units / (units - 1.0)).sqrt();
    (half * small).hypot(z * floor_sd)
}

/// The `p` quantile of Student's t with `df` degrees of freedom: exact for 1 and 2, a
/// Cornish–Fisher expansion (Abramowitz & Stegun 26.7.5, within 0.5% from 3 on) beyond.
pub(crate) fn student_t_quantile(p: f64, df: f64) -> f64 {
    if df < 1.5 {
        return (std::f64::consts::PI * (p - 0.5)).tan();
    }
    if df < 2.5 {
        return (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt();
    }
    let z = plumb_stats::sample::normal_quantile(p);
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * df)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df.powi(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        for (p, df, table) in [
            (0.975, 1.0, 12.706),
            (0.975, 2.0, 4.303),
            (0.975, 5.0, 2.571),
            (0.975, 10.0, 2.228),
            (0.995, 29.0, 2.756),
        ] {
            let t = student_t_quantile(p, df);
            assert!(
                (t - table).abs() / table < 0.01,
                "t({p}, {df}) = {t}, table {table}"
            );
        }
    }

    #[test]
    fn widening_grows_with_few_units_and_with_noise() {
        let base = widen_ratio((0.98, 1.02), 1000.0, 0.0, 0.95).unwrap();
        assert!(
            (base.0 - 0.98).abs() < 0.002 && (base.1 - 1.02).abs() < 0.002,
            "{base:?}"
        );
        let few = widen_ratio((0.98, 1.02), 4.0, 0.0, 0.95).unwrap();
        // t(0.975, 3) / z · √(4/3) = 1.87: a 2% half-width becomes 3.7%.
        assert!(few.1 > 1.037 && few.1 < 1.039, "{few:?}");
        let noisy = widen_ratio((0.98, 1.02), 1000.0, 0.02, 0.95).unwrap();
        // √(2%² + (1.96 · 2%)²) = 4.4% on the log scale.
        assert!(noisy.1 > 1.044 && noisy.0 < 0.958, "{noisy:?}");
        assert_eq!(widen_ratio((0.98, 1.02), 1.0, 0.0, 0.95), None);
    }
}
