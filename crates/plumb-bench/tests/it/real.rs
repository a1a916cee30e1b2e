//! Real processes: these tests spawn `sleep`, `sh`, `false` and the fixture binary. Timing bounds
//! are deliberately loose (a shared, noisy machine): they fail on wrong measurements, not on slow ones.

use std::time::Duration;

use plumb_bench::{
    BenchError, FailurePolicy, Order, Parameter, ProcessExecutor, Role, ShellMode, Silent,
};
use plumb_schema::bench::BenchReport;

use crate::{direct, fixture};

const MIB: u64 = 1024 * 1024;

fn run(settings: &plumb_bench::BenchSettings) -> Result<BenchReport, BenchError> {
    plumb_bench::run(settings, &mut ProcessExecutor::new(), &mut Silent)
}

#[test]
fn sleep_is_timed_from_spawn_to_exit() {
    let report = run(&direct(&["sleep 0.1"], 3)).unwrap();
    let wall = &report.benchmarks[0].stats.wall;
    assert!(
        wall.min_seconds >= 0.099,
        "sleep 0.1 cannot take {} s",
        wall.min_seconds
    );
    assert!(
        wall.median_seconds < 0.5,
        "median {} s is far too long",
        wall.median_seconds
    );
    let runs = &report.benchmarks[0].runs;
    assert_eq!(runs.len(), 3);
    assert!(
        runs.iter().all(|r| r.voluntary_context_switches >= 1),
        "sleeping means waiting: {runs:?}"
    );
}

#[test]
fn cpu_bound_work_shows_up_as_user_time_no_larger_than_wall_time() {
    let command = format!("{} spin 20000000", fixture());
    let report = run(&direct(&[&command], 3)).unwrap();
    for run in &report.benchmarks[0].runs {
        assert!(
            run.user_seconds >= 0.005,
            "a spin loop must use CPU: {run:?}"
        );
        assert!(
            run.user_seconds <= run.wall_seconds + 0.005,
            "one thread cannot use more CPU than wall time: {run:?}"
        );
    }
}

#[test]
fn peak_rss_is_per_child_and_does_not_carry_over_from_a_bigger_one() {
    // hyperfine's bug: RUSAGE_CHILDREN keeps the largest child ever seen, so the small command
    // that runs after the big one would report 96 MiB too.
    let big = format!("{} alloc 96", fixture());
    let small = format!("{} alloc 8", fixture());
    let mut settings = direct(&[&big, &small], 3);
    settings.order = Order::Sequential;
    let report = run(&settings).unwrap();
    let (big, small) = (&report.benchmarks[0].stats, &report.benchmarks[1].stats);
    assert!(big.peak_rss_median_bytes >= 96 * MIB, "{big:?}");
    assert!(big.peak_rss_median_bytes < 96 * MIB + 24 * MIB, "{big:?}");
    assert!(small.peak_rss_max_bytes >= 8 * MIB, "{small:?}");
    assert!(
        small.peak_rss_max_bytes < 48 * MIB,
        "the big child's peak leaked into the small one: {small:?}"
    );
}

/// The floor is the measuring process's own peak RSS: a process-wide figure, so it is checked in
/// a process of its own (this test binary run again for this one test), where no other test's
/// allocations can raise it. In one long `cargo test --workspace` run, this binary's own peak
/// once passed 96 MiB while the children it measured stayed per child.
#[test]
fn the_peak_rss_floor_is_plumbs_own_peak_not_a_childs() {
    const ALONE: &str = "PLUMB_BENCH_FLOOR_ALONE";
    if std::env::var_os(ALONE).is_none() {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "real::the_peak_rss_floor_is_plumbs_own_peak_not_a_childs",
            ])
            .env(ALONE, "1")
            .status()
            .expect("the test binary runs again");
        assert!(status.success(), "the isolated run failed");
        return;
    }
    let big = format!("{} alloc 96", fixture());
    let report = run(&direct(&[&big], 3)).unwrap();
    let floor = report
        .peak_rss_floor_bytes
        .expect("the real executor knows its own peak");
    assert!(
        floor > 0 && floor < 96 * MIB,
        "plumb's own peak is not the child's: {floor}"
    );
}

#[test]
fn a_failing_command_stops_the_benchmark_with_its_exit_code() {
    let error = run(&direct(&["false"], 3)).unwrap_err();
    let BenchError::Failed {
        role,
        command,
        exit,
        ..
    } = &error
    else {
        panic!("unexpected {error:?}")
    };
    assert_eq!(
        (*role, command.as_str(), *exit),
        (Role::Measured, "false", plumb_bench::ExitKind::Code(1))
    );
    assert!(
        error
            .to_string()
            .contains("`false` failed with exit code 1"),
        "{error}"
    );
    assert!(error.hint().contains("--ignore-failure"));
}

#[test]
fn ignore_failure_records_the_exit_codes() {
    let command = format!("{} exit 3", fixture());
    let mut settings = direct(&[&command], 2);
    settings.failure = FailurePolicy::Ignore;
    let report = run(&settings).unwrap();
    let codes: Vec<_> = report.benchmarks[0]
        .runs
        .iter()
        .map(|r| r.exit_code)
        .collect();
    assert_eq!(codes, [Some(3), Some(3)]);
}

#[test]
fn a_missing_program_is_a_spawn_error_naming_it() {
    let error = run(&direct(&["plumb-no-such-program --flag"], 1)).unwrap_err();
    let BenchError::Spawn {
        program, source, ..
    } = &error
    else {
        panic!("unexpected {error:?}")
    };
    assert_eq!(program, "plumb-no-such-program");
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    assert!(error.hint().contains("PATH"));
}

#[test]
fn a_missing_command_in_a_shell_is_exit_code_127_with_its_own_hint() {
    let mut settings = direct(&["plumb-no-such-program"], 1);
    settings.shell = ShellMode::Shell("sh".into());
    let error = run(&settings).unwrap_err();
    assert!(
        matches!(
            error,
            BenchError::Failed {
                exit: plumb_bench::ExitKind::Code(127),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.hint().contains("could not find the command"),
        "{}",
        error.hint()
    );
}

#[test]
fn the_shells_startup_is_measured_and_subtracted() {
    // A "shell" that takes at least 20 ms to start, so that forgetting to subtract it cannot
    // hide in the noise of a loaded machine: `true` would then take 20 ms or more.
    let mut settings = direct(&["true", "sleep 0.05"], 10);
    settings.shell = ShellMode::Shell(r#"sh -c 'sleep 0.02; exec sh "$@"' slow-shell"#.into());
    let report = run(&settings).unwrap();
    let overhead = report.shell_overhead.as_ref().expect("a shell was used");
    assert!(
        overhead.wall_seconds >= 0.02,
        "the slow shell takes 20 ms: {overhead:?}"
    );
    let true_median = report.benchmarks[0].stats.wall.median_seconds;
    assert!(
        true_median < 0.01,
        "`true` should cost about nothing beyond the shell, got {true_median} s"
    );
    let sleep = report.benchmarks[1].stats.wall.median_seconds;
    assert!(
        (0.035..0.3).contains(&sleep),
        "sleep 0.05 minus the shell should be about 0.05 s, got {sleep}"
    );
}

#[test]
fn a_parameter_scan_runs_one_benchmark_per_value_in_order() {
    let mut settings = direct(&["sleep 0.0{tenths}"], 3);
    settings.parameters = vec![Parameter {
        name: "tenths".into(),
        values: plumb_bench::scan_values("1", "3", None).unwrap(),
    }];
    let report = run(&settings).unwrap();
    let commands: Vec<_> = report
        .benchmarks
        .iter()
        .map(|b| b.command.as_str())
        .collect();
    assert_eq!(commands, ["sleep 0.01", "sleep 0.02", "sleep 0.03"]);
    assert_eq!(report.benchmarks[2].parameters["tenths"], "3");
    for (benchmark, least) in report.benchmarks.iter().zip([0.01, 0.02, 0.03]) {
        assert!(
            benchmark.stats.wall.min_seconds >= least - 0.001,
            "{:?}",
            benchmark.stats.wall
        );
    }
}

#[test]
fn hooks_run_in_order_setup_prepare_and_cleanup() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let log = log.display();
    let mut settings = direct(&[&format!("sh -c 'echo run >> {log}'")], 2);
    settings.setup = Some(format!("sh -c 'echo setup >> {log}'"));
    settings.prepare = Some(format!("sh -c 'echo prepare >> {log}'"));
    settings.cleanup = Some(format!("sh -c 'echo cleanup >> {log}'"));
    settings.warmup = 1;
    run(&settings).unwrap();
    let lines = std::fs::read_to_string(dir.path().join("log")).unwrap();
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(
        lines,
        ["setup", "prepare", "run", "prepare", "run", "prepare", "run", "cleanup"]
    );
}

#[test]
fn a_failing_prepare_names_the_flag() {
    let mut settings = direct(&["true"], 1);
    settings.prepare = Some("false".into());
    let error = run(&settings).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("--prepare command `false` failed"),
        "{error}"
    );
}

#[test]
fn the_automatic_run_count_stops_at_max_time() {
    let mut settings = direct(&["sleep 0.05"], 1);
    settings.runs = plumb_bench::RunCount::Auto {
        min_runs: 1000,
        min_time: Duration::from_secs(60),
        max_runs: None,
        max_time: Some(Duration::from_millis(200)),
    };
    let report = run(&settings).unwrap();
    let runs = report.benchmarks[0].runs.len();
    assert!(
        (1..=4).contains(&runs),
        "0.2 s of runs of at least 0.05 s is at most 4 runs, got {runs}"
    );
}
