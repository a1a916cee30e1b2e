//! `plumb calibrate CMD`: A/A comparisons of one command against itself, in paired rounds, to
//! measure this machine's noise and suggest the tolerance δ that no A/A pair would exceed. Also
//! holds the paired runner behind `plumb compare --ab`.

use crate::exit::Outcome;
use plumb_bench::{BenchSettings, CommandSpec, Observer, ProcessExecutor, Progress, RunCount};
use plumb_cli::CalibrateArgs;
use plumb_schema::bench::BenchReport;
use plumb_stats::compare::{compare, CompareSettings, Design, Direction, Scale};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Run `a` and `b` in `runs` rounds, each round both once in shuffled order (plumb bench's
/// interleaved runner, through `sh` with its startup subtracted).
pub fn run_pair(a: &str, b: &str, runs: u32, seed: Option<u64>) -> anyhow::Result<BenchReport> {
    let mut settings = BenchSettings::new(vec![
        CommandSpec {
            command: a.to_owned(),
            name: Some(format!("A: {a}")),
        },
        CommandSpec {
            command: b.to_owned(),
            name: Some(format!("B: {b}")),
        },
    ]);
    settings.runs = RunCount::Exact(runs);
    settings.warmup = 1;
    settings.seed = seed;
    let stop = crate::interrupt::stop();
    let mut executor = ProcessExecutor::stopped_by(stop.flag());
    let report = plumb_bench::run(&settings, &mut executor, &mut Stopping(stop.flag()));
    if let Some(reason) = stop.reason() {
        anyhow::bail!("{reason}: the paired rounds were not finished\nhint: let them run to the end, or lower -r");
    }
    report.map_err(|e| anyhow::anyhow!("{e}\nhint: {}", e.hint()))
}

/// One line on stdout.
fn say(line: &str) -> anyhow::Result<()> {
    crate::output::stdout(format!("{line}\n").as_bytes())
}

/// No progress display; stops when a signal has set the flag.
struct Stopping(Arc<AtomicBool>);

impl Observer for Stopping {
    fn progress(&mut self, _: &Progress<'_>) {}

    fn should_stop(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Run `plumb calibrate`.
pub fn run(args: CalibrateArgs) -> anyhow::Result<Outcome> {
    say(&format!(
        "A/A: `{}` against itself, {} paired rounds each\n",
        args.command, args.runs
    ))?;
    say(&format!(
        "{:<8}  {:>8}  {:>20}",
        "repeat", "change", "95% CI"
    ))?;
    let mut widest: f64 = 0.0;
    for repeat in 1..=args.repeats {
        if crate::output::stdout_closed() {
            // Nobody reads the table any more (`| head`): no point measuring the rest.
            return Ok(Outcome::Passed);
        }
        let report = run_pair(
            &args.command,
            &args.command,
            args.runs,
            Some(u64::from(repeat)),
        )?;
        let walls = |i: usize| -> Vec<f64> {
            let mut runs = report.benchmarks[i].runs.clone();
            runs.sort_by_key(|r| r.round);
            runs.iter().map(|r| r.wall_seconds).collect()
        };
        let judgement = compare(
            &walls(0),
            &walls(1),
            Design::Paired,
            Scale::Log,
            Direction::LowerIsBetter,
            &CompareSettings::default(),
        );
        let Some(shift) = judgement.shift else {
            anyhow::bail!("the command's times cannot be compared (zero or missing)\nhint: benchmark a command that takes measurable time");
        };
        widest = widest.max(shift.low.abs()).max(shift.high.abs());
        say(&format!(
            "{repeat:<8}  {:>+7.2}%  [{:+.2}%, {:+.2}%]",
            shift.change * 100.0,
            shift.low * 100.0,
            shift.high * 100.0
        ))?;
    }
    let suggested = ((widest * 100.0) * 2.0).ceil() / 2.0;
    say(&format!("\nsuggested tolerance: {suggested}% (the widest A/A interval, rounded up to 0.5%): --tolerance {suggested}%"
    ))?;
    Ok(Outcome::Passed)
}
