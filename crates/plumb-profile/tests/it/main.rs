//! Integration tests of plumb-profile against its fixture programs: a CPU profile with known
//! shares (70/20/10) and a process whose memory grows in steps.

mod cpu;
mod errors;
mod resources;
mod runtimes;
mod trees;
mod waits;

use plumb_profile::{ProfileSettings, Target};
use std::process::{Child, Command};
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard};

/// Held while a test measures: run alone, the fixture gets a whole core, so its shares and
/// times do not suffer from the tests crowding each other on a small machine. Every profile
/// this binary takes ([`profile`]) holds it; a test may also hold it around several steps
/// (the lock is taken once per thread, so [`profile`] inside such a test does not wait on it).
pub fn cpu_alone() -> CpuAlone {
    static CPU: Mutex<()> = Mutex::new(());
    if HELD.with(|held| held.get()) {
        return CpuAlone(None);
    }
    let guard = CPU.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    HELD.with(|held| held.set(true));
    CpuAlone(Some(guard))
}

thread_local! {
    /// Whether this test's thread holds the lock of [`cpu_alone`].
    static HELD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The lock of [`cpu_alone`], released when dropped (if this guard took it).
pub struct CpuAlone(Option<MutexGuard<'static, ()>>);

impl Drop for CpuAlone {
    fn drop(&mut self) {
        if self.0.take().is_some() {
            HELD.with(|held| held.set(false));
        }
    }
}

/// Path of the fixture with a known CPU profile.
pub fn hot_fixture() -> &'static str {
    env!("CARGO_BIN_EXE_plumb-fixture-hot")
}

/// Path of the fixture that allocates memory in steps.
pub fn alloc_fixture() -> &'static str {
    env!("CARGO_BIN_EXE_plumb-fixture-alloc")
}

/// Settings to launch `program args`.
pub fn launch(program: &str, args: &[&str]) -> ProfileSettings {
    ProfileSettings::new(Target::Command {
        program: program.to_string(),
        args: args.iter().map(|arg| arg.to_string()).collect(),
    })
}

/// Run the profiler without an interrupt.
pub fn profile(
    settings: &ProfileSettings,
) -> Result<plumb_schema::profile::ProfileReport, plumb_profile::ProfileError> {
    let _alone = cpu_alone();
    plumb_profile::run(settings, &AtomicBool::new(false))
}

/// A child process killed (and reaped) when the test ends, pass or fail.
pub struct Running(pub Child);

impl Running {
    /// Start `program args`.
    pub fn start(program: &str, args: &[&str]) -> Self {
        Self(
            Command::new(program)
                .args(args)
                .spawn()
                .expect("fixture starts"),
        )
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The handles can be moved to the thread that ends a load test.
#[test]
fn handles_are_send() {
    fn send<T: Send>() {}
    send::<plumb_profile::ProfilerHandle>();
    send::<plumb_profile::ResourceSamplerHandle>();
}
