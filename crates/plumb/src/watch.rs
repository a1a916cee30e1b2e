//! `plumb load --watch-pid/--profile-pid/--watch-tree/--watch-cgroup`: the server's resources
//! (and CPU stacks) sampled on their own threads while the load runs, so the summary shows
//! server CPU and memory next to latency, and the server's CPU per request: the figure that
//! tells an optimization apart from noise (a faster handler costs fewer CPU ms per request even
//! when the machine's noise moves latency).
//!
//! The watched selection is a set of PIDs, with all their descendants under `--watch-tree` (a
//! pre-forking server's master alone does none of the work), and/or a cgroup.

use anyhow::Context;
use plumb_cli::ServerWatch;
use plumb_profile::{
    ProcessSelection, Profiler, ProfilerHandle, ResourceSampler, ResourceSamplerHandle,
    SamplingSettings, DEFAULT_INTERVAL,
};
use plumb_schema::load::WatchedServer;
use plumb_schema::profile::CpuOutcome;

/// Samplers attached to the server processes.
pub struct Watching {
    selection: ProcessSelection,
    resources: ResourceSamplerHandle,
    cpu: Option<Result<ProfilerHandle, CpuOutcome>>,
}

impl Watching {
    /// Attach before the load starts; a PID or cgroup that does not exist is an error that
    /// stops the run.
    pub fn start(watch: ServerWatch) -> anyhow::Result<Watching> {
        let what = watch.selection.describe();
        let selection = watch
            .selection
            .checked()
            .with_context(|| format!("cannot watch the server: {what}"))?;
        let resources = ResourceSampler::watch(&selection, DEFAULT_INTERVAL)
            .with_context(|| format!("cannot watch the server: {what}"))?;
        let cpu = watch.profile.then(|| {
            Profiler::attach_selection(&selection, SamplingSettings::default()).map_err(|denied| {
                crate::output::log(&format!(
                    "warning: {}\nhint: {}",
                    denied.reason, denied.hint
                ));
                CpuOutcome::Unavailable {
                    reason: denied.reason,
                    hint: denied.hint,
                }
            })
        });
        Ok(Watching {
            selection,
            resources,
            cpu,
        })
    }

    /// Stop sampling and return what was seen.
    pub fn stop(self) -> WatchedServer {
        if let Some(note) = self.selection.busy_children_note("--watch-tree") {
            crate::output::log(&format!("warning: {note}"));
        }
        let cpu = self.cpu.map(|cpu| match cpu {
            Ok(handle) => CpuOutcome::Sampled(handle.stop()),
            Err(unavailable) => unavailable,
        });
        WatchedServer {
            pid: self.selection.pids.first().copied().unwrap_or(0),
            resources: self.resources.stop(),
            cpu,
            cpu_ms_per_request: None,
        }
    }
}

/// `server` with its CPU ms per request: the selection's CPU (user + system) from the first
/// reading to the last, over the `requests` the load completed. None without requests.
pub fn per_request(mut server: WatchedServer, requests: u64) -> WatchedServer {
    server.cpu_ms_per_request = server
        .resources
        .processes
        .as_ref()
        .filter(|_| requests > 0)
        .map(|group| 1000.0 * (group.cpu_user_secs + group.cpu_system_secs) / requests as f64);
    server
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_cli::ServerWatch;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    /// CPU seconds (utime + stime) of `pid` and its descendants, read from /proc here.
    fn tree_cpu_secs(root: u32) -> f64 {
        let mut table = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
            let ticks: f64 =
                fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
            table.push((pid, fields[1].parse::<u32>().unwrap(), ticks / 100.0));
        }
        let mut members = vec![root];
        let mut i = 0;
        while i < members.len() {
            let parent = members[i];
            members.extend(table.iter().filter(|t| t.1 == parent).map(|t| t.0));
            i += 1;
        }
        table
            .iter()
            .filter(|t| members.contains(&t.0))
            .map(|t| t.2)
            .sum()
    }

    /// A load against a server that is a tree (a shell whose child Python serves): the tree's
    /// CPU per request is there, and agrees with /proc's accounting of the tree.
    #[test]
    #[allow(clippy::print_stderr)] // the measured figures, for the test's log
    fn a_watched_tree_has_its_cpu_ms_per_request() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let script = format!("python3 -m http.server {port} --bind 127.0.0.1; true");
        let mut shell = Command::new("sh")
            .args(["-c", &script])
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}/");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "python never listened"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let watch = ServerWatch {
            selection: ProcessSelection::tree_of(shell.id()),
            profile: false,
        };
        let mut settings = plumb_load::LoadSettings::new(url);
        settings.model = plumb_load::LoadModel::Closed { connections: 2 };
        settings.duration = Some(Duration::from_secs(2));
        let before = tree_cpu_secs(shell.id());
        let watching = Watching::start(watch).unwrap();
        let report = plumb_load::run(
            &settings,
            &mut plumb_load::Unobserved,
            &plumb_load::StopSignal::new(),
        );
        let server = watching.stop();
        let kernel = tree_cpu_secs(shell.id()) - before;
        // SAFETY: kill takes plain integers; the negative PID names the shell's process group.
        unsafe { libc::kill(-(shell.id() as libc::pid_t), libc::SIGKILL) };
        let _ = shell.wait();
        let mut result = report.unwrap().to_result(&settings, Vec::new());
        let requests = result.summary.requests;
        let server = per_request(server, requests);
        let per_request = server.cpu_ms_per_request.expect("CPU ms per request");
        let kernel_per_request = 1000.0 * kernel / requests as f64;
        eprintln!(
            "{requests} requests: {per_request:.3} CPU ms per request, /proc {kernel_per_request:.3}"
        );
        assert!(requests > 50, "{requests} requests");
        // Python's CPU is the work: a request costs it more than 0.05 ms and less than the whole
        // run's CPU time could give (2 cores over 2 s).
        assert!(per_request > 0.05, "{per_request}");
        assert!(
            per_request < 1000.0 * 4.0 / requests as f64,
            "{per_request}"
        );
        let off = (per_request - kernel_per_request).abs() / kernel_per_request;
        assert!(
            off < 0.1,
            "{per_request:.3} vs /proc {kernel_per_request:.3}"
        );
        let group = server.resources.processes.as_ref().unwrap();
        assert!(
            group.busiest.iter().any(|m| m.name.starts_with("python")),
            "{group:?}"
        );
        result.server = Some(server);
        let text = plumb_report::load::text(&result);
        assert!(
            text.contains("ms per request") && text.contains("and its descendants"),
            "{text}"
        );
        let markdown = plumb_report::load::markdown(&result);
        assert!(markdown.contains("CPU ms per request**"), "{markdown}");
        // Compared with itself, the row is there, with equal columns near the saved figure.
        let settings = plumb_compare::CompareSettings::default();
        let comparison = plumb_compare::compare_load(&[&result], &[&result], &settings);
        let row = comparison
            .rows
            .iter()
            .find(|row| row.metric == "server CPU per request")
            .expect("a CPU-per-request row");
        assert_eq!(row.baseline, row.candidate);
        let off = (row.baseline - per_request).abs() / per_request;
        assert!(off < 0.25, "row {} vs saved {per_request}", row.baseline);
    }
}
