//! What `plumb page` is asked to do, as plain types (the CLI resolves its flags into these), and
//! the throttling presets: Lighthouse's mobile ("Slow 4G" as DevTools applies it: 562.5 ms
//! request latency, 1474.56 kbit/s down, 675 kbit/s up, CPU 4×, a 412×823 phone screen) and
//! desktop (no network or CPU throttling, a 1350×940 screen), from Lighthouse's
//! `core/config/constants.js`.

use plumb_schema::page::{ThrottleRecord, Viewport};
use std::path::PathBuf;
use std::time::Duration;

/// One `plumb page` invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct PageSettings {
    /// The page (http or https).
    pub url: String,
    /// Loads, each in a fresh browser with a fresh profile.
    pub runs: u32,
    /// The browser; `None` looks for Chromium on PATH.
    pub browser: Option<PathBuf>,
    /// Network and CPU throttling, and the screen.
    pub throttle: Throttle,
    /// The longest one load may take to fire its load event.
    pub timeout: Duration,
    /// How long the network and the main thread must stay quiet after load before a run ends.
    pub settle: Duration,
}

impl PageSettings {
    /// `runs` loads of `url` with the defaults: 5 runs, no throttling, a 30 s timeout, 2 s settle.
    pub fn new(url: &str) -> PageSettings {
        PageSettings {
            url: url.to_owned(),
            runs: 5,
            browser: None,
            throttle: Throttle::none(),
            timeout: Duration::from_secs(30),
            settle: Duration::from_secs(2),
        }
    }
}

/// Which throttling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// No throttling, a desktop screen.
    None,
    /// Lighthouse's mobile.
    Mobile,
    /// Lighthouse's desktop.
    Desktop,
    /// Custom network and CPU figures, a desktop screen.
    Custom,
}

impl Preset {
    /// The name as given on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::None => "none",
            Preset::Mobile => "mobile",
            Preset::Desktop => "desktop",
            Preset::Custom => "custom",
        }
    }
}

/// Throttling as DevTools applies it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    /// The preset these figures came from.
    pub preset: Preset,
    /// Latency added to each request (0: none).
    pub latency_ms: f64,
    /// Download throughput in kbit/s (0: unlimited).
    pub download_kbps: f64,
    /// Upload throughput in kbit/s (0: unlimited).
    pub upload_kbps: f64,
    /// CPU slowdown factor (1: none).
    pub cpu_slowdown: f64,
}

/// Lighthouse's ratio of request latency to RTT in DevTools throttling.
const DEVTOOLS_RTT_FACTOR: f64 = 3.75;
/// Lighthouse's ratio of DevTools throughput to the nominal one.
const DEVTOOLS_THROUGHPUT_FACTOR: f64 = 0.9;

impl Throttle {
    /// No throttling.
    pub fn none() -> Throttle {
        Throttle {
            preset: Preset::None,
            latency_ms: 0.0,
            download_kbps: 0.0,
            upload_kbps: 0.0,
            cpu_slowdown: 1.0,
        }
    }

    /// Lighthouse's mobile: Slow 4G (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up) and CPU 4×.
    pub fn mobile() -> Throttle {
        Throttle {
            preset: Preset::Mobile,
            latency_ms: 150.0 * DEVTOOLS_RTT_FACTOR,
            download_kbps: 1.6 * 1024.0 * DEVTOOLS_THROUGHPUT_FACTOR,
            upload_kbps: 750.0 * DEVTOOLS_THROUGHPUT_FACTOR,
            cpu_slowdown: 4.0,
        }
    }

    /// Lighthouse's desktop: DevTools applies no network throttling and no CPU slowdown.
    pub fn desktop() -> Throttle {
        Throttle {
            preset: Preset::Desktop,
            ..Throttle::none()
        }
    }

    /// The screen this preset emulates.
    pub fn viewport(&self) -> Viewport {
        match self.preset {
            Preset::Mobile => Viewport {
                width: 412,
                height: 823,
                device_scale_factor: 1.75,
                mobile: true,
            },
            _ => Viewport {
                width: 1350,
                height: 940,
                device_scale_factor: 1.0,
                mobile: false,
            },
        }
    }

    /// Whether any network throttling applies.
    pub fn throttles_network(&self) -> bool {
        self.latency_ms > 0.0 || self.download_kbps > 0.0 || self.upload_kbps > 0.0
    }

    /// As results record it.
    pub fn record(&self) -> ThrottleRecord {
        ThrottleRecord {
            preset: self.preset.as_str().to_owned(),
            latency_ms: self.latency_ms,
            download_kbps: self.download_kbps,
            upload_kbps: self.upload_kbps,
            cpu_slowdown: self.cpu_slowdown,
        }
    }
}

/// kbit/s (1024 bits) as DevTools' bytes per second; -1 (DevTools' "unlimited") for 0.
pub(crate) fn bytes_per_second(kbps: f64) -> f64 {
    if kbps > 0.0 {
        (kbps * 1024.0 / 8.0).floor()
    } else {
        -1.0
    }
}
