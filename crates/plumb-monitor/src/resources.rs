//! The resources a monitor watches for the seeds' "CPU or memory above 80%" alerts: the host's
//! CPU and memory (`/proc/stat` and `/proc/meminfo`, read with procfs) and, with `watch-pid`,
//! those of a process or process tree (plumb-profile's live reader), each as a share of the host.
//! Read once per probe; nothing is kept but the counters the next reading needs.

use plumb_profile::{LiveResources, ProcessSelection};
use procfs::{Current, CurrentSI};

/// One reading, each a fraction of the host (0.8 = 80%); `None` where it cannot be read (the
/// first CPU reading has nothing to compare with, a watched process that exited).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResourceLevels {
    /// Busy CPU time of all the host's CPUs since the previous reading.
    pub host_cpu: Option<f64>,
    /// Memory in use (total minus available).
    pub host_memory: Option<f64>,
    /// The watched processes' CPU since the previous reading, over all the host's CPUs.
    pub process_cpu: Option<f64>,
    /// The watched processes' resident memory.
    pub process_memory: Option<f64>,
}

/// Where readings come from (the host in production; a script in tests).
pub trait ResourceSource {
    /// The levels now.
    fn read(&mut self) -> ResourceLevels;
}

/// The host, and the watched processes when there are any.
pub struct SystemResources {
    previous: Option<(u64, u64)>,
    processes: Option<LiveResources>,
    cores: f64,
}

impl SystemResources {
    /// Watch the host, and `selection` when given (its PIDs checked now).
    pub fn new(selection: Option<&ProcessSelection>) -> Result<SystemResources, String> {
        let processes = selection
            .map(LiveResources::watch)
            .transpose()
            .map_err(|e| e.to_string())?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let mut resources = SystemResources {
            previous: None,
            processes,
            cores,
        };
        // The first reading sets the CPU counters the next one is measured from.
        resources.read();
        Ok(resources)
    }

    fn host_cpu(&mut self) -> Option<f64> {
        let stats = procfs::KernelStats::current().ok()?;
        let t = stats.total;
        let idle = t.idle + t.iowait.unwrap_or(0);
        let total = t.user
            + t.nice
            + t.system
            + idle
            + t.irq.unwrap_or(0)
            + t.softirq.unwrap_or(0)
            + t.steal.unwrap_or(0);
        let busy = total - idle;
        let share = self.previous.and_then(|(b, all)| {
            let elapsed = total.saturating_sub(all);
            (elapsed > 0).then(|| busy.saturating_sub(b) as f64 / elapsed as f64)
        });
        self.previous = Some((busy, total));
        share
    }
}

fn host_memory() -> Option<(f64, u64)> {
    let info = procfs::Meminfo::current().ok()?;
    let available = info.mem_available?;
    (info.mem_total > 0).then(|| {
        (
            info.mem_total.saturating_sub(available) as f64 / info.mem_total as f64,
            info.mem_total,
        )
    })
}

impl ResourceSource for SystemResources {
    fn read(&mut self) -> ResourceLevels {
        let memory = host_memory();
        let point = self.processes.as_mut().and_then(LiveResources::read);
        ResourceLevels {
            host_cpu: self.host_cpu(),
            host_memory: memory.map(|(share, _)| share),
            process_cpu: point
                .as_ref()
                .map(|p| (p.cpu_user_percent + p.cpu_system_percent) / 100.0 / self.cores),
            process_memory: point
                .as_ref()
                .zip(memory)
                .map(|(p, (_, total))| p.rss_bytes as f64 / total as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_reads_as_shares_and_a_spinning_child_as_its_cores_share() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap();
        let selection = ProcessSelection::pid(child.id());
        let mut resources = SystemResources::new(Some(&selection)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        let levels = resources.read();
        let _ = child.kill();
        let _ = child.wait();
        let memory = levels.host_memory.unwrap();
        assert!(memory > 0.0 && memory < 1.0, "{levels:?}");
        let cpu = levels.host_cpu.unwrap();
        assert!(cpu > 0.0 && cpu <= 1.0, "{levels:?}");
        // One spinning thread is at most one core of the host's, and (on a machine shared
        // with others) at least a tenth of one.
        let cores = resources.cores;
        let process = levels.process_cpu.unwrap();
        assert!(
            process <= 1.0 / cores + 0.05 && process >= 0.1 / cores,
            "{levels:?}"
        );
        assert!(levels.process_memory.unwrap() < 0.01, "{levels:?}");
    }
}
