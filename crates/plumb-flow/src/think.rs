//! Think times between steps: constant (`"1s"`), uniform (`"uniform(1s, 3s)"`) or exponential
//! (`"exp(mean=2s, max=10s)"`, whose `max` bounds the long tail; default 10 × the mean).

use rand::Rng;
use std::time::Duration;

/// The longest think time accepted (a session must end within a run).
pub const MAX_THINK: Duration = Duration::from_secs(3600);

/// A think time distribution.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Think {
    /// No pause.
    #[default]
    None,
    /// Always this long.
    Constant(Duration),
    /// Uniform between the two.
    Uniform(Duration, Duration),
    /// Exponential with this mean, cut at `max`.
    Exponential {
        /// The mean.
        mean: Duration,
        /// The longest pause drawn.
        max: Duration,
    },
}

impl Think {
    /// Parse a think time; the error says what is accepted.
    pub fn parse(text: &str) -> Result<Think, String> {
        let text = text.trim();
        if let Some(inner) = call(text, "uniform") {
            let (a, b) = inner
                .split_once(',')
                .ok_or_else(|| "uniform takes two durations: uniform(1s, 3s)".to_string())?;
            let (low, high) = (duration(a)?, duration(b)?);
            if low > high {
                return Err(format!("uniform({a}, {b}): the first bound is the larger"));
            }
            return Ok(Think::Uniform(low, high));
        }
        if let Some(inner) = call(text, "exp") {
            return exponential(inner);
        }
        let d = duration(text)?;
        Ok(if d.is_zero() {
            Think::None
        } else {
            Think::Constant(d)
        })
    }

    /// Draw one pause.
    pub fn sample(&self, rng: &mut impl Rng) -> Duration {
        match *self {
            Think::None => Duration::ZERO,
            Think::Constant(d) => d,
            Think::Uniform(low, high) => {
                if low == high {
                    low
                } else {
                    rng.random_range(low..=high)
                }
            }
            Think::Exponential { mean, max } => {
                let u: f64 = rng.random_range(f64::EPSILON..1.0);
                Duration::from_secs_f64(-u.ln() * mean.as_secs_f64()).min(max)
            }
        }
    }
}

fn call<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.strip_prefix(name)?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')
}

fn exponential(inner: &str) -> Result<Think, String> {
    let mut mean = None;
    let mut max = None;
    for part in inner.split(',') {
        let part = part.trim();
        match part.split_once('=') {
            Some(("mean", v)) => mean = Some(duration(v)?),
            Some(("max", v)) => max = Some(duration(v)?),
            None if mean.is_none() => mean = Some(duration(part)?),
            _ => return Err(format!("exp(...) takes mean= and max=, not '{part}'")),
        }
    }
    let mean = mean.ok_or("exp needs a mean: exp(mean=2s, max=10s)")?;
    let max = max.unwrap_or_else(|| (mean * 10).min(MAX_THINK));
    Ok(Think::Exponential { mean, max })
}

fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let d = humantime::parse_duration(text)
        .map_err(|e| format!("'{text}' is not a duration ({e}); e.g. 500ms, 2s"))?;
    if d > MAX_THINK {
        return Err(format!("'{text}' is longer than the limit of 1h"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn forms_parse_and_samples_stay_in_bounds() {
        let s = Duration::from_secs;
        assert_eq!(Think::parse("2s"), Ok(Think::Constant(s(2))));
        assert_eq!(Think::parse("0s"), Ok(Think::None));
        assert_eq!(
            Think::parse("uniform(1s, 3s)"),
            Ok(Think::Uniform(s(1), s(3)))
        );
        assert_eq!(
            Think::parse("exp(mean=2s, max=5s)"),
            Ok(Think::Exponential {
                mean: s(2),
                max: s(5)
            })
        );
        assert!(Think::parse("uniform(3s, 1s)").is_err());
        assert!(Think::parse("2h").unwrap_err().contains("limit of 1h"));
        assert!(Think::parse("soon").is_err());
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let exp = Think::parse("exp(mean=100ms, max=300ms)").unwrap();
        let draws: Vec<Duration> = (0..10_000).map(|_| exp.sample(&mut rng)).collect();
        assert!(draws.iter().all(|d| *d <= Duration::from_millis(300)));
        let mean = draws.iter().sum::<Duration>().as_secs_f64() / 10_000.0;
        // The mean of an exponential cut at 3x its mean is mean * (1 - e^-3) = 95 ms.
        assert!((mean - 0.095).abs() < 0.005, "{mean}");
    }
}
