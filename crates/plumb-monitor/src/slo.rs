//! Service level objectives: the indicator (availability, or the share of successful probes
//! under a latency bound), the objective over a period, the error budget left, burn rates, and
//! the multi-window multi-burn-rate alert windows of the Google SRE workbook as Sloth defines
//! them, scaled to the SLO's period (1h/5m at 14.4x, 6h/30m at 6x, 1d/2h at 3x, 3d/6h at 1x
//! for 30 days).

use crate::clock::Millis;
use crate::window::{Counts, EventWindow};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The shortest SLO period.
pub const MIN_PERIOD: Duration = Duration::from_secs(3600);
/// The longest SLO period.
pub const MAX_PERIOD: Duration = Duration::from_secs(366 * 24 * 3600);
/// The reference period of the workbook's window table.
const REFERENCE: Millis = 30 * DAY;
const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;
/// Buckets per period: a 30-day period is kept in one-minute buckets.
const BUCKETS_PER_PERIOD: Millis = 43_200;

/// What an SLO counts as a good event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sli {
    /// A probe that passed its checks.
    Availability,
    /// A passed probe that took at most this long (failed probes are not counted).
    Latency {
        /// The latency bound.
        under: Duration,
    },
}

/// One objective: `availability 99.9% 30d`, `latency 99% < 300ms 30d`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SloSpec {
    /// The indicator.
    pub sli: Sli,
    /// The objective, a ratio below 1 (0.999 for 99.9%).
    pub objective: f64,
    /// The period the objective is over.
    pub period: Duration,
}

/// How to write an SLO.
const SLO_HINT: &str =
    "write 'availability 99.9% 30d' or 'latency 99% < 300ms 30d' (objective below 100%, period 1h to 366d)";

/// An SLO that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid SLO '{text}': {why}\nhint: {SLO_HINT}")]
pub struct SloParseError {
    /// The text given.
    pub text: String,
    /// What is wrong.
    pub why: String,
}

impl FromStr for SloSpec {
    type Err = SloParseError;

    fn from_str(text: &str) -> Result<SloSpec, SloParseError> {
        let bad = |why: &str| SloParseError {
            text: text.to_string(),
            why: why.to_string(),
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        let (sli, rest) = match words.as_slice() {
            ["availability", rest @ ..] => (Sli::Availability, rest),
            ["latency", objective, "<", bound, rest @ ..] => {
                let under = humantime::parse_duration(bound)
                    .map_err(|_| bad(&format!("'{bound}' is not a duration")))?;
                if under.is_zero() || under > Duration::from_secs(3600) {
                    return Err(bad("the latency bound is not above 0 and at most 1h"));
                }
                return finish(Sli::Latency { under }, objective, rest, bad);
            }
            [first, ..] => return Err(bad(&format!("'{first}' is not availability or latency"))),
            [] => return Err(bad("it is empty")),
        };
        match rest {
            [objective, rest @ ..] => finish(sli, objective, rest, bad),
            [] => Err(bad("the objective is missing")),
        }
    }
}

fn finish(
    sli: Sli,
    objective: &str,
    rest: &[&str],
    bad: impl Fn(&str) -> SloParseError,
) -> Result<SloSpec, SloParseError> {
    let percent: f64 = objective
        .strip_suffix('%')
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| bad(&format!("'{objective}' is not a percentage such as 99.9%")))?;
    if !(percent > 0.0 && percent < 100.0) {
        return Err(bad("the objective is not above 0% and below 100%"));
    }
    let period = match rest {
        [period] => humantime::parse_duration(period)
            .map_err(|_| bad(&format!("'{period}' is not a period such as 30d")))?,
        [] => return Err(bad("the period is missing")),
        [_, extra, ..] => return Err(bad(&format!("'{extra}' is one word too many"))),
    };
    if period < MIN_PERIOD || period > MAX_PERIOD {
        return Err(bad("the period is outside 1h to 366d"));
    }
    Ok(SloSpec {
        sli,
        // 99.9 / 100 is 0.9990000000000001 in binary; rounded to 8 digits it is 0.999.
        objective: (percent * 1e6).round() / 1e8,
        period,
    })
}

impl TryFrom<String> for SloSpec {
    type Error = SloParseError;
    fn try_from(text: String) -> Result<SloSpec, SloParseError> {
        text.parse()
    }
}

impl From<SloSpec> for String {
    fn from(spec: SloSpec) -> String {
        spec.to_string()
    }
}

impl fmt::Display for SloSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = format_percent(self.objective);
        let period = crate::rules::prom_duration(self.period_ms());
        match self.sli {
            Sli::Availability => write!(f, "availability {percent} {period}"),
            Sli::Latency { under } => write!(
                f,
                "latency {percent} < {} {period}",
                crate::rules::prom_duration(under.as_millis() as Millis)
            ),
        }
    }
}

/// `0.999` as `99.9%`, with no float noise.
pub fn format_percent(ratio: f64) -> String {
    let text = format!("{:.6}", ratio * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

impl SloSpec {
    /// The SLO's name in labels and messages: `availability`, `latency-300ms`.
    pub fn name(&self) -> String {
        match self.sli {
            Sli::Availability => "availability".to_string(),
            Sli::Latency { under } => {
                format!(
                    "latency-{}",
                    crate::rules::prom_duration(under.as_millis() as Millis)
                )
            }
        }
    }

    /// The error budget, a ratio: `1 - objective`.
    pub fn budget(&self) -> f64 {
        1.0 - self.objective
    }

    /// The period in ms.
    pub fn period_ms(&self) -> Millis {
        self.period.as_millis() as Millis
    }

    /// The width of the buckets the period is kept in (one minute for 30 days, 1 s at least).
    pub fn bucket_width(&self) -> Millis {
        (self.period_ms() / BUCKETS_PER_PERIOD).max(1000)
    }

    /// The four alert windows, scaled to this SLO's period.
    pub fn burn_windows(&self) -> [BurnWindow; 4] {
        let period = self.period_ms();
        let scale = |base: Millis| {
            let scaled = (base as f64 * period as f64 / REFERENCE as f64).round() as Millis;
            scaled.max(1000)
        };
        let pair = |severity, budget_share: f64, long: Millis, short: Millis| BurnWindow {
            severity,
            budget_share,
            long: scale(long),
            short: scale(short),
            // Sloth's factor: the share of budget a window may burn, over its share of the period.
            factor: budget_share * REFERENCE as f64 / long as f64,
        };
        [
            pair(Severity::Page, 0.02, HOUR, 5 * MINUTE),
            pair(Severity::Page, 0.05, 6 * HOUR, 30 * MINUTE),
            pair(Severity::Ticket, 0.10, DAY, 2 * HOUR),
            pair(Severity::Ticket, 0.10, 3 * DAY, 6 * HOUR),
        ]
    }
}

/// Who an SLO alert is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fast burn: wake someone.
    Page,
    /// Slow burn: a ticket.
    Ticket,
}

impl Severity {
    /// `page` or `ticket`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// One long/short window pair and the burn rate both must exceed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnWindow {
    /// Page or ticket.
    pub severity: Severity,
    /// The share of the period's budget this pair catches being burnt (0.02 = 2%).
    pub budget_share: f64,
    /// The long window, ms.
    pub long: Millis,
    /// The short window (how fast the alert resets), ms.
    pub short: Millis,
    /// The burn rate both windows must exceed.
    pub factor: f64,
}

/// One SLO's events over its period.
#[derive(Debug, Clone)]
pub struct SloState {
    /// The objective.
    pub spec: SloSpec,
    /// Its events, in buckets, for one period.
    pub window: EventWindow,
}

/// Where one window pair stands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BurnStatus {
    /// Page or ticket.
    pub severity: Severity,
    /// The long window, ms.
    pub long_ms: Millis,
    /// The short window, ms.
    pub short_ms: Millis,
    /// The burn rate both must exceed.
    pub factor: f64,
    /// The burn rate over the long window (none without events).
    pub long_burn: Option<f64>,
    /// The burn rate over the short window.
    pub short_burn: Option<f64>,
}

impl BurnStatus {
    /// Whether both windows burn faster than the factor.
    pub fn burning(&self, slack: f64) -> bool {
        let over = |b: Option<f64>| b.is_some_and(|b| b > self.factor * slack);
        over(self.long_burn) && over(self.short_burn)
    }
}

/// Where one SLO stands at a moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloStatus {
    /// `availability`, `latency-300ms`.
    pub name: String,
    /// The SLO as written.
    pub spec: String,
    /// The objective ratio.
    pub objective: f64,
    /// The period, ms.
    pub period_ms: Millis,
    /// Good events over the period.
    pub good: u64,
    /// All events over the period.
    pub total: u64,
    /// The indicator over the period: good / total.
    pub sli: Option<f64>,
    /// The budget left over the period: `1 - E(P)/B` (negative once overspent).
    pub budget_remaining: Option<f64>,
    /// The burn rate over the period: `E(P)/B`.
    pub period_burn: Option<f64>,
    /// Time until the budget is spent at the short page window's burn rate, ms.
    pub exhaustion_ms: Option<Millis>,
    /// The four window pairs.
    pub windows: Vec<BurnStatus>,
}

impl SloState {
    /// An SLO with no events yet.
    pub fn new(spec: SloSpec) -> SloState {
        SloState {
            window: EventWindow::new(spec.bucket_width(), spec.period_ms()),
            spec,
        }
    }

    /// Count a probe: `ok` whether it passed, `took` how long it took.
    pub fn record(&mut self, at: Millis, ok: bool, took: Duration) {
        match self.spec.sli {
            Sli::Availability => self.window.record(at, ok),
            Sli::Latency { under } if ok => self.window.record(at, took <= under),
            Sli::Latency { .. } => {}
        }
    }

    /// The burn rate over the last `span` ms: error ratio over budget.
    pub fn burn(&self, now: Millis, span: Millis) -> Option<f64> {
        self.burn_of(self.window.counts(now, span))
    }

    fn burn_of(&self, counts: Counts) -> Option<f64> {
        counts.error_ratio().map(|e| e / self.spec.budget())
    }

    /// Where the SLO stands at `now`.
    pub fn status(&mut self, now: Millis) -> SloStatus {
        self.window.expire(now);
        let kept = self.window.kept();
        let period_burn = self.burn_of(kept);
        let windows: Vec<BurnStatus> = self
            .spec
            .burn_windows()
            .iter()
            .map(|w| BurnStatus {
                severity: w.severity,
                long_ms: w.long,
                short_ms: w.short,
                factor: w.factor,
                long_burn: self.burn(now, w.long),
                short_burn: self.burn(now, w.short),
            })
            .collect();
        let remaining = period_burn.map(|b| 1.0 - b);
        let exhaustion_ms = match (remaining, windows[0].short_burn) {
            (Some(r), Some(b)) if b > 0.0 && r > 0.0 => {
                Some((r * self.spec.period_ms() as f64 / b) as Millis)
            }
            _ => None,
        };
        SloStatus {
            name: self.spec.name(),
            spec: self.spec.to_string(),
            objective: self.spec.objective,
            period_ms: self.spec.period_ms(),
            good: kept.good,
            total: kept.total,
            sli: (kept.total > 0).then(|| kept.good as f64 / kept.total as f64),
            budget_remaining: remaining,
            period_burn,
            exhaustion_ms,
            windows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> SloSpec {
        text.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_both_kinds() {
        let a = spec("availability 99.9% 30d");
        assert_eq!(a.sli, Sli::Availability);
        assert!((a.budget() - 0.001).abs() < 1e-12);
        assert_eq!(a.to_string(), "availability 99.9% 30d");
        assert_eq!(a.objective.to_string(), "0.999");
        let l = spec("latency 99% < 300ms 30d");
        assert_eq!(
            l.sli,
            Sli::Latency {
                under: Duration::from_millis(300)
            }
        );
        assert_eq!(l.name(), "latency-300ms");
        for bad in [
            "availability 100% 30d",
            "availability 99.9% 1m",
            "speed 99% 30d",
            "latency 99% 30d",
            "",
        ] {
            let e = bad.parse::<SloSpec>().unwrap_err().to_string();
            assert!(e.contains("hint:"), "{bad}: {e}");
        }
    }

    #[test]
    fn windows_and_factors_are_the_workbooks_for_30_days_and_scale_with_the_period() {
        let w = spec("availability 99.9% 30d").burn_windows();
        let got: Vec<(Millis, Millis, f64)> =
            w.iter().map(|w| (w.long, w.short, w.factor)).collect();
        let want = [
            (HOUR, 5 * MINUTE, 14.4),
            (6 * HOUR, 30 * MINUTE, 6.0),
            (DAY, 2 * HOUR, 3.0),
            (3 * DAY, 6 * HOUR, 1.0),
        ];
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0, g.1), (w.0, w.1));
            assert!((g.2 - w.2).abs() < 1e-9, "{g:?}");
        }
        let w7 = spec("availability 99% 7d").burn_windows();
        assert_eq!(w7[0].long, 14 * MINUTE);
        assert_eq!(w7[0].short, 70_000);
        assert!((w7[0].factor - 14.4).abs() < 1e-9);
    }

    #[test]
    fn budget_and_burn_follow_the_formulas() {
        let mut slo = SloState::new(spec("availability 99% 30d"));
        // 1,000 probes 30 s apart, 5 failed: E = 0.5%, budget 1% -> burn 0.5, half the budget left.
        for i in 0..1000u64 {
            slo.record(i * 30_000, i % 200 != 0, Duration::from_millis(10));
        }
        let s = slo.status(999 * 30_000);
        assert_eq!((s.good, s.total), (995, 1000));
        assert!((s.period_burn.unwrap() - 0.5).abs() < 1e-9);
        assert!((s.budget_remaining.unwrap() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn latency_counts_only_passed_probes() {
        let mut slo = SloState::new(spec("latency 90% < 100ms 1d"));
        slo.record(0, true, Duration::from_millis(50));
        slo.record(1, true, Duration::from_millis(150));
        slo.record(2, false, Duration::from_millis(10));
        let s = slo.status(3);
        assert_eq!((s.good, s.total), (1, 2));
    }
}
