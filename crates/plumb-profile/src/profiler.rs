//! The CPU profiler as a handle: sampling runs on a background thread until `stop`, which
//! symbolizes and ranks what was sampled. Used by `plumb profile` and, during a load test, by
//! `plumb load --profile-pid`.

use crate::analysis::{self, COVER_FRACTION};
use crate::perf::access::Diagnosis;
use crate::perf::sampler::{AttachMode, CpuSampler};
use crate::settings::SamplingSettings;
use crate::StopOnDrop;
use plumb_schema::profile::CpuProfile;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the background thread empties the ring buffers.
const DRAIN_EVERY: Duration = Duration::from_millis(20);

/// Starts CPU sampling of a process.
pub struct Profiler;

/// Sampling in progress; [`ProfilerHandle::stop`] returns the profile (dropping the handle
/// stops sampling and discards it).
pub struct ProfilerHandle {
    stop: StopOnDrop,
    thread: JoinHandle<CpuSampler>,
    settings: SamplingSettings,
}

impl Profiler {
    /// Sample every thread of running process `pid` (and threads it starts later) from now on.
    /// An `Err` explains why perf events are not allowed and which setting would allow them.
    pub fn attach(pid: u32, settings: SamplingSettings) -> Result<ProfilerHandle, Diagnosis> {
        Self::start(pid, AttachMode::Running, settings)
    }

    /// Sample a process plumb launched, paused before its exec.
    pub(crate) fn before_exec(
        pid: u32,
        settings: SamplingSettings,
    ) -> Result<ProfilerHandle, Diagnosis> {
        Self::start(pid, AttachMode::BeforeExec, settings)
    }

    fn start(
        pid: u32,
        mode: AttachMode,
        settings: SamplingSettings,
    ) -> Result<ProfilerHandle, Diagnosis> {
        let mut sampler = CpuSampler::open(pid, mode, &settings)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("plumb-sampler".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    sampler.drain();
                    std::thread::sleep(DRAIN_EVERY);
                }
                sampler
            })
            .expect("spawning a thread only fails when the system is out of resources");
        Ok(ProfilerHandle {
            stop: StopOnDrop(stop),
            thread,
            settings,
        })
    }
}

impl ProfilerHandle {
    /// Stop sampling, then symbolize and rank the samples.
    pub fn stop(self) -> CpuProfile {
        self.stop.stop();
        let raw = match self.thread.join() {
            Ok(sampler) => sampler.finish(),
            Err(_) => Default::default(),
        };
        let stacks = analysis::symbolize(&raw);
        let hot_functions = analysis::rank(&stacks);
        CpuProfile {
            frequency_hz: self.settings.frequency_hz,
            unwinding: self.settings.unwinding.name().to_string(),
            samples: raw.samples,
            lost_samples: raw.lost,
            cover_80_percent: analysis::cover(&hot_functions, COVER_FRACTION),
            hot_functions,
            folded: analysis::fold(&stacks),
        }
    }
}
