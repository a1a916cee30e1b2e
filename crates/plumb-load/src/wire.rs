//! A [`Recorder`] as data that crosses a process boundary: what a segment sends its coordinator
//! each second (`plumb load --coordinator`), so the coordinator merges the fleet's seconds with
//! [`Recorder::merge`] and judges thresholds with the engine's own metric reading.
//!
//! Histograms travel in their exact V2 encoding; counters as they are. Failure reasons and flow
//! figures stay with the segment's own result (thresholds on the fleet read neither).

use crate::recorder::{ErrorClass, Recorder};
use plumb_stats::DurationHistogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One recorder's histograms and counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireRecorder {
    /// Histograms, base64 V2 deflate (ns): latency, service, connect, ttfb, send lag.
    pub histograms: [String; 5],
    /// Completed requests, failed ones included.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Failed requests by class name.
    pub errors_by_class: BTreeMap<String, u64>,
    /// Responses by status code.
    pub status_codes: BTreeMap<u16, u64>,
    /// Bytes written.
    pub bytes_sent: u64,
    /// Bytes read.
    pub bytes_received: u64,
    /// Connections opened.
    pub connections_opened: u64,
    /// Requests sent a second time.
    pub retries: u64,
}

/// A wire recorder that does not decode.
#[derive(Debug, thiserror::Error)]
#[error("a recorder from the wire does not decode: {0}")]
pub struct WireError(String);

impl WireRecorder {
    /// The wire form of `recorder`.
    pub fn of(recorder: &Recorder) -> WireRecorder {
        WireRecorder {
            histograms: [
                recorder.latency.to_base64(),
                recorder.service.to_base64(),
                recorder.connect.to_base64(),
                recorder.ttfb.to_base64(),
                recorder.send_lag.to_base64(),
            ],
            requests: recorder.requests,
            errors: recorder.errors,
            errors_by_class: ErrorClass::ALL
                .iter()
                .filter(|c| recorder.errors_of(**c) > 0)
                .map(|c| (c.name().to_string(), recorder.errors_of(*c)))
                .collect(),
            status_codes: recorder.statuses().collect(),
            bytes_sent: recorder.bytes_sent,
            bytes_received: recorder.bytes_received,
            connections_opened: recorder.connections_opened,
            retries: recorder.retries,
        }
    }

    /// The recorder again (without failure reasons or flows).
    pub fn to_recorder(&self) -> Result<Recorder, WireError> {
        let decode =
            |text: &str| DurationHistogram::from_base64(text).map_err(|e| WireError(e.to_string()));
        let mut recorder = Recorder::new();
        let [latency, service, connect, ttfb, send_lag] = &self.histograms;
        recorder.latency = decode(latency)?;
        recorder.service = decode(service)?;
        recorder.connect = decode(connect)?;
        recorder.ttfb = decode(ttfb)?;
        recorder.send_lag = decode(send_lag)?;
        recorder.requests = self.requests;
        recorder.errors = self.errors;
        for (name, count) in &self.errors_by_class {
            let class = ErrorClass::ALL
                .iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| WireError(format!("unknown error class '{name}'")))?;
            recorder.errors_by_class[class.index()] = *count;
        }
        for (code, count) in &self.status_codes {
            let slot = recorder
                .status_codes
                .get_mut(usize::from(*code))
                .ok_or_else(|| WireError(format!("status code {code} out of range")))?;
            *slot = *count;
        }
        recorder.bytes_sent = self.bytes_sent;
        recorder.bytes_received = self.bytes_received;
        recorder.connections_opened = self.connections_opened;
        recorder.retries = self.retries;
        Ok(recorder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::Exchange;
    use std::time::Duration;

    #[test]
    fn a_recorder_survives_the_wire_exactly() {
        let mut recorder = Recorder::new();
        for ms in [1, 5, 30] {
            let d = Duration::from_millis(ms);
            let exchange = Exchange {
                latency: d,
                service: d / 2,
                ttfb: d / 3,
                status: if ms == 30 { 503 } else { 200 },
                bytes_sent: 40,
                bytes_received: 400,
            };
            recorder.record_exchange(&exchange, (ms == 30).then_some(ErrorClass::Status));
        }
        recorder.record_failure(ErrorClass::Refused, 0, 0);
        recorder.record_connect(Duration::from_micros(70));
        let wire = WireRecorder::of(&recorder);
        let text = serde_json::to_string(&wire).unwrap();
        let back: WireRecorder = serde_json::from_str(&text).unwrap();
        let again = back.to_recorder().unwrap();
        assert_eq!(WireRecorder::of(&again), wire);
        assert_eq!(
            again.latency.percentile(99.0),
            recorder.latency.percentile(99.0)
        );
        assert_eq!((again.requests, again.errors), (4, 2));
        assert_eq!(again.errors_of(ErrorClass::Refused), 1);
    }

    #[test]
    fn a_bad_wire_recorder_is_an_error_not_a_panic() {
        let mut wire = WireRecorder::of(&Recorder::new());
        wire.status_codes.insert(9_999, 1);
        assert!(wire.to_recorder().is_err());
        let mut wire = WireRecorder::of(&Recorder::new());
        wire.histograms[0] = "not base64".into();
        assert!(wire.to_recorder().is_err());
    }
}
