//! Tests of `compare` with known truth: seeded synthetic samples whose real shift is known.

use super::*;

/// Log-normal noise around `center` with relative spread `sigma`, and 5% outliers 30% slower:
/// what a command's run times look like on a busy machine.
fn noisy(rng: &mut SplitMix64, n: usize, center: f64, sigma: f64) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let outlier = if uniform(rng) < 0.05 { 1.3 } else { 1.0 };
            center * (sigma * gaussian(rng)).exp() * outlier
        })
        .collect()
}

fn uniform(rng: &mut SplitMix64) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

fn gaussian(rng: &mut SplitMix64) -> f64 {
    let (u1, u2) = (uniform(rng), uniform(rng));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn judge(base: &[f64], cand: &[f64], design: Design) -> Judgement {
    compare(
        base,
        cand,
        design,
        Scale::Log,
        Direction::LowerIsBetter,
        &CompareSettings::default(),
    )
}

#[test]
fn exact_critical_values_match_the_tables() {
    // Two-sided α = 0.05: U ≤ 0 for 4+4, U ≤ 23 for 10+10; T ≤ 0 for 6 pairs, T ≤ 8 for 10.
    assert_eq!(mann_whitney_k(4, 4, 0.05), 1);
    assert_eq!(mann_whitney_k(10, 10, 0.05), 24);
    assert_eq!(mann_whitney_k(3, 3, 0.05), 0);
    assert_eq!(signed_rank_k(6, 0.05), 1);
    assert_eq!(signed_rank_k(10, 0.05), 9);
    assert_eq!(signed_rank_k(5, 0.05), 0);
    // The normal approximation continues the exact values smoothly.
    let exact = mann_whitney_k(50, 50, 0.05) as f64;
    let approx = mann_whitney_k(51, 50, 0.05) as f64;
    assert!(
        (approx / exact - 51.0 / 50.0).abs() < 0.03,
        "{exact} {approx}"
    );
}

#[test]
fn normal_quantile_is_accurate() {
    assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
    assert!(normal_quantile(0.5).abs() < 1e-6);
}

#[test]
fn a_five_percent_shift_on_realistic_noise_is_detected() {
    let mut rng = SplitMix64::new(7);
    let (mut detected, mut covered) = (0, 0);
    for _ in 0..50 {
        let base = noisy(&mut rng, 30, 0.010, 0.02);
        let cand = noisy(&mut rng, 30, 0.0105, 0.02);
        let j = judge(&base, &cand, Design::Independent);
        let s = j.shift.unwrap();
        detected += usize::from(j.verdict == Verdict::Regressed);
        covered += usize::from(s.low <= 0.05 && 0.05 <= s.high);
        let (lo, hi) = s.bootstrap.unwrap();
        assert!(
            lo < s.change && s.change < hi,
            "the bootstrap agrees: {s:?}"
        );
    }
    assert!(detected >= 48, "detected {detected}/50");
    assert!(
        covered >= 45,
        "the interval held the truth {covered}/50 times"
    );
}

#[test]
fn a_paired_five_percent_shift_is_detected_through_shared_drift() {
    let mut rng = SplitMix64::new(11);
    let mut detected = 0;
    for _ in 0..50 {
        // Each round's machine state (drift of ±20%) hits both sides alike.
        let drift: Vec<f64> = (0..20).map(|_| (0.1 * gaussian(&mut rng)).exp()).collect();
        let base: Vec<f64> = drift
            .iter()
            .map(|d| 0.01 * d * (0.01 * gaussian(&mut rng)).exp())
            .collect();
        let cand: Vec<f64> = drift
            .iter()
            .map(|d| 0.0105 * d * (0.01 * gaussian(&mut rng)).exp())
            .collect();
        let j = judge(&base, &cand, Design::Paired);
        detected += usize::from(j.verdict == Verdict::Regressed);
    }
    assert!(detected >= 48, "detected {detected}/50");
}

#[test]
fn identical_distributions_are_almost_never_called_changed() {
    let mut rng = SplitMix64::new(3);
    for design in [Design::Independent, Design::Paired] {
        let mut false_alarms = 0;
        for _ in 0..200 {
            let base = noisy(&mut rng, 20, 0.010, 0.05);
            let cand = noisy(&mut rng, 20, 0.010, 0.05);
            let verdict = judge(&base, &cand, design).verdict;
            false_alarms += usize::from(matches!(verdict, Verdict::Regressed | Verdict::Improved));
        }
        assert!(
            false_alarms <= 10,
            "{design:?}: {false_alarms}/200 false alarms"
        );
    }
}

#[test]
fn tiny_samples_are_inconclusive_with_a_suggestion() {
    let j = judge(
        &[0.010, 0.011, 0.010],
        &[0.012, 0.013, 0.012],
        Design::Independent,
    );
    assert_eq!(j.verdict, Verdict::Inconclusive);
    assert!(j.shift.unwrap().low.is_infinite());
    assert!(j.more_runs.unwrap() >= 1);
    let j = judge(&[0.01; 5], &[0.02; 5], Design::Paired);
    assert_eq!(j.verdict, Verdict::Inconclusive, "5 pairs cannot reach 95%");
}

#[test]
fn a_tiny_significant_change_is_not_a_regression() {
    let mut rng = SplitMix64::new(5);
    let base = noisy(&mut rng, 400, 0.010, 0.005);
    let cand = noisy(&mut rng, 400, 0.01005, 0.005);
    let j = judge(&base, &cand, Design::Independent);
    assert!(j.shift.unwrap().p_value < 0.05);
    assert_eq!(j.verdict, Verdict::Equivalent);
}

#[test]
fn throughput_going_down_is_a_regression() {
    let base: Vec<f64> = (0..20).map(|i| 1000.0 + i as f64).collect();
    let cand: Vec<f64> = base.iter().map(|v| v * 0.8).collect();
    let j = compare(
        &base,
        &cand,
        Design::Independent,
        Scale::Log,
        Direction::HigherIsBetter,
        &CompareSettings::default(),
    );
    assert_eq!(j.verdict, Verdict::Regressed);
    assert!((j.shift.unwrap().change + 0.2).abs() < 0.01);
}

#[test]
fn error_rates_compare_on_a_linear_scale() {
    let zeros = [0.0; 10];
    let linear = Scale::Linear { floor: 0.01 };
    let settings = CompareSettings::default();
    let j = compare(
        &zeros,
        &zeros,
        Design::Independent,
        linear,
        Direction::LowerIsBetter,
        &settings,
    );
    assert_eq!(j.verdict, Verdict::Equivalent);
    let bad = [0.05; 10];
    let j = compare(
        &zeros,
        &bad,
        Design::Independent,
        linear,
        Direction::LowerIsBetter,
        &settings,
    );
    assert_eq!(j.verdict, Verdict::Regressed);
    let j = compare(
        &zeros,
        &bad,
        Design::Independent,
        Scale::Log,
        Direction::LowerIsBetter,
        &settings,
    );
    assert_eq!(j.shift, None, "zero has no logarithm");
}

#[test]
fn benjamini_hochberg_keeps_the_step_up_discoveries() {
    let p = [0.01, 0.039, 0.03, 0.005, 0.5];
    // Sorted against q·k/m: 0.005 ≤ .01, 0.01 ≤ .02, 0.03 ≤ .03, 0.039 ≤ .04, 0.5 > .05.
    assert_eq!(
        benjamini_hochberg(&p, 0.05),
        [true, true, true, true, false]
    );
    assert_eq!(benjamini_hochberg(&[0.03, 0.04], 0.05), [true, true]);
    assert_eq!(benjamini_hochberg(&[0.03, 0.2], 0.05), [false, false]);
}

#[test]
fn false_discovery_control_demotes_weak_verdicts() {
    let strong = judge(
        &[1.0, 1.01, 1.02, 0.99, 1.0, 1.01, 1.0, 0.99],
        &[1.5, 1.52, 1.49, 1.51, 1.5, 1.48, 1.5, 1.53],
        Design::Independent,
    );
    assert_eq!(strong.verdict, Verdict::Regressed);
    let mut weak = strong;
    if let Some(s) = weak.shift.as_mut() {
        s.p_value = 0.2;
    }
    let mut all = [strong, weak];
    control_false_discoveries(&mut all, 0.05);
    assert_eq!(all[0].verdict, Verdict::Regressed);
    assert_eq!(all[1].verdict, Verdict::Inconclusive);
}
