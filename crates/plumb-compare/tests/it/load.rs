//! Load rows against known truth, on synthetic runs built with the engine's own recorder.

use crate::support::{load_run, normal, rng};
use plumb_compare::{compare_load, CompareSettings, Verdict};
use plumb_schema::load::LoadResult;
use rand::Rng;

const URL: &str = "http://127.0.0.1:8080/api";

fn run(seed: u64, scale: f64, errors: f64) -> LoadResult {
    let mut r = rng(seed);
    load_run(URL, 200.0, 12, 200, errors, move || {
        scale * 5.0 * (0.4 * normal(&mut r)).exp()
    })
}

fn verdict_of<'a>(c: &'a plumb_compare::Comparison, metric: &str) -> &'a plumb_compare::Row {
    c.rows.iter().find(|r| r.metric == metric).expect(metric)
}

#[test]
fn a_a_load_runs_are_never_regressed_or_improved() {
    let _serial = crate::support::serial();
    let settings = CompareSettings::default();
    let trials = 60;
    let mut called = Vec::new();
    for seed in 0..trials {
        let (a, b) = (run(2 * seed, 1.0, 0.0), run(2 * seed + 1, 1.0, 0.0));
        let comparison = compare_load(&[&a], &[&b], &settings);
        let differences = comparison
            .warnings
            .iter()
            .filter(|w| w.contains("not the same"));
        assert_eq!(differences.count(), 0, "{:?}", comparison.warnings);
        let false_calls: Vec<_> = comparison
            .rows
            .into_iter()
            .filter(|row| matches!(row.verdict, Verdict::Regressed | Verdict::Improved))
            .collect();
        if !false_calls.is_empty() {
            called.push(false_calls);
        }
    }
    assert!(
        called.len() as f64 <= 0.05 * trials as f64,
        "{} of {trials} A/A trials had a false call: {called:#?}",
        called.len()
    );
}

#[test]
fn whole_run_percentiles_are_the_columns_and_a_threefold_slowdown_regresses() {
    let _serial = crate::support::serial();
    let (a, b) = (run(1, 1.0, 0.0), run(2, 3.0, 0.0));
    let comparison = compare_load(&[&a], &[&b], &CompareSettings::default());
    for (metric, whole) in [
        (
            "latency p50",
            (a.summary.latency_ms.p50, b.summary.latency_ms.p50),
        ),
        (
            "latency p99",
            (a.summary.latency_ms.p99, b.summary.latency_ms.p99),
        ),
    ] {
        let row = verdict_of(&comparison, metric);
        let close = |x: f64, y: f64| (x - y).abs() <= 0.002 * y;
        assert!(
            close(row.baseline, whole.0) && close(row.candidate, whole.1),
            "{row:?} {whole:?}"
        );
        assert_eq!(row.statistic, format!("whole-run {}", &metric[8..]));
        let change = row.change.unwrap();
        assert!((change.point - (row.candidate / row.baseline - 1.0)).abs() < 1e-9);
    }
    assert_eq!(
        verdict_of(&comparison, "latency p50").verdict,
        Verdict::Regressed
    );
    let throughput = verdict_of(&comparison, "throughput");
    assert_eq!(throughput.baseline, 200.0);
    // One run a side cannot show equivalence within 2%: run-to-run noise alone is wider.
    assert_eq!(throughput.verdict, Verdict::Inconclusive);
}

#[test]
fn an_error_rate_change_is_in_percentage_points() {
    let _serial = crate::support::serial();
    let (a, b) = (run(3, 1.0, 0.0), run(4, 1.0, 0.02));
    let comparison = compare_load(&[&a], &[&b], &CompareSettings::default());
    let row = verdict_of(&comparison, "error rate");
    assert_eq!(row.baseline, 0.0);
    assert!((row.candidate - 0.02).abs() < 1e-3, "{row:?}");
    assert_eq!(row.verdict, Verdict::Regressed);
    assert_eq!(
        row.change.unwrap().kind,
        plumb_compare::ChangeKind::Difference
    );
}

#[test]
fn a_p99_of_60_requests_is_not_comparable() {
    let _serial = crate::support::serial();
    let mut r = rng(9);
    let few = load_run(URL, 20.0, 3, 20, 0.0, move || {
        5.0 * (0.4 * normal(&mut r)).exp()
    });
    let comparison = compare_load(&[&few], &[&few.clone()], &CompareSettings::default());
    let p99 = verdict_of(&comparison, "latency p99");
    assert!(
        matches!(&p99.verdict, Verdict::NotComparable(why) if why.contains("too few requests")),
        "{p99:?}"
    );
    // 60 requests a side cannot show the medians within 2% of each other, even identical ones.
    let p50 = verdict_of(&comparison, "latency p50");
    assert_eq!(p50.verdict, Verdict::Inconclusive, "{p50:?}");
}

#[test]
fn another_rate_or_url_gets_a_comparability_warning() {
    let _serial = crate::support::serial();
    let a = run(5, 1.0, 0.0);
    let mut r = rng(6);
    let other = load_run(
        "http://127.0.0.1:8080/other",
        50.0,
        12,
        50,
        0.0,
        move || 5.0 * (0.4 * normal(&mut r)).exp(),
    );
    let comparison = compare_load(&[&a], &[&other], &CompareSettings::default());
    let warnings = comparison.warnings.join("\n");
    assert!(
        warnings.contains("URL http://127.0.0.1:8080/other"),
        "{warnings}"
    );
    assert!(
        warnings.contains("rate 50/s where the baseline has 200/s"),
        "{warnings}"
    );
}

#[test]
fn several_runs_a_side_are_pooled() {
    let _serial = crate::support::serial();
    let (a1, a2, b1, b2) = (
        run(11, 1.0, 0.0),
        run(12, 1.0, 0.0),
        run(13, 2.5, 0.0),
        run(14, 2.5, 0.0),
    );
    let comparison = compare_load(&[&a1, &a2], &[&b1, &b2], &CompareSettings::default());
    let p50 = verdict_of(&comparison, "latency p50");
    assert_eq!(p50.samples, (24, 24));
    assert_eq!(p50.verdict, Verdict::Regressed);
    assert!((1.3..1.7).contains(&p50.change.unwrap().point), "{p50:?}");
}

#[test]
fn a_run_on_a_busy_host_gets_a_warning_naming_the_figure() {
    let quiet = plumb_schema::host::HostNoise {
        cpus: 2,
        wall_s: 12.0,
        load_avg_1m_start: Some(0.3),
        load_avg_1m_end: Some(1.8),
        cpu_pressure_some_share: Some(0.01),
        steal_share: Some(0.0),
        cpu_busy_share: Some(0.5),
        plumb_cpu_share: Some(0.3),
    };
    let (mut a, mut b) = (run(1, 1.0, 0.0), run(2, 1.0, 0.0));
    a.host_noise = Some(quiet.clone());
    b.host_noise = Some(plumb_schema::host::HostNoise {
        load_avg_1m_start: Some(2.5),
        ..quiet
    });
    let comparison = compare_load(&[&a], &[&b], &CompareSettings::default());
    assert_eq!(
        comparison.warnings[0],
        "busy host during the candidate: 1-minute load average 2.50 at the start, above its 2 CPUs (load from before the run: other processes, or a run that just ended); its figures carry that noise"
    );
    assert!(comparison.warnings[1]
        .starts_with("one run on a side: its intervals include run-to-run noise"));
    assert_eq!(comparison.warnings.len(), 2);
}

/// Two identical loads at once against one embedded target, 20 times: both see the same
/// machine, so any regressed or improved verdict would be a false alarm.
#[test]
fn twenty_real_a_a_load_pairs_are_never_regressed_or_improved() {
    let _serial = crate::support::serial();
    let target = plumb_target::spawn(
        plumb_target::TargetSettings::default(),
        "127.0.0.1:0".parse().unwrap(),
        1,
    )
    .unwrap();
    let url = target.url("/");
    let mut false_calls = Vec::new();
    for pair in 0..20 {
        let run = || {
            let mut s = plumb_load::LoadSettings::new(&url);
            s.model = plumb_load::LoadModel::Closed { connections: 2 };
            s.threads = 1;
            s.duration = Some(std::time::Duration::from_secs(4));
            let stop = plumb_load::StopSignal::new();
            let report = plumb_load::run(&s, &mut plumb_load::Unobserved, &stop).unwrap();
            report.to_result(&s, Vec::new())
        };
        let (a, b) = std::thread::scope(|scope| {
            let a = scope.spawn(run);
            let b = scope.spawn(run);
            (a.join().unwrap(), b.join().unwrap())
        });
        let comparison = compare_load(&[&a], &[&b], &CompareSettings::default());
        for row in comparison.rows {
            if matches!(row.verdict, Verdict::Regressed | Verdict::Improved) {
                false_calls.push((pair, row));
            }
        }
    }
    assert!(false_calls.is_empty(), "{false_calls:#?}");
}

#[test]
fn the_last_second_of_a_run_that_lasted_it_counts_for_throughput() {
    let _serial = crate::support::serial();
    let mut r = rng(21);
    let mut three = || {
        let mut r = rng(r.random());
        load_run(URL, 100.0, 3, 100, 0.0, move || {
            5.0 * (0.4 * normal(&mut r)).exp()
        })
    };
    let (a, mut b) = (three(), three());
    let comparison = compare_load(&[&a], &[&b], &CompareSettings::default());
    assert_eq!(verdict_of(&comparison, "throughput").samples, (3, 3));
    // A run stopped at 2.5 s: its third second was cut short and is left out.
    b.summary.duration_s = 2.5;
    let comparison = compare_load(&[&a], &[&b], &CompareSettings::default());
    assert_eq!(verdict_of(&comparison, "throughput").samples, (3, 2));
}
