//! `plumb coordinate --segments N`: the live coordinator of a split test, printing one line per
//! fleet second and the thresholds' verdicts over the whole fleet; and the segment's side of it
//! inside `plumb load --coordinator ADDR` (join, start on the agreed time, forward each second).

use crate::exit::Outcome;
use crate::interrupt::Stop;
use plumb_cli::{CoordinateArgs, LoadPlan};
use plumb_coordinate::{FleetReport, FleetSecond, Identity, Joined};
use plumb_load::{Control, Observer, Progress, Recorder};
use plumb_stats::ThresholdStatus;
use std::net::TcpListener;
use std::time::Duration;

/// How long a segment waits for its coordinator to be reachable and to give the start.
pub const SEGMENT_WAIT: Duration = Duration::from_secs(600);

/// Run `plumb coordinate`.
pub fn run(args: CoordinateArgs) -> anyhow::Result<Outcome> {
    let settings = args.resolve()?;
    let listener = TcpListener::bind(&args.listen).map_err(|e| {
        anyhow::anyhow!(
            "invalid value '{}' for --listen: {e}\nhint: give a free HOST:PORT, e.g. --listen 0.0.0.0:7070",
            args.listen
        )
    })?;
    let local = listener
        .local_addr()
        .map_or(args.listen.clone(), |a| a.to_string());
    crate::output::log(&format!(
        "plumb coordinate: listening on {local} for {} segments",
        settings.segments
    ));
    let quiet = args.quiet;
    let report = plumb_coordinate::coordinate(&listener, &settings, &mut |second| {
        if !quiet {
            crate::output::log(&second_line(second));
        }
    })?;
    crate::output::stdout(summary(&report, settings.segments).as_bytes())?;
    let failed = report
        .verdicts
        .iter()
        .any(|(_, status, _)| status.fails(settings.no_data));
    Ok(if failed || report.aborted.is_some() {
        Outcome::ThresholdFailed
    } else {
        Outcome::Passed
    })
}

fn second_line(second: &FleetSecond<'_>) -> String {
    let s = second.second;
    let verdicts: Vec<String> = second
        .verdicts
        .iter()
        .map(|(expression, status, _)| format!("{} {expression}", status.as_str().to_uppercase()))
        .collect();
    format!(
        "  {:>4}s  {:>9} req  {:>6} errors  p99 {:>9.3} ms  {}",
        second.t_s,
        s.requests,
        s.errors,
        s.latency.percentile(99.0).as_secs_f64() * 1e3,
        verdicts.join("  ")
    )
}

fn summary(report: &FleetReport, segments: u32) -> String {
    let t = &report.totals;
    let mut out = format!(
        "fleet of {segments} segments: {} requests in {} s, {} errors, p50 {:.3} ms, p99 {:.3} ms\n",
        t.requests,
        report.seconds,
        t.errors,
        t.latency.percentile(50.0).as_secs_f64() * 1e3,
        t.latency.percentile(99.0).as_secs_f64() * 1e3
    );
    if let Some(reason) = &report.aborted {
        out.push_str(&format!("ABORTED: {reason}\n"));
    }
    if !report.lost.is_empty() {
        out.push_str(&format!(
            "LOST: segments {:?} left before they were done: the fleet's figures lack their rest\n",
            report.lost
        ));
    }
    if !report.interrupted.is_empty() {
        out.push_str(&format!("segments {:?} ended early\n", report.interrupted));
    }
    for (expression, status, observed) in &report.verdicts {
        let label = match status {
            ThresholdStatus::Passed => "PASS",
            ThresholdStatus::Failed => "FAIL",
            ThresholdStatus::NoData => "NO DATA",
        };
        let observed = observed.map_or(String::new(), |o| format!(" (observed {o:.3})"));
        out.push_str(&format!("  {label:<7} {expression}{observed}\n"));
    }
    out.push_str("the exact merged result: `plumb merge` of the segments' --json files\n");
    out
}

/// `plumb load --coordinator`: join before the run; the plan's settings start at the agreed
/// time. `None` without a coordinator.
pub fn join(plan: &LoadPlan, stop: &Stop) -> anyhow::Result<Option<Joined>> {
    let (Some(address), Some(segment)) = (&plan.coordinator, plan.settings.segment) else {
        return Ok(None);
    };
    let identity = Identity {
        index: segment.index,
        count: segment.count,
        test: plumb_load::settings_fingerprint(&plan.settings),
    };
    if !plan.quiet {
        crate::output::log(&format!(
            "segment {}/{}: joining the coordinator at {address}",
            segment.index, segment.count
        ));
    }
    let mut joined = plumb_coordinate::join(address, &identity, SEGMENT_WAIT, stop.signal())?;
    joined.watch(stop.signal().clone());
    if !plan.quiet {
        crate::output::log(&format!(
            "segment {}/{}: starting at the agreed time; this clock is {:+.1} ms from the coordinator's (probe round trip {:.1} ms)",
            segment.index, segment.count, joined.clock_offset_ms, joined.round_trip_ms
        ));
    }
    Ok(Some(joined))
}

/// An observer that also sends every whole second to the coordinator.
pub struct Forwarding<'a> {
    /// The observer of the plain run (progress, rolling windows).
    pub inner: &'a mut dyn Observer,
    /// The coordinator.
    pub joined: &'a Joined,
}

impl Observer for Forwarding<'_> {
    fn on_tick(&mut self, progress: &Progress<'_>) -> Control {
        self.inner.on_tick(progress)
    }

    fn on_second(&mut self, t_s: u64, second: &Recorder) -> Control {
        self.joined.send_window(t_s, second);
        self.inner.on_second(t_s, second)
    }
}
