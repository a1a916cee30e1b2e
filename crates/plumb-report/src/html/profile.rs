//! The HTML of a `plumb profile` run (hot functions, flamegraph, CPU and memory over time, waits,
//! notes), and the parts a load run shares with it: the watched server and the database.

use super::Entry;
use crate::chart::{Line, LineChart};
use crate::format::{bytes, count, ms, percent, significant};
use crate::layout::{Card, Cell, Section, Table, Tone};
use plumb_schema::db::LoadDbStats;
use plumb_schema::load::WatchedServer;
use plumb_schema::profile::{CpuOutcome, CpuProfile, ProfileReport, ResourceTimeline};

/// Rows of a hot-function table.
const HOT_ROWS: usize = 15;
/// Rows of the database's statement table in a load run.
const DB_ROWS: usize = 10;

/// The section of a profile.
pub(super) fn section(entry: &Entry<'_>, r: &ProfileReport, flamegraph: Option<&[u8]>) -> Section {
    let what = match &r.target.command {
        Some(command) => command.join(" "),
        None => format!("PID {}", r.target.pid),
    };
    let mut meta = entry.meta();
    meta.insert(1, ("profiled", what.clone()));
    meta.push(("duration", format!("{:.1} s", r.duration_secs)));
    meta.push(("plumb", r.plumb_version.clone()));
    let s = &r.resources.summary;
    let mut cards = vec![
        Card::new(
            "CPU",
            format!("{:.0}%", s.cpu_user_percent.avg + s.cpu_system_percent.avg),
        )
        .detail("of a core, on average"),
        Card::new("memory (RSS)", bytes(s.rss_bytes.max as u64)).detail("at most"),
        Card::new("threads", format!("{:.0}", s.threads.max)).detail("at most"),
    ];
    if let CpuOutcome::Sampled(cpu) = &r.cpu {
        cards.insert(
            0,
            Card::new("CPU samples", count(cpu.samples))
                .detail(format!("at {} Hz", cpu.frequency_hz)),
        );
    }
    if let Some(code) = r.target.exit_code {
        let tone = if code == 0 { Tone::Good } else { Tone::Bad };
        cards.push(Card::new("exit code", code.to_string()).tone(tone));
    }
    let mut section = Section::new("profile", format!("Profile {}: {what}", entry.label()))
        .meta(&meta)
        .cards(cards);
    section = cpu(section, &r.cpu, flamegraph);
    if let Some(python) = &r.python {
        section = section
            .heading(&format!("Python functions ({})", python.interpreter))
            .table(hot_table(&python.profile));
    }
    if let Some(waiting) = &r.waiting {
        section = section.heading("Waiting").note(&format!(
            "{} thread{}: {:.2} s on CPU, {:.2} s waiting, {:.2} s runnable",
            waiting.threads,
            if waiting.threads == 1 { "" } else { "s" },
            waiting.on_cpu_seconds,
            waiting.waiting_seconds,
            waiting.runnable_seconds
        ));
    }
    section = resources(section, &r.resources);
    let quality = r.stack_quality.iter().filter_map(|q| q.warning.clone());
    let notes: Vec<String> = r.notes.iter().cloned().chain(quality).collect();
    section.warnings(&notes)
}

/// Hot functions and the flamegraph, or why there are none.
fn cpu(section: Section, outcome: &CpuOutcome, flamegraph: Option<&[u8]>) -> Section {
    match outcome {
        CpuOutcome::Sampled(cpu) => {
            let mut section = section.heading("Hot functions").table(hot_table(cpu));
            if let Some(svg) = flamegraph {
                section = section.raw(&format!(
                    "<figure class=\"flamegraph\"><figcaption>Flamegraph</figcaption>{}</figure>",
                    super::svg_image(svg, "flamegraph")
                ));
            }
            section
        }
        CpuOutcome::Unavailable { reason, .. } => {
            section.warnings(&[format!("CPU profile not available: {reason}")])
        }
    }
}

/// Function, self %, total %, with a bar for the self share.
fn hot_table(cpu: &CpuProfile) -> Table {
    let mut table = Table::new("hot", &["function", "self", "", "total", "samples"]);
    for f in cpu.hot_functions.iter().take(HOT_ROWS) {
        let bar = format!(
            "<span class=\"bar\" style=\"width:{:.0}px\"></span>",
            (f.self_percent * 2.0).clamp(1.0, 200.0)
        );
        table.push(vec![
            Cell::code(&f.name),
            Cell::num(format!("{:.1}%", f.self_percent)),
            Cell::html(bar),
            Cell::num(format!("{:.1}%", f.total_percent)),
            Cell::num(count(f.self_samples)),
        ]);
    }
    table
}

/// CPU and memory over time, as two charts.
fn resources(section: Section, timeline: &ResourceTimeline) -> Section {
    if timeline.points.len() < 2 {
        return section;
    }
    let cpu: Vec<(f64, f64)> = timeline
        .points
        .iter()
        .map(|p| (p.t_secs, p.cpu_user_percent + p.cpu_system_percent))
        .collect();
    let rss: Vec<(f64, f64)> = timeline
        .points
        .iter()
        .map(|p| (p.t_secs, p.rss_bytes as f64 / (1024.0 * 1024.0)))
        .collect();
    let mut section = section
        .chart(
            LineChart::new("cpu", "CPU over time")
                .x_linear("time since start", "s")
                .y("CPU", "% of a core")
                .line(Line::new("user + system", cpu))
                .render(),
        )
        .chart(
            LineChart::new("memory", "Memory over time")
                .x_linear("time since start", "s")
                .y("resident memory", "MiB")
                .line(Line::new("RSS", rss).color(crate::chart::PALETTE[2]))
                .render(),
        );
    if let Some(leak) = &timeline.summary.possible_leak {
        section = section.warnings(std::slice::from_ref(leak));
    }
    section
}

/// The watched server's CPU over time in each run, on one pair of axes (a comparison's overlay).
pub(super) fn server_cpu_overlay(runs: &[(String, &WatchedServer)]) -> String {
    let mut chart = LineChart::new("server-cpu", "Server CPU over time")
        .x_linear("time since start", "s")
        .y("server CPU", "% of a core");
    for (i, (name, server)) in runs.iter().enumerate() {
        let points = server
            .resources
            .points
            .iter()
            .map(|p| (p.t_secs, p.cpu_user_percent + p.cpu_system_percent))
            .collect();
        chart = chart.line(Line::new(format!("{name} server CPU"), points).paired(i, runs.len()));
    }
    chart.render()
}

/// The server watched during a load: cards, CPU and memory over time, hot functions, flamegraph.
pub(super) fn server(
    section: Section,
    server: &WatchedServer,
    flamegraph: Option<&[u8]>,
) -> Section {
    let r = &server.resources.summary;
    let mut cards = vec![
        Card::new(
            "server CPU",
            format!("{:.0}%", r.cpu_user_percent.avg + r.cpu_system_percent.avg),
        )
        .detail(format!(
            "of a core on average, at most {:.0}%",
            r.cpu_user_percent.max + r.cpu_system_percent.max
        )),
        Card::new("server memory", bytes(r.rss_bytes.max as u64))
            .detail(format!("from {}", bytes(r.rss_bytes.min as u64))),
    ];
    if let Some(per) = server.cpu_ms_per_request {
        cards.push(Card::new(
            "server CPU per request",
            format!("{} ms", significant(per)),
        ));
    }
    let watched = match &server.resources.processes {
        Some(group) => format!("{} ({} processes)", group.selection, group.processes_seen),
        None => format!("PID {}", server.pid),
    };
    let mut section = section
        .heading(&format!("Server {watched} during the load"))
        .cards(cards);
    if let Some(group) = server
        .resources
        .processes
        .as_ref()
        .filter(|g| g.busiest.len() > 1)
    {
        let mut table = Table::new("busiest", &["pid", "process", "CPU", "peak RSS"]);
        for m in &group.busiest {
            table.push(vec![
                Cell::num(m.pid.to_string()),
                Cell::text(&m.name),
                Cell::num(format!("{:.0}%", m.cpu_percent)),
                Cell::num(bytes(m.peak_rss_bytes)),
            ]);
        }
        section = section.table(table);
    }
    section = resources(section, &server.resources);
    match &server.cpu {
        Some(outcome) => cpu(section, outcome, flamegraph),
        None => section,
    }
}

/// What the database did during a load (`plumb load --db`).
pub(super) fn database(section: Section, db: &LoadDbStats) -> Section {
    let per_request = |v: Option<f64>, unit: &str| {
        v.map_or_else(|| "-".to_string(), |v| format!("{} {unit}", significant(v)))
    };
    let n_plus_one_tone = if db.n_plus_one.is_empty() {
        Tone::Good
    } else {
        Tone::Bad
    };
    let cards = vec![
        Card::new(
            "queries per request",
            db.queries_per_request.map_or("-".into(), significant),
        )
        .detail(format!(
            "{} queries for {} requests",
            count(db.queries.max(0) as u64),
            count(db.requests)
        ))
        .tone(n_plus_one_tone),
        Card::new(
            "database time per request",
            per_request(db.db_time_per_request_ms, "ms"),
        )
        .detail(
            db.latency_share
                .map_or_else(String::new, |s| format!("{} of the latency", percent(s))),
        ),
        Card::new(
            "cache hit ratio",
            db.cache_hit_ratio.map_or_else(|| "-".to_string(), percent),
        ),
        Card::new("connections", format!("up to {}", db.connections.max_total)).detail(format!(
            "{} active, {} idle in transaction, of {}",
            db.connections.max_active,
            db.connections.max_idle_in_transaction,
            db.connections.max_connections
        )),
    ];
    let mut section = section
        .heading("Database during the load")
        .cards(cards)
        .note(&format!(
            "{} queries for {} requests: {}",
            count(db.queries.max(0) as u64),
            count(db.requests),
            per_request(db.queries_per_request, "queries per request")
        ));
    for suspect in &db.n_plus_one {
        section = section.raw(&format!(
            "<p class=\"warning\">N+1 suspect: <code>{}</code>: {} ({})</p>",
            super::escape(&suspect.statement.query),
            super::escape(&suspect.evidence),
            super::escape(&suspect.fix)
        ));
    }
    let mut table = Table::new(
        "statements",
        &["statement", "calls", "total ms", "mean ms", "rows"],
    );
    for s in db.top_statements.iter().take(DB_ROWS) {
        table.push(vec![
            Cell::code(&s.query),
            Cell::num(count(s.calls.max(0) as u64)),
            Cell::num(ms(s.total_ms)),
            Cell::num(ms(s.mean_ms)),
            Cell::num(count(s.rows.max(0) as u64)),
        ]);
    }
    section.table(table)
}
