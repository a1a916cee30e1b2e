//! Bench comparisons: each benchmark's runs pooled over the results of each side (as benchstat
//! does), matched by name, and judged row by row on wall time (median and mean), user and system
//! CPU, and peak memory.

use crate::bootstrap::{self, interval, mean_at, median_at, Resampling, Side};
use crate::judge::{judge_ratio, not_comparable, Judged};
use crate::widen::{
    floor_sd, Floor, SideNoise, FLOOR_CPU_TIME, FLOOR_MEAN_OF_RUNS, FLOOR_MEDIAN_OF_RUNS,
    FLOOR_MEMORY,
};
use crate::{CompareSettings, Comparison, Direction, Row, Unit};
use plumb_schema::bench::{BenchReport, RunRecord};

/// Rows judged for each benchmark (wall median and mean, user, system, peak memory).
const ROWS_PER_BENCHMARK: usize = 5;
/// Below this much CPU a run, the kernel's user/system split is a guess: it divides the precise
/// total in the ratio of timer ticks sampled in each mode, and a short run sees a few ticks or none.
const MIN_CPU_FOR_SPLIT: f64 = 0.050;
/// Fewer runs than this on a side support no verdict.
const MIN_RUNS: usize = 3;
/// A side whose values are zero this often is "mostly zero" (CPU times of short commands).
const MOSTLY_ZERO: f64 = 0.25;
/// Fewer distinct values than this (with more runs) make a side "coarse".
const MIN_DISTINCT: usize = 5;
/// A peak RSS within this factor of plumb's fork floor sits on the floor.
const FLOOR_MARGIN: f64 = 1.05;

/// Compare the first two benchmarks of one report round by round (`plumb compare --ab`): each
/// round ran both back to back, so rounds are resampled as pairs.
pub fn compare_paired_bench(report: &BenchReport, settings: &CompareSettings) -> Comparison {
    let mut comparison = Comparison {
        warnings: crate::noise_warnings("paired rounds", &[report.host_noise.as_ref()]),
        ..Comparison::default()
    };
    let [a, b, ..] = report.benchmarks.as_slice() else {
        comparison
            .warnings
            .push("fewer than two benchmarks: nothing to compare".into());
        return comparison;
    };
    let settings = &settings.per_row(ROWS_PER_BENCHMARK);
    comparison.row_confidence = settings.confidence;
    let (ra, rb) = (by_round(&a.runs), by_round(&b.runs));
    let design = if ra.len() == rb.len() {
        Resampling::Paired
    } else {
        comparison
            .warnings
            .push("the two commands ran a different number of rounds: compared unpaired".into());
        Resampling::Independent
    };
    let design = Design {
        resampling: design,
        sides: None,
    };
    comparison.rows = benchmark_rows("", &ra, &rb, report.peak_rss_floor_bytes, design, settings);
    comparison
}

/// A benchmark's successful runs in round order.
fn by_round(runs: &[RunRecord]) -> Vec<&RunRecord> {
    let mut runs: Vec<&RunRecord> = runs
        .iter()
        .filter(|r| r.exit_code == Some(0) && r.signal.is_none())
        .collect();
    runs.sort_by_key(|r| r.round);
    runs
}

/// Compare the benchmarks of `base` with those of `cand`.
pub fn compare_bench(
    base: &[&BenchReport],
    cand: &[&BenchReport],
    settings: &CompareSettings,
) -> Comparison {
    let mut comparison = Comparison::default();
    let settings = &settings.per_row(ROWS_PER_BENCHMARK * names(cand).len());
    comparison.row_confidence = settings.confidence;
    let floor = base
        .iter()
        .chain(cand)
        .filter_map(|r| r.peak_rss_floor_bytes)
        .max();
    for (side, reports) in [("baseline", base), ("candidate", cand)] {
        let noises: Vec<_> = reports.iter().map(|r| r.host_noise.as_ref()).collect();
        comparison
            .warnings
            .extend(crate::noise_warnings(side, &noises));
        let interrupted = reports.iter().filter(|r| r.interrupted).count();
        if interrupted > 0 {
            comparison.warnings.push(format!(
                "{interrupted} {side} run(s) were interrupted: they cover only the part that ran"
            ));
        }
    }
    let noise = |reports: &[&BenchReport]| {
        let noises: Vec<_> = reports.iter().map(|r| r.host_noise.as_ref()).collect();
        SideNoise::of(&noises)
    };
    let design = Design {
        resampling: Resampling::Independent,
        sides: Some((noise(base), noise(cand))),
    };
    let base_names = names(base);
    let cand_names = names(cand);
    let single = base_names.len() == 1 && cand_names.len() == 1;
    for name in &cand_names {
        let base_name = if single { &base_names[0] } else { name };
        let (b, c) = (pooled_runs(base, base_name), pooled_runs(cand, name));
        if b.is_empty() {
            comparison.warnings.push(format!(
                "benchmark '{name}' has no baseline runs: not compared"
            ));
            continue;
        }
        let prefix = if single && base_name != name {
            String::new()
        } else {
            format!("{name}: ")
        };
        comparison
            .rows
            .extend(benchmark_rows(&prefix, &b, &c, floor, design, settings));
    }
    comparison
}

fn names(reports: &[&BenchReport]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for b in reports.iter().flat_map(|r| &r.benchmarks) {
        if !names.contains(&b.name) {
            names.push(b.name.clone());
        }
    }
    names
}

/// Every successful run of benchmark `name` across the reports.
fn pooled_runs<'a>(reports: &[&'a BenchReport], name: &str) -> Vec<&'a RunRecord> {
    reports
        .iter()
        .flat_map(|r| &r.benchmarks)
        .filter(|b| b.name == name)
        .flat_map(|b| &b.runs)
        .filter(|r| r.exit_code == Some(0) && r.signal.is_none())
        .collect()
}

/// How a comparison's values were collected: resampled how, and, for separate runs, each side's
/// run-to-run noise (`None` for paired rounds, whose pairing removes it).
#[derive(Debug, Clone, Copy)]
struct Design {
    resampling: Resampling,
    sides: Option<(SideNoise, SideNoise)>,
}

/// The statistic a bench row estimates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// The median of the runs.
    Median,
    /// The mean of the runs.
    Mean,
}

fn benchmark_rows(
    prefix: &str,
    base: &[&RunRecord],
    cand: &[&RunRecord],
    floor: Option<u64>,
    design: Design,
    settings: &CompareSettings,
) -> Vec<Row> {
    let take = |runs: &[&RunRecord], f: fn(&RunRecord) -> f64| -> Vec<f64> {
        runs.iter().map(|r| f(r)).collect()
    };
    let wall = (
        take(base, |r| r.wall_seconds),
        take(cand, |r| r.wall_seconds),
    );
    let user = (
        take(base, |r| r.user_seconds),
        take(cand, |r| r.user_seconds),
    );
    let system = (
        take(base, |r| r.system_seconds),
        take(cand, |r| r.system_seconds),
    );
    let cpu = (
        take(base, |r| r.user_seconds + r.system_seconds),
        take(cand, |r| r.user_seconds + r.system_seconds),
    );
    let rss = (
        take(base, |r| r.peak_rss_bytes as f64),
        take(cand, |r| r.peak_rss_bytes as f64),
    );
    let row = |metric: &str,
               (unit, stat, noise): (Unit, Stat, Floor),
               values: &(Vec<f64>, Vec<f64>),
               problem: Option<String>| {
        let metric = format!("{prefix}{metric}");
        let (b, c) = values;
        let floor_sd = floor_sd(noise, design.sides);
        match problem {
            Some(reason) => not_comparable_row(&metric, unit, stat, b, c, &reason),
            None => judge_runs(
                &metric,
                unit,
                stat,
                (b, c),
                (design.resampling, floor_sd),
                settings,
            ),
        }
    };
    let seconds = |stat, noise| (Unit::Seconds, stat, noise);
    vec![
        row(
            "wall time",
            seconds(Stat::Median, FLOOR_MEDIAN_OF_RUNS),
            &wall,
            None,
        ),
        row(
            "wall time",
            seconds(Stat::Mean, FLOOR_MEAN_OF_RUNS),
            &wall,
            None,
        ),
        row(
            "user CPU",
            seconds(Stat::Mean, FLOOR_CPU_TIME),
            &user,
            cpu_problem(&user, &cpu),
        ),
        row(
            "system CPU",
            seconds(Stat::Mean, FLOOR_CPU_TIME),
            &system,
            cpu_problem(&system, &cpu),
        ),
        row(
            "peak memory",
            (Unit::Bytes, Stat::Median, FLOOR_MEMORY),
            &rss,
            at_floor(&rss, floor),
        ),
    ]
}

/// Compare one metric's per-run values (lower is better) on the median or the mean of runs.
pub fn compare_runs(
    metric: &str,
    unit: Unit,
    stat: Stat,
    b: &[f64],
    c: &[f64],
    settings: &CompareSettings,
) -> Row {
    judge_runs(
        metric,
        unit,
        stat,
        (b, c),
        (Resampling::Independent, 0.0),
        settings,
    )
}

fn judge_runs(
    metric: &str,
    unit: Unit,
    stat: Stat,
    (b, c): (&[f64], &[f64]),
    (design, floor_sd): (Resampling, f64),
    settings: &CompareSettings,
) -> Row {
    let samples = (b.len(), c.len());
    if let Some(reason) = too_few(samples) {
        return not_comparable_row(metric, unit, stat, b, c, &reason);
    }
    let mut scratch = Vec::new();
    let ratio = interval(samples, design, settings, (false, floor_sd), |side, idx| {
        let values = if side == Side::Baseline { b } else { c };
        match stat {
            Stat::Median => median_at(values, idx, &mut scratch),
            Stat::Mean => mean_at(values, idx),
        }
    });
    let (baseline, candidate) = (stat_of(stat, b), stat_of(stat, c));
    let mut judged = judge_ratio(
        baseline,
        candidate,
        ratio,
        Direction::LowerIsBetter,
        settings.tolerance,
        samples,
    );
    if floor_sd > 0.0 {
        // Run-to-run noise does not shrink with more samples of one run: only more runs help.
        judged.more_samples = None;
    }
    bench_row(metric, unit, stat, (baseline, candidate), judged, samples)
}

fn not_comparable_row(
    metric: &str,
    unit: Unit,
    stat: Stat,
    b: &[f64],
    c: &[f64],
    reason: &str,
) -> Row {
    let values = (stat_of(stat, b), stat_of(stat, c));
    bench_row(
        metric,
        unit,
        stat,
        values,
        not_comparable(reason),
        (b.len(), c.len()),
    )
}

fn stat_of(stat: Stat, values: &[f64]) -> f64 {
    match stat {
        Stat::Median => bootstrap::median(values),
        Stat::Mean => bootstrap::mean(values),
    }
}

fn bench_row(
    metric: &str,
    unit: Unit,
    stat: Stat,
    (baseline, candidate): (f64, f64),
    judged: Judged,
    samples: (usize, usize),
) -> Row {
    let name = match stat {
        Stat::Median => "median",
        Stat::Mean => "mean",
    };
    Row {
        metric: metric.to_string(),
        statistic: format!("{name} of runs"),
        unit,
        direction: Direction::LowerIsBetter,
        baseline,
        candidate,
        change: judged.change,
        verdict: judged.verdict,
        more_samples: judged.more_samples,
        samples,
    }
}

fn too_few((b, c): (usize, usize)) -> Option<String> {
    (b.min(c) < MIN_RUNS).then(|| format!("too few runs ({b} and {c}; at least {MIN_RUNS} a side)"))
}

/// Why a user or system CPU row cannot support a verdict: the runs are too short for the
/// kernel's split, or the values are coarse.
fn cpu_problem(values: &(Vec<f64>, Vec<f64>), total: &(Vec<f64>, Vec<f64>)) -> Option<String> {
    let shortest = bootstrap::median(&total.0).min(bootstrap::median(&total.1));
    if shortest < MIN_CPU_FOR_SPLIT {
        return Some(format!(
            "runs use {:.1} ms of CPU, too little for the kernel's user/system split (needs {:.0} ms; it counts timer ticks)",
            shortest * 1e3,
            MIN_CPU_FOR_SPLIT * 1e3
        ));
    }
    coarse(values)
}

/// Why CPU times cannot support a verdict: mostly zero, or too few distinct values (the kernel
/// accounts CPU time in ticks, so a short command's times are a handful of tick multiples).
fn coarse((b, c): &(Vec<f64>, Vec<f64>)) -> Option<String> {
    for side in [b, c] {
        if side.is_empty() {
            continue;
        }
        let zeros = side.iter().filter(|v| **v <= 0.0).count();
        if zeros as f64 > MOSTLY_ZERO * side.len() as f64 {
            return Some(format!(
                "mostly zero ({zeros} of {} runs measured 0): too short to time",
                side.len()
            ));
        }
        let mut distinct: Vec<u64> = side.iter().map(|v| (v * 1e6).round() as u64).collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < MIN_DISTINCT && side.len() > distinct.len() {
            return Some(format!(
                "coarse: only {} distinct values in {} runs (CPU time is counted in clock ticks)",
                distinct.len(),
                side.len()
            ));
        }
    }
    None
}

/// Why peak memory cannot support a verdict: the values sit on plumb's own fork floor, which
/// Linux reports for any child that used less.
fn at_floor((b, c): &(Vec<f64>, Vec<f64>), floor: Option<u64>) -> Option<String> {
    let floor = floor? as f64;
    // Near the floor, not below it: a child spawned without copying plumb reports less.
    let on_floor = |side: &Vec<f64>| {
        let median = bootstrap::median(side);
        median <= floor * FLOOR_MARGIN && median >= floor / FLOOR_MARGIN
    };
    (on_floor(b) || on_floor(c)).then(|| {
        format!(
            "at the measurement floor ({:.1} MiB, plumb's own size at fork): the command used this much or less",
            floor / (1024.0 * 1024.0)
        )
    })
}
