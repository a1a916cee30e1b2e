//! Bench rows against known truth: seeded synthetic runs, and real commands.

use crate::support::{lognormal, rng};
use plumb_compare::{compare_bench, compare_runs, CompareSettings, Stat, Unit, Verdict};

fn judged(base: &[f64], cand: &[f64], stat: Stat) -> plumb_compare::Row {
    compare_runs(
        "t",
        Unit::Seconds,
        stat,
        base,
        cand,
        &CompareSettings::default(),
    )
}

#[test]
fn a_a_is_never_regressed_or_improved_in_95_percent_of_seeded_trials() {
    let _serial = crate::support::serial();
    let trials = 200;
    let mut called = 0;
    for seed in 0..trials {
        let mut r = rng(seed);
        let (a, b) = (
            lognormal(&mut r, 20, 0.010, 0.03),
            lognormal(&mut r, 20, 0.010, 0.03),
        );
        for stat in [Stat::Median, Stat::Mean] {
            let row = judged(&a, &b, stat);
            if matches!(row.verdict, Verdict::Regressed | Verdict::Improved) {
                called += 1;
            }
        }
    }
    assert!(
        called as f64 <= 0.05 * (2 * trials) as f64,
        "{called} of {} A/A comparisons were called regressed or improved",
        2 * trials
    );
}

#[test]
fn a_5_percent_shift_of_the_median_is_caught_with_80_percent_power_at_30_runs() {
    let _serial = crate::support::serial();
    let trials = 100;
    let mut caught = 0;
    for seed in 0..trials {
        let mut r = rng(1000 + seed);
        let base = lognormal(&mut r, 30, 0.010, 0.02);
        let cand = lognormal(&mut r, 30, 0.0105, 0.02);
        if judged(&base, &cand, Stat::Median).verdict == Verdict::Regressed {
            caught += 1;
        }
    }
    assert!(caught >= 80, "caught {caught} of {trials}");
}

#[test]
fn the_mean_row_estimates_the_mean_where_mean_and_median_move_apart() {
    let _serial = crate::support::serial();
    // The candidate's slowest 5% of runs take 4x as long: the mean moves a lot, the median not.
    let tail = |values: &mut Vec<f64>| {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let cut = sorted[(sorted.len() * 95) / 100];
        for v in values.iter_mut().filter(|v| **v > cut) {
            *v *= 4.0;
        }
    };
    let mut truth = lognormal(&mut rng(7), 400_000, 0.010, 0.5);
    let base_mean = truth.iter().sum::<f64>() / truth.len() as f64;
    tail(&mut truth);
    let true_change = truth.iter().sum::<f64>() / truth.len() as f64 / base_mean - 1.0;
    let (mut covered, trials) = (0, 60);
    let (mut mean_moves, mut median_moves) = (0.0, 0.0);
    for seed in 0..trials {
        let mut r = rng(5000 + seed);
        let base = lognormal(&mut r, 200, 0.010, 0.5);
        let mut cand = lognormal(&mut r, 200, 0.010, 0.5);
        tail(&mut cand);
        let mean = judged(&base, &cand, Stat::Mean).change.expect("a change");
        if mean.low <= true_change && true_change <= mean.high {
            covered += 1;
        }
        let median = judged(&base, &cand, Stat::Median).change.expect("a change");
        mean_moves += mean.point / trials as f64;
        median_moves += median.point / trials as f64;
    }
    assert!(
        covered >= 51,
        "the mean's interval held the truth in {covered} of {trials}"
    );
    assert!(
        (mean_moves - true_change).abs() < 0.1 && median_moves.abs() < 0.03,
        "on average the mean moved {mean_moves} (truth {true_change}), the median {median_moves}"
    );
}

#[test]
fn rows_show_the_statistic_they_estimate() {
    let _serial = crate::support::serial();
    let base = vec![1.0, 1.0, 1.0, 1.0, 10.0];
    let cand = vec![1.1, 1.1, 1.1, 1.1, 1.1];
    let median = judged(&base, &cand, Stat::Median);
    assert_eq!((median.baseline, median.candidate), (1.0, 1.1));
    let mean = judged(&base, &cand, Stat::Mean);
    assert!((mean.baseline - 2.8).abs() < 1e-12 && (mean.candidate - 1.1).abs() < 1e-12);
    assert!(mean.change.unwrap().point < 0.0 && median.change.unwrap().point > 0.0);
}

fn real(commands: &[&str], runs: u32, seed: u64) -> plumb_schema::bench::BenchReport {
    let mut settings = plumb_bench::BenchSettings::new(
        commands
            .iter()
            .enumerate()
            .map(|(i, c)| plumb_bench::CommandSpec {
                command: c.to_string(),
                name: Some(format!("{c} #{i}")),
            })
            .collect(),
    );
    settings.runs = plumb_bench::RunCount::Exact(runs);
    settings.shell = plumb_bench::ShellMode::NoShell;
    settings.seed = Some(seed);
    plumb_bench::run(
        &settings,
        &mut plumb_bench::ProcessExecutor::new(),
        &mut plumb_bench::Silent,
    )
    .expect("the commands run")
}

/// One benchmark of a two-command report, as its own report.
fn only(
    report: &plumb_schema::bench::BenchReport,
    index: usize,
) -> plumb_schema::bench::BenchReport {
    let mut one = report.clone();
    one.benchmarks = vec![report.benchmarks[index].clone()];
    one
}

#[test]
fn twenty_real_a_a_pairs_are_never_regressed_or_improved() {
    let _serial = crate::support::serial();
    for seed in 0..20 {
        // The same command twice, interleaved: any verdict but "no change" is a false alarm.
        let report = real(&["true", "true"], 15, seed);
        let (a, b) = (only(&report, 0), only(&report, 1));
        let comparison = compare_bench(&[&a], &[&b], &CompareSettings::default());
        for row in &comparison.rows {
            assert!(
                !matches!(row.verdict, Verdict::Regressed | Verdict::Improved),
                "pair {seed}: {row:?}"
            );
        }
    }
}

#[test]
fn sleep_20_ms_against_24_ms_regresses_by_about_20_percent() {
    let _serial = crate::support::serial();
    let report = real(&["sleep 0.020", "sleep 0.024"], 30, 3);
    let (a, b) = (only(&report, 0), only(&report, 1));
    let comparison = compare_bench(&[&a], &[&b], &CompareSettings::default());
    let median = &comparison.rows[0];
    assert_eq!(median.verdict, Verdict::Regressed, "{median:?}");
    let change = median.change.unwrap().point;
    assert!((0.12..0.23).contains(&change), "{change}");
    // Short commands' CPU times support no verdict, and sleep's memory does not change.
    for row in &comparison.rows[2..4] {
        assert!(matches!(row.verdict, Verdict::NotComparable(_)), "{row:?}");
    }
    let memory = &comparison.rows[4];
    assert!(
        !matches!(memory.verdict, Verdict::Regressed | Verdict::Improved),
        "{memory:?}"
    );
}
