//! The benchmark loop: shell calibration, setup, warmups, measured runs in rounds (interleaved or
//! sequential), cleanup. It returns raw samples; `analysis` turns them into a report.

use std::time::Duration;

use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::error::{BenchError, Role};
use crate::executor::{Executor, Invocation, Measurement};
use crate::observer::{Observer, Phase, Progress};
use crate::params::Benchmark;
use crate::settings::{BenchSettings, FailurePolicy, Order, RunCount, ShellMode};
use crate::words;

/// Runs of the empty command that measure the shell's startup before anything else; one more
/// runs in every round, at a shuffled place, so the correction follows the machine's drift.
pub const SHELL_CALIBRATION_RUNS: u32 = 20;

/// The median cost of the shell's startup, subtracted from every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Overhead {
    /// Median wall time of the empty command.
    pub wall: Duration,
    /// Robust spread (scaled MAD) of those wall times.
    pub wall_spread: Duration,
    /// Median user time.
    pub user: Duration,
    /// Median system time.
    pub system: Duration,
}

/// One measured run (shell overhead subtracted once the runner is done).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Round it belongs to.
    pub round: u32,
    /// The corrected measurement.
    pub measurement: Measurement,
}

/// Everything measured, before any statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct RawResults {
    /// The concrete benchmarks, in order.
    pub benchmarks: Vec<Benchmark>,
    /// The measured samples of each benchmark.
    pub samples: Vec<Vec<Sample>>,
    /// The shell's overhead, when a shell was used.
    pub overhead: Option<Overhead>,
    /// How many runs of the empty command measured it.
    pub calibration_runs: u32,
    /// The seed that was used.
    pub seed: u64,
    /// Whether the user interrupted the benchmark; the samples are those measured until then.
    pub interrupted: bool,
    /// The executor's peak-RSS floor after the last run.
    pub peak_rss_floor: Option<u64>,
}

/// Per-benchmark bookkeeping while measuring.
#[derive(Debug, Default, Clone)]
struct Tally {
    samples: Vec<Sample>,
    /// Sum of the samples' raw wall times, for the running estimate.
    measured: Duration,
    /// Raw time spent on measured runs and their `--prepare`, for the run-count budget.
    spent: Duration,
}

/// Runs `benchmarks` as `settings` say, through `executor`, reporting to `observer`.
pub struct Runner<'a> {
    settings: &'a BenchSettings,
    executor: &'a mut dyn Executor,
    observer: &'a mut dyn Observer,
    benchmarks: Vec<Benchmark>,
    shell: Option<Vec<String>>,
    /// Raw runs of the empty command through the shell, up front and one per round.
    calibration: Vec<Measurement>,
    /// The shell's startup from the up-front calibration, for progress estimates only.
    first_overhead: Duration,
    tallies: Vec<Tally>,
    rng: rand::rngs::StdRng,
    seed: u64,
    round: u32,
}

impl<'a> Runner<'a> {
    /// A runner for these benchmarks; checks the shell and command lines before anything runs.
    pub fn new(
        settings: &'a BenchSettings,
        benchmarks: Vec<Benchmark>,
        executor: &'a mut dyn Executor,
        observer: &'a mut dyn Observer,
    ) -> Result<Self, BenchError> {
        if benchmarks.is_empty() {
            return Err(BenchError::NoCommands);
        }
        let shell = shell_words(&settings.shell)?;
        if shell.is_none() {
            for benchmark in &benchmarks {
                words::split(&benchmark.command).map_err(|source| BenchError::Split {
                    command: benchmark.command.clone(),
                    source,
                })?;
            }
        }
        let seed = settings.seed.unwrap_or_else(rand::random);
        Ok(Runner {
            settings,
            executor,
            observer,
            tallies: vec![Tally::default(); benchmarks.len()],
            benchmarks,
            shell,
            calibration: Vec::new(),
            first_overhead: Duration::ZERO,
            rng: rand::rngs::StdRng::seed_from_u64(seed),
            seed,
            round: 0,
        })
    }

    /// Calibrate, then run every benchmark; the raw results on success.
    pub fn run(mut self) -> Result<RawResults, BenchError> {
        if self.shell.is_some() {
            self.calibrate()?;
        }
        let interrupted = match self.run_all() {
            Ok(()) => false,
            Err(BenchError::Interrupted) if self.tallies.iter().any(|t| !t.samples.is_empty()) => {
                true
            }
            Err(error) => return Err(error),
        };
        let overhead = self.shell.is_some().then(|| overhead_of(&self.calibration));
        let correct = |sample: Sample| Sample {
            measurement: subtract(sample.measurement, overhead.unwrap_or_default()),
            ..sample
        };
        Ok(RawResults {
            interrupted,
            peak_rss_floor: self.executor.peak_rss_floor(),
            calibration_runs: u32::try_from(self.calibration.len()).unwrap_or(u32::MAX),
            benchmarks: self.benchmarks,
            samples: self
                .tallies
                .into_iter()
                .map(|t| t.samples.into_iter().map(correct).collect())
                .collect(),
            overhead,
            seed: self.seed,
        })
    }

    fn run_all(&mut self) -> Result<(), BenchError> {
        let all: Vec<usize> = (0..self.benchmarks.len()).collect();
        match self.settings.order {
            Order::Interleaved => self.run_group(&all),
            Order::Sequential => all.iter().try_for_each(|&index| self.run_group(&[index])),
        }
    }

    /// Setup, warmup, measure and clean up a group of benchmarks that run interleaved.
    fn run_group(&mut self, group: &[usize]) -> Result<(), BenchError> {
        for &index in group {
            self.run_hook(self.settings.setup.as_deref(), Role::Setup, index)?;
        }
        self.warm_up(group)?;
        self.measure(group)?;
        for &index in group {
            self.run_hook(self.settings.cleanup.as_deref(), Role::Cleanup, index)?;
        }
        Ok(())
    }

    fn calibrate(&mut self) -> Result<(), BenchError> {
        for done in 1..=SHELL_CALIBRATION_RUNS {
            self.calibrate_once()?;
            let total = u64::from(SHELL_CALIBRATION_RUNS);
            self.report(Phase::Calibrating, "", u64::from(done), total, None);
        }
        self.first_overhead = overhead_of(&self.calibration).wall;
        Ok(())
    }

    fn calibrate_once(&mut self) -> Result<(), BenchError> {
        let run = self.execute("", Role::ShellCalibration)?;
        self.calibration.push(run);
        Ok(())
    }

    fn warm_up(&mut self, group: &[usize]) -> Result<(), BenchError> {
        let total = u64::from(self.settings.warmup) * group.len() as u64;
        let mut done = 0;
        for _ in 0..self.settings.warmup {
            for &index in group {
                self.prepare(index)?;
                let command = self.benchmarks[index].command.clone();
                self.execute(&command, Role::Warmup)?;
                done += 1;
                self.report(
                    Phase::Warmup,
                    &self.benchmarks[index].name.clone(),
                    done,
                    total,
                    None,
                );
            }
        }
        Ok(())
    }

    fn measure(&mut self, group: &[usize]) -> Result<(), BenchError> {
        let mut done = 0;
        self.round = 0;
        loop {
            let order: Vec<usize> = group
                .iter()
                .copied()
                .filter(|&i| !self.is_done(i))
                .collect();
            if order.is_empty() {
                return Ok(());
            }
            // `None` is this round's run of the empty command through the shell.
            let mut slots: Vec<Option<usize>> = order.into_iter().map(Some).collect();
            if self.shell.is_some() {
                slots.push(None);
            }
            slots.shuffle(&mut self.rng);
            for slot in slots {
                let Some(index) = slot else {
                    self.calibrate_once()?;
                    continue;
                };
                self.measure_once(index)?;
                done += 1;
                let total = group
                    .iter()
                    .map(|&i| self.planned_runs(i))
                    .sum::<u64>()
                    .max(done);
                let estimate = self.current_mean(index);
                self.report(
                    Phase::Measuring,
                    &self.benchmarks[index].name.clone(),
                    done,
                    total,
                    estimate,
                );
            }
            self.round += 1;
        }
    }

    fn measure_once(&mut self, index: usize) -> Result<(), BenchError> {
        let prepare_time = self.prepare(index)?;
        let command = self.benchmarks[index].command.clone();
        let raw = self.execute(&command, Role::Measured)?;
        let tally = &mut self.tallies[index];
        tally.spent += raw.wall + prepare_time;
        tally.measured += raw.wall;
        tally.samples.push(Sample {
            round: self.round,
            measurement: raw,
        });
        Ok(())
    }

    fn is_done(&self, index: usize) -> bool {
        let tally = &self.tallies[index];
        let runs = tally.samples.len() as u64;
        match self.settings.runs {
            RunCount::Exact(n) => runs >= u64::from(n),
            RunCount::Auto {
                min_runs,
                min_time,
                max_runs,
                max_time,
            } => {
                (runs >= u64::from(min_runs) && tally.spent >= min_time)
                    || max_runs.is_some_and(|max| runs >= u64::from(max))
                    || max_time.is_some_and(|max| runs >= 1 && tally.spent >= max)
            }
        }
    }

    /// How many runs this benchmark will likely get, from its cost so far.
    fn planned_runs(&self, index: usize) -> u64 {
        let tally = &self.tallies[index];
        let runs = tally.samples.len() as u64;
        let (min_runs, min_time, max_runs, max_time) = match self.settings.runs {
            RunCount::Exact(n) => return u64::from(n),
            RunCount::Auto {
                min_runs,
                min_time,
                max_runs,
                max_time,
            } => (min_runs, min_time, max_runs, max_time),
        };
        if runs == 0 || tally.spent.is_zero() {
            return u64::from(min_runs).max(1);
        }
        let per_run = tally.spent.as_secs_f64() / runs as f64;
        let mut planned = (min_time.as_secs_f64() / per_run)
            .ceil()
            .max(f64::from(min_runs)) as u64;
        if let Some(max) = max_runs {
            planned = planned.min(u64::from(max));
        }
        if let Some(max) = max_time {
            planned = planned.min((max.as_secs_f64() / per_run).ceil().max(1.0) as u64);
        }
        planned.max(runs)
    }

    /// The benchmark's mean wall time so far, less the shell's startup measured up front.
    fn current_mean(&self, index: usize) -> Option<Duration> {
        let tally = &self.tallies[index];
        let runs = u32::try_from(tally.samples.len()).ok().filter(|&n| n > 0)?;
        Some((tally.measured / runs).saturating_sub(self.first_overhead))
    }

    /// Run `--prepare` if there is one; how long it took.
    fn prepare(&mut self, index: usize) -> Result<Duration, BenchError> {
        let Some(prepare) = self.settings.prepare.as_deref() else {
            return Ok(Duration::ZERO);
        };
        let command = crate::params::substitute(prepare, &self.benchmarks[index].parameters);
        Ok(self.execute(&command, Role::Prepare)?.wall)
    }

    fn run_hook(&mut self, hook: Option<&str>, role: Role, index: usize) -> Result<(), BenchError> {
        if let Some(hook) = hook {
            let command = crate::params::substitute(hook, &self.benchmarks[index].parameters);
            self.execute(&command, role)?;
        }
        Ok(())
    }

    /// Run one process and check how it ended.
    fn execute(&mut self, command: &str, role: Role) -> Result<Measurement, BenchError> {
        let invocation = self.invocation(command)?;
        let measured = self.executor.execute(&invocation);
        if self.observer.should_stop() {
            // The executor ended the child early (or the signal reached it): this run does not
            // count.
            return Err(BenchError::Interrupted);
        }
        let measurement = measured.map_err(|source| BenchError::Spawn {
            role,
            command: command.to_owned(),
            program: invocation.program.clone(),
            source,
        })?;
        let tolerated = matches!(role, Role::Measured | Role::Warmup)
            && self.settings.failure == FailurePolicy::Ignore;
        if !measurement.exit.is_success() && !tolerated {
            return Err(BenchError::Failed {
                role,
                command: command.to_owned(),
                exit: measurement.exit,
                through_shell: self.shell.is_some(),
            });
        }
        Ok(measurement)
    }

    fn invocation(&self, command: &str) -> Result<Invocation, BenchError> {
        let words = match &self.shell {
            Some(shell) => {
                let mut words = shell.clone();
                words.extend(["-c".to_owned(), command.to_owned()]);
                words
            }
            None => words::split(command).map_err(|source| BenchError::Split {
                command: command.to_owned(),
                source,
            })?,
        };
        let (program, args) = words.split_first().expect("split never returns no words");
        Ok(Invocation {
            program: program.clone(),
            args: args.to_vec(),
        })
    }

    fn report(
        &mut self,
        phase: Phase,
        name: &str,
        done: u64,
        total: u64,
        estimate: Option<Duration>,
    ) {
        let progress = Progress {
            phase,
            name,
            done,
            total,
            estimate,
        };
        self.observer.progress(&progress);
    }
}

fn shell_words(mode: &ShellMode) -> Result<Option<Vec<String>>, BenchError> {
    match mode {
        ShellMode::NoShell => Ok(None),
        ShellMode::Shell(shell) => {
            words::split(shell)
                .map(Some)
                .map_err(|source| BenchError::Shell {
                    shell: shell.clone(),
                    source,
                })
        }
    }
}

fn overhead_of(runs: &[Measurement]) -> Overhead {
    let seconds = |pick: fn(&Measurement) -> Duration| -> Vec<f64> {
        runs.iter().map(|m| pick(m).as_secs_f64()).collect()
    };
    let walls = seconds(|m| m.wall);
    Overhead {
        wall: Duration::from_secs_f64(plumb_stats::sample::median(&walls)),
        wall_spread: Duration::from_secs_f64(plumb_stats::sample::mad(&walls)),
        user: Duration::from_secs_f64(plumb_stats::sample::median(&seconds(|m| m.user))),
        system: Duration::from_secs_f64(plumb_stats::sample::median(&seconds(|m| m.system))),
    }
}

/// Remove the shell's startup from a run's times, never going below zero.
fn subtract(raw: Measurement, overhead: Overhead) -> Measurement {
    Measurement {
        wall: raw.wall.saturating_sub(overhead.wall),
        user: raw.user.saturating_sub(overhead.user),
        system: raw.system.saturating_sub(overhead.system),
        ..raw
    }
}
