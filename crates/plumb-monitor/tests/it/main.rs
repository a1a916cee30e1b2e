//! plumb-monitor's integration tests: the monitor's own loop on a driven clock (days of probes
//! in a moment), alerts delivered to a real webhook server on 127.0.0.1, and rules checked by
//! the real promtool.

mod alerts;
mod rules;
mod support;
