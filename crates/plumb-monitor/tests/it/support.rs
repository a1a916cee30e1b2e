//! Test support: a scripted target on the test clock, a webhook receiver on 127.0.0.1, an
//! in-memory state store.

use plumb_monitor::{
    AlertEvent, Millis, MonitorStatus, Observer, ProbeResult, Prober, SavedState, StateStore,
};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// 2026-01-01T00:00:00Z.
pub const START: Millis = 1_767_225_600_000;
pub const SECOND: Millis = 1000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;

/// A target that is down (or slow) in given spans of the test clock.
pub struct Scripted {
    pub down: Vec<(Millis, Millis)>,
    pub slow: Vec<(Millis, Millis)>,
    pub took: Duration,
    pub slow_took: Duration,
}

impl Scripted {
    pub fn down_between(from: Millis, to: Millis) -> Scripted {
        Scripted {
            down: vec![(from, to)],
            slow: Vec::new(),
            took: Duration::from_millis(10),
            slow_took: Duration::from_millis(500),
        }
    }
}

impl Prober for Scripted {
    fn probe(&mut self, at: Millis) -> ProbeResult {
        let within = |spans: &[(Millis, Millis)]| spans.iter().any(|(a, b)| (*a..*b).contains(&at));
        let down = within(&self.down);
        ProbeResult {
            at,
            ok: !down,
            status: Some(if down { 503 } else { 200 }),
            took: if within(&self.slow) {
                self.slow_took
            } else {
                self.took
            },
            error: down.then(|| "unexpected status 503".to_string()),
        }
    }
}

/// Keeps the log's alerts and warnings.
#[derive(Default)]
pub struct Log {
    pub alerts: Vec<AlertEvent>,
    pub warnings: Vec<String>,
}

impl Observer for Log {
    fn on_probe(&mut self, _: &ProbeResult, _: &MonitorStatus) {}
    fn on_alert(&mut self, event: &AlertEvent) {
        self.alerts.push(event.clone());
    }
    fn on_warning(&mut self, text: &str) {
        self.warnings.push(text.to_string());
    }
}

/// The ledger's behaviour in memory: buckets upserted by start, pruned by horizon.
#[derive(Default)]
pub struct MemoryStore {
    pub saved: BTreeMap<String, SavedState>,
    pub saves: u64,
}

impl StateStore for MemoryStore {
    fn load(&mut self, monitor: &str) -> Result<SavedState, String> {
        Ok(self.saved.get(monitor).cloned().unwrap_or_default())
    }

    fn save(
        &mut self,
        monitor: &str,
        changes: &SavedState,
        prune: &BTreeMap<String, Millis>,
    ) -> Result<(), String> {
        self.saves += 1;
        let state = self.saved.entry(monitor.to_string()).or_default();
        for (series, buckets) in &changes.series {
            let kept = state.series.entry(series.clone()).or_default();
            for b in buckets {
                match kept.iter_mut().find(|k| k.start == b.start) {
                    Some(k) => *k = *b,
                    None => kept.push(*b),
                }
            }
            if let Some(before) = prune.get(series) {
                kept.retain(|b| b.start >= *before);
            }
        }
        state.alerts.clone_from(&changes.alerts);
        Ok(())
    }
}

/// An HTTP server on 127.0.0.1 that answers 200 to every POST and keeps the bodies.
pub struct Receiver {
    pub url: String,
    pub bodies: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&bodies);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                kept.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Receiver { url, bodies }
    }
}
