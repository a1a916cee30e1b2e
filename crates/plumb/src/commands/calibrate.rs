//! `plumb calibrate CMD|URL`: A/A comparisons of one command (paired rounds) or one URL (pairs of
//! short load runs, through `plumb load`'s own path) against itself, to measure this machine's
//! noise and suggest the tolerance δ that follows from it. Also holds the paired runner behind
//! `plumb compare --ab`.
//!
//! Every comparison is `plumb_compare`'s; this module only runs the pairs, collects each
//! metric's A/A spread (the largest |change| and the widest interval bound over the repeats) and
//! turns the largest |change| into a tolerance: rounded up to 0.5%, at least 1%, and none at all
//! when the spread exceeds 25% (then the advice is more runs or a quieter machine).

use crate::exit::Outcome;
use crate::noise::NoiseProbe;
use plumb_bench::{BenchSettings, CommandSpec, Observer, ProcessExecutor, Progress, RunCount};
use plumb_cli::{CalibrateArgs, LoadPlan};
use plumb_compare::{ChangeKind, CompareSettings, Comparison, Row, Unit};
use plumb_schema::bench::BenchReport;
use plumb_schema::host::HostNoise;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The smallest tolerance suggested: below it, verdicts would chase rounding.
const FLOOR: f64 = 0.01;
/// A spread above this leaves no useful tolerance.
const TOO_NOISY: f64 = 0.25;
/// Suggestions are rounded up to whole steps of 0.5%: this many steps make one (100%).
const STEPS: f64 = 200.0;

/// Run `a` and `b` in `runs` rounds, each round both once in shuffled order (plumb bench's
/// interleaved runner, through `sh` with its startup subtracted). The report carries the host's
/// noise during the rounds.
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
    let probe = NoiseProbe::start();
    let report = plumb_bench::run(&settings, &mut executor, &mut Stopping(stop.flag()));
    let noise = probe.finish();
    if let Some(reason) = stop.reason() {
        anyhow::bail!("{reason}: the paired rounds were not finished\nhint: let them run to the end, or lower -r");
    }
    let mut report = report.map_err(|e| anyhow::anyhow!("{e}\nhint: {}", e.hint()))?;
    report.host_noise = Some(noise);
    Ok(report)
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
    let spread = match args.load_plan()? {
        Some(plan) => calibrate_load(&args, &plan)?,
        None => calibrate_command(&args)?,
    };
    let Some(spread) = spread else {
        // Nobody reads the table any more (`| head`): no point measuring the rest.
        return Ok(Outcome::Passed);
    };
    spread.print()?;
    Ok(Outcome::Passed)
}

/// A/A pairs of paired rounds of the command; one line per repeat (the median wall time's
/// change and interval). `None` when stdout closed.
fn calibrate_command(args: &CalibrateArgs) -> anyhow::Result<Option<Spread>> {
    say(&format!(
        "A/A: `{}` against itself, {} paired rounds each\n",
        args.command,
        args.rounds()
    ))?;
    say(&format!(
        "{:<8}  {:>8}  {:>20}",
        "repeat", "change", "interval (wall time, median)"
    ))?;
    let mut spread = Spread::new(args.repeats);
    for repeat in 1..=args.repeats {
        if crate::output::stdout_closed() {
            return Ok(None);
        }
        let report = run_pair(
            &args.command,
            &args.command,
            args.rounds(),
            Some(u64::from(repeat)),
        )?;
        let comparison = plumb_compare::compare_paired_bench(&report, &CompareSettings::default());
        let headline = comparison.rows.first();
        say(&format!(
            "{repeat:<8}  {}",
            headline.map_or_else(String::new, change_text)
        ))?;
        spread.add(repeat, &comparison, &[report.host_noise.as_ref()]);
    }
    Ok(Some(spread))
}

/// A/A pairs of load runs of the URL, each run as `plumb load` makes it; the rows of each
/// comparison under its repeat. `None` when stdout closed.
fn calibrate_load(args: &CalibrateArgs, plan: &LoadPlan) -> anyhow::Result<Option<Spread>> {
    say(&format!(
        "A/A: {} {} against itself, {} of load runs ({} each)\n",
        plan.settings.method,
        plan.settings.url,
        counted(u64::from(args.repeats), "pair"),
        run_shape(plan)
    ))?;
    let stop = crate::interrupt::stop();
    let mut spread = Spread::new(args.repeats);
    for repeat in 1..=args.repeats {
        if crate::output::stdout_closed() {
            return Ok(None);
        }
        let (a, b) = (load_run(plan, &stop)?, load_run(plan, &stop)?);
        let comparison = plumb_compare::compare_load(&[&a], &[&b], &CompareSettings::default());
        say(&format!("repeat {repeat}"))?;
        for row in comparison.rows.iter().filter(|r| spread_kind(r)) {
            say(&format!("  {:<14}  {}", row.metric, change_text(row)))?;
        }
        spread.add(
            repeat,
            &comparison,
            &[a.host_noise.as_ref(), b.host_noise.as_ref()],
        );
    }
    Ok(Some(spread))
}

/// One A/A load run, as `plumb load` makes it; an interrupted run, or one in which every
/// request failed, ends the calibration (there is no noise to measure on a dead target).
fn load_run(
    plan: &LoadPlan,
    stop: &crate::interrupt::Stop,
) -> anyhow::Result<plumb_schema::load::LoadResult> {
    let result = super::load::execute(plan, stop)?;
    if let Some(reason) = stop.reason() {
        anyhow::bail!("{reason}: the A/A load runs were not finished\nhint: let them run to the end, or lower --repeats or -d");
    }
    let summary = &result.summary;
    if summary.errors >= summary.requests {
        anyhow::bail!(
            "every request to {} failed ({} of {}): there is nothing to calibrate\n\
             hint: check the target with `plumb load {}` first",
            plan.settings.url,
            summary.errors,
            summary.requests,
            plan.settings.url
        );
    }
    Ok(result)
}

/// "5 s, 10 connections, 2 threads" from the plan.
fn run_shape(plan: &LoadPlan) -> String {
    let s = &plan.settings;
    let model = match s.model {
        plumb_load::LoadModel::Closed { connections } => format!("{connections} connections"),
        plumb_load::LoadModel::Open { rate, .. } => format!("{rate}/s"),
    };
    let length = s
        .duration
        .map_or_else(String::new, |d| format!("{} s, ", d.as_secs_f64()));
    format!("{length}{model}, {}", counted(s.threads as u64, "thread"))
}

/// "1 thread", "2 threads".
fn counted(n: u64, what: &str) -> String {
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {what}{plural}")
}

/// The rows whose spread a tolerance can follow: relative changes. Not fractions (the error
/// rate), whose change is a difference in percentage points judged against its own floor.
fn spread_kind(row: &Row) -> bool {
    row.unit != Unit::Fraction && row.change.is_none_or(|c| c.kind == ChangeKind::Relative)
}

/// `+1.23%  [-2.10%, +4.50%]`, or why the row is not comparable.
fn change_text(row: &Row) -> String {
    match (&row.change, &row.verdict) {
        (Some(c), _) => format!(
            "{:>+7.2}%  [{:+.2}%, {:+.2}%]",
            c.point * 100.0,
            c.low * 100.0,
            c.high * 100.0
        ),
        (None, plumb_compare::Verdict::NotComparable(reason)) => {
            format!("not comparable: {reason}")
        }
        (None, verdict) => verdict.as_str().to_string(),
    }
}

/// One metric's A/A spread over the repeats.
#[derive(Debug, Clone, PartialEq)]
struct MetricSpread {
    name: String,
    /// The largest |point change| of the repeats in which it was comparable.
    largest: f64,
    /// The widest interval bound, in absolute value.
    widest: f64,
    /// Repeats in which it was comparable.
    compared: u32,
    /// The reason of the last repeat in which it was not.
    skipped: Option<String>,
}

impl MetricSpread {
    /// One repeat's row: its change widens the spread, or its reason is kept.
    fn add(&mut self, row: &Row) {
        match (&row.change, &row.verdict) {
            (Some(c), _) => {
                self.largest = self.largest.max(c.point.abs());
                self.widest = self.widest.max(c.low.abs()).max(c.high.abs());
                self.compared += 1;
            }
            (None, plumb_compare::Verdict::NotComparable(reason)) => {
                self.skipped = Some(reason.clone());
            }
            (None, verdict) => self.skipped = Some(verdict.as_str().to_string()),
        }
    }
}

/// Every metric's spread, in the comparison's row order.
#[derive(Debug, Clone, PartialEq)]
struct Spread {
    repeats: u32,
    metrics: Vec<MetricSpread>,
    /// Measured runs (or paired-round sessions of a command), and how many ran on a busy host.
    runs: u32,
    busy: u32,
}

/// What the spread suggests.
#[derive(Debug, Clone, PartialEq)]
enum Suggestion {
    /// A tolerance (a fraction), and the metric whose spread set it.
    Tolerance(f64, String),
    /// The spread (a fraction) of the noisiest metric is beyond any useful tolerance.
    TooNoisy(f64, String),
    /// No metric was comparable in any repeat.
    Nothing,
}

impl Spread {
    fn new(repeats: u32) -> Spread {
        Spread {
            repeats,
            metrics: Vec::new(),
            runs: 0,
            busy: 0,
        }
    }

    /// Add repeat `repeat`'s comparison: its rows (relative ones only) to the spread, its
    /// warnings to stderr, and which of its runs' hosts (`noises`) were busy.
    fn add(&mut self, repeat: u32, comparison: &Comparison, noises: &[Option<&HostNoise>]) {
        for warning in &comparison.warnings {
            crate::output::log(&format!("warning: repeat {repeat}: {warning}"));
        }
        self.runs += noises.len() as u32;
        let busy = noises
            .iter()
            .filter(|n| !plumb_compare::noise_warnings("run", &[**n]).is_empty());
        self.busy += busy.count() as u32;
        for row in comparison.rows.iter().filter(|r| spread_kind(r)) {
            self.metric(row_name(row, &comparison.rows)).add(row);
        }
    }

    /// The spread of the metric called `name`, new (empty) on first use.
    fn metric(&mut self, name: String) -> &mut MetricSpread {
        let at = match self.metrics.iter().position(|m| m.name == name) {
            Some(at) => at,
            None => {
                self.metrics.push(MetricSpread {
                    name,
                    largest: 0.0,
                    widest: 0.0,
                    compared: 0,
                    skipped: None,
                });
                self.metrics.len() - 1
            }
        };
        &mut self.metrics[at]
    }

    /// The largest |change| of every comparable metric, rounded up to 0.5% ([`STEPS`]), at least
    /// [`FLOOR`]; none beyond [`TOO_NOISY`].
    fn suggestion(&self) -> Suggestion {
        let noisiest = self
            .metrics
            .iter()
            .filter(|m| m.compared > 0)
            .max_by(|a, b| a.largest.total_cmp(&b.largest));
        let Some(noisiest) = noisiest else {
            return Suggestion::Nothing;
        };
        if noisiest.largest > TOO_NOISY {
            return Suggestion::TooNoisy(noisiest.largest, noisiest.name.clone());
        }
        // Counted in whole steps, so 1.5% is 0.015 exactly; 1e-9 keeps an exact multiple from
        // rounding up a step on float error.
        let rounded = ((noisiest.largest * STEPS) - 1e-9).ceil() / STEPS;
        Suggestion::Tolerance(rounded.max(FLOOR), noisiest.name.clone())
    }

    /// The spread table and the suggestion, with a note when some runs' host was busy.
    fn print(&self) -> anyhow::Result<()> {
        say(&format!(
            "\nA/A spread over {}:",
            counted(u64::from(self.repeats), "repeat")
        ))?;
        say(&format!(
            "  {:<30}  {:>16}  {:>12}",
            "metric", "largest |change|", "widest bound"
        ))?;
        for metric in &self.metrics {
            say(&format!("  {}", spread_line(metric, self.repeats)))?;
        }
        say(&format!("\n{}", suggestion_text(&self.suggestion())))?;
        if self.busy > 0 {
            say(&format!(
                "note: {} of {} ran on a busy host (the warnings say which figure): this spread \
                 includes that noise, and a quiet host would show less",
                self.busy,
                counted(u64::from(self.runs), "run")
            ))?;
        }
        if matches!(self.suggestion(), Suggestion::Nothing) {
            anyhow::bail!(
                "no metric could be compared in any A/A repeat (the reasons are above)\n\
                 hint: make each run longer (-d, or -r for a command) so every side has enough samples"
            );
        }
        Ok(())
    }
}

/// A row's name in the spread: its metric, with the statistic when another row shares the
/// metric (a command's wall time is both a median and a mean row).
fn row_name(row: &Row, rows: &[Row]) -> String {
    if rows.iter().filter(|r| r.metric == row.metric).count() > 1 {
        format!("{} ({})", row.metric, row.statistic)
    } else {
        row.metric.clone()
    }
}

fn spread_line(m: &MetricSpread, repeats: u32) -> String {
    let skipped = repeats.saturating_sub(m.compared);
    let mut line = if m.compared == 0 {
        format!("{:<30}  not comparable", m.name)
    } else {
        format!(
            "{:<30}  {:>15.2}%  {:>11.2}%",
            m.name,
            m.largest * 100.0,
            m.widest * 100.0
        )
    };
    if let (true, Some(reason)) = (skipped > 0, &m.skipped) {
        line.push_str(&format!(
            "  (skipped in {skipped} of {repeats} repeats: {reason})"
        ));
    }
    line
}

fn suggestion_text(suggestion: &Suggestion) -> String {
    match suggestion {
        Suggestion::Tolerance(t, by) => {
            let percent = (t * STEPS).round() * (100.0 / STEPS);
            format!(
                "suggested tolerance: {percent}% (the largest A/A change, set by {by}, rounded up \
                 to 0.5%, at least 1%): --tolerance {percent}%"
            )
        }
        Suggestion::TooNoisy(spread, by) => format!(
            "no useful tolerance: A/A runs differ by up to {:.1}% ({by}), above {:.0}%; \
             make more or longer runs (--repeats, -r or -d) or calibrate on a quieter machine",
            spread * 100.0,
            TOO_NOISY * 100.0
        ),
        Suggestion::Nothing => "no tolerance can be suggested".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_compare::{Change, Direction, Verdict};

    fn row(metric: &str, change: Option<(f64, f64, f64)>) -> Row {
        Row {
            metric: metric.into(),
            statistic: "whole-run p50".into(),
            unit: Unit::Millis,
            direction: Direction::LowerIsBetter,
            baseline: 1.0,
            candidate: 1.0,
            change: change.map(|(point, low, high)| Change {
                point,
                low,
                high,
                kind: ChangeKind::Relative,
            }),
            verdict: match change {
                Some(_) => Verdict::Inconclusive,
                None => Verdict::NotComparable("too few seconds".into()),
            },
            more_samples: None,
            samples: (5, 5),
        }
    }

    fn spread(repeats: &[Vec<Row>]) -> Spread {
        let mut spread = Spread::new(repeats.len() as u32);
        let busy = HostNoise {
            cpus: 2,
            wall_s: 5.0,
            load_avg_1m_start: Some(4.0),
            load_avg_1m_end: Some(4.0),
            cpu_pressure_some_share: None,
            steal_share: None,
            cpu_busy_share: None,
            plumb_cpu_share: None,
        };
        for (i, rows) in repeats.iter().enumerate() {
            let comparison = Comparison {
                rows: rows.clone(),
                warnings: Vec::new(),
                row_confidence: 0.99,
            };
            spread.add(i as u32 + 1, &comparison, &[Some(&busy), None]);
        }
        spread
    }

    #[test]
    fn the_tolerance_follows_the_largest_a_a_change_rounded_up() {
        let s = spread(&[
            vec![row("p50", Some((0.004, -0.01, 0.02))), row("p99", None)],
            vec![row("p50", Some((-0.012, -0.03, 0.01))), row("p99", None)],
        ]);
        assert_eq!(s.metrics[0].largest, 0.012);
        assert_eq!(s.metrics[0].widest, 0.03);
        assert_eq!(s.metrics[0].compared, 2);
        assert_eq!(s.metrics[1].compared, 0);
        assert_eq!(
            (s.busy, s.runs),
            (2, 4),
            "one busy run of two in each repeat"
        );
        assert_eq!(s.suggestion(), Suggestion::Tolerance(0.015, "p50".into()));
        assert_eq!(
            spread_line(&s.metrics[1], 2),
            format!(
                "{:<30}  not comparable  (skipped in 2 of 2 repeats: too few seconds)",
                "p99"
            )
        );
    }

    #[test]
    fn a_tiny_spread_gets_the_floor_and_an_exact_step_stays() {
        let tiny = spread(&[vec![row("p50", Some((0.001, -0.002, 0.003)))]]);
        assert_eq!(
            tiny.suggestion(),
            Suggestion::Tolerance(FLOOR, "p50".into())
        );
        let exact = spread(&[vec![row("p50", Some((0.03, 0.0, 0.05)))]]);
        assert_eq!(
            exact.suggestion(),
            Suggestion::Tolerance(0.03, "p50".into())
        );
    }

    #[test]
    fn a_spread_beyond_25_percent_suggests_no_tolerance() {
        let s = spread(&[vec![
            row("p50", Some((0.02, -0.01, 0.05))),
            row("p99", Some((-0.31, -0.5, -0.1))),
        ]]);
        assert_eq!(s.suggestion(), Suggestion::TooNoisy(0.31, "p99".into()));
        assert!(suggestion_text(&s.suggestion())
            .starts_with("no useful tolerance: A/A runs differ by up to 31.0% (p99), above 25%"));
        let none = spread(&[vec![row("p50", None)]]);
        assert_eq!(none.suggestion(), Suggestion::Nothing);
    }
}
