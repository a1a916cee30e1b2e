//! Shared parsing of flag values (durations, sizes, rates, whole numbers, status lists) and the
//! CLI's error type. Every parser bounds its value (the bounds are in [`crate::limits`]), so a
//! value that would overflow later is refused here, with the flag and the limit named.

use crate::limits::{MAX_RATE, MAX_RUN, MAX_WAIT, MIN_RATE};
use std::ops::RangeInclusive;
use std::time::Duration;

/// A flag value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag's value is wrong.
    #[error("invalid value '{value}' for {flag}: {why}\nhint: {hint}")]
    Flag {
        /// The flag, e.g. `--duration`.
        flag: String,
        /// The value given, with control characters escaped (`\r`, `\n`, `\0`).
        value: String,
        /// What is wrong.
        why: String,
        /// What to do.
        hint: String,
    },
    /// A threshold expression is wrong (its message points at the bad part).
    #[error("{0}")]
    Threshold(plumb_stats::ThresholdParseError),
    /// A file a flag names is wrong at a place in it: `FILE:LINE:COL: message` and a `hint:`,
    /// as compilers write it (the flow file of `-f`).
    #[error("{0}")]
    File(plumb_flow::FlowFileError),
}

impl CliError {
    /// The flow file of `-f` is wrong: located in the file itself, `FILE:LINE:COL: message`.
    pub fn flow_file(error: plumb_flow::FlowFileError) -> CliError {
        CliError::File(error)
    }

    /// An error about one flag's value; control characters in the value are escaped, so the
    /// message cannot itself break lines or the terminal.
    pub fn flag(flag: &str, value: &str, why: &str, hint: &str) -> CliError {
        CliError::Flag {
            flag: flag.to_string(),
            value: escape_controls(value),
            why: why.to_string(),
            hint: hint.to_string(),
        }
    }
}

impl CliError {
    /// The error as a clap value parser's message: clap names the flag and the value itself, so
    /// only what is wrong and the hint follow.
    pub fn for_clap(self) -> String {
        match self {
            CliError::Flag { why, hint, .. } => format!("{why}\nhint: {hint}"),
            CliError::Threshold(e) => e.to_string(),
            CliError::File(e) => e.to_string(),
        }
    }
}

/// `text` with its control characters escaped (`\r`, `\n`, `\0`, `\u{1}`) and the rest as typed.
fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

const DURATION_HINT: &str = "durations look like 10s, 1m30s, 250ms or 2.5 (seconds)";

/// Parse a duration such as `10s`, `1m30s`, `250ms` (a bare number means seconds) of at most
/// [`MAX_WAIT`] (24h): `--timeout`, `--latency`, `--stall`.
pub fn parse_duration(flag: &str, text: &str) -> Result<Duration, CliError> {
    parse_duration_at_most(flag, text, MAX_WAIT)
}

/// Parse the length of a run: longer than zero and at most [`MAX_RUN`] (7 days): `-d`.
pub fn parse_run_duration(flag: &str, text: &str) -> Result<Duration, CliError> {
    let duration = parse_duration_at_most(flag, text, MAX_RUN)?;
    if duration.is_zero() {
        return Err(CliError::flag(
            flag,
            text.trim(),
            "must be longer than zero",
            &format!("e.g. {flag} 10s"),
        ));
    }
    Ok(duration)
}

/// Parse a duration of at most `max`; the error names the flag, and the limit when it is passed.
pub fn parse_duration_at_most(flag: &str, text: &str, max: Duration) -> Result<Duration, CliError> {
    let text = text.trim();
    let duration = match text.parse::<f64>() {
        Ok(seconds) if seconds.is_nan() || seconds.is_infinite() => {
            return Err(CliError::flag(
                flag,
                text,
                "is not a number of seconds",
                DURATION_HINT,
            ))
        }
        Ok(seconds) if seconds < 0.0 => {
            return Err(CliError::flag(flag, text, "is negative", DURATION_HINT))
        }
        Ok(seconds) if seconds > max.as_secs_f64() => return Err(too_long(flag, text, max)),
        Ok(seconds) => Duration::from_secs_f64(seconds),
        Err(_) => humantime::parse_duration(text)
            .map_err(|e| CliError::flag(flag, text, &e.to_string(), DURATION_HINT))?,
    };
    if duration > max {
        return Err(too_long(flag, text, max));
    }
    Ok(duration)
}

fn too_long(flag: &str, text: &str, max: Duration) -> CliError {
    let limit = describe_limit(max);
    CliError::flag(
        flag,
        text,
        &format!("is longer than the limit of {limit}"),
        &format!("{flag} takes at most {limit}; {DURATION_HINT}"),
    )
}

/// `7d`, `24h`, or humantime's form: a limit as the user would write it.
pub fn describe_limit(limit: Duration) -> String {
    let secs = limit.as_secs();
    if limit.subsec_nanos() == 0 && secs > 86_400 && secs % 86_400 == 0 {
        format!("{}d", secs / 86_400)
    } else if limit.subsec_nanos() == 0 && secs >= 3_600 && secs % 3_600 == 0 {
        format!("{}h", secs / 3_600)
    } else {
        humantime::format_duration(limit).to_string()
    }
}

/// Parse a byte size such as `1024`, `4KB`, `1MiB` of at most `max` bytes.
pub fn parse_bytes(flag: &str, text: &str, max: u64) -> Result<usize, CliError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => f64::NAN,
    };
    let bytes = match number.parse::<f64>() {
        Ok(n) if scale.is_finite() && n >= 0.0 => (n * scale).round(),
        _ => {
            return Err(CliError::flag(
                flag,
                t,
                "is not a size",
                "sizes look like 512, 4KB, 1MiB",
            ))
        }
    };
    if bytes > max as f64 {
        let limit = describe_bytes(max);
        return Err(CliError::flag(
            flag,
            t,
            &format!("is larger than the limit of {limit}"),
            &format!("give at most {limit}, e.g. {flag} 1MiB"),
        ));
    }
    usize::try_from(bytes as u64).map_err(|_| {
        CliError::flag(
            flag,
            t,
            "is too large for this machine",
            "give a smaller size",
        )
    })
}

/// `1 GiB`, `1 MiB`, `1 KiB` or a count of bytes.
fn describe_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// A whole-number flag's value within `range`, for clap's `value_parser`: negative numbers,
/// fractions and words get one message that names the flag, the limit and an example.
pub fn parse_whole<T: TryFrom<u64>>(
    flag: &str,
    text: &str,
    range: RangeInclusive<u64>,
    example: &str,
) -> Result<T, String> {
    let (min, max) = (*range.start(), *range.end());
    let wrong = || {
        let what = match min {
            0 => format!("a whole number from 0 to {max}"),
            1 => format!("a positive whole number, at most {max}"),
            _ => format!("a whole number from {min} to {max}"),
        };
        format!("{flag} must be {what}\nhint: {example}")
    };
    let n: u64 = text.trim().parse().map_err(|_| wrong())?;
    if !range.contains(&n) {
        return Err(wrong());
    }
    T::try_from(n).map_err(|_| wrong())
}

/// Parse `--rate`: requests per second, 0 (for a ramp that starts from nothing) or from
/// [`MIN_RATE`] to [`MAX_RATE`]. For clap's `value_parser`.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let wrong = |why: &str| {
        format!(
            "--rate {why}\nhint: give requests per second from {MIN_RATE} to {MAX_RATE}, e.g. \
             --rate 1000; to ramp up from zero use --rate 0 --stages 30s:1000"
        )
    };
    let rate: f64 = text.trim().parse().map_err(|_| wrong("must be a number"))?;
    check_rate(rate).map_err(|why| wrong(&why))
}

/// Whether `rate` (per second) is 0 or within [`MIN_RATE`]..=[`MAX_RATE`]; the error says why not.
pub fn check_rate(rate: f64) -> Result<f64, String> {
    if rate.is_nan() {
        Err("must be a number".into())
    } else if rate < 0.0 {
        Err("must not be negative".into())
    } else if rate > MAX_RATE {
        Err(format!(
            "is above the limit of {MAX_RATE} requests per second"
        ))
    } else if rate > 0.0 && rate < MIN_RATE {
        Err(format!(
            "is below the lowest rate, {MIN_RATE} requests per second (one every {} s)",
            1.0 / MIN_RATE
        ))
    } else {
        Ok(rate)
    }
}

/// Parse `200,201-204` into inclusive ranges; the error is the part that failed.
pub fn parse_size_list(text: &str) -> Result<Vec<(u16, u16)>, String> {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            let parse = |s: &str| {
                s.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|c| (100..600).contains(c))
            };
            let range = match part.split_once('-') {
                Some((a, b)) => parse(a).zip(parse(b)).filter(|(a, b)| a <= b),
                None => parse(part).map(|c| (c, c)),
            };
            range.ok_or_else(|| part.to_string())
        })
        .collect()
}
