//! `plumb capacity URL --goal 'p(99)<250ms'`: the flags of the rate search, each bounded where it
//! is parsed, resolved into the load settings of one step and the search's limits.

use crate::parse::{parse_duration_at_most, parse_rate, CliError};
use crate::{parse_header, parse_method, parse_tolerance, LedgerArgs};
use std::path::PathBuf;
use std::time::Duration;

/// Longest settle or measure time of one step.
const MAX_STEP: Duration = Duration::from_secs(600);
/// Most steps a search may run.
const MAX_STEPS: usize = 60;

/// Arguments of `plumb capacity`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  plumb capacity http://127.0.0.1:8080/ --goal 'p(99)<250ms' --max-errors 0.1%\n  plumb capacity http://127.0.0.1:8080/api --goal 'p(95)<100ms' --start 500 --max-rate 20000\n  plumb capacity normal          the plan's scenario 'normal', judged by its latency goal\n\nEach step offers a steady rate (open model), settles, then is measured in 1 s windows and\njudged with its interval: pass, fail, marginal (the interval straddles the goal), or inconclusive\n(plumb, not the target, could not keep up). Rates double while steps pass, then the bracket is\nbisected to --precision and the answer confirmed once more."
)]
pub struct CapacityArgs {
    /// The URL to load (loopback only), or a load scenario of the plan file (its URL, method
    /// and headers; its first latency goal when --goal is not given)
    #[arg(value_name = "URL|SCENARIO")]
    pub url: String,

    /// The plan file a SCENARIO is read from [default: plumb.toml here or above]
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub plan: Option<std::path::PathBuf>,

    /// What every step must meet, in threshold syntax: 'p(99)<250ms' (http_req_duration), or
    /// 'http_req_duration: avg<50ms' [default with a SCENARIO: the plan's first latency goal]
    #[arg(long, value_name = "GOAL")]
    pub goal: Option<String>,

    /// The largest error rate a passing step may have
    #[arg(long, value_name = "PERCENT", default_value = "0.1%", value_parser = parse_tolerance)]
    pub max_errors: f64,

    /// The first rate tried, requests per second
    #[arg(long, value_name = "RATE", default_value = "50", value_parser = parse_rate)]
    pub start: f64,

    /// Never offer more than this many requests per second
    #[arg(long, value_name = "RATE", default_value = "100000", value_parser = parse_rate)]
    pub max_rate: f64,

    /// Stop when the bracket between passing and failing rates is this narrow
    #[arg(long, value_name = "PERCENT", default_value = "5%", value_parser = parse_tolerance)]
    pub precision: f64,

    /// How long each step runs before it is measured (left out of its figures)
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_settle)]
    pub settle: Duration,

    /// How long each step is measured, in whole seconds
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_measure)]
    pub measure: Duration,

    /// The most steps to run
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = parse_steps)]
    pub max_steps: usize,

    /// The most connections a step may open
    #[arg(short = 'c', long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_connections: u32,

    /// Worker threads of the generator [default: one per core]
    #[arg(short = 't', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,

    /// HTTP method
    #[arg(short = 'm', long, default_value = "GET")]
    pub method: String,

    /// Request header 'Name: value' (repeatable)
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,

    /// Per-request timeout
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    pub timeout: Duration,

    /// Output format on stdout
    #[arg(short = 'o', long, value_enum, default_value_t = crate::OutputFormat::Text)]
    pub output: crate::OutputFormat,

    /// Also write the JSON result to FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Saving the search to the ledger.
    #[command(flatten)]
    pub save: LedgerArgs,
}

impl CapacityArgs {
    /// The method and headers, checked.
    pub fn request(&self) -> Result<(String, Vec<(String, String)>), CliError> {
        let method = parse_method(&self.method)?;
        let headers = self
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<_, _>>()?;
        Ok((method, headers))
    }

    /// Whether `--start` and `--max-rate` are in order.
    pub fn check(&self) -> Result<(), CliError> {
        if self.start <= 0.0 || self.start > self.max_rate {
            return Err(CliError::flag(
                "--start",
                &self.start.to_string(),
                "must be above 0 and at most --max-rate",
                "e.g. --start 50 --max-rate 20000",
            ));
        }
        Ok(())
    }
}

fn parse_settle(text: &str) -> Result<Duration, String> {
    parse_duration_at_most("--settle", text, MAX_STEP).map_err(CliError::for_clap)
}

fn parse_measure(text: &str) -> Result<Duration, String> {
    let measure =
        parse_duration_at_most("--measure", text, MAX_STEP).map_err(CliError::for_clap)?;
    if measure < Duration::from_secs(3) {
        return Err(CliError::flag(
            "--measure",
            text,
            "must be at least 3s (a step is judged over its whole seconds, and an interval needs three)",
            "e.g. --measure 5s",
        )
        .for_clap());
    }
    Ok(measure)
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let timeout = parse_duration_at_most("--timeout", text, Duration::from_secs(86_400))
        .map_err(CliError::for_clap)?;
    if timeout.is_zero() {
        return Err(CliError::flag(
            "--timeout",
            text,
            "must be longer than zero",
            "e.g. --timeout 5s",
        )
        .for_clap());
    }
    Ok(timeout)
}

fn parse_steps(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_STEPS).contains(&n) => Ok(n),
        _ => Err(CliError::flag(
            "--max-steps",
            text,
            &format!("must be a whole number from 1 to {MAX_STEPS}"),
            "e.g. --max-steps 30",
        )
        .for_clap()),
    }
}
