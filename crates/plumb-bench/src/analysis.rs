//! From raw samples to a [`BenchReport`]: per-command statistics, outliers, and the comparison of
//! every command with the fastest (bootstrap interval of the ratio of medians, Mann–Whitney U).

use plumb_schema::bench::{
    BenchReport, BenchStats, BenchmarkRecord, Comparison, Outliers, RatioRecord, RunOrder,
    RunRecord, SettingsRecord, ShellOverhead, TimeStats, Verdict, BENCH_SCHEMA_VERSION,
};
use plumb_stats::sample::{self, Summary};

use crate::executor::ExitKind;
use crate::runner::{Overhead, RawResults, Sample};
use crate::settings::{BenchSettings, Order, ShellMode};

/// Confidence level of the ratio intervals.
pub const CONFIDENCE: f64 = 0.95;
/// Significance level of the Mann–Whitney test.
pub const ALPHA: f64 = 0.05;
/// Bootstrap resamples per interval, for samples of up to a few thousand runs.
pub const RESAMPLES: u32 = 10_000;
/// Fewest bootstrap resamples, however many runs there are.
const MIN_RESAMPLES: u32 = 1_000;
/// Values drawn per comparison at most (resamples × runs of both commands): keeps the analysis
/// of very long benchmarks to about a second.
const BOOTSTRAP_BUDGET: usize = 50_000_000;

/// Resamples for samples of these sizes: [`RESAMPLES`], fewer when the runs are many.
fn resamples_for(largest_sample: usize) -> u32 {
    let affordable = BOOTSTRAP_BUDGET / (2 * largest_sample).max(1);
    u32::try_from(affordable)
        .unwrap_or(u32::MAX)
        .clamp(MIN_RESAMPLES, RESAMPLES)
}

/// Build the report of a finished benchmark.
pub fn report(settings: &BenchSettings, raw: &RawResults) -> BenchReport {
    let benchmarks: Vec<BenchmarkRecord> = raw
        .benchmarks
        .iter()
        .zip(&raw.samples)
        .map(|(benchmark, samples)| BenchmarkRecord {
            name: benchmark.name.clone(),
            command: benchmark.command.clone(),
            parameters: benchmark.parameters.clone(),
            runs: samples.iter().map(run_record).collect(),
            stats: stats(samples),
            outliers: outliers(samples),
        })
        .collect();
    BenchReport {
        schema_version: BENCH_SCHEMA_VERSION,
        plumb_version: env!("CARGO_PKG_VERSION").to_owned(),
        settings: settings_record(settings, raw.seed),
        shell_overhead: raw
            .overhead
            .map(|o| shell_overhead(o, raw.calibration_runs)),
        comparison: comparison(&raw.samples, raw.seed),
        peak_rss_floor_bytes: raw.peak_rss_floor,
        interrupted: raw.interrupted,
        benchmarks,
        host_noise: None,
    }
}

fn settings_record(settings: &BenchSettings, seed: u64) -> SettingsRecord {
    SettingsRecord {
        warmup_runs: settings.warmup,
        shell: match &settings.shell {
            ShellMode::Shell(shell) => Some(shell.clone()),
            ShellMode::NoShell => None,
        },
        order: match settings.order {
            Order::Interleaved => RunOrder::Interleaved,
            Order::Sequential => RunOrder::Sequential,
        },
        seed,
        prepare: settings.prepare.clone(),
        setup: settings.setup.clone(),
        cleanup: settings.cleanup.clone(),
    }
}

fn shell_overhead(overhead: Overhead, runs: u32) -> ShellOverhead {
    ShellOverhead {
        runs,
        wall_seconds: overhead.wall.as_secs_f64(),
        wall_mad_seconds: overhead.wall_spread.as_secs_f64(),
        user_seconds: overhead.user.as_secs_f64(),
        system_seconds: overhead.system.as_secs_f64(),
    }
}

fn run_record(sample: &Sample) -> RunRecord {
    let m = &sample.measurement;
    RunRecord {
        round: sample.round,
        wall_seconds: m.wall.as_secs_f64(),
        user_seconds: m.user.as_secs_f64(),
        system_seconds: m.system.as_secs_f64(),
        peak_rss_bytes: m.peak_rss_bytes,
        voluntary_context_switches: m.voluntary_context_switches,
        involuntary_context_switches: m.involuntary_context_switches,
        block_input_ops: m.block_input_ops,
        block_output_ops: m.block_output_ops,
        exit_code: match m.exit {
            ExitKind::Code(code) => Some(code),
            ExitKind::Signal(_) => None,
        },
        signal: match m.exit {
            ExitKind::Signal(signal) => Some(signal),
            ExitKind::Code(_) => None,
        },
    }
}

/// Wall times in seconds.
fn walls(samples: &[Sample]) -> Vec<f64> {
    samples
        .iter()
        .map(|s| s.measurement.wall.as_secs_f64())
        .collect()
}

fn stats(samples: &[Sample]) -> BenchStats {
    let column = |pick: fn(&Sample) -> f64| -> Vec<f64> { samples.iter().map(pick).collect() };
    let wall = Summary::of(&walls(samples));
    let rss = column(|s| s.measurement.peak_rss_bytes as f64);
    BenchStats {
        runs: u32::try_from(samples.len()).unwrap_or(u32::MAX),
        wall: TimeStats {
            mean_seconds: wall.map_or(0.0, |w| w.mean),
            stddev_seconds: wall.and_then(|w| w.stddev),
            median_seconds: wall.map_or(0.0, |w| w.median),
            mad_seconds: wall.map_or(0.0, |w| w.mad),
            min_seconds: wall.map_or(0.0, |w| w.min),
            max_seconds: wall.map_or(0.0, |w| w.max),
        },
        user_mean_seconds: mean_or_zero(&column(|s| s.measurement.user.as_secs_f64())),
        system_mean_seconds: mean_or_zero(&column(|s| s.measurement.system.as_secs_f64())),
        peak_rss_median_bytes: if rss.is_empty() {
            0
        } else {
            sample::median(&rss).round() as u64
        },
        peak_rss_max_bytes: samples
            .iter()
            .map(|s| s.measurement.peak_rss_bytes)
            .max()
            .unwrap_or(0),
        voluntary_context_switches_mean: mean_or_zero(&column(|s| {
            s.measurement.voluntary_context_switches as f64
        })),
        involuntary_context_switches_mean: mean_or_zero(&column(|s| {
            s.measurement.involuntary_context_switches as f64
        })),
    }
}

fn mean_or_zero(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        sample::mean(values)
    }
}

fn outliers(samples: &[Sample]) -> Outliers {
    let walls = walls(samples);
    let indices = sample::outlier_indices(&walls);
    let slow_first_run = indices.first() == Some(&0) && walls[0] > sample::median(&walls);
    Outliers {
        z_threshold: sample::OUTLIER_Z,
        indices,
        slow_first_run,
    }
}

/// Compare every command with the fastest; `None` with fewer than two commands.
fn comparison(samples: &[Vec<Sample>], seed: u64) -> Option<Comparison> {
    if samples.len() < 2 {
        return None;
    }
    let walls: Vec<Vec<f64>> = samples.iter().map(|s| walls(s)).collect();
    let medians: Vec<f64> = walls.iter().map(|w| sample::median(w)).collect();
    let fastest = (0..medians.len()).min_by(|&a, &b| medians[a].total_cmp(&medians[b]))?;
    let resamples = resamples_for(walls.iter().map(Vec::len).max().unwrap_or(0));
    let others = (0..walls.len())
        .filter(|&index| index != fastest)
        .map(|index| {
            let seed = seed.wrapping_add(index as u64);
            ratio(index, &walls[index], &walls[fastest], resamples, seed)
        })
        .collect();
    Some(Comparison {
        fastest,
        confidence: CONFIDENCE,
        alpha: ALPHA,
        resamples,
        others,
    })
}

fn ratio(index: usize, slower: &[f64], fastest: &[f64], resamples: u32, seed: u64) -> RatioRecord {
    let interval =
        sample::bootstrap_ratio_of_medians(slower, fastest, resamples as usize, CONFIDENCE, seed);
    let p_value = sample::mann_whitney_u(slower, fastest).map_or(1.0, |test| test.p_value);
    let excludes_one = interval.is_none_or(|i| i.low > 1.0);
    let verdict = if p_value < ALPHA && excludes_one {
        Verdict::Slower
    } else {
        Verdict::NoSignificantDifference
    };
    RatioRecord {
        benchmark: index,
        ratio: interval.map(|i| i.value),
        ratio_low: interval.map(|i| i.low),
        ratio_high: interval.map(|i| i.high),
        p_value,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_benchmarks_get_fewer_resamples_but_never_too_few() {
        assert_eq!(resamples_for(10), RESAMPLES);
        assert_eq!(resamples_for(2_500), RESAMPLES);
        assert_eq!(resamples_for(5_000), 5_000);
        assert_eq!(resamples_for(10_000_000), MIN_RESAMPLES);
    }
}
