//! Flags of `plumb bench`, and their resolution into [`plumb_bench::BenchSettings`].
//!
//! Flag names follow hyperfine where it has one (`-w`, `-r`, `-p`, `-N`, `-P`, `-L`, `-n`, `-i`)
//! so that its users can switch without relearning.

use crate::limits::{MAX_BENCH_RUNS, MAX_WAIT};
use crate::parse::{parse_duration_at_most, parse_whole};
use std::path::PathBuf;
use std::time::Duration;

use plumb_bench::{
    BenchSettings, CommandSpec, FailurePolicy, Order, Parameter, ParameterError, RunCount,
    ShellMode,
};

/// Arguments of `plumb bench`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  plumb bench 'sleep 0.1' 'sleep 0.2'\n  \
    plumb bench -N --runs 500 true\n  plumb bench -P threads 1 4 'make -j {threads}'\n  \
    plumb bench --warmup 3 --run-name main --json bench.json 'cargo build --release'\n  \
    plumb compare latest~1 latest          the last two runs, with a verdict per metric")]
pub struct BenchArgs {
    /// The commands to benchmark, one argument each (quote commands that have spaces).
    #[arg(required = true, value_name = "COMMAND")]
    pub commands: Vec<String>,

    /// Everything else, boxed so that `Command` stays small (clippy's `large_enum_variant`).
    #[command(flatten)]
    pub options: Box<BenchOptions>,
}

/// The flags of `plumb bench`.
#[derive(Debug, clap::Args)]
pub struct BenchOptions {
    /// Runs of each command before measuring, to warm caches.
    #[arg(short, long, value_name = "N", default_value_t = 0, allow_negative_numbers = true,
          value_parser = parse_warmup)]
    pub warmup: u32,

    /// Exactly this many measured runs per command (default: at least 10 and at least 3 s).
    #[arg(short, long, value_name = "N", allow_negative_numbers = true,
          value_parser = |s: &str| parse_runs("--runs", s),
          conflicts_with_all = ["min_runs", "max_runs", "min_time", "max_time"])]
    pub runs: Option<u32>,

    /// Fewest measured runs per command.
    #[arg(short = 'm', long, value_name = "N", default_value_t = 10, allow_negative_numbers = true,
          value_parser = |s: &str| parse_runs("--min-runs", s))]
    pub min_runs: u32,

    /// Most measured runs per command.
    #[arg(short = 'M', long, value_name = "N", allow_negative_numbers = true,
          value_parser = |s: &str| parse_runs("--max-runs", s))]
    pub max_runs: Option<u32>,

    /// Least time spent measuring each command (e.g. 3s, 500ms; at most 24h).
    #[arg(long, value_name = "DURATION", default_value = "3s", allow_hyphen_values = true,
          value_parser = |s: &str| parse_time("--min-time", s))]
    pub min_time: Duration,

    /// Most time spent measuring each command (e.g. 1m; at most 24h); at least one run is always made.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true,
          value_parser = |s: &str| parse_time("--max-time", s))]
    pub max_time: Option<Duration>,

    /// Run this before every run of every command (e.g. to clear caches).
    #[arg(short, long, value_name = "CMD")]
    pub prepare: Option<String>,

    /// Run this once before each command's runs.
    #[arg(short, long, value_name = "CMD")]
    pub setup: Option<String>,

    /// Run this once after each command's runs.
    #[arg(short, long, value_name = "CMD")]
    pub cleanup: Option<String>,

    /// The shell that runs commands; its startup time is measured and subtracted.
    #[arg(short = 'S', long, value_name = "SHELL", default_value = "sh")]
    pub shell: String,

    /// Run commands directly, without a shell (arguments split as a shell would, no expansion).
    #[arg(short = 'N', long, conflicts_with = "shell")]
    pub no_shell: bool,

    /// Benchmark once per value of NAME from MIN to MAX, substituted for {NAME} in the commands.
    #[arg(short = 'P', long, num_args = 3, value_names = ["NAME", "MIN", "MAX"],
          allow_negative_numbers = true)]
    pub parameter_scan: Option<Vec<String>>,

    /// Step of --parameter-scan (default 1; decimals allowed).
    #[arg(
        short = 'D',
        long = "step",
        alias = "parameter-step-size",
        value_name = "STEP",
        requires = "parameter_scan",
        allow_negative_numbers = true
    )]
    pub step: Option<String>,

    /// Benchmark once per value in the comma-separated list, substituted for {NAME}; repeatable.
    #[arg(short = 'L', long, num_args = 2, value_names = ["NAME", "VALUES"], action = clap::ArgAction::Append)]
    pub parameter_list: Vec<String>,

    /// Label for a command in reports, in the order of the commands; may use {NAME} placeholders.
    #[arg(short, long, value_name = "NAME")]
    pub name: Vec<String>,

    /// Run each command's runs one after another instead of interleaving them in shuffled rounds.
    #[arg(long)]
    pub no_interleave: bool,

    /// Keep measuring when a command exits with a non-zero code.
    #[arg(short, long)]
    pub ignore_failure: bool,

    /// Seed for the round order and the bootstrap, to reproduce a run exactly.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_seed)]
    pub seed: Option<u64>,

    /// Write plumb's versioned JSON result, with every run, to FILE ('-' for stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write the result in hyperfine's JSON layout to FILE ('-' for stdout).
    #[arg(long, value_name = "FILE")]
    pub export_hyperfine_json: Option<PathBuf>,

    /// Write a Markdown table to FILE ('-' for stdout).
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,

    /// Write a summary CSV to FILE ('-' for stdout).
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<PathBuf>,

    /// Saving the run to the ledger.
    #[command(flatten)]
    pub save: crate::LedgerArgs,
}

/// A flag whose value cannot be used, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {flag}: {message}")]
pub struct BenchArgsError {
    /// The flag at fault, as the user would type it.
    pub flag: &'static str,
    /// What is wrong.
    pub message: String,
    /// What to do instead.
    pub hint: String,
}

impl BenchArgsError {
    fn new(flag: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        BenchArgsError {
            flag,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl BenchArgs {
    /// Check the flags and turn them into the engine's settings.
    pub fn resolve(&self) -> Result<BenchSettings, BenchArgsError> {
        let mut settings = BenchSettings::new(self.command_specs()?);
        settings.warmup = self.options.warmup;
        settings.runs = self.run_count()?;
        settings.prepare = self.options.prepare.clone();
        settings.setup = self.options.setup.clone();
        settings.cleanup = self.options.cleanup.clone();
        settings.shell = if self.options.no_shell {
            ShellMode::NoShell
        } else {
            ShellMode::Shell(self.options.shell.clone())
        };
        settings.parameters = self.parameters()?;
        settings.order = if self.options.no_interleave {
            Order::Sequential
        } else {
            Order::Interleaved
        };
        settings.failure = if self.options.ignore_failure {
            FailurePolicy::Ignore
        } else {
            FailurePolicy::Stop
        };
        settings.seed = self.options.seed;
        Ok(settings)
    }

    /// How many exports go to stdout (`-`); more than one would interleave on it.
    pub fn stdout_exports(&self) -> usize {
        [
            &self.options.json,
            &self.options.export_hyperfine_json,
            &self.options.export_markdown,
            &self.options.export_csv,
        ]
        .into_iter()
        .flatten()
        .filter(|path| path.as_os_str() == "-")
        .count()
    }

    fn command_specs(&self) -> Result<Vec<CommandSpec>, BenchArgsError> {
        if self.options.name.len() > self.commands.len() {
            return Err(BenchArgsError::new(
                "-n/--name",
                format!(
                    "{} names for {} command{}",
                    self.options.name.len(),
                    self.commands.len(),
                    if self.commands.len() == 1 { "" } else { "s" }
                ),
                "give at most one --name per command, in the order of the commands",
            ));
        }
        if let Some(blank) = self.commands.iter().position(|c| c.trim().is_empty()) {
            return Err(BenchArgsError::new(
                "COMMAND",
                format!("command {} is empty", blank + 1),
                "remove the empty argument, or quote the whole command: plumb bench 'sleep 0.1'",
            ));
        }
        Ok(self
            .commands
            .iter()
            .enumerate()
            .map(|(i, command)| CommandSpec {
                command: command.clone(),
                name: self.options.name.get(i).cloned(),
            })
            .collect())
    }

    fn run_count(&self) -> Result<RunCount, BenchArgsError> {
        if let Some(runs) = self.options.runs {
            return Ok(RunCount::Exact(runs));
        }
        if let Some(max) = self
            .options
            .max_runs
            .filter(|&max| max < self.options.min_runs)
        {
            return Err(BenchArgsError::new(
                "-M/--max-runs",
                format!("{max} is below --min-runs {}", self.options.min_runs),
                "raise --max-runs, lower --min-runs, or give an exact count with --runs",
            ));
        }
        Ok(RunCount::Auto {
            min_runs: self.options.min_runs,
            min_time: self.options.min_time,
            max_runs: self.options.max_runs,
            max_time: self.options.max_time,
        })
    }

    fn parameters(&self) -> Result<Vec<Parameter>, BenchArgsError> {
        let mut parameters = Vec::new();
        if let Some(scan) = &self.options.parameter_scan {
            let step = self.options.step.as_deref();
            let values = check_scan_size(&scan[1], &scan[2], step)
                .and_then(|()| plumb_bench::scan_values(&scan[1], &scan[2], step))
                .map_err(|e| parameter_error("-P/--parameter-scan", &e))?;
            parameters.push(Parameter {
                name: scan[0].clone(),
                values,
            });
        }
        for pair in self.options.parameter_list.chunks(2) {
            let values = plumb_bench::list_values(&pair[1])
                .map_err(|e| parameter_error("-L/--parameter-list", &e))?;
            parameters.push(Parameter {
                name: pair[0].clone(),
                values,
            });
        }
        self.check_parameter_names(&parameters)?;
        Ok(parameters)
    }

    fn check_parameter_names(&self, parameters: &[Parameter]) -> Result<(), BenchArgsError> {
        for (i, parameter) in parameters.iter().enumerate() {
            let flag = if i == 0 && self.options.parameter_scan.is_some() {
                "-P/--parameter-scan"
            } else {
                "-L/--parameter-list"
            };
            if parameters[..i].iter().any(|p| p.name == parameter.name) {
                return Err(BenchArgsError::new(
                    flag,
                    format!("the parameter `{}` is defined twice", parameter.name),
                    "give each parameter a different name",
                ));
            }
            let placeholder = format!("{{{}}}", parameter.name);
            if !self.commands.iter().any(|c| c.contains(&placeholder)) {
                return Err(BenchArgsError::new(
                    flag,
                    format!("no command uses the parameter `{}`", parameter.name),
                    format!("write {placeholder} in a command where the value should go"),
                ));
            }
        }
        Ok(())
    }
}

/// The most values of a scan; plumb-bench's own limit, which it does not export.
const MAX_SCAN_VALUES: usize = 100_000;

/// Refuse a scan of more than [`MAX_SCAN_VALUES`] values before plumb-bench counts them, so that
/// `-P n 1 1e308` or `-D 1e-300` is an error and not an overflow; anything else is left to it.
fn check_scan_size(min: &str, max: &str, step: Option<&str>) -> Result<(), ParameterError> {
    let number = |t: &str| t.trim().parse::<f64>().ok().filter(|n| n.is_finite());
    let (Some(low), Some(high), Some(delta)) =
        (number(min), number(max), number(step.unwrap_or("1")))
    else {
        return Ok(());
    };
    let steps = (high - low) / delta;
    if delta > 0.0 && high >= low && steps >= MAX_SCAN_VALUES as f64 {
        return Err(ParameterError::TooMany {
            limit: MAX_SCAN_VALUES,
        });
    }
    Ok(())
}

fn parse_warmup(text: &str) -> Result<u32, String> {
    parse_whole("--warmup", text, 0..=MAX_BENCH_RUNS, "e.g. --warmup 3")
}

fn parse_runs(flag: &str, text: &str) -> Result<u32, String> {
    parse_whole(flag, text, 1..=MAX_BENCH_RUNS, &format!("e.g. {flag} 20"))
}

fn parse_time(flag: &str, text: &str) -> Result<Duration, String> {
    parse_duration_at_most(flag, text, MAX_WAIT).map_err(crate::CliError::for_clap)
}

fn parse_seed(text: &str) -> Result<u64, String> {
    parse_whole(
        "--seed",
        text,
        0..=u64::MAX,
        "e.g. --seed 42 (the seed a previous run printed)",
    )
}

fn parameter_error(flag: &'static str, error: &ParameterError) -> BenchArgsError {
    let hint = match error {
        ParameterError::NotANumber { .. } => {
            "give numbers: --parameter-scan NAME 1 10, or use --parameter-list for words"
        }
        ParameterError::BadStep { .. } => "give a positive --step, e.g. --step 0.5",
        ParameterError::Reversed { .. } => "put the smaller bound first",
        ParameterError::TooMany { .. } => "use a larger --step",
        ParameterError::Empty => "give comma-separated values: --parameter-list NAME a,b,c",
    };
    BenchArgsError::new(flag, error.to_string(), hint)
}
