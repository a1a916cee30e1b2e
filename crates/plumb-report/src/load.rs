//! Renderers of a `plumb load` result: a text summary, Markdown, and the JSON document.

use crate::format::{bytes, count, ms, percent, rate, significant};
use plumb_schema::load::{LoadResult, Percentiles, WatchedServer};
use plumb_schema::profile::CpuOutcome;
use plumb_stats::ThresholdStatus;
use std::fmt::Write;

/// The JSON document, pretty-printed.
pub fn json(result: &LoadResult) -> String {
    let mut text = serde_json::to_string_pretty(result).expect("results always serialize");
    text.push('\n');
    text
}

/// min, p50, p90, p95, p99, p99.9, max, formatted.
fn cells(p: &Percentiles) -> [String; 7] {
    [p.min, p.p50, p.p90, p.p95, p.p99, p.p999, p.max].map(ms)
}

/// The rows of the latency table: label, distribution.
fn latency_rows(result: &LoadResult) -> Vec<(&'static str, &Percentiles)> {
    let s = &result.summary;
    let open = result.settings.model == "open";
    let mut rows = vec![(
        if open {
            "latency (from intended send)"
        } else {
            "latency"
        },
        &s.latency_ms,
    )];
    if open {
        rows.push(("service time", &s.service_time_ms));
    }
    rows.push(("time to first byte", &s.ttfb_ms));
    rows.push(("connect", &s.connect_ms));
    if let Some(lag) = &s.send_lag_ms {
        rows.push(("send lag", lag));
    }
    rows
}

/// A summary for people.
pub fn text(result: &LoadResult) -> String {
    let mut out = String::new();
    let s = &result.summary;
    let _ = writeln!(out, "{}", headline(result));
    if let Some(segment) = &result.segment {
        let _ = writeln!(
            out,
            "SEGMENT {} of {} (indices k % {} = {}), started at {} ({:.0} ms late): this segment's share only; `plumb merge` joins the segments",
            segment.index,
            segment.count,
            segment.count,
            segment.index,
            segment.start_at,
            segment.late_start_ms
        );
    }
    if result.interrupted {
        let reason = result.stop_reason.as_deref().unwrap_or("stopped early");
        let _ = writeln!(
            out,
            "INTERRUPTED: {reason}; the numbers below cover the part that ran"
        );
    }
    let (alarms, warnings) = split_alarms(&result.warnings);
    for alarm in alarms {
        let _ = writeln!(out, "{alarm}");
    }
    let _ = writeln!(out);
    let achieved = match schedule_rate(result) {
        Some((done, asked, "requests")) => {
            format!("{}/s achieved of {}/s requested", rate(done), rate(asked))
        }
        Some((done, asked, what)) => format!(
            "{}/s; {what} {}/s started of {}/s requested",
            rate(s.rps),
            rate(done),
            rate(asked)
        ),
        None => format!("{}/s", rate(s.rps)),
    };
    let _ = writeln!(
        out,
        "  requests   {} in {:.2} s, {}",
        count(s.requests),
        s.duration_s,
        achieved
    );
    let _ = writeln!(
        out,
        "  errors     {} ({})",
        count(s.errors),
        percent(s.error_rate)
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  {:<30} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "ms", "min", "p50", "p90", "p95", "p99", "p99.9", "max"
    );
    for (label, p) in latency_rows(result) {
        if p.count == 0 {
            continue;
        }
        let cells: Vec<String> = cells(p).iter().map(|c| format!("{c:>9}")).collect();
        let _ = writeln!(out, "  {label:<30} {}", cells.join(" "));
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  status     {}",
        joined_counts(&s.status_codes, "none")
    );
    let _ = writeln!(
        out,
        "  errors by  {}",
        joined_counts(&s.errors_by_class, "none")
    );
    for d in &s.error_details {
        let _ = writeln!(
            out,
            "             {} {}: {}",
            count(d.count),
            d.class,
            d.detail
        );
    }
    if s.retries > 0 {
        let _ = writeln!(
            out,
            "  retries    {} sent again on a fresh connection (a reused one closed before answering; not errors)",
            count(s.retries)
        );
    }
    let what = if result.settings.http_version == "2" {
        "bodies (HTTP/2 DATA) "
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "  data       {what}sent {}, received {}; {} opened",
        bytes(s.bytes_sent),
        bytes(s.bytes_received),
        connections(s.connections_opened)
    );
    if s.in_flight_at_end > 0 || s.missed_sends > 0 {
        let _ = writeln!(
            out,
            "  unfinished {} in flight at the end, {} due but never sent",
            count(s.in_flight_at_end),
            count(s.missed_sends)
        );
    }
    let g = &s.generator;
    let _ = writeln!(
        out,
        "  generator  cpu user {:.2} s, system {:.2} s; busiest thread {:.0}% of a core",
        g.user_s,
        g.system_s,
        g.busiest_thread_load * 100.0
    );
    if let Some(segments) = &result.merged_from {
        let _ = write_segments(&mut out, segments);
    }
    if let Some(flows) = &result.flows {
        let _ = crate::flows::write_text(&mut out, flows);
    }
    if let Some(server) = &result.server {
        write_server(&mut out, server);
    }
    if let Some(db) = &result.db {
        out.push_str(&crate::db::render_load_db_text(db));
    }
    write_thresholds(&mut out, result);
    if !warnings.is_empty() {
        let _ = writeln!(out);
        for warning in warnings {
            let _ = writeln!(out, "warning: {warning}");
        }
    }
    out
}

/// A merged run's segments (`plumb merge`): each one's host, late start and generator health.
fn write_segments(
    out: &mut String,
    segments: &[plumb_schema::load::SegmentRecord],
) -> std::fmt::Result {
    let start = segments.first().map_or("", |s| s.start_at.as_str());
    writeln!(
        out,
        "  segments   {} merged, started at {start}",
        segments.len()
    )?;
    for s in segments {
        let health = if s.generator_saturated {
            "generator SATURATED"
        } else {
            "generator ok"
        };
        let offset = s
            .clock_offset_ms
            .map_or(String::new(), |ms| format!(", clock {ms:+.1} ms"));
        let host = if s.host.is_empty() { "?" } else { &s.host };
        writeln!(
            out,
            "             {} on {host}: {:.1} ms late{offset}, {health}",
            s.index, s.late_start_ms
        )?;
    }
    Ok(())
}

/// Warnings that void the run's figures (every request failed) go at the top, the rest below.
fn split_alarms(warnings: &[String]) -> (Vec<&String>, Vec<&String>) {
    warnings.iter().partition(|w| {
        w.starts_with("EVERY REQUEST FAILED")
            || w.starts_with("no request completed")
            || w.starts_with("INVALID:")
    })
}

/// How many of the server's hot functions the text summary lists.
const SERVER_HOT_FUNCTIONS: usize = 5;

/// How many of a watched tree's busiest processes the text summary names.
const SERVER_BUSIEST: usize = 3;

/// What was watched: `PID 4242`, or a tree or cgroup with its process count.
fn watched_label(server: &WatchedServer) -> String {
    match &server.resources.processes {
        Some(group) if group.selection.contains(' ') => {
            format!("{} ({} processes)", group.selection, group.processes_seen)
        }
        _ => format!("PID {}", server.pid),
    }
}

/// The CPU per request and, for a tree or cgroup, its busiest members.
fn write_server_work(out: &mut String, server: &WatchedServer) {
    if let Some(ms) = server.cpu_ms_per_request {
        let _ = writeln!(out, "  server cpu {} ms per request", significant(ms));
    }
    let Some(group) = server
        .resources
        .processes
        .as_ref()
        .filter(|g| g.busiest.len() > 1)
    else {
        return;
    };
    let busiest: Vec<String> = group
        .busiest
        .iter()
        .take(SERVER_BUSIEST)
        .map(|m| {
            format!(
                "{} {} {:.0}% ({})",
                m.pid,
                m.name,
                m.cpu_percent,
                bytes(m.peak_rss_bytes)
            )
        })
        .collect();
    let _ = writeln!(out, "  server busiest: {}", busiest.join(", "));
}

fn write_server(out: &mut String, server: &WatchedServer) {
    let r = &server.resources.summary;
    let _ = writeln!(
        out,
        "  server     {}: cpu user avg {:.0}% max {:.0}%, system avg {:.0}% max {:.0}%; \
         rss min {} avg {} max {}; threads up to {:.0}; context switches {} voluntary / {} involuntary",
        watched_label(server),
        r.cpu_user_percent.avg,
        r.cpu_user_percent.max,
        r.cpu_system_percent.avg,
        r.cpu_system_percent.max,
        bytes(r.rss_bytes.min as u64),
        bytes(r.rss_bytes.avg as u64),
        bytes(r.rss_bytes.max as u64),
        r.threads.max,
        count(r.voluntary_ctx_switches),
        count(r.involuntary_ctx_switches),
    );
    write_server_work(out, server);
    if let Some(note) = &r.possible_leak {
        let _ = writeln!(out, "             {note}");
    }
    match &server.cpu {
        Some(CpuOutcome::Sampled(profile)) => {
            let hot: Vec<String> = profile
                .hot_functions
                .iter()
                .take(SERVER_HOT_FUNCTIONS)
                .map(|f| format!("{} {:.1}%", f.name, f.self_percent))
                .collect();
            let _ = writeln!(
                out,
                "  server hot (self time, {} samples): {}",
                count(profile.samples),
                if hot.is_empty() {
                    "no samples".to_string()
                } else {
                    hot.join(", ")
                }
            );
        }
        Some(CpuOutcome::Unavailable { reason, .. }) => {
            let _ = writeln!(out, "  server hot functions unavailable: {reason}");
        }
        None => {}
    }
}

fn headline(result: &LoadResult) -> String {
    let st = &result.settings;
    let shape = match (st.model.as_str(), st.rate) {
        ("open", Some(r)) if st.stages.is_empty() => {
            format!(
                "open model, {}/s, up to {}",
                rate(r),
                connections(st.connections)
            )
        }
        ("open", _) => format!("open model, staged, up to {}", connections(st.connections)),
        _ if !st.stages.is_empty() => "closed model, staged connections".to_string(),
        _ => format!("closed model, {}", connections(st.connections)),
    };
    let streams = st
        .streams
        .map_or(String::new(), |n| format!(", {n} streams per connection"));
    format!(
        "plumb load {} {}: {}, {} thread{}, HTTP/{}{streams}",
        st.method,
        st.url,
        shape,
        st.threads,
        if st.threads == 1 { "" } else { "s" },
        st.http_version
    )
}

/// The open model's schedule against what was achieved: (achieved, requested, what the
/// schedule starts). With flows the schedule starts sessions, not requests, so the requested
/// rate is compared with sessions started per second.
pub(crate) fn schedule_rate(result: &LoadResult) -> Option<(f64, f64, &'static str)> {
    let s = &result.summary;
    let asked = s.requested_rps?;
    match &result.flows {
        Some(flows) => {
            let started: u64 = flows.flows.iter().map(|f| f.sessions_started).sum();
            Some((started as f64 / s.duration_s.max(1e-9), asked, "sessions"))
        }
        None => Some((s.rps, asked, "requests")),
    }
}

fn write_thresholds(out: &mut String, result: &LoadResult) {
    if result.thresholds.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "  thresholds");
    for t in &result.thresholds {
        let mark = match t.status {
            ThresholdStatus::Passed => "PASS",
            ThresholdStatus::Failed => "FAIL",
            ThresholdStatus::NoData => "NO DATA",
        };
        let observed = t.observed.map_or("-".to_string(), |v| {
            crate::thresholds::observed(&t.expression, v)
        });
        let windows = crate::thresholds::windows(t)
            .map(|w| format!(" over the whole run; {w}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    {mark:<7} {}   (observed {observed}{windows})",
            t.expression
        );
    }
}

fn joined_counts(map: &std::collections::BTreeMap<String, u64>, empty: &str) -> String {
    if map.is_empty() {
        return empty.to_string();
    }
    map.iter()
        .map(|(k, v)| format!("{k}: {}", count(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1 connection`, `50 connections`.
fn connections(n: u64) -> String {
    if n == 1 {
        "1 connection".to_string()
    } else {
        format!("{} connections", count(n))
    }
}

/// A Markdown summary.
pub fn markdown(result: &LoadResult) -> String {
    let mut out = String::new();
    let s = &result.summary;
    let _ = writeln!(out, "### {}", headline(result));
    let _ = writeln!(out);
    if result.interrupted {
        let _ = writeln!(
            out,
            "> **Interrupted**: {}\n",
            result.stop_reason.as_deref().unwrap_or("stopped early")
        );
    }
    let _ = writeln!(out, "| requests | rate | errors | duration |");
    let _ = writeln!(out, "|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {}/s | {} ({}) | {:.2} s |",
        count(s.requests),
        rate(s.rps),
        count(s.errors),
        percent(s.error_rate),
        s.duration_s
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "| ms | min | p50 | p90 | p95 | p99 | p99.9 | max |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for (label, p) in latency_rows(result) {
        if p.count == 0 {
            continue;
        }
        let _ = writeln!(out, "| {label} | {} |", cells(p).join(" | "));
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Status codes: {}  ",
        joined_counts(&s.status_codes, "none")
    );
    let _ = writeln!(out, "Errors: {}", joined_counts(&s.errors_by_class, "none"));
    for d in &s.error_details {
        let _ = writeln!(out, "- {} {}: {}", count(d.count), d.class, d.detail);
    }
    if s.retries > 0 {
        let _ = writeln!(
            out,
            "\nRetries on a fresh connection (not errors): {}",
            count(s.retries)
        );
    }
    if let Some(segments) = &result.merged_from {
        let saturated: Vec<String> = segments
            .iter()
            .filter(|s| s.generator_saturated)
            .map(|s| s.index.to_string())
            .collect();
        let _ = writeln!(
            out,
            "\nMerged from {} segments; saturated generators: {}",
            segments.len(),
            if saturated.is_empty() {
                "none".into()
            } else {
                saturated.join(", ")
            }
        );
    }
    if let Some(flows) = &result.flows {
        let _ = crate::flows::write_markdown(&mut out, flows);
    }
    if let Some(server) = &result.server {
        let r = &server.resources.summary;
        let per_request = server.cpu_ms_per_request.map_or(String::new(), |ms| {
            format!(", **{} CPU ms per request**", significant(ms))
        });
        let _ = writeln!(
            out,
            "\nServer {}: CPU {:.0}% of a core on average, RSS up to {}{per_request}",
            watched_label(server),
            r.cpu_user_percent.avg + r.cpu_system_percent.avg,
            bytes(r.rss_bytes.max as u64)
        );
    }
    if !result.thresholds.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "| threshold | result | observed |");
        let _ = writeln!(out, "|---|---|---:|");
        for t in &result.thresholds {
            let observed = t.observed.map_or("-".to_string(), |v| {
                crate::thresholds::observed(&t.expression, v)
            });
            let _ = writeln!(
                out,
                "| `{}` | {} | {observed} |",
                t.expression,
                t.status.as_str()
            );
        }
    }
    if let Some(db) = &result.db {
        out.push_str(&crate::db::render_load_db_markdown(db));
    }
    for warning in &result.warnings {
        let _ = writeln!(out, "\n> **Warning**: {warning}");
    }
    out
}
