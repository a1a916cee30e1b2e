//! Shared parsing of flag values (durations, sizes, code lists) and the CLI's error type.

use std::time::Duration;

/// A flag value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag's value is wrong.
    #[error("invalid value '{value}' for {flag}: {why}\nhint: {hint}")]
    Flag {
        /// The flag, e.g. `--duration`.
        flag: String,
        /// The value given.
        value: String,
        /// What is wrong.
        why: String,
        /// What to do.
        hint: String,
    },
    /// A threshold expression is wrong (its message points at the bad part).
    #[error("{0}")]
    Threshold(plumb_stats::ThresholdParseError),
}

impl CliError {
    /// An error about one flag's value.
    pub fn flag(flag: &str, value: &str, why: &str, hint: &str) -> CliError {
        CliError::Flag {
            flag: flag.to_string(),
            value: value.to_string(),
            why: why.to_string(),
            hint: hint.to_string(),
        }
    }
}

/// Parse a duration such as `10s`, `1m30s`, `250ms`; a bare number means seconds.
pub fn parse_duration(flag: &str, text: &str) -> Result<Duration, CliError> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        if seconds.is_finite() && seconds >= 0.0 {
            return Ok(Duration::from_secs_f64(seconds));
        }
    }
    humantime::parse_duration(text).map_err(|e| {
        CliError::flag(
            flag,
            text,
            &e.to_string(),
            "durations look like 10s, 1m30s, 250ms or 2.5 (seconds)",
        )
    })
}

/// Parse a byte size such as `1024`, `4KB`, `1MiB`.
pub fn parse_bytes(flag: &str, text: &str) -> Result<usize, CliError> {
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
    match number.parse::<f64>() {
        Ok(n) if scale.is_finite() && n >= 0.0 => Ok((n * scale) as usize),
        _ => Err(CliError::flag(
            flag,
            text,
            "is not a size",
            "sizes look like 512, 4KB, 1MiB",
        )),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("-d", "10s").unwrap(),
            Duration::from_secs(10)
        );
        assert_eq!(
            parse_duration("-d", "2.5").unwrap(),
            Duration::from_millis(2500)
        );
        assert_eq!(
            parse_duration("-d", "1m30s").unwrap(),
            Duration::from_secs(90)
        );
        let e = parse_duration("--duration", "ten").unwrap_err().to_string();
        assert!(e.contains("--duration") && e.contains("hint:"), "{e}");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("--size", "4KB").unwrap(), 4000);
        assert_eq!(parse_bytes("--size", "1MiB").unwrap(), 1 << 20);
        assert!(parse_bytes("--size", "4XB").is_err());
    }

    #[test]
    fn status_lists() {
        assert_eq!(
            parse_size_list("200,201-204").unwrap(),
            vec![(200, 200), (201, 204)]
        );
        assert_eq!(parse_size_list("200,abc").unwrap_err(), "abc");
        assert_eq!(parse_size_list("204-201").unwrap_err(), "204-201");
    }
}
