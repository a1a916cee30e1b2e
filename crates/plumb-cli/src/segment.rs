//! `--segment I/N` and `--start-at TIME`: one process's part of a test split over several
//! processes or machines, and the absolute time at which every part begins.

use crate::parse::CliError;
use plumb_load::Segment;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The most segments a test may be split into.
pub const MAX_SEGMENTS: u32 = 10_000;

/// The variable a Kubernetes Indexed Job gives each pod: its index, from 0.
pub const JOB_INDEX_VAR: &str = "JOB_COMPLETION_INDEX";

const SEGMENT_HINT: &str = "write the segment as INDEX/COUNT, counting from 0 (e.g. --segment 0/4 \
     ... --segment 3/4), or auto/COUNT to read the index from JOB_COMPLETION_INDEX";

/// Parse `--segment I/N`, or `auto/N` with the index read from [`JOB_INDEX_VAR`] (`job_index`
/// is that variable's value, passed in so the parse stays pure).
pub fn parse_segment(text: &str, job_index: Option<&str>) -> Result<Segment, CliError> {
    let bad = |why: &str| CliError::flag("--segment", text, why, SEGMENT_HINT);
    let (index, count) = text
        .split_once('/')
        .ok_or_else(|| bad("not of the form INDEX/COUNT"))?;
    let count: u32 = count
        .trim()
        .parse()
        .map_err(|_| bad("the count is not a whole number"))?;
    if count == 0 || count > MAX_SEGMENTS {
        return Err(bad(&format!("the count must be from 1 to {MAX_SEGMENTS}")));
    }
    let index = match index.trim() {
        "auto" => {
            let value = job_index.ok_or_else(|| {
                bad(&format!(
                    "auto takes the index from {JOB_INDEX_VAR}, which is not set"
                ))
            })?;
            value
                .trim()
                .parse::<u32>()
                .map_err(|_| bad(&format!("{JOB_INDEX_VAR} is '{value}', not a whole number")))?
        }
        index => index
            .parse::<u32>()
            .map_err(|_| bad("the index is not a whole number"))?,
    };
    if index >= count {
        return Err(bad(&format!(
            "the index {index} is not below the count {count} (segments count from 0)"
        )));
    }
    Ok(Segment { index, count })
}

const START_HINT: &str = "give an RFC 3339 time (2026-12-01T17:00:00Z, or with milliseconds), \
     unix seconds (@1796144400.5), or a delay from now (+30s)";

/// Parse `--start-at`: RFC 3339, `@UNIX_SECONDS` (fractions allowed), or `+DURATION` from `now`.
/// The engine refuses a time too far ahead or too long past.
pub fn parse_start_at(text: &str, now: SystemTime) -> Result<SystemTime, CliError> {
    let bad = |why: &str| CliError::flag("--start-at", text, why, START_HINT);
    let text = text.trim();
    if let Some(delay) = text.strip_prefix('+') {
        let delay = crate::parse::parse_duration("--start-at", delay)?;
        return Ok(now + delay);
    }
    if let Some(seconds) = text.strip_prefix('@') {
        let seconds: f64 = seconds
            .parse()
            .map_err(|_| bad("not a number of unix seconds"))?;
        // Up to the year 2500: far beyond any test, and exact in f64 to the microsecond.
        if !(0.0..=16_725_225_600.0).contains(&seconds) {
            return Err(bad("unix seconds out of range"));
        }
        return Ok(UNIX_EPOCH + Duration::from_secs_f64(seconds));
    }
    humantime::parse_rfc3339_weak(text)
        .map_err(|e| bad(&format!("not a time plumb can read ({e})")))
}

/// `--coordinator HOST:PORT`: a host (a name, an IPv4 address or `[IPv6]`) and a port from 1 to
/// 65535; whether the host resolves is learnt when dialling (a pod's name may appear later).
pub fn parse_address(text: &str) -> Result<String, String> {
    let hint = "hint: give the coordinator's HOST:PORT, e.g. --coordinator 10.0.0.5:7070 or coordinator.default.svc:7070";
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(format!("no port: write HOST:PORT\n{hint}"));
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("no host before the port\n{hint}"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(text.to_string()),
        _ => Err(format!("the port '{port}' is not from 1 to 65535\n{hint}")),
    }
}

/// `--segment` and `--start-at` of `plumb load` (and of `plumb run`, for its scenarios).
pub fn resolve(
    segment: Option<&str>,
    start_at: Option<&str>,
) -> Result<(Option<Segment>, Option<SystemTime>), CliError> {
    let job_index = std::env::var(JOB_INDEX_VAR).ok();
    let segment = segment
        .map(|text| parse_segment(text, job_index.as_deref()))
        .transpose()?;
    let start_at = start_at
        .map(|text| parse_start_at(text, SystemTime::now()))
        .transpose()?;
    Ok((segment, start_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(result: Result<impl std::fmt::Debug, CliError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn segments_parse_and_are_bounded() {
        assert_eq!(
            parse_segment("2/4", None).unwrap(),
            Segment { index: 2, count: 4 }
        );
        assert_eq!(
            parse_segment("auto/8", Some("7")).unwrap(),
            Segment { index: 7, count: 8 }
        );
        assert!(why(parse_segment("4/4", None)).contains("not below the count 4"));
        assert!(why(parse_segment("0/0", None)).contains("from 1 to 10000"));
        assert!(why(parse_segment("0/10001", None)).contains("from 1 to 10000"));
        assert!(why(parse_segment("3", None)).contains("INDEX/COUNT"));
        assert!(why(parse_segment("auto/4", None)).contains("JOB_COMPLETION_INDEX"));
        assert!(why(parse_segment("auto/4", Some("x"))).contains("'x', not a whole number"));
        assert!(why(parse_segment("-1/4", None)).contains("hint:"));
    }

    #[test]
    fn coordinator_addresses_need_a_host_and_a_port() {
        assert!(parse_address("10.0.0.5:7070").is_ok());
        assert!(parse_address("[::1]:7070").is_ok());
        assert!(parse_address("coordinator.default.svc:7070").is_ok());
        assert!(parse_address("nonsense").unwrap_err().contains("no port"));
        assert!(parse_address("127.0.0.1:99999")
            .unwrap_err()
            .contains("1 to 65535"));
        assert!(parse_address(":7070").unwrap_err().contains("no host"));
    }

    #[test]
    fn start_times_parse_in_three_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(
            parse_start_at("+30s", now).unwrap(),
            now + Duration::from_secs(30)
        );
        assert_eq!(
            parse_start_at("@1764608400.25", now).unwrap(),
            UNIX_EPOCH + Duration::from_millis(1_764_608_400_250)
        );
        assert_eq!(
            parse_start_at("2026-12-01T17:00:00.5Z", now).unwrap(),
            UNIX_EPOCH + Duration::from_millis(1_796_144_400_500)
        );
        assert!(why(parse_start_at("tomorrow", now)).contains("--start-at"));
        assert!(why(parse_start_at("@1e30", now)).contains("out of range"));
    }
}
