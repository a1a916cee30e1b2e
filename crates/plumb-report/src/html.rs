//! One self-contained HTML report (no script, no CDN, no network) of one or several runs: a
//! comparison first when there are two runs of one kind (their charts overlaid on shared axes), a
//! trend of each metric when there are more, then a section per run. Every section is built from
//! `layout`'s blocks and `chart`'s inline SVG, so the file opens anywhere, offline, and prints.
//!
//! The kinds of section live in `html/`: `load`, `bench`, `profile`, `capacity`, `compare`,
//! `trend`. A new kind adds a file there (or anywhere) that returns a `layout::Section`.

mod bench;
mod capacity;
mod compare;
mod load;
mod profile;
mod trend;

use crate::compare::ComparisonTable;
use crate::layout;
use plumb_schema::bench::BenchReport;
use plumb_schema::capacity::CapacityResult;
use plumb_schema::host::HostNoise;
use plumb_schema::load::LoadResult;
use plumb_schema::profile::ProfileReport;
use std::fmt;

/// A run to put in the report, with the id it is known by.
#[derive(Debug, Clone, Copy)]
pub enum ReportRun<'a> {
    /// A load run.
    Load(&'a str, &'a LoadResult),
    /// A bench run.
    Bench(&'a str, &'a BenchReport),
    /// A profile, with its flamegraph SVG when it has CPU samples.
    Profile(&'a str, &'a ProfileReport, Option<&'a [u8]>),
    /// A capacity search.
    Capacity(&'a str, &'a CapacityResult),
    /// Page loads (`plumb page`; the section is `crate::page::section`).
    Page(&'a str, &'a plumb_schema::page::PageResult),
}

impl ReportRun<'_> {
    /// The run's id.
    pub fn id(&self) -> &str {
        match self {
            ReportRun::Load(id, _)
            | ReportRun::Bench(id, _)
            | ReportRun::Profile(id, _, _)
            | ReportRun::Capacity(id, _)
            | ReportRun::Page(id, _) => id,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ReportRun::Load(..) => "load",
            ReportRun::Bench(..) => "bench",
            ReportRun::Profile(..) => "profile",
            ReportRun::Capacity(..) => "capacity",
            ReportRun::Page(..) => "page",
        }
    }
}

/// What the ledger knows about a run beyond its result: its name, command line, commit, host.
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    /// `--name`, when given.
    pub name: Option<String>,
    /// When it started, RFC 3339 UTC (empty when unknown).
    pub started_at: String,
    /// The command line (empty when unknown).
    pub command_line: String,
    /// The git commit, short, with `+dirty` when the tree had changes.
    pub commit: Option<String>,
    /// The machine: host name, CPU, cores, memory.
    pub host: Option<String>,
    /// The flamegraph SVG of the server watched during a load (`--profile-pid`).
    pub server_flamegraph: Option<Vec<u8>>,
}

/// A run with what is known about it.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The run.
    pub run: ReportRun<'a>,
    /// Its name, commit and host.
    pub context: RunContext,
}

impl Entry<'_> {
    /// How the run is named on charts and in headers: `name (commit)`, or its id.
    pub fn label(&self) -> String {
        let name = self
            .context
            .name
            .clone()
            .unwrap_or_else(|| short_id(self.run.id()));
        match &self.context.commit {
            Some(commit) => format!("{name} @ {commit}"),
            None => name,
        }
    }

    /// The header rows every section starts with: id, when, commit, host, command line.
    fn meta(&self) -> Vec<(&'static str, String)> {
        let c = &self.context;
        vec![
            ("run", self.run.id().to_owned()),
            ("name", c.name.clone().unwrap_or_default()),
            ("started", c.started_at.clone()),
            ("commit", c.commit.clone().unwrap_or_default()),
            ("host", c.host.clone().unwrap_or_default()),
            ("command", c.command_line.clone()),
        ]
    }
}

/// An id cut to 12 characters, the way `plumb history` shows it (a file path is kept whole).
fn short_id(id: &str) -> String {
    if id.contains('/') || id.contains('.') {
        return id.rsplit('/').next().unwrap_or(id).to_owned();
    }
    id.chars().take(12).collect()
}

/// The whole report for runs known only by id.
pub fn html(runs: &[ReportRun<'_>], comparison: Option<&ComparisonTable>) -> String {
    let entries: Vec<Entry<'_>> = runs
        .iter()
        .map(|run| Entry {
            run: *run,
            context: RunContext::default(),
        })
        .collect();
    report(&entries, comparison)
}

/// The whole report: the comparison (two runs of one kind), the trend (three or more), each run.
pub fn report(entries: &[Entry<'_>], comparison: Option<&ComparisonTable>) -> String {
    report_after(Vec::new(), entries, comparison)
}

/// The whole report with `lead` sections (rendered) first, e.g. `plumb run`'s plan section.
pub fn report_after(
    lead: Vec<String>,
    entries: &[Entry<'_>],
    comparison: Option<&ComparisonTable>,
) -> String {
    let mut sections = lead;
    if let Some(table) = comparison {
        sections.push(compare::section(table, entries).render());
    }
    sections.extend(trend::sections(entries).iter().map(layout::Section::render));
    for entry in entries {
        sections.push(section(entry).render());
    }
    let title = match entries {
        [one] => format!("plumb report: {} run {}", one.run.kind(), one.label()),
        _ => format!("plumb report: {} runs", entries.len()),
    };
    layout::page(&title, &sections)
}

fn section(entry: &Entry<'_>) -> layout::Section {
    match entry.run {
        ReportRun::Load(_, r) => load::section(entry, r),
        ReportRun::Bench(_, r) => bench::section(entry, r),
        ReportRun::Profile(_, r, svg) => profile::section(entry, r, svg),
        ReportRun::Capacity(_, r) => capacity::section(entry, r),
        ReportRun::Page(_, r) => crate::page::section(entry, r),
    }
}

/// The host's noise in one line: `load 0.4 → 1.9 on 2 CPUs · CPU pressure 3% · steal 0% · plumb 48%`.
pub fn noise_text(noise: &HostNoise) -> String {
    let share =
        |label: &str, v: Option<f64>| v.map(|v| format!("{label} {}", crate::format::percent(v)));
    let load = match (noise.load_avg_1m_start, noise.load_avg_1m_end) {
        (Some(a), Some(b)) => Some(format!("load {a:.2} → {b:.2}")),
        _ => None,
    };
    let parts: Vec<String> = [
        load,
        Some(format!("{} CPUs", noise.cpus)),
        share("busy", noise.cpu_busy_share),
        share("CPU pressure", noise.cpu_pressure_some_share),
        share("steal", noise.steal_share),
        share("plumb itself", noise.plumb_cpu_share),
    ]
    .into_iter()
    .flatten()
    .collect();
    parts.join(" · ")
}

/// A string written by `f` (writing to a `String` cannot fail, so this is the one place that
/// drops the `fmt::Result`).
pub fn build(f: impl FnOnce(&mut String) -> fmt::Result) -> String {
    let mut out = String::new();
    let _ = f(&mut out);
    out
}

/// Text made safe for HTML (elements and attributes).
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An image of an SVG (a flamegraph): embedded as data, so its own script never runs in the report.
pub fn svg_image(svg: &[u8], alt: &str) -> String {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(svg);
    format!(
        "<img class=\"flamegraph\" alt=\"{}\" src=\"data:image/svg+xml;base64,{data}\">",
        escape(alt)
    )
}
