//! The runner's logic, driven by a scripted executor: run order, run counts, warmups, the shell
//! overhead subtraction, outliers and verdicts. Deterministic: no process runs, no clock is read.

use std::time::Duration;

use plumb_bench::mock::MockExecutor;
use plumb_bench::{BenchSettings, Order, RunCount, ShellMode, Silent};
use plumb_schema::bench::{BenchReport, Verdict};

use crate::{direct, took};

fn ms(millis: f64) -> Duration {
    Duration::from_secs_f64(millis / 1000.0)
}

/// Commands named `cmd-N` take N ms, with a small deterministic jitter per call.
fn by_name(
    invocation: &plumb_bench::Invocation,
    call: usize,
) -> std::io::Result<plumb_bench::Measurement> {
    let line = invocation
        .args
        .last()
        .cloned()
        .unwrap_or_else(|| invocation.program.clone());
    let millis: f64 = line.trim_start_matches("cmd-").parse().unwrap_or(1.0);
    let jitter = (call % 7) as f64 * 0.01 * millis;
    Ok(took(ms(millis + jitter), 1 << 20))
}

fn run_scripted(settings: &BenchSettings) -> (BenchReport, Vec<String>) {
    let mut executor = MockExecutor::new(by_name);
    let report = plumb_bench::run(settings, &mut executor, &mut Silent).unwrap();
    (report, executor.command_lines())
}

#[test]
fn interleaved_rounds_run_every_command_once_per_round() {
    let (_, lines) = run_scripted(&direct(&["cmd-10", "cmd-20", "cmd-30"], 4));
    assert_eq!(lines.len(), 12);
    for round in lines.chunks(3) {
        let mut sorted = round.to_vec();
        sorted.sort();
        assert_eq!(sorted, ["cmd-10", "cmd-20", "cmd-30"], "round {round:?}");
    }
    let orders: std::collections::HashSet<_> = lines.chunks(3).collect();
    assert!(orders.len() > 1, "rounds should be shuffled: {lines:?}");
}

#[test]
fn sequential_order_runs_each_command_to_the_end_first() {
    let mut settings = direct(&["cmd-10", "cmd-20"], 3);
    settings.order = Order::Sequential;
    settings.warmup = 1;
    let (report, lines) = run_scripted(&settings);
    assert_eq!(
        lines,
        ["cmd-10", "cmd-10", "cmd-10", "cmd-10", "cmd-20", "cmd-20", "cmd-20", "cmd-20"]
    );
    assert_eq!(
        report.benchmarks[0].runs.len(),
        3,
        "warmups are not measured"
    );
    let rounds: Vec<u32> = report.benchmarks[1].runs.iter().map(|r| r.round).collect();
    assert_eq!(
        rounds,
        [0, 1, 2],
        "sequential runs are numbered per command"
    );
}

#[test]
fn the_same_seed_gives_the_same_order_and_report() {
    let settings = direct(&["cmd-10", "cmd-20"], 6);
    let (first_report, first_lines) = run_scripted(&settings);
    let (second_report, second_lines) = run_scripted(&settings);
    assert_eq!(first_lines, second_lines);
    assert_eq!(first_report, second_report);
}

#[test]
fn the_automatic_run_count_needs_ten_runs_and_three_seconds() {
    let mut settings = direct(&["cmd-1000", "cmd-100"], 1);
    settings.runs = RunCount::default();
    let (report, _) = run_scripted(&settings);
    assert_eq!(
        report.benchmarks[0].runs.len(),
        10,
        "10 runs of ≥1 s pass 3 s"
    );
    let fast_runs = report.benchmarks[1].runs.len();
    assert!(
        (27..=30).contains(&fast_runs),
        "about 3 s of ~0.1 s runs, got {fast_runs}"
    );
}

#[test]
fn max_runs_caps_the_automatic_count() {
    let mut settings = direct(&["cmd-1"], 1);
    settings.runs = RunCount::Auto {
        min_runs: 10,
        min_time: Duration::from_secs(3),
        max_runs: Some(25),
        max_time: None,
    };
    let (report, _) = run_scripted(&settings);
    assert_eq!(report.benchmarks[0].runs.len(), 25);
}

#[test]
fn the_shell_overhead_is_subtracted_and_clamped_at_zero() {
    let mut settings = direct(&["cmd-10", "cmd-0.5"], 3);
    settings.shell = ShellMode::Shell("sh".into());
    let mut executor = MockExecutor::new(|invocation, _| {
        let line = invocation.args.last().unwrap();
        assert_eq!(invocation.program, "sh");
        let millis = match line.as_str() {
            "" => 1.0,
            "cmd-10" => 11.0,
            _ => 0.5,
        };
        Ok(took(ms(millis), 1 << 20))
    });
    let report = plumb_bench::run(&settings, &mut executor, &mut Silent).unwrap();
    let calibration_runs = executor
        .command_lines()
        .iter()
        .filter(|l| l.is_empty())
        .count();
    assert_eq!(
        calibration_runs,
        plumb_bench::SHELL_CALIBRATION_RUNS as usize + 3,
        "the up-front calibration, then one run in each of the 3 rounds"
    );
    assert_eq!(report.shell_overhead.as_ref().unwrap().runs, 23);
    assert!((report.shell_overhead.as_ref().unwrap().wall_seconds - 0.001).abs() < 1e-9);
    assert!((report.benchmarks[0].stats.wall.median_seconds - 0.010).abs() < 1e-9);
    assert_eq!(report.benchmarks[1].stats.wall.max_seconds, 0.0);
}

#[test]
fn a_clearly_slower_command_is_ranked_with_an_interval() {
    let (report, _) = run_scripted(&direct(&["cmd-20", "cmd-10"], 20));
    let comparison = report.comparison.unwrap();
    assert_eq!(comparison.fastest, 1);
    let other = &comparison.others[0];
    assert_eq!(other.verdict, Verdict::Slower);
    let (ratio, low, high) = (
        other.ratio.unwrap(),
        other.ratio_low.unwrap(),
        other.ratio_high.unwrap(),
    );
    assert!((1.9..2.1).contains(&ratio), "{other:?}");
    assert!(low <= ratio && ratio <= high && low > 1.0, "{other:?}");
    assert!(other.p_value < 0.001);
}

#[test]
fn identical_commands_are_not_ranked() {
    let (report, _) = run_scripted(&direct(&["cmd-10", "cmd-10.0"], 20));
    let other = &report.comparison.unwrap().others[0];
    assert_eq!(other.verdict, Verdict::NoSignificantDifference, "{other:?}");
    assert!(other.p_value > 0.05);
}

#[test]
fn a_slow_first_run_is_flagged_as_cold_caches() {
    let mut executor = MockExecutor::new(|_, call| {
        Ok(took(
            ms(if call == 0 {
                50.0
            } else {
                10.0 + call as f64 * 0.01
            }),
            1,
        ))
    });
    let report = plumb_bench::run(&direct(&["cmd"], 10), &mut executor, &mut Silent).unwrap();
    let outliers = &report.benchmarks[0].outliers;
    assert_eq!(outliers.indices, [0]);
    assert!(outliers.slow_first_run);
}

#[test]
fn no_commands_is_an_error() {
    let mut executor = MockExecutor::new(by_name);
    let error = plumb_bench::run(&direct(&[], 1), &mut executor, &mut Silent).unwrap_err();
    assert!(matches!(error, plumb_bench::BenchError::NoCommands));
}

/// Asks to stop once `after` processes have run, as Ctrl-C would.
struct StopAfter {
    after: usize,
    seen: std::cell::Cell<usize>,
}

impl plumb_bench::Observer for StopAfter {
    fn progress(&mut self, _: &plumb_bench::Progress<'_>) {}

    fn should_stop(&self) -> bool {
        self.seen.set(self.seen.get() + 1);
        self.seen.get() > self.after
    }
}

#[test]
fn an_interrupt_keeps_the_runs_measured_until_then() {
    let mut executor = MockExecutor::new(by_name);
    let mut observer = StopAfter {
        after: 5,
        seen: Default::default(),
    };
    let report = plumb_bench::run(
        &direct(&["cmd-10", "cmd-20"], 100),
        &mut executor,
        &mut observer,
    )
    .unwrap();
    assert!(report.interrupted);
    let measured: usize = report.benchmarks.iter().map(|b| b.runs.len()).sum();
    assert_eq!(
        measured, 5,
        "the sixth run was going on when the interrupt came: it does not count"
    );
}

#[test]
fn an_interrupt_before_any_run_is_an_error() {
    let mut executor = MockExecutor::new(by_name);
    let mut observer = StopAfter {
        after: 0,
        seen: Default::default(),
    };
    let error =
        plumb_bench::run(&direct(&["cmd-10"], 100), &mut executor, &mut observer).unwrap_err();
    assert!(
        matches!(error, plumb_bench::BenchError::Interrupted),
        "{error:?}"
    );
}
