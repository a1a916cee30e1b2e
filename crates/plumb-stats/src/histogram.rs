//! A full-resolution, mergeable latency histogram (HDR histogram in nanoseconds, 3 significant digits).
//!
//! Memory is fixed (about 270 KB, allocated at the first sample, so a histogram that never records
//! costs nothing) whatever the number of samples; two histograms merge exactly, so per-thread
//! recording and per-segment results combine without losing a percentile's precision.

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use std::time::Duration;

/// Nanosecond units: 3 significant digits hold at every scale, down to loopback's microseconds.
const LOWEST_DISCERNIBLE_NS: u64 = 1;
/// Largest value recorded: one hour; longer values are clamped and counted as such.
const HIGHEST_TRACKABLE_NS: u64 = 3_600 * 1_000_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;

/// A distribution of durations, recorded at nanosecond scale with 3 significant digits.
#[derive(Clone, Debug)]
pub struct DurationHistogram {
    /// `None` until the first sample (or merge of a non-empty histogram).
    inner: Option<Histogram<u64>>,
    clamped: u64,
}

/// A serialized histogram could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum HistogramDecodeError {
    /// The text is not valid base64.
    #[error("histogram is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The bytes are not an HdrHistogram V2 (deflate) encoding.
    #[error("histogram bytes are not a valid HdrHistogram encoding: {0:?}")]
    Hdr(hdrhistogram::serialization::DeserializeError),
    /// The histogram was recorded with other bounds or precision than plumb's, so adding it to
    /// one of plumb's would re-bucket its counts ([`DurationHistogram::from_base64_exact`]).
    #[error("the histogram was recorded with {found}, not plumb's {expected}: it cannot be merged exactly", expected = HistogramConfig::PLUMB)]
    Config {
        /// Its configuration.
        found: HistogramConfig,
    },
}

/// What two HDR histograms must share for their counts to add bucket by bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistogramConfig {
    /// Lowest discernible value, ns.
    pub lowest_ns: u64,
    /// Highest trackable value, ns.
    pub highest_ns: u64,
    /// Significant decimal digits.
    pub significant_digits: u8,
}

impl HistogramConfig {
    /// plumb's: 1 ns to 1 h at 3 significant digits.
    pub const PLUMB: HistogramConfig = HistogramConfig {
        lowest_ns: LOWEST_DISCERNIBLE_NS,
        highest_ns: HIGHEST_TRACKABLE_NS,
        significant_digits: SIGNIFICANT_DIGITS,
    };
}

impl std::fmt::Display for HistogramConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} significant digits from {} ns to {} ns",
            self.significant_digits, self.lowest_ns, self.highest_ns
        )
    }
}

impl Default for DurationHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl DurationHistogram {
    /// An empty histogram covering 1 ns to 1 h (its counts are allocated at the first sample).
    pub fn new() -> Self {
        Self {
            inner: None,
            clamped: 0,
        }
    }

    fn allocated(&mut self) -> &mut Histogram<u64> {
        self.inner.get_or_insert_with(|| {
            Histogram::new_with_bounds(
                LOWEST_DISCERNIBLE_NS,
                HIGHEST_TRACKABLE_NS,
                SIGNIFICANT_DIGITS,
            )
            .expect("static histogram bounds are valid")
        })
    }

    /// Record one duration; values above one hour are clamped to one hour and counted in [`Self::clamped`].
    #[inline]
    pub fn record(&mut self, value: Duration) {
        let nanos = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        let nanos = if nanos > HIGHEST_TRACKABLE_NS {
            self.clamped += 1;
            HIGHEST_TRACKABLE_NS
        } else {
            nanos
        };
        self.allocated().saturating_record(nanos);
    }

    /// Add every sample of `other` to this histogram (exact).
    pub fn merge(&mut self, other: &DurationHistogram) {
        if let Some(theirs) = other.inner.as_ref().filter(|h| !h.is_empty()) {
            self.allocated()
                .add(theirs)
                .expect("histograms with identical bounds always merge");
        }
        self.clamped += other.clamped;
    }

    /// Forget every sample, keeping the allocation.
    pub fn clear(&mut self) {
        if let Some(inner) = self.inner.as_mut() {
            inner.reset();
        }
        self.clamped = 0;
    }

    /// Number of samples.
    pub fn len(&self) -> u64 {
        self.inner.as_ref().map_or(0, |h| h.len())
    }

    /// True when no sample was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Samples that exceeded one hour and were recorded as one hour.
    pub fn clamped(&self) -> u64 {
        self.clamped
    }

    /// The value at quantile `q` (0.0..=1.0), or zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        self.read(|h| h.value_at_quantile(q.clamp(0.0, 1.0)))
    }

    /// The value at percentile `p` (0.0..=100.0).
    pub fn percentile(&self, p: f64) -> Duration {
        self.quantile(p / 100.0)
    }

    /// Smallest sample (at the histogram's resolution), or zero when empty.
    pub fn min(&self) -> Duration {
        self.read(|h| h.min())
    }

    /// Largest sample (at the histogram's resolution), or zero when empty.
    pub fn max(&self) -> Duration {
        self.read(|h| h.max())
    }

    /// Arithmetic mean, or zero when empty.
    pub fn mean(&self) -> Duration {
        self.read(|h| h.mean().round() as u64)
    }

    /// Standard deviation, or zero when empty.
    pub fn stdev(&self) -> Duration {
        self.read(|h| h.stdev().round() as u64)
    }

    /// The percentile spectrum: (percentile, value) pairs at HDR's usual "ticks per half distance".
    pub fn spectrum(&self) -> Vec<(f64, Duration)> {
        match self.inner.as_ref().filter(|h| !h.is_empty()) {
            None => Vec::new(),
            Some(h) => h
                .iter_quantiles(5)
                .map(|v| {
                    (
                        v.quantile_iterated_to() * 100.0,
                        Duration::from_nanos(v.value_iterated_to()),
                    )
                })
                .collect(),
        }
    }

    /// Every recorded bucket as (its highest equivalent value, count), lowest first: what a
    /// comparison needs to merge many windows' histograms cheaply.
    pub fn buckets(&self) -> Vec<(Duration, u64)> {
        match self.inner.as_ref().filter(|h| !h.is_empty()) {
            None => Vec::new(),
            Some(h) => h
                .iter_recorded()
                .map(|v| {
                    (
                        Duration::from_nanos(h.highest_equivalent(v.value_iterated_to())),
                        v.count_at_value(),
                    )
                })
                .collect(),
        }
    }

    /// Serialize as base64 of the standard HdrHistogram V2 deflate encoding (readable by other HDR tools).
    pub fn to_base64(&self) -> String {
        let mut bytes = Vec::new();
        let mut empty = DurationHistogram::new();
        let histogram = match &self.inner {
            Some(h) => h,
            None => empty.allocated(),
        };
        V2DeflateSerializer::new()
            .serialize(histogram, &mut bytes)
            .expect("serializing into a Vec cannot fail");
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Read a histogram written by [`Self::to_base64`].
    pub fn from_base64(text: &str) -> Result<Self, HistogramDecodeError> {
        Ok(Self::from_decoded(&decode(text)?))
    }

    /// Read a histogram written by [`Self::to_base64`], refusing one recorded with other bounds
    /// or precision than plumb's (whose counts [`Self::from_base64`] would re-bucket): what
    /// merging segments' results needs to stay exact.
    pub fn from_base64_exact(text: &str) -> Result<Self, HistogramDecodeError> {
        let decoded = decode(text)?;
        let found = HistogramConfig {
            lowest_ns: decoded.low(),
            highest_ns: decoded.high(),
            significant_digits: decoded.sigfig(),
        };
        if found != HistogramConfig::PLUMB {
            return Err(HistogramDecodeError::Config { found });
        }
        Ok(Self::from_decoded(&decoded))
    }

    fn from_decoded(decoded: &Histogram<u64>) -> Self {
        let mut histogram = Self::new();
        for value in decoded.iter_recorded() {
            histogram
                .allocated()
                .saturating_record_n(value.value_iterated_to(), value.count_at_value());
        }
        histogram
    }

    /// A reading of a non-empty histogram, in nanoseconds; zero when empty.
    fn read(&self, reading: impl Fn(&Histogram<u64>) -> u64) -> Duration {
        match self.inner.as_ref().filter(|h| !h.is_empty()) {
            Some(h) => Duration::from_nanos(reading(h)),
            None => Duration::ZERO,
        }
    }
}

/// The HDR histogram in base64 V2 (deflate) text.
fn decode(text: &str) -> Result<Histogram<u64>, HistogramDecodeError> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim())?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(HistogramDecodeError::Hdr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn percentiles_of_a_uniform_spread_are_within_resolution() {
        let mut h = DurationHistogram::new();
        for i in 1..=1000 {
            h.record(Duration::from_micros(i * 100));
        }
        let p50 = h.percentile(50.0).as_secs_f64() * 1e3;
        let p99 = h.percentile(99.0).as_secs_f64() * 1e3;
        assert!((p50 - 50.0).abs() < 0.1, "p50 {p50}");
        assert!((p99 - 99.0).abs() < 0.1, "p99 {p99}");
        assert_eq!(h.len(), 1000);
    }

    #[test]
    fn merge_is_exact() {
        let (mut a, mut b, mut both) = (
            DurationHistogram::new(),
            DurationHistogram::new(),
            DurationHistogram::new(),
        );
        for i in 0..500 {
            a.record(ms(i));
            both.record(ms(i));
            b.record(ms(1000 + i));
            both.record(ms(1000 + i));
        }
        a.merge(&b);
        assert_eq!(a.len(), both.len());
        for p in [1.0, 50.0, 90.0, 99.9] {
            assert_eq!(a.percentile(p), both.percentile(p));
        }
    }

    #[test]
    fn sub_millisecond_values_keep_microsecond_resolution() {
        let mut h = DurationHistogram::new();
        h.record(Duration::from_micros(137));
        let got = h.max().as_nanos() as i64;
        assert!((got - 137_000).abs() <= 100, "{got}");
    }

    #[test]
    fn values_beyond_an_hour_are_clamped_and_counted() {
        let mut h = DurationHistogram::new();
        h.record(Duration::from_secs(7200));
        assert_eq!(h.clamped(), 1);
        assert!(h.max() <= Duration::from_secs(3610));
    }

    #[test]
    fn base64_round_trip_keeps_every_count() {
        let mut h = DurationHistogram::new();
        for i in 1..2000 {
            h.record(Duration::from_micros(i * 37));
        }
        let back = DurationHistogram::from_base64(&h.to_base64()).unwrap();
        assert_eq!(back.len(), h.len());
        assert_eq!(back.percentile(99.0), h.percentile(99.0));
        assert_eq!(back.min(), h.min());
    }

    #[test]
    fn an_exact_read_refuses_other_precision() {
        let mut theirs = Histogram::<u64>::new_with_bounds(1, HIGHEST_TRACKABLE_NS, 2).unwrap();
        theirs.record(1_000).unwrap();
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&theirs, &mut bytes)
            .unwrap();
        let text = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(DurationHistogram::from_base64(&text).unwrap().len(), 1);
        let err = DurationHistogram::from_base64_exact(&text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the histogram was recorded with 2 significant digits from 1 ns to 3600000000000 ns, \
             not plumb's 3 significant digits from 1 ns to 3600000000000 ns: it cannot be merged exactly"
        );
        let ours = DurationHistogram::new().to_base64();
        assert!(DurationHistogram::from_base64_exact(&ours)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn garbage_is_a_decode_error_not_a_panic() {
        assert!(DurationHistogram::from_base64("not base64 !!").is_err());
        assert!(DurationHistogram::from_base64("aGVsbG8=").is_err());
    }

    #[test]
    fn an_unused_histogram_allocates_nothing_and_still_round_trips() {
        let h = DurationHistogram::new();
        assert!(h.inner.is_none());
        let mut merged = DurationHistogram::new();
        merged.merge(&h);
        assert!(merged.inner.is_none());
        let back = DurationHistogram::from_base64(&h.to_base64()).unwrap();
        assert!(back.is_empty());
    }

    #[test]
    fn empty_histogram_reports_zero() {
        let h = DurationHistogram::new();
        assert_eq!(h.percentile(99.0), Duration::ZERO);
        assert_eq!(h.min(), Duration::ZERO);
        assert!(h.spectrum().is_empty());
    }
}
