//! `plumb bench`: resolve the flags, run the benchmark with a progress bar on stderr, print the
//! summary on stdout and write the requested exports.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use plumb_bench::{BenchError, Observer, Phase, ProcessExecutor, Progress, Role};
use plumb_cli::BenchArgs;
use plumb_report::bench::{self as render, Colors, TimeUnit};
use plumb_schema::bench::BenchReport;

use crate::exit::Outcome;

/// Run `plumb bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<Outcome> {
    let settings = args.resolve().map_err(|e| with_hint(&e, &e.hint))?;
    if args.stdout_exports() > 1 {
        anyhow::bail!(
            "invalid --json/--export-*: more than one export is written to stdout ('-')\n\
             hint: send at most one export to '-' and the others to files"
        );
    }
    catch_interrupts();
    let started = std::time::SystemTime::now();
    let mut progress = ProgressBarObserver::new();
    let result = plumb_bench::run(&settings, &mut ProcessExecutor::new(), &mut progress);
    progress.bar.finish_and_clear();
    let report = match result {
        Ok(report) => report,
        Err(error) if is_benchmark_failure(&error) => {
            eprintln!("error: {error}\nhint: {}", error.hint());
            return Ok(Outcome::BenchmarkFailed);
        }
        Err(error) => return Err(with_hint(&error, &error.hint())),
    };
    if report.interrupted {
        eprintln!("warning: interrupted; reporting the runs measured until then");
    }
    print_summary(&report, args.stdout_exports() > 0)?;
    write_exports(&args, &report)?;
    let saved = plumb_ledger::RunResult::Bench(Box::new(report));
    crate::save::save(&args.options.save, saved, started);
    // As with `plumb load`, the first Ctrl-C stops and reports (exit 0); a second one kills plumb
    // with the default action, which the shell reports as 130.
    Ok(Outcome::Passed)
}

/// Set by the first Ctrl-C; the runner stops after the current process and reports.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_signal: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Catch the first SIGINT to report what was measured; a second one kills plumb as usual.
fn catch_interrupts() {
    // SAFETY: `action` is fully initialized before use; the handler only stores to an atomic,
    // which is async-signal-safe; SA_RESETHAND restores the default action after one signal.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESETHAND;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}

fn with_hint(error: &dyn std::fmt::Display, hint: &str) -> anyhow::Error {
    anyhow::anyhow!("{error}\nhint: {hint}")
}

/// A command that ran and failed is the benchmark's fault, not a usage error.
fn is_benchmark_failure(error: &BenchError) -> bool {
    matches!(error, BenchError::Failed { role, .. } if *role != Role::ShellCalibration)
}

/// The summary goes to stdout, unless an export claimed stdout; then it goes to stderr.
fn print_summary(report: &BenchReport, stdout_taken: bool) -> anyhow::Result<()> {
    if stdout_taken {
        let text = render::text(report, colors_for(&std::io::stderr()));
        std::io::stderr().write_all(text.as_bytes())?;
    } else {
        let text = render::text(report, colors_for(&std::io::stdout()));
        std::io::stdout().lock().write_all(text.as_bytes())?;
    }
    Ok(())
}

fn colors_for(stream: &impl IsTerminal) -> Colors {
    colors(
        stream.is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// Colours only on a terminal, and never when `NO_COLOR` is set to anything but the empty
/// string (<https://no-color.org>).
fn colors(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> Colors {
    let no_color = no_color.is_some_and(|value| !value.is_empty());
    if terminal && !no_color {
        Colors::Always
    } else {
        Colors::Never
    }
}

fn write_exports(args: &BenchArgs, report: &BenchReport) -> anyhow::Result<()> {
    if let Some(path) = &args.options.json {
        write_export("--json", path, &render::json(report)?)?;
    }
    if let Some(path) = &args.options.export_hyperfine_json {
        write_export(
            "--export-hyperfine-json",
            path,
            &render::hyperfine_json(report)?,
        )?;
    }
    if let Some(path) = &args.options.export_markdown {
        write_export("--export-markdown", path, &render::markdown(report))?;
    }
    if let Some(path) = &args.options.export_csv {
        write_export("--export-csv", path, &render::csv(report))?;
    }
    Ok(())
}

fn write_export(flag: &str, path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut contents = contents.to_owned();
    if !contents.ends_with('\n') {
        contents.push('\n');
    }
    if path.as_os_str() == "-" {
        return Ok(std::io::stdout().lock().write_all(contents.as_bytes())?);
    }
    std::fs::write(path, contents).with_context(|| {
        format!(
            "cannot write {flag} file `{}`\nhint: check that its directory exists and is writable",
            path.display()
        )
    })
}

/// Draws progress on stderr when it is a terminal; hidden otherwise.
struct ProgressBarObserver {
    bar: ProgressBar,
    /// The phase on display; a new phase restarts the bar so its ETA is that phase's.
    phase: Option<Phase>,
}

impl ProgressBarObserver {
    fn new() -> Self {
        if !std::io::stderr().is_terminal() {
            return ProgressBarObserver {
                bar: ProgressBar::hidden(),
                phase: None,
            };
        }
        let bar = ProgressBar::new(1);
        let style =
            ProgressStyle::with_template("{prefix:>9} [{bar:30}] {pos}/{len} {msg}  ETA {eta}")
                .expect("the template is valid")
                .progress_chars("=> ");
        bar.set_style(style);
        ProgressBarObserver { bar, phase: None }
    }
}

impl Observer for ProgressBarObserver {
    fn should_stop(&self) -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }

    fn progress(&mut self, progress: &Progress<'_>) {
        let prefix = match progress.phase {
            Phase::Calibrating => "shell",
            Phase::Warmup => "warmup",
            Phase::Measuring => "measuring",
        };
        self.bar.set_prefix(prefix);
        if self.phase != Some(progress.phase) {
            self.phase = Some(progress.phase);
            self.bar.reset();
            self.bar.set_length(progress.total);
        }
        self.bar.set_length(progress.total);
        self.bar.set_position(progress.done);
        let estimate = progress.estimate.map(|mean| {
            let seconds = mean.as_secs_f64();
            TimeUnit::for_seconds(seconds)
                .format(seconds)
                .trim()
                .to_owned()
        });
        self.bar.set_message(match estimate {
            Some(estimate) => format!("{}: mean {estimate}", progress.name),
            None => progress.name.to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colours_need_a_terminal_and_no_no_color() {
        assert_eq!(colors(true, None), Colors::Always);
        assert_eq!(colors(true, Some(OsStr::new(""))), Colors::Always);
        assert_eq!(colors(true, Some(OsStr::new("1"))), Colors::Never);
        assert_eq!(colors(false, None), Colors::Never);
    }
}
