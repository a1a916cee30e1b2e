//! Flags of `plumb target`, resolved into [`plumb_target::TargetSettings`].

use crate::limits::{MAX_BODY_SIZE, MAX_THREADS};
use crate::parse::{parse_bytes, parse_duration, parse_whole, CliError};
use clap::Args;
use plumb_target::{Latency, Stall, TargetSettings};
use std::net::{IpAddr, SocketAddr};

/// Arguments of `plumb target`.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port to listen on (0 picks a free one)
    #[arg(short = 'p', long, default_value_t = 8080, allow_negative_numbers = true,
          value_parser = parse_port)]
    pub port: u16,

    /// Added latency: fixed (5ms) or uniformly random (1ms..10ms)
    #[arg(long, value_name = "LATENCY", allow_hyphen_values = true)]
    pub latency: Option<String>,

    /// A periodic stall LENGTH/PERIOD, e.g. 1s/5s: requests arriving in the last second of every
    /// five wait for it to end
    #[arg(long, value_name = "LENGTH/PERIOD", allow_hyphen_values = true)]
    pub stall: Option<String>,

    /// Fraction of requests answered 500, 0.0 to 1.0
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "RATIO",
        allow_negative_numbers = true,
        value_parser = parse_ratio
    )]
    pub error_rate: f64,

    /// Response body size, e.g. 1KB (at most 1 GiB)
    #[arg(long, default_value = "13", value_name = "SIZE")]
    pub size: String,

    /// Server worker threads [default: one per core]
    #[arg(short = 't', long, value_name = "N", allow_negative_numbers = true,
          value_parser = parse_threads)]
    pub threads: Option<usize>,
}

impl TargetArgs {
    /// The target's knobs, checked.
    pub fn settings(&self) -> Result<TargetSettings, CliError> {
        if !(0.0..=1.0).contains(&self.error_rate) || self.error_rate.is_nan() {
            return Err(CliError::flag(
                "--error-rate",
                &self.error_rate.to_string(),
                "is not between 0 and 1",
                "e.g. --error-rate 0.01 for 1% errors",
            ));
        }
        Ok(TargetSettings {
            latency: self
                .latency
                .as_deref()
                .map(parse_latency)
                .transpose()?
                .unwrap_or_default(),
            stall: self.stall.as_deref().map(parse_stall).transpose()?,
            error_rate: self.error_rate,
            body_size: parse_bytes("--size", &self.size, MAX_BODY_SIZE)?,
        })
    }

    /// Where to listen.
    pub fn bind(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }
}

fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        _ => Err("--error-rate must be a number from 0 to 1\n\
                  hint: e.g. --error-rate 0.01 for 1% errors"
            .into()),
    }
}

fn parse_port(text: &str) -> Result<u16, String> {
    parse_whole(
        "-p",
        text,
        0..=u64::from(u16::MAX),
        "e.g. -p 8080, or -p 0 for any free port",
    )
}

fn parse_threads(text: &str) -> Result<usize, String> {
    parse_whole(
        "-t",
        text,
        1..=MAX_THREADS,
        "e.g. -t 4, or omit -t for one thread per core",
    )
}

/// `5ms` or `1ms..10ms`, each at most 24h.
pub fn parse_latency(text: &str) -> Result<Latency, CliError> {
    match text.split_once("..") {
        Some((lo, hi)) => {
            let (lo, hi) = (
                parse_duration("--latency", lo)?,
                parse_duration("--latency", hi)?,
            );
            if lo > hi {
                return Err(CliError::flag(
                    "--latency",
                    text,
                    "has its lower bound above its upper bound",
                    "write LOW..HIGH, e.g. 1ms..10ms",
                ));
            }
            Ok(Latency::Uniform(lo, hi))
        }
        None => Ok(Latency::Fixed(parse_duration("--latency", text)?)),
    }
}

/// `1s/5s`, each at most 24h.
pub fn parse_stall(text: &str) -> Result<Stall, CliError> {
    let hint = "write LENGTH/PERIOD, e.g. 1s/5s for a one-second stall every five seconds";
    let (length, every) = text
        .split_once('/')
        .ok_or_else(|| CliError::flag("--stall", text, "is missing '/'", hint))?;
    let stall = Stall {
        length: parse_duration("--stall", length)?,
        every: parse_duration("--stall", every)?,
    };
    if stall.every.is_zero() || stall.length >= stall.every {
        return Err(CliError::flag(
            "--stall",
            text,
            "needs a stall shorter than its period",
            hint,
        ));
    }
    Ok(stall)
}
