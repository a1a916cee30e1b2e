//! `plumb profile`: resolve the flags and check the output paths, run the profiler, write the
//! requested files, print the table on stdout and warnings on stderr. A launched command is
//! measured with its children; `--pid` (repeatable) with `--tree`, and `--cgroup`, select
//! running processes.

use crate::exit::Outcome;
use crate::output::{self, Destination};
use plumb_cli::ProfileArgs;
use plumb_schema::profile::{CpuOutcome, ProfileReport};
use std::path::Path;

/// Run `plumb profile`.
pub fn run(args: ProfileArgs) -> anyhow::Result<Outcome> {
    let settings = args.resolve()?;
    let files = Files::check(&settings)?;
    let stop = crate::interrupt::stop();
    output::log(&describe_start(&settings));
    let started = std::time::SystemTime::now();
    let mut report = plumb_profile::run(&settings, &stop.flag())?;
    if let Some(reason) = stop.reason() {
        report.interrupted = true;
        report.notes.push(format!(
            "{reason}: the profile covers the {:.1} s until then",
            report.duration_secs
        ));
    }
    warn_about(&report);
    let saved = plumb_ledger::RunResult::Profile(Box::new(report.clone()));
    crate::save::save(&args.save, saved, started);
    let written = files.write(&report);
    // The table even when a file failed: a file that cannot be written must not hide what was
    // measured.
    output::stdout(plumb_report::profile::render_profile(&report, args.top).as_bytes())?;
    written?;
    Ok(Outcome::Passed)
}

fn describe_start(settings: &plumb_profile::ProfileSettings) -> String {
    let what = match &settings.target {
        plumb_profile::Target::Command { program, .. } => format!("`{program}`"),
        plumb_profile::Target::Pid {
            pid,
            duration: Some(d),
        } => format!("PID {pid} for {}", humanize(*d)),
        plumb_profile::Target::Pid {
            pid,
            duration: None,
        } => format!("PID {pid} until it exits (Ctrl-C to stop)"),
        plumb_profile::Target::Processes {
            selection,
            duration: Some(d),
        } => format!("{} for {}", selection.describe(), humanize(*d)),
        plumb_profile::Target::Processes {
            selection,
            duration: None,
        } => format!(
            "{} until no process is left (Ctrl-C to stop)",
            selection.describe()
        ),
    };
    format!(
        "plumb: profiling {what} at {} Hz",
        settings.sampling.frequency_hz
    )
}

fn humanize(duration: std::time::Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

fn warn_about(report: &ProfileReport) {
    if let CpuOutcome::Unavailable { reason, hint } = &report.cpu {
        output::log(&format!("warning: CPU sampling unavailable: {reason}\nhint: {hint}\nplumb: the resource timeline was still recorded"));
    }
    if let Some(code) = report.target.exit_code.filter(|&code| code != 0) {
        output::log(&format!("warning: the command exited with status {code}"));
    }
}

/// The files `--json`, `--folded` and `--flamegraph` name, checked before the run.
struct Files {
    json: Option<Destination>,
    folded: Option<Destination>,
    flamegraph: Option<Destination>,
    wall_flamegraph: Option<Destination>,
}

impl Files {
    fn check(settings: &plumb_profile::ProfileSettings) -> anyhow::Result<Files> {
        let check = |flag, path: &Option<std::path::PathBuf>| {
            path.as_deref()
                .map(|p: &Path| Destination::check(flag, p, false))
                .transpose()
        };
        Ok(Files {
            json: check("--json", &settings.json)?,
            folded: check("--folded", &settings.folded)?,
            flamegraph: check("--flamegraph", &settings.flamegraph)?,
            wall_flamegraph: check("--wall-flamegraph", &settings.wall_flamegraph)?,
        })
    }

    /// Write `--json`, then the stacks; the first error is returned after trying them all.
    fn write(&self, report: &ProfileReport) -> anyhow::Result<()> {
        let json = self.json.as_ref().map_or(Ok(()), |d| {
            let mut text = serde_json::to_vec_pretty(report)?;
            text.push(b'\n');
            write_file(d, "JSON", &text)
        });
        let stacks = self.write_stacks(report);
        let wall = self.write_wall_clock(report);
        json.and(stacks).and(wall)
    }

    /// `--wall-flamegraph`: CPU samples and waits by stack on one time axis.
    fn write_wall_clock(&self, report: &ProfileReport) -> anyhow::Result<()> {
        let Some(destination) = &self.wall_flamegraph else {
            return Ok(());
        };
        let (CpuOutcome::Sampled(cpu), Some(waiting)) = (&report.cpu, &report.waiting) else {
            anyhow::bail!("--wall-flamegraph needs CPU samples and context-switch records, and this run has not both (see the warnings above)\nhint: --flamegraph draws the CPU samples alone");
        };
        if let Some(reason) = &waiting.no_stacks {
            output::log(&format!(
                "warning: the wall-clock flamegraph shows CPU samples only: {reason}"
            ));
        }
        let folded = plumb_profile::wall_clock_folded(cpu, waiting);
        let mut svg = Vec::new();
        plumb_profile::write_wall_clock_flamegraph(&folded, &flamegraph_title(report), &mut svg)?;
        write_file(destination, "wall-clock flamegraph", &svg)
    }

    fn write_stacks(&self, report: &ProfileReport) -> anyhow::Result<()> {
        let wants_stacks = self.flamegraph.is_some() || self.folded.is_some();
        let cpu = match &report.cpu {
            CpuOutcome::Sampled(cpu) if cpu.samples > 0 => cpu,
            CpuOutcome::Sampled(_) if wants_stacks => {
                anyhow::bail!("no CPU samples were taken, so there is no flamegraph or folded stacks to write\nhint: the process used (almost) no CPU; profile it while it works, or raise --frequency")
            }
            CpuOutcome::Unavailable { .. } if wants_stacks => {
                anyhow::bail!("CPU sampling was not allowed (see the warning above), so --flamegraph/--folded were not written\nhint: the resource timeline above (and --json, if given) was still recorded")
            }
            _ => return Ok(()),
        };
        let folded = self.folded.as_ref().map_or(Ok(()), |d| {
            let mut text = Vec::new();
            plumb_profile::write_folded(&cpu.folded, &mut text)?;
            write_file(d, "folded stacks", &text)
        });
        let flamegraph = self.flamegraph.as_ref().map_or(Ok(()), |d| {
            let mut svg = Vec::new();
            plumb_profile::write_flamegraph(&cpu.folded, &flamegraph_title(report), &mut svg)?;
            write_file(d, "flamegraph", &svg)
        });
        folded.and(flamegraph)
    }
}

fn flamegraph_title(report: &ProfileReport) -> String {
    match &report.target.command {
        Some(command) => format!("plumb profile: {}", command.join(" ")),
        None => format!("plumb profile: PID {}", report.target.pid),
    }
}

fn write_file(destination: &Destination, what: &str, bytes: &[u8]) -> anyhow::Result<()> {
    destination.write(bytes)?;
    output::log(&format!(
        "plumb: wrote {what} to {}",
        destination.path().display()
    ));
    Ok(())
}
