//! The host's noise around a measured run: `NoiseProbe::start()` reads /proc (load average, CPU
//! pressure, the CPU counters of /proc/stat) and plumb's own CPU time before the run, and
//! `finish()` reads them again and turns the deltas into a `HostNoise` that the result carries.
//!
//! Nothing runs beside the measurement: two reads of a few small files, so the probe cannot add
//! to the noise it records. A file that is missing or unreadable (no PSI, no /proc) leaves its
//! figure absent, never an error.

use plumb_schema::host::HostNoise;
use std::time::{Duration, Instant};

/// The readings taken before a run.
pub struct NoiseProbe {
    started: Instant,
    start: Sample,
}

impl NoiseProbe {
    /// Read the host's counters now, before the measured run starts.
    pub fn start() -> NoiseProbe {
        NoiseProbe {
            started: Instant::now(),
            start: Sample::read(),
        }
    }

    /// Read them again and return the run's noise.
    pub fn finish(self) -> HostNoise {
        let wall = self.started.elapsed();
        noise(&self.start, &Sample::read(), wall)
    }
}

/// One reading of the host's counters.
#[derive(Debug, Clone, Default, PartialEq)]
struct Sample {
    load_avg_1m: Option<f64>,
    /// The `some total=` counter of /proc/pressure/cpu, in microseconds.
    pressure_some_us: Option<u64>,
    cpu: Option<CpuTimes>,
    /// plumb's own user + system CPU time.
    own_cpu: Option<Duration>,
}

/// The aggregate `cpu` line of /proc/stat, in clock ticks, and the number of `cpuN` lines.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct CpuTimes {
    total: u64,
    idle: u64,
    iowait: u64,
    steal: u64,
    cpus: u32,
}

impl Sample {
    fn read() -> Sample {
        let read = |path: &str| std::fs::read_to_string(path).ok();
        Sample {
            load_avg_1m: read("/proc/loadavg").as_deref().and_then(parse_loadavg),
            pressure_some_us: read("/proc/pressure/cpu")
                .as_deref()
                .and_then(parse_pressure_some),
            cpu: read("/proc/stat").as_deref().and_then(parse_stat),
            own_cpu: own_cpu_time(),
        }
    }
}

/// The deltas between two readings `wall` apart.
fn noise(start: &Sample, end: &Sample, wall: Duration) -> HostNoise {
    let cpus = end
        .cpu
        .map(|c| c.cpus)
        .filter(|&n| n > 0)
        .unwrap_or_else(available_cpus);
    let seconds = wall.as_secs_f64();
    let per_wall = |delta: f64| (seconds > 0.0).then(|| (delta / seconds).clamp(0.0, 1.0));
    let cpu = start.cpu.zip(end.cpu).and_then(|(a, b)| {
        let total = b.total.checked_sub(a.total).filter(|&t| t > 0)? as f64;
        let delta = |f: fn(&CpuTimes) -> u64| f(&b).saturating_sub(f(&a)) as f64;
        let idle = delta(|c| c.idle) + delta(|c| c.iowait);
        Some((delta(|c| c.steal) / total, (total - idle).max(0.0) / total))
    });
    let pressure = start.pressure_some_us.zip(end.pressure_some_us);
    let own = start.own_cpu.zip(end.own_cpu);
    HostNoise {
        cpus,
        wall_s: seconds,
        load_avg_1m_start: start.load_avg_1m,
        load_avg_1m_end: end.load_avg_1m,
        cpu_pressure_some_share: pressure
            .and_then(|(a, b)| per_wall(b.saturating_sub(a) as f64 / 1e6)),
        steal_share: cpu.map(|(steal, _)| steal.clamp(0.0, 1.0)),
        cpu_busy_share: cpu.map(|(_, busy)| busy.clamp(0.0, 1.0)),
        plumb_cpu_share: own
            .and_then(|(a, b)| per_wall(b.saturating_sub(a).as_secs_f64() / f64::from(cpus))),
    }
}

fn available_cpus() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
}

/// The first field of /proc/loadavg: `3.04 2.36 1.94 4/102 18302`.
fn parse_loadavg(text: &str) -> Option<f64> {
    text.split_whitespace()
        .next()?
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
}

/// The `total=` of the `some` line of /proc/pressure/cpu:
/// `some avg10=27.86 avg60=37.85 avg300=25.54 total=427688433`.
fn parse_pressure_some(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("some "))?;
    line.split_whitespace()
        .find_map(|field| field.strip_prefix("total="))?
        .parse()
        .ok()
}

/// The aggregate `cpu` line of /proc/stat (user nice system idle iowait irq softirq steal guest
/// guest_nice; guest time is already inside user and nice, so the total stops at steal) and the
/// count of per-CPU lines.
fn parse_stat(text: &str) -> Option<CpuTimes> {
    let mut lines = text.lines();
    let first = lines.next()?;
    let mut fields = first.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let values: Vec<u64> = fields
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let at = |i: usize| values.get(i).copied().unwrap_or(0);
    if values.len() < 4 {
        return None;
    }
    let cpus = lines
        .filter(|l| {
            l.strip_prefix("cpu")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .count();
    Some(CpuTimes {
        total: values.iter().sum(),
        idle: at(3),
        iowait: at(4),
        steal: at(7),
        cpus: u32::try_from(cpus).unwrap_or(u32::MAX),
    })
}

/// plumb's own user + system CPU time, all its threads, not its children (`RUSAGE_SELF`).
fn own_cpu_time() -> Option<Duration> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable rusage for the duration of the call.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: getrusage returned 0, so it filled the struct (and zeroed() made it valid anyway).
    let usage = unsafe { usage.assume_init() };
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).ok()?)
            .checked_add(Duration::from_micros(u64::try_from(t.tv_usec).ok()?))
    };
    time(usage.ru_utime)?.checked_add(time(usage.ru_stime)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  1000 0 500 8000 300 0 0 200 50 0\n\
                        cpu0 500 0 250 4000 150 0 0 100 25 0\n\
                        cpu1 500 0 250 4000 150 0 0 100 25 0\n\
                        intr 12345\nctxt 99\n";

    #[test]
    fn parses_the_proc_files() {
        assert_eq!(parse_loadavg("3.04 2.36 1.94 4/102 18302\n"), Some(3.04));
        assert_eq!(parse_loadavg(""), None);
        let psi = "some avg10=27.86 avg60=37.85 avg300=25.54 total=427688433\n\
                   full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
        assert_eq!(parse_pressure_some(psi), Some(427_688_433));
        assert_eq!(parse_pressure_some("full total=3\n"), None);
        let cpu = parse_stat(STAT).unwrap();
        assert_eq!(
            cpu,
            CpuTimes {
                total: 10_000,
                idle: 8000,
                iowait: 300,
                steal: 200,
                cpus: 2
            }
        );
        assert_eq!(parse_stat("intr 1\n"), None);
    }

    #[test]
    fn deltas_become_shares_of_the_wall_time_and_of_all_cpu_time() {
        let start = Sample {
            load_avg_1m: Some(0.5),
            pressure_some_us: Some(1_000_000),
            cpu: parse_stat(STAT),
            own_cpu: Some(Duration::from_secs(1)),
        };
        let mut later = parse_stat(STAT).unwrap();
        // 400 more ticks: 100 stolen, 100 idle, 200 busy.
        later.total += 400;
        later.idle += 100;
        later.steal += 100;
        let end = Sample {
            load_avg_1m: Some(1.5),
            pressure_some_us: Some(1_500_000),
            cpu: Some(later),
            own_cpu: Some(Duration::from_millis(1_500)),
        };
        let noise = noise(&start, &end, Duration::from_secs(2));
        assert_eq!(noise.cpus, 2);
        assert_eq!(noise.load_avg_1m_start, Some(0.5));
        assert_eq!(noise.load_avg_1m_end, Some(1.5));
        assert_eq!(noise.cpu_pressure_some_share, Some(0.25));
        assert_eq!(noise.steal_share, Some(0.25));
        // Stolen ticks are not idle: 300 of 400 ticks were not idle.
        assert_eq!(noise.cpu_busy_share, Some(0.75));
        // 0.5 s of CPU over 2 s on 2 CPUs.
        assert_eq!(noise.plumb_cpu_share, Some(0.125));
    }

    #[test]
    fn missing_files_leave_figures_absent() {
        let noise = noise(
            &Sample::default(),
            &Sample::default(),
            Duration::from_secs(1),
        );
        assert!(noise.cpus >= 1);
        assert_eq!(noise.cpu_pressure_some_share, None);
        assert_eq!(noise.steal_share, None);
        assert_eq!(noise.plumb_cpu_share, None);
    }

    #[test]
    fn a_real_probe_is_within_bounds() {
        let probe = NoiseProbe::start();
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let noise = probe.finish();
        assert!(noise.cpus >= 1, "{noise:?}");
        assert!(noise.wall_s >= 0.3, "{noise:?}");
        for share in [
            noise.cpu_pressure_some_share,
            noise.steal_share,
            noise.cpu_busy_share,
            noise.plumb_cpu_share,
        ]
        .into_iter()
        .flatten()
        {
            assert!((0.0..=1.0).contains(&share), "{noise:?}");
        }
        // plumb spun one thread for the whole wall time: about 1/cpus of the machine, less
        // what a busy host took from it.
        let own = noise.plumb_cpu_share.expect("getrusage works on Linux");
        assert!(own > 0.1 / f64::from(noise.cpus), "{noise:?}");
        assert!(noise.load_avg_1m_start.is_some(), "{noise:?}");
    }
}
