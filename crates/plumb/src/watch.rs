//! `plumb load --watch-pid/--profile-pid`: the server's resources (and CPU stacks) sampled on
//! their own threads while the load runs, so the summary shows server CPU and memory next to
//! latency.

use anyhow::Context;
use plumb_cli::ServerWatch;
use plumb_profile::{
    Profiler, ProfilerHandle, ResourceSampler, ResourceSamplerHandle, SamplingSettings,
    DEFAULT_INTERVAL,
};
use plumb_schema::load::WatchedServer;
use plumb_schema::profile::CpuOutcome;

/// Samplers attached to the server process.
pub struct Watching {
    pid: u32,
    resources: ResourceSamplerHandle,
    cpu: Option<Result<ProfilerHandle, CpuOutcome>>,
}

impl Watching {
    /// Attach before the load starts; a PID that does not exist is an error that stops the run.
    pub fn start(watch: ServerWatch) -> anyhow::Result<Watching> {
        let resources = ResourceSampler::start(watch.pid, DEFAULT_INTERVAL)
            .with_context(|| format!("cannot watch the server process {}", watch.pid))?;
        let cpu = watch.profile.then(|| {
            Profiler::attach(watch.pid, SamplingSettings::default()).map_err(|denied| {
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
            pid: watch.pid,
            resources,
            cpu,
        })
    }

    /// Stop sampling and return what was seen.
    pub fn stop(self) -> WatchedServer {
        let cpu = self.cpu.map(|cpu| match cpu {
            Ok(handle) => CpuOutcome::Sampled(handle.stop()),
            Err(unavailable) => unavailable,
        });
        WatchedServer {
            pid: self.pid,
            resources: self.resources.stop(),
            cpu,
            cpu_ms_per_request: None,
        }
    }
}
