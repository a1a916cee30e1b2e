//! "Busy host" warnings: a run whose host was busy while it measured (a hypervisor stealing CPU,
//! tasks queueing for a CPU, a machine already loaded before plumb started) gets a warning that
//! names the figure and the limit it crossed, so a verdict on noisy runs is read as such.
//!
//! The rule, per run, from the `HostNoise` it recorded (any one figure is enough):
//! - steal above [`MAX_STEAL`] (5%) of all CPU time: the hypervisor gave the CPUs to other guests;
//! - CPU pressure "some" above [`MAX_PRESSURE`] (20%) of the wall time: some runnable task waited
//!   for a CPU that long (plumb's own threads and a local target count too, so a run that
//!   saturates its own host is flagged as well: its latencies include waiting for a CPU);
//! - the 1-minute load average at the start above the number of CPUs: read before the run
//!   started, so it is other processes' load, or that of a run that ended less than a minute
//!   before (a decaying average: back-to-back runs inherit some of the previous one's).
//!
//! Runs saved without the figures (by an older plumb) are not judged.

use plumb_schema::host::HostNoise;

/// Steal above this share of all CPU time makes a host busy.
pub const MAX_STEAL: f64 = 0.05;
/// CPU pressure "some" above this share of the wall time makes a host busy.
pub const MAX_PRESSURE: f64 = 0.20;

/// One warning for each run of `side` ("baseline", "candidate") whose host was busy, naming
/// every figure that crossed its limit. `noises` are the side's runs in order (`None`: the run
/// has no record of its host's noise).
pub fn noise_warnings(side: &str, noises: &[Option<&HostNoise>]) -> Vec<String> {
    noises
        .iter()
        .enumerate()
        .filter_map(|(i, noise)| {
            let reasons = busy_reasons(noise.as_ref()?);
            if reasons.is_empty() {
                return None;
            }
            let which = if noises.len() > 1 {
                format!("{side} run {}", i + 1)
            } else {
                side.to_string()
            };
            Some(format!(
                "busy host during the {which}: {}; its figures carry that noise",
                reasons.join("; ")
            ))
        })
        .collect()
}

/// Whether others disturbed a run: steal, or a load average above the CPUs before it started.
/// CPU pressure is left out here: a local load test that saturates its own host raises it, and
/// the run-to-run floors were measured on such runs already.
pub(crate) fn disturbed_by_others(noise: &HostNoise) -> bool {
    let steal = noise.steal_share.is_some_and(|s| s > MAX_STEAL);
    let loaded = noise
        .load_avg_1m_start
        .is_some_and(|l| l > f64::from(noise.cpus.max(1)));
    steal || loaded
}

/// Each figure of `noise` beyond its limit, in words.
fn busy_reasons(noise: &HostNoise) -> Vec<String> {
    let mut reasons = Vec::new();
    if let Some(steal) = noise.steal_share.filter(|s| *s > MAX_STEAL) {
        reasons.push(format!(
            "steal {:.1}% of CPU time (above {:.0}%)",
            steal * 100.0,
            MAX_STEAL * 100.0
        ));
    }
    if let Some(pressure) = noise.cpu_pressure_some_share.filter(|p| *p > MAX_PRESSURE) {
        reasons.push(format!(
            "tasks waited for a CPU {:.0}% of the time (CPU pressure, above {:.0}%)",
            pressure * 100.0,
            MAX_PRESSURE * 100.0
        ));
    }
    let cpus = noise.cpus.max(1);
    if let Some(load) = noise.load_avg_1m_start.filter(|l| *l > f64::from(cpus)) {
        let plural = if cpus == 1 { "" } else { "s" };
        reasons.push(format!(
            "1-minute load average {load:.2} at the start, above its {cpus} CPU{plural} (load from before the run: other processes, or a run that just ended)"
        ));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet() -> HostNoise {
        HostNoise {
            cpus: 4,
            wall_s: 10.0,
            load_avg_1m_start: Some(0.5),
            load_avg_1m_end: Some(3.9),
            cpu_pressure_some_share: Some(0.02),
            steal_share: Some(0.0),
            cpu_busy_share: Some(0.6),
            plumb_cpu_share: Some(0.5),
        }
    }

    #[test]
    fn a_quiet_host_gets_no_warning() {
        // A high load average at the end is plumb's own load, not noise.
        assert!(noise_warnings("baseline", &[Some(&quiet())]).is_empty());
        assert!(noise_warnings("baseline", &[None, None]).is_empty());
    }

    #[test]
    fn each_figure_beyond_its_limit_is_named() {
        let steal = HostNoise {
            steal_share: Some(0.075),
            ..quiet()
        };
        assert_eq!(
            noise_warnings("candidate", &[Some(&steal)]),
            ["busy host during the candidate: steal 7.5% of CPU time (above 5%); its figures carry that noise"]
        );
        let all = HostNoise {
            steal_share: Some(0.06),
            cpu_pressure_some_share: Some(0.34),
            load_avg_1m_start: Some(5.25),
            ..quiet()
        };
        assert_eq!(
            noise_warnings("baseline", &[Some(&quiet()), None, Some(&all)]),
            [
                "busy host during the baseline run 3: steal 6.0% of CPU time (above 5%); \
              tasks waited for a CPU 34% of the time (CPU pressure, above 20%); \
              1-minute load average 5.25 at the start, above its 4 CPUs (load from before the run: other processes, or a run that just ended); \
              its figures carry that noise"
            ]
        );
    }

    #[test]
    fn figures_at_their_limits_or_absent_are_not_busy() {
        let edge = HostNoise {
            steal_share: Some(MAX_STEAL),
            cpu_pressure_some_share: Some(MAX_PRESSURE),
            load_avg_1m_start: Some(4.0),
            ..quiet()
        };
        assert!(noise_warnings("baseline", &[Some(&edge)]).is_empty());
        let unknown = HostNoise {
            steal_share: None,
            cpu_pressure_some_share: None,
            load_avg_1m_start: None,
            ..quiet()
        };
        assert!(noise_warnings("baseline", &[Some(&unknown)]).is_empty());
    }

    fn bench(noise: Option<HostNoise>) -> plumb_schema::bench::BenchReport {
        use plumb_schema::bench::{BenchReport, RunOrder, SettingsRecord};
        BenchReport {
            schema_version: 1,
            plumb_version: "0.1.0".into(),
            settings: SettingsRecord {
                warmup_runs: 0,
                shell: None,
                order: RunOrder::Interleaved,
                seed: 1,
                prepare: None,
                setup: None,
                cleanup: None,
            },
            interrupted: false,
            shell_overhead: None,
            peak_rss_floor_bytes: None,
            benchmarks: Vec::new(),
            comparison: None,
            host_noise: noise,
        }
    }

    #[test]
    fn bench_comparisons_carry_the_warnings_of_each_side() {
        let busy = HostNoise {
            cpu_pressure_some_share: Some(0.5),
            ..quiet()
        };
        let settings = crate::CompareSettings::default();
        let (calm, old, noisy) = (bench(Some(quiet())), bench(None), bench(Some(busy)));
        let comparison = crate::compare_bench(&[&calm, &old], &[&noisy], &settings);
        assert_eq!(
            comparison.warnings,
            ["busy host during the candidate: tasks waited for a CPU 50% of the time (CPU pressure, above 20%); its figures carry that noise"]
        );
        let paired = crate::compare_paired_bench(&noisy, &settings);
        assert!(
            paired
                .warnings
                .iter()
                .any(|w| w.starts_with("busy host during the paired rounds: tasks waited")),
            "{:?}",
            paired.warnings
        );
    }

    #[test]
    fn the_load_average_is_judged_against_the_hosts_own_cpus() {
        let one_cpu = HostNoise {
            cpus: 1,
            load_avg_1m_start: Some(1.5),
            ..quiet()
        };
        assert_eq!(
            noise_warnings("baseline", &[Some(&one_cpu)]),
            ["busy host during the baseline: 1-minute load average 1.50 at the start, above its 1 CPU (load from before the run: other processes, or a run that just ended); its figures carry that noise"]
        );
    }
}
