//! Profile comparisons: each hot function's CPU time before and after, with an interval, so
//! that "`parse` went from 0.70 s to 0.20 s" is a verdict and not a guess.
//!
//! A row is one function's self CPU time (its self samples over the sampling frequency): per run
//! for a launched command (a fixed piece of work), per second of the run for an attached
//! process (a server under a fixed load), the mean of a side's runs. Its shares of the samples
//! stand in the statistic column: a share is relative, so a function whose share grew while
//! another's time fell may not have changed at all; the time says. With two runs or more on each
//! side the interval is a seeded bootstrap over the runs; with one run on a side it is the
//! samples' counting noise (Poisson) plus a run-to-run floor of [`FLOOR_PROFILE_FUNCTION`].

use crate::bootstrap::{interval, mean_at, Resampling, Side};
use crate::judge::{judge_ratio, not_comparable, Judged};
use crate::widen::{floor_sd, SideNoise, FLOOR_PROFILE_FUNCTION};
use crate::{CompareSettings, Comparison, Direction, Row, Unit};
use plumb_schema::profile::{CpuOutcome, CpuProfile, ProfileReport};
use plumb_stats::sample::normal_quantile;
use std::collections::BTreeMap;

/// Functions compared: those among the hottest this many (by self samples) on either side.
const TOP: usize = 10;
/// Fewer self samples than this on a side support no verdict on a function.
const MIN_SAMPLES: u64 = 20;

/// One profile reduced to what a comparison reads.
struct Run {
    /// Samples per second.
    frequency: f64,
    /// Divide self seconds by this: 1 for a launched command, the run's seconds otherwise.
    per: f64,
    samples: u64,
    functions: BTreeMap<String, u64>,
}

impl Run {
    fn of(report: &ProfileReport, cpu: &CpuProfile) -> Run {
        let launched = report.target.command.is_some();
        Run {
            frequency: f64::from(cpu.frequency_hz.max(1)),
            per: if launched {
                1.0
            } else {
                report.duration_secs.max(1e-3)
            },
            samples: cpu.samples,
            functions: cpu
                .hot_functions
                .iter()
                .map(|f| (f.name.clone(), f.self_samples))
                .collect(),
        }
    }

    fn self_samples(&self, name: &str) -> u64 {
        self.functions.get(name).copied().unwrap_or(0)
    }

    /// The function's self CPU time, per run or per second of the run.
    fn time(&self, name: &str) -> f64 {
        self.self_samples(name) as f64 / self.frequency / self.per
    }
}

/// One side's profiles.
struct Pooled {
    runs: Vec<Run>,
    noise: SideNoise,
    launched: bool,
}

impl Pooled {
    fn of(reports: &[&ProfileReport]) -> Pooled {
        let runs: Vec<Run> = reports
            .iter()
            .filter_map(|r| sampled(r).map(|cpu| Run::of(r, cpu)))
            .collect();
        let noises: Vec<_> = runs.iter().map(|_| None).collect();
        Pooled {
            noise: SideNoise::of(&noises),
            launched: reports.iter().all(|r| r.target.command.is_some()),
            runs,
        }
    }

    fn times(&self, name: &str) -> Vec<f64> {
        self.runs.iter().map(|r| r.time(name)).collect()
    }

    fn mean_time(&self, name: &str) -> f64 {
        let times = self.times(name);
        times.iter().sum::<f64>() / times.len().max(1) as f64
    }

    fn self_samples(&self, name: &str) -> u64 {
        self.runs.iter().map(|r| r.self_samples(name)).sum()
    }

    fn samples(&self) -> u64 {
        self.runs.iter().map(|r| r.samples).sum()
    }

    fn share(&self, name: &str) -> f64 {
        self.self_samples(name) as f64 / self.samples().max(1) as f64
    }

    /// The side's hottest functions by pooled self samples.
    fn top(&self) -> Vec<String> {
        let mut pooled: BTreeMap<&str, u64> = BTreeMap::new();
        for run in &self.runs {
            for (name, count) in &run.functions {
                *pooled.entry(name).or_default() += count;
            }
        }
        // A function with no self samples (main, a caller) has nothing of its own to compare.
        let mut ranked: Vec<(&str, u64)> = pooled.into_iter().filter(|(_, n)| *n > 0).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        ranked
            .into_iter()
            .take(TOP)
            .map(|(n, _)| n.to_string())
            .collect()
    }
}

fn sampled(report: &ProfileReport) -> Option<&CpuProfile> {
    match &report.cpu {
        CpuOutcome::Sampled(cpu) => Some(cpu),
        CpuOutcome::Unavailable { .. } => None,
    }
}

/// Compare the profiles of `base` with those of `cand`.
pub fn compare_profile(
    base: &[&ProfileReport],
    cand: &[&ProfileReport],
    settings: &CompareSettings,
) -> Comparison {
    let (b, c) = (Pooled::of(base), Pooled::of(cand));
    let mut names = b.top();
    for name in c.top() {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let settings = &settings.per_row(names.len());
    let mut rows: Vec<Row> = names
        .iter()
        .map(|name| function_row(name, (&b, &c), settings))
        .collect();
    rows.sort_by(|x, y| {
        let hot = |r: &Row| r.baseline.max(r.candidate);
        hot(y).total_cmp(&hot(x))
    });
    Comparison {
        rows,
        warnings: warnings(base, cand, (&b, &c)),
        row_confidence: settings.confidence,
    }
}

fn function_row(name: &str, (b, c): (&Pooled, &Pooled), settings: &CompareSettings) -> Row {
    let (base_time, cand_time) = (b.mean_time(name), c.mean_time(name));
    let judged = judge_function(name, (b, c), (base_time, cand_time), settings);
    let per = if b.launched && c.launched {
        "self CPU time per run"
    } else {
        "self CPU per second of the run"
    };
    Row {
        metric: format!("{name}: self CPU"),
        statistic: format!(
            "{per}, mean of {}|{} runs (share {:.1}% -> {:.1}%)",
            b.runs.len(),
            c.runs.len(),
            b.share(name) * 100.0,
            c.share(name) * 100.0
        ),
        unit: if b.launched && c.launched {
            Unit::Seconds
        } else {
            Unit::CorePercent
        },
        direction: Direction::LowerIsBetter,
        baseline: scale(base_time, b.launched && c.launched),
        candidate: scale(cand_time, b.launched && c.launched),
        change: judged.change,
        verdict: judged.verdict,
        more_samples: judged.more_samples,
        samples: (b.runs.len(), c.runs.len()),
    }
}

/// Seconds stay seconds; seconds per second become percent of a core.
fn scale(time: f64, launched: bool) -> f64 {
    if launched {
        time
    } else {
        time * 100.0
    }
}

fn judge_function(
    name: &str,
    (b, c): (&Pooled, &Pooled),
    (base_time, cand_time): (f64, f64),
    settings: &CompareSettings,
) -> Judged {
    let (kb, kc) = (b.self_samples(name), c.self_samples(name));
    if kb == 0 {
        return not_comparable("absent from the baseline's samples: a new hot function");
    }
    if kb.max(kc) < MIN_SAMPLES {
        return not_comparable(&format!(
            "fewer than {MIN_SAMPLES} self samples on both sides ({kb} and {kc}): profile longer or at a higher --frequency"
        ));
    }
    let bounds = if b.runs.len() >= 2 && c.runs.len() >= 2 {
        run_bootstrap(name, (b, c), settings)
    } else {
        Some(counting_interval(
            (base_time, cand_time),
            (kb, kc),
            settings,
        ))
    };
    judge_ratio(
        base_time,
        cand_time,
        bounds,
        Direction::LowerIsBetter,
        settings.tolerance,
        (b.runs.len(), c.runs.len()),
    )
}

/// Bootstrap over runs of the ratio of mean self times.
fn run_bootstrap(
    name: &str,
    (b, c): (&Pooled, &Pooled),
    settings: &CompareSettings,
) -> Option<(f64, f64)> {
    let (tb, tc) = (b.times(name), c.times(name));
    let floor = floor_sd(FLOOR_PROFILE_FUNCTION, Some((b.noise, c.noise)));
    interval(
        (tb.len(), tc.len()),
        Resampling::Independent,
        settings,
        (false, floor),
        |side, runs| match side {
            Side::Baseline => mean_at(&tb, runs),
            Side::Candidate => mean_at(&tc, runs),
        },
    )
}

/// The ratio's interval from the samples' counting noise (a count k has sd √k) and the
/// run-to-run floor, on the log scale, at the row's confidence.
fn counting_interval(
    (base_time, cand_time): (f64, f64),
    (kb, kc): (u64, u64),
    settings: &CompareSettings,
) -> (f64, f64) {
    let kc = kc.max(1) as f64;
    let counting = 1.0 / kb as f64 + 1.0 / kc;
    let floor = 2.0 * FLOOR_PROFILE_FUNCTION.0 * FLOOR_PROFILE_FUNCTION.0;
    let sd = (counting + floor).sqrt();
    let z = normal_quantile(1.0 - (1.0 - settings.confidence) / 2.0);
    let ratio = (cand_time / base_time).max(1e-9);
    ((ratio.ln() - z * sd).exp(), (ratio.ln() + z * sd).exp())
}

fn warnings(
    base: &[&ProfileReport],
    cand: &[&ProfileReport],
    (b, c): (&Pooled, &Pooled),
) -> Vec<String> {
    let mut out = Vec::new();
    for (side, reports, pooled) in [("baseline", base, b), ("candidate", cand, c)] {
        let unsampled = reports.len() - pooled.runs.len();
        if unsampled > 0 {
            out.push(format!(
                "{unsampled} {side} profile(s) have no CPU samples (sampling was not allowed): they are left out"
            ));
        }
        if reports.iter().any(|r| r.interrupted) {
            out.push(format!(
                "a {side} profile was interrupted: it covers only the part that ran"
            ));
        }
    }
    if b.runs.len() < 2 || c.runs.len() < 2 {
        out.push(format!(
            "one profile on a side: each function's interval is its samples' counting noise plus a run-to-run spread of {:.0}%; profile several times a side (latest~2..latest) to measure the spread",
            FLOOR_PROFILE_FUNCTION.0 * 100.0
        ));
    }
    if b.launched != c.launched {
        out.push("a launched command is compared with an attached process: per-run and per-second times are not the same unit".into());
    }
    out.extend(setting_mismatches(base, cand));
    out
}

/// Profiles taken with different unwinders, rates or targets.
fn setting_mismatches(base: &[&ProfileReport], cand: &[&ProfileReport]) -> Vec<String> {
    let describe = |r: &&ProfileReport| {
        let cpu = sampled(r).map(|c| format!("{} Hz, {}", c.frequency_hz, c.unwinding));
        let what = match &r.target.command {
            Some(command) => format!("`{}`", command.join(" ")),
            None => "a running process".to_string(),
        };
        (what, cpu)
    };
    let (mut targets, mut cpus) = (Vec::new(), Vec::new());
    for (what, cpu) in base.iter().chain(cand).map(describe) {
        if !targets.contains(&what) {
            targets.push(what);
        }
        if let Some(cpu) = cpu.filter(|c| !cpus.contains(c)) {
            cpus.push(cpu);
        }
    }
    let mut out = Vec::new();
    if targets.len() > 1 {
        out.push(format!(
            "the profiles are of different commands ({})",
            targets.join(" vs ")
        ));
    }
    if cpus.len() > 1 {
        out.push(format!(
            "the profiles were sampled differently ({}): inlining and stack shapes may differ",
            cpus.join(" vs ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;
    use plumb_schema::profile::{HotFunction, ProfileTarget, ResourceTimeline};

    /// A launched command's profile at 100 Hz with these self samples.
    fn report(functions: &[(&str, u64)]) -> ProfileReport {
        let samples = functions.iter().map(|(_, n)| n).sum::<u64>();
        ProfileReport {
            schema_version: 1,
            target: ProfileTarget {
                pid: 1,
                command: Some(vec!["./app".into()]),
                exit_code: Some(0),
            },
            duration_secs: 2.0,
            cpu: CpuOutcome::Sampled(CpuProfile {
                frequency_hz: 100,
                unwinding: "frame-pointers".into(),
                samples,
                lost_samples: 0,
                hot_functions: functions
                    .iter()
                    .map(|(name, n)| HotFunction {
                        name: name.to_string(),
                        self_samples: *n,
                        total_samples: *n,
                        self_percent: *n as f64 * 100.0 / samples as f64,
                        total_percent: *n as f64 * 100.0 / samples as f64,
                    })
                    .collect(),
                cover_80_percent: Vec::new(),
                folded: Vec::new(),
            }),
            resources: ResourceTimeline {
                interval_ms: 100,
                points: Vec::new(),
                summary: Default::default(),
                unreadable: Vec::new(),
                processes: None,
            },
            notes: Vec::new(),
            plumb_version: "test".into(),
            interrupted: false,
            runtimes: Vec::new(),
            stack_quality: None,
            python: None,
            waiting: None,
            memory: None,
        }
    }

    fn row<'a>(comparison: &'a Comparison, name: &str) -> &'a Row {
        comparison
            .rows
            .iter()
            .find(|r| r.metric.starts_with(name))
            .expect("row present")
    }

    #[test]
    fn a_function_made_faster_improved_and_the_others_did_not_move() {
        let before = report(&[("parse", 700), ("render", 200), ("log", 100)]);
        let after = report(&[("parse", 200), ("render", 205), ("log", 98)]);
        let c = compare_profile(&[&before], &[&after], &CompareSettings::default());
        let parse = row(&c, "parse");
        assert_eq!((parse.baseline, parse.candidate), (7.0, 2.0));
        assert_eq!(parse.verdict, Verdict::Improved);
        assert!(
            parse.statistic.contains("share 70.0% -> 39.8%"),
            "{}",
            parse.statistic
        );
        // render's share doubled, but its time did not change.
        assert_ne!(row(&c, "render").verdict, Verdict::Regressed);
        assert_ne!(row(&c, "render").verdict, Verdict::Improved);
    }

    #[test]
    fn a_function_made_slower_regressed() {
        let before = report(&[("parse", 300), ("render", 300)]);
        let after = report(&[("parse", 600), ("render", 300)]);
        let c = compare_profile(&[&before], &[&after], &CompareSettings::default());
        assert_eq!(row(&c, "parse").verdict, Verdict::Regressed);
        assert!(c
            .warnings
            .iter()
            .any(|w| w.contains("one profile on a side")));
    }

    #[test]
    fn few_samples_are_not_comparable() {
        let before = report(&[("parse", 10), ("main", 5)]);
        let after = report(&[("parse", 4), ("main", 5)]);
        let c = compare_profile(&[&before], &[&after], &CompareSettings::default());
        assert!(matches!(
            row(&c, "parse").verdict,
            Verdict::NotComparable(_)
        ));
    }

    #[test]
    fn several_runs_a_side_are_bootstrapped() {
        let before: Vec<ProfileReport> = [600, 620, 610]
            .iter()
            .map(|&n| report(&[("parse", n), ("io", 100)]))
            .collect();
        let after: Vec<ProfileReport> = [300, 310, 290]
            .iter()
            .map(|&n| report(&[("parse", n), ("io", 100)]))
            .collect();
        let (b, a): (Vec<_>, Vec<_>) = (before.iter().collect(), after.iter().collect());
        let c = compare_profile(&b, &a, &CompareSettings::default());
        let parse = row(&c, "parse");
        assert!((parse.baseline - 6.1).abs() < 1e-9);
        assert!((parse.candidate - 3.0).abs() < 1e-9);
        assert_eq!(parse.verdict, Verdict::Improved);
        assert!(!c.warnings.iter().any(|w| w.contains("one profile")));
    }

    #[test]
    fn callers_without_self_samples_get_no_row() {
        let mut before = report(&[("parse", 500)]);
        let mut after = report(&[("parse", 200)]);
        for r in [&mut before, &mut after] {
            if let CpuOutcome::Sampled(cpu) = &mut r.cpu {
                cpu.hot_functions.push(HotFunction {
                    name: "main".into(),
                    self_samples: 0,
                    total_samples: cpu.samples,
                    self_percent: 0.0,
                    total_percent: 100.0,
                });
            }
        }
        let c = compare_profile(&[&before], &[&after], &CompareSettings::default());
        assert_eq!(c.rows.len(), 1, "{:#?}", c.rows);
        assert!(c.rows[0].metric.starts_with("parse"));
    }

    #[test]
    fn a_new_hot_function_is_named_not_judged() {
        let before = report(&[("parse", 500)]);
        let after = report(&[("parse", 500), ("leak", 300)]);
        let c = compare_profile(&[&before], &[&after], &CompareSettings::default());
        let leak = row(&c, "leak");
        assert_eq!(leak.baseline, 0.0);
        assert!(
            matches!(&leak.verdict, Verdict::NotComparable(reason) if reason.contains("new hot function"))
        );
    }
}
