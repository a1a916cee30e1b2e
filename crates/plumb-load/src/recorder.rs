//! Per-thread recording of outcomes: histograms and counters, owned by one event loop.
//!
//! Each worker thread records into its own [`Recorder`] and hands it to the coordinator once per
//! second (swapping in a fresh one), so nothing crosses threads per request.

use plumb_stats::DurationHistogram;
use std::time::Duration;

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The connection was refused (nothing listening).
    Refused,
    /// Another connect failure (unreachable, no address).
    Connect,
    /// The connection was reset or broken while exchanging.
    Reset,
    /// The server closed the connection before a complete response.
    Closed,
    /// No complete response within the timeout.
    Timeout,
    /// TLS handshake or record error.
    Tls,
    /// The response was not valid HTTP.
    Malformed,
    /// A complete response with an unexpected status.
    Status,
    /// A complete response whose body lacked the expected text.
    Body,
    /// Any other I/O error.
    Io,
    /// A flow step's JSON check failed.
    Check,
    /// A flow step's capture matched nothing, so its session ended there.
    Capture,
}

impl ErrorClass {
    /// Every class, in reporting order.
    pub const ALL: [ErrorClass; 12] = [
        ErrorClass::Refused,
        ErrorClass::Connect,
        ErrorClass::Reset,
        ErrorClass::Closed,
        ErrorClass::Timeout,
        ErrorClass::Tls,
        ErrorClass::Malformed,
        ErrorClass::Status,
        ErrorClass::Body,
        ErrorClass::Io,
        ErrorClass::Check,
        ErrorClass::Capture,
    ];

    /// The class's name in results.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Refused => "refused",
            ErrorClass::Connect => "connect",
            ErrorClass::Reset => "reset",
            ErrorClass::Closed => "closed",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Tls => "tls",
            ErrorClass::Malformed => "malformed",
            ErrorClass::Status => "status",
            ErrorClass::Body => "body",
            ErrorClass::Io => "io",
            ErrorClass::Check => "check",
            ErrorClass::Capture => "capture",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// A failed request: its class, and where known a reason in words (shown in the summary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The class it is counted under.
    pub class: ErrorClass,
    /// Why, in words ("certificate expired", "too many open files"), when plumb can tell.
    pub detail: Option<&'static str>,
}

impl Failure {
    /// A failure of `class` with a reason.
    pub fn new(class: ErrorClass, detail: &'static str) -> Failure {
        Failure {
            class,
            detail: Some(detail),
        }
    }
}

impl From<ErrorClass> for Failure {
    fn from(class: ErrorClass) -> Failure {
        Failure {
            class,
            detail: None,
        }
    }
}

/// How many distinct (class, reason) pairs a recorder keeps; more are counted without a reason.
const MAX_DETAILS: usize = 32;

/// One reason of failure and how often it was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailCount {
    /// The class the failures were counted under.
    pub class: ErrorClass,
    /// The reason in words.
    pub detail: &'static str,
    /// How many failures had it.
    pub count: u64,
}

/// Status codes are counted in a flat array indexed by code.
const STATUS_SLOTS: usize = 600;

/// Histograms and counters of one thread (or, merged, of the whole run).
#[derive(Clone, Debug)]
pub struct Recorder {
    /// Latency from the intended send time.
    pub latency: DurationHistogram,
    /// From the actual send to the end of the response.
    pub service: DurationHistogram,
    /// Connect (+TLS handshake) time.
    pub connect: DurationHistogram,
    /// From the actual send to the first response byte.
    pub ttfb: DurationHistogram,
    /// Actual send time minus intended send time (open model).
    pub send_lag: DurationHistogram,
    /// Completed requests, failed ones included.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Failed requests by class.
    pub errors_by_class: [u64; ErrorClass::ALL.len()],
    /// Responses by status code (codes outside 0..600 are counted at 0).
    pub status_codes: Box<[u64; STATUS_SLOTS]>,
    /// Bytes written.
    pub bytes_sent: u64,
    /// Bytes read.
    pub bytes_received: u64,
    /// Connections opened (successfully).
    pub connections_opened: u64,
    /// Requests sent a second time, on a fresh connection, because a reused connection failed
    /// before any byte of the response arrived (a stale keep-alive, an HTTP/2 GOAWAY).
    pub retries: u64,
    /// Reasons of failure, by class, as far as they are known.
    pub details: Vec<DetailCount>,
    /// Per flow and step (`plumb load -f`); `None` for a single URL.
    pub flows: Option<Box<crate::flow_metrics::FlowRecorder>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

/// Timestamps of one completed exchange.
#[derive(Debug, Clone, Copy)]
pub struct Exchange {
    /// From the intended send time to the end of the response.
    pub latency: Duration,
    /// From the actual send time to the end of the response.
    pub service: Duration,
    /// From the actual send time to the first response byte.
    pub ttfb: Duration,
    /// The response's status code.
    pub status: u16,
    /// Bytes of the request.
    pub bytes_sent: u64,
    /// Bytes of the response.
    pub bytes_received: u64,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Recorder {
        Recorder {
            latency: DurationHistogram::new(),
            service: DurationHistogram::new(),
            connect: DurationHistogram::new(),
            ttfb: DurationHistogram::new(),
            send_lag: DurationHistogram::new(),
            requests: 0,
            errors: 0,
            errors_by_class: [0; ErrorClass::ALL.len()],
            status_codes: Box::new([0; STATUS_SLOTS]),
            bytes_sent: 0,
            bytes_received: 0,
            connections_opened: 0,
            retries: 0,
            details: Vec::new(),
            flows: None,
        }
    }

    /// Record a complete response; `failed` names the check it failed, if any.
    #[inline]
    pub fn record_exchange(&mut self, exchange: &Exchange, failed: Option<ErrorClass>) {
        self.latency.record(exchange.latency);
        self.service.record(exchange.service);
        self.ttfb.record(exchange.ttfb);
        self.requests += 1;
        self.bytes_sent += exchange.bytes_sent;
        self.bytes_received += exchange.bytes_received;
        let slot = usize::from(exchange.status);
        self.status_codes[if slot < STATUS_SLOTS { slot } else { 0 }] += 1;
        if let Some(class) = failed {
            self.count_error(class);
        }
    }

    /// Record a request that got no complete response.
    pub fn record_failure(
        &mut self,
        failure: impl Into<Failure>,
        bytes_sent: u64,
        bytes_received: u64,
    ) {
        let failure = failure.into();
        self.requests += 1;
        self.bytes_sent += bytes_sent;
        self.bytes_received += bytes_received;
        self.count_error(failure.class);
        if let Some(detail) = failure.detail {
            self.add_detail(failure.class, detail, 1);
        }
    }

    /// Record that a request is being sent again on a fresh connection (the failed attempt's
    /// bytes still count as traffic).
    pub fn record_retry(&mut self, bytes_sent: u64, bytes_received: u64) {
        self.retries += 1;
        self.bytes_sent += bytes_sent;
        self.bytes_received += bytes_received;
    }

    /// The reasons seen for failures of `class`, most frequent first.
    pub fn details_of(&self, class: ErrorClass) -> Vec<(String, u64)> {
        let mut found: Vec<(String, u64)> = self
            .details
            .iter()
            .filter(|d| d.class == class)
            .map(|d| (d.detail.to_string(), d.count))
            .collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        found
    }

    fn add_detail(&mut self, class: ErrorClass, detail: &'static str, count: u64) {
        if let Some(seen) = self
            .details
            .iter_mut()
            .find(|d| d.class == class && d.detail == detail)
        {
            seen.count += count;
        } else if self.details.len() < MAX_DETAILS {
            self.details.push(DetailCount {
                class,
                detail,
                count,
            });
        }
    }

    /// Record a successful connect.
    pub fn record_connect(&mut self, took: Duration) {
        self.connect.record(took);
        self.connections_opened += 1;
    }

    /// Forget everything, keeping the histograms' memory.
    pub fn clear(&mut self) {
        for histogram in [
            &mut self.latency,
            &mut self.service,
            &mut self.connect,
            &mut self.ttfb,
            &mut self.send_lag,
        ] {
            histogram.clear();
        }
        self.requests = 0;
        self.errors = 0;
        self.errors_by_class = [0; ErrorClass::ALL.len()];
        self.status_codes.fill(0);
        self.bytes_sent = 0;
        self.bytes_received = 0;
        self.connections_opened = 0;
        self.retries = 0;
        self.details.clear();
        if let Some(flows) = self.flows.as_mut() {
            flows.clear();
        }
    }

    /// Failed requests of one class.
    pub fn errors_of(&self, class: ErrorClass) -> u64 {
        self.errors_by_class[class.index()]
    }

    /// Status codes seen, with their counts.
    pub fn statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.status_codes
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| (code as u16, *n))
    }

    /// Add everything `other` recorded.
    pub fn merge(&mut self, other: &Recorder) {
        self.latency.merge(&other.latency);
        self.service.merge(&other.service);
        self.connect.merge(&other.connect);
        self.ttfb.merge(&other.ttfb);
        self.send_lag.merge(&other.send_lag);
        self.requests += other.requests;
        self.errors += other.errors;
        for (mine, theirs) in self.errors_by_class.iter_mut().zip(other.errors_by_class) {
            *mine += theirs;
        }
        for (mine, theirs) in self.status_codes.iter_mut().zip(other.status_codes.iter()) {
            *mine += theirs;
        }
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        self.connections_opened += other.connections_opened;
        self.retries += other.retries;
        for d in &other.details {
            self.add_detail(d.class, d.detail, d.count);
        }
        if let Some(theirs) = other.flows.as_deref() {
            self.flows
                .get_or_insert_with(|| Box::new(theirs.empty_like()))
                .merge(theirs);
        }
    }

    fn count_error(&mut self, class: ErrorClass) {
        self.errors += 1;
        self.errors_by_class[class.index()] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(ms: u64, status: u16) -> Exchange {
        let d = Duration::from_millis(ms);
        Exchange {
            latency: d,
            service: d,
            ttfb: d,
            status,
            bytes_sent: 10,
            bytes_received: 100,
        }
    }

    #[test]
    fn merge_adds_counts_and_distributions() {
        let mut a = Recorder::new();
        a.record_exchange(&exchange(1, 200), None);
        a.record_failure(ErrorClass::Refused, 0, 0);
        let mut b = Recorder::new();
        b.record_exchange(&exchange(3, 503), Some(ErrorClass::Status));
        b.record_failure(Failure::new(ErrorClass::Tls, "certificate expired"), 0, 0);
        b.record_retry(10, 0);
        a.merge(&b);
        assert_eq!(a.requests, 4);
        assert_eq!(a.retries, 1);
        assert_eq!(
            a.details_of(ErrorClass::Tls),
            vec![("certificate expired".to_string(), 1)]
        );
        assert_eq!(a.errors, 3);
        assert_eq!(a.errors_of(ErrorClass::Refused), 1);
        assert_eq!(a.errors_of(ErrorClass::Status), 1);
        assert_eq!(a.statuses().collect::<Vec<_>>(), vec![(200, 1), (503, 1)]);
        assert_eq!(a.latency.len(), 2);
        assert_eq!(a.bytes_received, 200);
    }
}
