//! `plumb bench`: resolve the flags and check the export paths, run the benchmark with a progress
//! bar on stderr, then save the result to the ledger, write the exports and print the summary.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use plumb_bench::{BenchError, Observer, Phase, ProcessExecutor, Progress, Role};
use plumb_cli::BenchArgs;
use plumb_report::bench::{self as render, Colors, TimeUnit};
use plumb_schema::bench::BenchReport;

use crate::exit::Outcome;
use crate::output::{self, Destination};

/// Run `plumb bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<Outcome> {
    let settings = args.resolve().map_err(|e| with_hint(&e, &e.hint))?;
    if args.stdout_exports() > 1 {
        anyhow::bail!(
            "invalid --json/--export-*: more than one export is written to stdout ('-')\n\
             hint: send at most one export to '-' and the others to files"
        );
    }
    let exports = Exports::check(&args)?;
    let stop = crate::interrupt::stop();
    let started = std::time::SystemTime::now();
    let mut progress = ProgressBarObserver::new(stop.flag());
    let mut executor = ProcessExecutor::stopped_by(stop.flag());
    let probe = crate::noise::NoiseProbe::start();
    let result = plumb_bench::run(&settings, &mut executor, &mut progress);
    let host_noise = probe.finish();
    progress.bar.finish_and_clear();
    let reason = stop.reason().unwrap_or_else(|| "interrupted".into());
    let mut report = match result {
        Ok(report) => report,
        Err(error) if is_benchmark_failure(&error) => {
            output::log(&format!("error: {error}\nhint: {}", error.hint()));
            return Ok(Outcome::BenchmarkFailed);
        }
        Err(BenchError::Interrupted) => anyhow::bail!(
            "{reason} before any run was measured\nhint: {}",
            BenchError::Interrupted.hint()
        ),
        Err(error) => return Err(with_hint(&error, &error.hint())),
    };
    report.host_noise = Some(host_noise);
    if report.interrupted {
        output::log(&format!(
            "warning: {reason}; reporting the runs measured until then"
        ));
    }
    let saved = plumb_ledger::RunResult::Bench(Box::new(report.clone()));
    crate::save::save(&args.options.save, saved, started);
    let written = exports.write(&report);
    print_summary(&report, exports.stdout_taken())?;
    written?;
    // As with `plumb load`, a first signal stops and reports (exit 0); a second one ends plumb at
    // once (128 + the signal's number).
    Ok(Outcome::Passed)
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
        output::log(text.trim_end());
        Ok(())
    } else {
        output::stdout(render::text(report, colors_for(&std::io::stdout())).as_bytes())
    }
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

/// The export files, checked before the run.
struct Exports {
    json: Option<Destination>,
    hyperfine: Option<Destination>,
    markdown: Option<Destination>,
    csv: Option<Destination>,
}

impl Exports {
    fn check(args: &BenchArgs) -> anyhow::Result<Exports> {
        let check = |flag, path: &Option<std::path::PathBuf>| {
            path.as_deref()
                .map(|p: &Path| Destination::check(flag, p, true))
                .transpose()
        };
        let options = &args.options;
        Ok(Exports {
            json: check("--json", &options.json)?,
            hyperfine: check("--export-hyperfine-json", &options.export_hyperfine_json)?,
            markdown: check("--export-markdown", &options.export_markdown)?,
            csv: check("--export-csv", &options.export_csv)?,
        })
    }

    fn stdout_taken(&self) -> bool {
        [&self.json, &self.hyperfine, &self.markdown, &self.csv]
            .into_iter()
            .flatten()
            .any(Destination::is_stdout)
    }

    /// Write every export; one that fails does not stop the others. The first error is returned.
    fn write(&self, report: &BenchReport) -> anyhow::Result<()> {
        let rendered = [
            (&self.json, render::json(report)),
            (&self.hyperfine, render::hyperfine_json(report)),
            (&self.markdown, Ok(render::markdown(report))),
            (&self.csv, Ok(render::csv(report))),
        ];
        let mut first_error = None;
        for (destination, contents) in rendered {
            let Some(destination) = destination else {
                continue;
            };
            let written = contents
                .map_err(anyhow::Error::from)
                .and_then(|text| destination.write(with_newline(text).as_bytes()));
            if let Err(error) = written {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn with_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Draws progress on stderr when it is a terminal; hidden otherwise.
struct ProgressBarObserver {
    bar: ProgressBar,
    /// The phase on display; a new phase restarts the bar so its ETA is that phase's.
    phase: Option<Phase>,
    /// Set by the first SIGINT, SIGTERM or SIGHUP.
    stop: Arc<AtomicBool>,
}

impl ProgressBarObserver {
    fn new(stop: Arc<AtomicBool>) -> Self {
        if !std::io::stderr().is_terminal() {
            return ProgressBarObserver {
                bar: ProgressBar::hidden(),
                phase: None,
                stop,
            };
        }
        let bar = ProgressBar::new(1);
        let style =
            ProgressStyle::with_template("{prefix:>9} [{bar:30}] {pos}/{len} {msg}  ETA {eta}")
                .expect("the template is valid")
                .progress_chars("=> ");
        bar.set_style(style);
        ProgressBarObserver {
            bar,
            phase: None,
            stop,
        }
    }
}

impl Observer for ProgressBarObserver {
    fn should_stop(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
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
