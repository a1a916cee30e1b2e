//! The one owner of "two sets of runs -> a comparison": which metrics, each one's samples, the
//! statistic, the interval, the verdict and the warnings. `plumb compare`, `plumb gate`, the
//! reports and JUnit only render a [`Comparison`].
//!
//! Every row is self-consistent by construction: its Baseline and Candidate columns are the very
//! statistic whose change is estimated (the median of runs, the mean of runs, a whole-run
//! percentile, requests per second), the point change is computed from those two columns, and the
//! interval comes from a seeded bootstrap of the same statistic's ratio, so it can never go below
//! −100%. A metric that cannot support a verdict (coarse or mostly-zero values, values at a
//! measurement floor, a percentile resting on too few requests) says so: [`Verdict::NotComparable`]
//! with the reason, never a made-up regression. Pure: no I/O, no clock.

mod before_after;
mod bench;
mod bootstrap;
mod capacity;
mod comparable;
mod judge;
mod load;
mod noise;
mod page;
mod profile;
mod thresholds;
mod widen;

pub use before_after::{before_after, improvement};
pub use bench::{compare_bench, compare_paired_bench, compare_runs, Stat};
pub use capacity::compare_capacity;
pub use comparable::{bench_mismatches, host_warnings, load_mismatches};
pub use judge::{judge_difference, judge_ratio};
pub use load::compare_load;
pub use noise::{noise_warnings, MAX_PRESSURE, MAX_STEAL};
pub use page::{check_page, compare_page};
pub use profile::compare_profile;
pub use thresholds::{check_saved, SavedLoadMetrics, SavedThreshold};

/// Knobs of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareSettings {
    /// The practical tolerance δ as a fraction (0.02 = 2%): changes within ±δ are equivalent.
    pub tolerance: f64,
    /// Confidence that no row of a comparison is falsely called regressed or improved (0.95):
    /// each row's interval is drawn at the Bonferroni level `1 − (1 − confidence) / rows`.
    pub confidence: f64,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// Seed of the bootstrap, so a comparison is reproducible.
    pub seed: u64,
}

impl Default for CompareSettings {
    fn default() -> Self {
        CompareSettings {
            tolerance: 0.02,
            confidence: 0.95,
            resamples: 2000,
            seed: 0x0070_6c75_6d62,
        }
    }
}

/// Whether a larger value is worse (times, memory, errors) or better (throughput).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Up is a regression.
    LowerIsBetter,
    /// Down is a regression.
    HigherIsBetter,
}

/// How a metric's values print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds.
    Millis,
    /// Seconds (printed in milliseconds).
    Seconds,
    /// Requests per second.
    PerSecond,
    /// A fraction, printed in percent.
    Fraction,
    /// Bytes.
    Bytes,
    /// Percent of one CPU core.
    CorePercent,
    /// A count per request (the database's statements per request).
    PerRequest,
    /// A plain number: a layout-shift score, a count of requests.
    Number,
}

impl Unit {
    /// The unit's name in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Millis => "ms",
            Unit::Seconds => "s",
            Unit::PerSecond => "req/s",
            Unit::Fraction => "fraction",
            Unit::Bytes => "bytes",
            Unit::CorePercent => "% of a core",
            Unit::PerRequest => "per request",
            Unit::Number => "number",
        }
    }
}

/// What a change is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Candidate over baseline, minus one (+0.05 = 5% more); never below −1.
    Relative,
    /// Candidate minus baseline, for fractions that can be zero (error rates): percentage points.
    Difference,
}

/// The estimated change and its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// Relative change or difference, computed from the row's two columns.
    pub point: f64,
    /// Lower bound of the interval.
    pub low: f64,
    /// Upper bound of the interval.
    pub high: f64,
    /// Relative or a difference.
    pub kind: ChangeKind,
}

/// The verdict of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The whole interval is worse than the tolerance.
    Regressed,
    /// The whole interval is better than the tolerance.
    Improved,
    /// The whole interval lies within ±tolerance.
    Equivalent,
    /// The interval straddles a tolerance bound.
    Inconclusive,
    /// The metric cannot support a verdict; the reason says why.
    NotComparable(String),
}

impl Verdict {
    /// The word shown to users and written to JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Equivalent => "equivalent",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotComparable(_) => "not comparable",
        }
    }
}

/// One compared metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What is measured, e.g. `latency p99` or `sleep 0.01: wall time`.
    pub metric: String,
    /// The statistic both columns show, e.g. `whole-run p99`, `median of 30 runs`.
    pub statistic: String,
    /// How values print.
    pub unit: Unit,
    /// Up or down is worse.
    pub direction: Direction,
    /// The baseline's value of the statistic.
    pub baseline: f64,
    /// The candidate's value of the statistic.
    pub candidate: f64,
    /// The change and its interval; `None` when not comparable.
    pub change: Option<Change>,
    /// The verdict.
    pub verdict: Verdict,
    /// For an inconclusive verdict: about how many more samples per side would likely settle it.
    pub more_samples: Option<u64>,
    /// Samples behind each side (runs, or seconds of load).
    pub samples: (usize, usize),
}

/// A whole comparison: its rows and what the reader must know.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// The compared metrics.
    pub rows: Vec<Row>,
    /// Things that weaken the comparison (different settings, busy hosts, interrupted runs).
    pub warnings: Vec<String>,
    /// The confidence level of each row's interval (the family's, split over the rows).
    pub row_confidence: f64,
}

impl CompareSettings {
    /// These settings with each of `rows` intervals at the Bonferroni level.
    pub(crate) fn per_row(&self, rows: usize) -> CompareSettings {
        CompareSettings {
            confidence: 1.0 - (1.0 - self.confidence) / rows.max(1) as f64,
            ..*self
        }
    }
}

impl Comparison {
    /// Whether any row regressed.
    pub fn regressed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Regressed)
    }

    /// Whether any row is inconclusive.
    pub fn inconclusive(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Inconclusive)
    }
}
