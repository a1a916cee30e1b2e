//! `plumb profile`: resolve the flags, run the profiler, write the requested files, print the
//! table on stdout and warnings on stderr.

use crate::exit::Outcome;
use anyhow::Context;
use plumb_cli::ProfileArgs;
use plumb_schema::profile::{CpuOutcome, ProfileReport};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Run `plumb profile`.
pub fn run(args: ProfileArgs) -> anyhow::Result<Outcome> {
    let settings = args.resolve()?;
    let stop = plumb_profile::stop_on_interrupt().context("installing the Ctrl-C handler")?;
    eprintln!("{}", describe_start(&settings));
    let report = plumb_profile::run(&settings, &stop)?;
    warn_about(&report);
    // The table first: a file that cannot be written must not hide what was measured.
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(plumb_report::profile::render_profile(&report, args.top).as_bytes())?;
    stdout.flush()?;
    write_files(&settings, &report)?;
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
        eprintln!("warning: CPU sampling unavailable: {reason}\nhint: {hint}\nplumb: the resource timeline was still recorded");
    }
    if let Some(code) = report.target.exit_code.filter(|&code| code != 0) {
        eprintln!("warning: the command exited with status {code}");
    }
}

fn write_files(
    settings: &plumb_profile::ProfileSettings,
    report: &ProfileReport,
) -> anyhow::Result<()> {
    if let Some(path) = &settings.json {
        write_file(path, "JSON", |out| {
            Ok(serde_json::to_writer_pretty(out, report)?)
        })?;
    }
    let wants_stacks = settings.flamegraph.is_some() || settings.folded.is_some();
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
    if let Some(path) = &settings.folded {
        write_file(path, "folded stacks", |out| {
            Ok(plumb_profile::write_folded(&cpu.folded, out)?)
        })?;
    }
    if let Some(path) = &settings.flamegraph {
        let title = flamegraph_title(report);
        write_file(path, "flamegraph", |out| {
            Ok(plumb_profile::write_flamegraph(&cpu.folded, &title, out)?)
        })?;
    }
    Ok(())
}

fn flamegraph_title(report: &ProfileReport) -> String {
    match &report.target.command {
        Some(command) => format!("plumb profile: {}", command.join(" ")),
        None => format!("plumb profile: PID {}", report.target.pid),
    }
}

fn write_file(
    path: &Path,
    what: &str,
    write: impl FnOnce(&mut BufWriter<File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let context = || format!("could not write {what} to {}", path.display());
    let file = File::create(path).with_context(context)?;
    let mut out = BufWriter::new(file);
    write(&mut out).with_context(context)?;
    out.flush().with_context(context)?;
    eprintln!("plumb: wrote {what} to {}", path.display());
    Ok(())
}
