//! Rendering of a `plumb page` result: every metric's median and p75 over the loads with their
//! intervals and spread, LCP's parts, the weight by resource type, the audits with their savings,
//! the thresholds; as text for a terminal, as Markdown, and as the HTML report's section (with the
//! representative load's waterfall).

use crate::format::{bytes, ms, significant};
use crate::html::{escape, Entry};
use crate::layout::{Card, Cell, Section, Table, Tone};
use plumb_schema::page::{PageMetricSummary, PageResult, PageRun};
use std::fmt::{self, Write};

/// The result for a terminal.
pub fn text(r: &PageResult) -> String {
    crate::html::build(|out| write_text(out, r))
}

fn write_text(out: &mut String, r: &PageResult) -> fmt::Result {
    writeln!(out, "plumb page {}: {}", r.url, r.headline())?;
    writeln!(out, "{}\n", settings_line(r))?;
    writeln!(
        out,
        "  {:<14} {:>10} {:>21} {:>10} {:>21} {:>21}",
        "metric", "median", "interval", "p75", "interval", "min .. max"
    )?;
    for m in &r.summary {
        writeln!(
            out,
            "  {:<14} {:>10} {:>21} {:>10} {:>21} {:>21}{}",
            label(&m.metric),
            value(m, m.median),
            pair(m, m.median_interval),
            value(m, m.p75),
            pair(m, m.p75_interval),
            pair(m, [m.min, m.max]),
            outliers(m)
        )?;
    }
    writeln!(out, "\n{}", confidence_line(r))?;
    if let Some(run) = r.runs.get(r.representative_run) {
        write_run_text(out, r.representative_run, run)?;
    }
    if !r.audits.is_empty() {
        writeln!(out, "\naudits (load {}):", r.representative_run + 1)?;
        for audit in &r.audits {
            writeln!(out, "  {}{}", audit.title, savings(audit))?;
            for item in audit.items.iter().take(5) {
                writeln!(out, "    {}  {}", item.url, item.detail)?;
            }
        }
    }
    for t in &r.thresholds {
        let observed = t.observed.map_or("-".into(), significant);
        writeln!(
            out,
            "threshold {}: {} ({observed})",
            t.expression,
            t.status.as_str()
        )?;
    }
    for note in warnings(r) {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

fn write_run_text(out: &mut String, index: usize, run: &PageRun) -> fmt::Result {
    writeln!(
        out,
        "\nload {} (nearest the median FCP and LCP):",
        index + 1
    )?;
    if let Some(p) = &run.lcp_parts {
        writeln!(
            out,
            "  LCP {} ms = TTFB {} + load delay {} + load {} + render delay {}  ({}{})",
            ms(run.lcp_ms.unwrap_or(0.0)),
            ms(p.ttfb_ms),
            ms(p.resource_load_delay_ms),
            ms(p.resource_load_duration_ms),
            ms(p.render_delay_ms),
            p.element.as_deref().unwrap_or("?"),
            p.url.as_deref().map_or(String::new(), |u| format!(" {u}"))
        )?;
    }
    writeln!(
        out,
        "  {} over the network in {} requests:",
        bytes(run.weight.transfer_bytes),
        run.weight.requests
    )?;
    for t in &run.weight.by_type {
        writeln!(
            out,
            "    {:<11} {:>4} requests {:>11} ({} decoded)",
            t.resource_type,
            t.requests,
            bytes(t.transfer_bytes),
            bytes(t.decoded_bytes)
        )?;
    }
    for note in &run.notes {
        writeln!(out, "  note: {note}")?;
    }
    Ok(())
}

/// The result as Markdown.
pub fn markdown(r: &PageResult) -> String {
    crate::html::build(|out| write_markdown(out, r))
}

fn write_markdown(out: &mut String, r: &PageResult) -> fmt::Result {
    writeln!(out, "## plumb page: {}\n\n**{}**\n", r.url, r.headline())?;
    writeln!(out, "{}\n", settings_line(r))?;
    writeln!(
        out,
        "| Metric | Median | Interval | p75 | Interval | Min .. max |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|")?;
    for m in &r.summary {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {}{} |",
            label(&m.metric),
            value(m, m.median),
            pair(m, m.median_interval),
            value(m, m.p75),
            pair(m, m.p75_interval),
            pair(m, [m.min, m.max]),
            outliers(m)
        )?;
    }
    writeln!(out, "\n{}", confidence_line(r))?;
    if !r.audits.is_empty() {
        writeln!(out, "\n| Audit | Saving |\n|---|---:|")?;
        for audit in &r.audits {
            writeln!(out, "| {} |{} |", audit.title, savings(audit))?;
        }
    }
    for t in &r.thresholds {
        let observed = t.observed.map_or("-".into(), significant);
        writeln!(
            out,
            "\n- threshold `{}`: **{}** ({observed})",
            t.expression,
            t.status.as_str()
        )?;
    }
    for note in warnings(r) {
        writeln!(out, "\n> {note}")?;
    }
    Ok(())
}

/// The HTML report's section of a page result.
pub fn section(entry: &Entry<'_>, r: &PageResult) -> Section {
    let meta = vec![
        ("run", entry.run.id().to_owned()),
        ("page", r.url.clone()),
        ("started", r.started_at.clone()),
        ("browser", r.browser.clone()),
        ("settings", settings_line(r)),
        ("commit", entry.context.commit.clone().unwrap_or_default()),
    ];
    let mut section = Section::new("page", format!("Page load {}: {}", entry.label(), r.url))
        .meta(&meta)
        .note(&confidence_line(r))
        .cards(cards(r))
        .table(metrics_table(r));
    if let Some(run) = r.runs.get(r.representative_run) {
        section = section
            .heading(&format!("Waterfall of load {}", r.representative_run + 1))
            .table(waterfall(run));
    }
    if !r.audits.is_empty() {
        section = section.heading("Audits").table(audits_table(r));
    }
    let notes = warnings(r);
    if !notes.is_empty() {
        section = section.warnings(&notes);
    }
    section
}

/// Core Web Vitals' bands (web-vitals; TBT from Lighthouse's mobile curve): good below the
/// first, poor from the second.
fn tone(metric: &str, value: f64) -> Tone {
    let bands = match metric {
        "page_lcp" => (2500.0, 4000.0),
        "page_fcp" => (1800.0, 3000.0),
        "page_cls" => (0.1, 0.25),
        "page_tbt" => (200.0, 600.0),
        "page_ttfb" => (800.0, 1800.0),
        _ => return Tone::Neutral,
    };
    match value {
        v if v <= bands.0 => Tone::Good,
        v if v <= bands.1 => Tone::Warn,
        _ => Tone::Bad,
    }
}

fn cards(r: &PageResult) -> Vec<Card> {
    [
        "page_lcp",
        "page_fcp",
        "page_cls",
        "page_tbt",
        "page_ttfb",
        "page_weight",
    ]
    .iter()
    .filter_map(|name| r.metric(name))
    .map(|m| {
        Card::new(format!("{} p75", label(&m.metric)), value(m, m.p75))
            .detail(format!("median {}", value(m, m.median)))
            .tone(tone(&m.metric, m.p75))
    })
    .collect()
}

fn metrics_table(r: &PageResult) -> Table {
    let mut table = Table::new(
        "page-metrics",
        &[
            "metric",
            "median",
            "interval",
            "p75",
            "interval",
            "min .. max",
            "runs",
        ],
    );
    for m in &r.summary {
        table.push(vec![
            Cell::text(label(&m.metric)),
            Cell::num(value(m, m.median)),
            Cell::num(pair(m, m.median_interval)),
            Cell::num(value(m, m.p75)).tone(tone(&m.metric, m.p75)),
            Cell::num(pair(m, m.p75_interval)),
            Cell::num(format!("{}{}", pair(m, [m.min, m.max]), outliers(m))),
            Cell::num(m.runs.to_string()),
        ]);
    }
    table
}

/// Every request of one load with a bar from its start to its end, on the load's time scale.
fn waterfall(run: &PageRun) -> Table {
    let span = run
        .requests
        .iter()
        .map(|r| r.end_ms)
        .fold(run.load_ms, f64::max)
        .max(1.0);
    let mut table = Table::new(
        "waterfall",
        &["request", "type", "status", "size", "start", "time", ""],
    );
    for request in &run.requests {
        let left = request.start_ms / span * 100.0;
        let width = ((request.end_ms - request.start_ms) / span * 100.0).max(0.5);
        let bar = format!(
            "<div style=\"width:16em;background:#eee\"><div style=\"margin-left:{left:.1}%;width:{width:.1}%;height:0.7em;background:{}\"></div></div>",
            if request.render_blocking { "#d9534f" } else { "#4a90d9" }
        );
        table.push(vec![
            Cell::code(short_url(&request.url)),
            Cell::text(&request.resource_type),
            Cell::num(request.status.to_string()),
            Cell::num(bytes(request.transfer_bytes)),
            Cell::num(format!("{} ms", ms(request.start_ms))),
            Cell::num(format!("{} ms", ms(request.end_ms - request.start_ms))),
            Cell::html(bar),
        ]);
    }
    table
}

fn audits_table(r: &PageResult) -> Table {
    let mut table = Table::new("audits", &["audit", "saving", "resources"]);
    for audit in &r.audits {
        let items: Vec<String> = audit
            .items
            .iter()
            .take(10)
            .map(|i| {
                format!(
                    "<code>{}</code> {}",
                    escape(&short_url(&i.url)),
                    escape(&i.detail)
                )
            })
            .collect();
        table.push(vec![
            Cell::text(&audit.title),
            Cell::num(savings(audit).trim()),
            Cell::html(items.join("<br>")),
        ]);
    }
    table
}

/// `page_lcp` as `LCP`.
fn label(metric: &str) -> String {
    match metric.strip_prefix("page_") {
        Some("weight") => "weight".into(),
        Some("requests") => "requests".into(),
        Some("load") => "load".into(),
        Some(name) => name.to_uppercase(),
        None => metric.to_owned(),
    }
}

fn value(m: &PageMetricSummary, v: f64) -> String {
    match m.unit.as_str() {
        "ms" => format!("{} ms", ms(v)),
        "bytes" => bytes(v.max(0.0).round() as u64),
        "requests" => format!("{v:.0}"),
        _ => format!("{v:.3}"),
    }
}

fn pair(m: &PageMetricSummary, [low, high]: [f64; 2]) -> String {
    format!("{} .. {}", value(m, low), value(m, high))
}

/// ` (runs 2, 4 stand out)` when some loads are outliers: the median hides them.
fn outliers(m: &PageMetricSummary) -> String {
    match m.outliers.as_slice() {
        [] => String::new(),
        runs => {
            let list: Vec<String> = runs.iter().map(|i| (i + 1).to_string()).collect();
            format!(" (load {} stands out)", list.join(", "))
        }
    }
}

fn savings(audit: &plumb_schema::page::PageAudit) -> String {
    let mut parts = Vec::new();
    if let Some(b) = audit.savings_bytes {
        parts.push(format!("saves {}", bytes(b)));
    }
    if let Some(t) = audit.savings_ms {
        parts.push(format!("{} ms", ms(t)));
    }
    match parts.is_empty() {
        true => String::new(),
        false => format!(": {}", parts.join(", ")),
    }
}

/// `under load: scenario normal (GET http://...), 200/s requested, 199.8/s achieved, p95 12 ms,
/// p99 30 ms, 0.00% errors over 14 s`.
pub fn under_load_line(load: &plumb_schema::page::PageUnderLoad) -> String {
    let requested = load
        .requested_rps
        .map(|r| format!("{}/s requested, ", crate::format::rate(r)))
        .unwrap_or_default();
    let ended = load
        .ended_early
        .as_deref()
        .map(|why| format!("; it ended before the last page load: {why}"))
        .unwrap_or_default();
    format!(
        "under load: scenario {} ({}), {requested}{}/s achieved, p95 {} ms, p99 {} ms, {} errors over {:.0} s{ended}",
        load.scenario,
        load.url,
        crate::format::rate(load.achieved_rps),
        crate::format::ms(load.latency_p95_ms),
        crate::format::ms(load.latency_p99_ms),
        crate::format::percent(load.error_rate),
        load.duration_s
    )
}

fn settings_line(r: &PageResult) -> String {
    let s = &r.settings;
    let t = &s.throttle;
    let throttle = match t.preset.as_str() {
        "none" => "no throttling".to_owned(),
        preset => format!(
            "{preset} throttling ({} ms latency, {} kbit/s down, {} kbit/s up, CPU {}×)",
            significant(t.latency_ms),
            significant(t.download_kbps),
            significant(t.upload_kbps),
            significant(t.cpu_slowdown)
        ),
    };
    let line = format!(
        "{} of {} loads, {}, {}×{} viewport, {}",
        r.runs.len(),
        s.runs,
        throttle,
        s.viewport.width,
        s.viewport.height,
        r.browser
    );
    match &r.under_load {
        Some(load) => format!("{line}\n{}", under_load_line(load)),
        None => line,
    }
}

fn confidence_line(r: &PageResult) -> String {
    let confidence = r.summary.iter().map(|m| m.confidence).fold(1.0, f64::min);
    format!(
        "Intervals from the order statistics of {} loads, at {:.1}% confidence{}",
        r.runs.len(),
        confidence * 100.0,
        if confidence < 0.95 {
            " (95% needs more loads: --runs 9 or more for the median)"
        } else {
            ""
        }
    )
}

fn warnings(r: &PageResult) -> Vec<String> {
    let mut notes = Vec::new();
    if r.interrupted {
        notes.push(format!(
            "interrupted: {} of {} loads measured",
            r.runs.len(),
            r.settings.runs
        ));
    }
    notes
}

fn short_url(url: &str) -> String {
    let path = url.splitn(4, '/').nth(3).map_or(url, |p| p);
    let path = format!("/{path}");
    match path.chars().count() {
        n if n > 80 => format!("{}…", path.chars().take(79).collect::<String>()),
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_schema::page::{PageAudit, PageRequest, PageWeight, TypeWeight};

    fn result() -> PageResult {
        let request = PageRequest {
            url: "http://127.0.0.1:8080/big.js".into(),
            method: "GET".into(),
            resource_type: "script".into(),
            status: 200,
            protocol: Some("http/1.1".into()),
            mime_type: Some("application/javascript".into()),
            start_ms: 10.0,
            response_ms: Some(20.0),
            end_ms: 40.0,
            transfer_bytes: 1_048_800,
            decoded_bytes: 1_048_576,
            content_encoding: None,
            cache_control: None,
            render_blocking: true,
            failed: None,
            timings: None,
            request_headers: Vec::new(),
            response_headers: Vec::new(),
        };
        let runs: Vec<PageRun> = [1000.0, 1200.0, 1100.0]
            .iter()
            .map(|&lcp| PageRun {
                lcp_ms: Some(lcp),
                fcp_ms: Some(lcp / 2.0),
                cls: 0.165,
                load_ms: lcp,
                weight: PageWeight {
                    transfer_bytes: 1_048_800,
                    requests: 1,
                    by_type: vec![TypeWeight {
                        resource_type: "script".into(),
                        requests: 1,
                        transfer_bytes: 1_048_800,
                        decoded_bytes: 1_048_576,
                    }],
                },
                requests: vec![request.clone()],
                ..PageRun::default()
            })
            .collect();
        let mut result = PageResult {
            url: "http://127.0.0.1:8080/".into(),
            browser: "Chrome/156".into(),
            runs,
            audits: vec![PageAudit {
                id: "uncompressed-text".into(),
                title: "1 text response(s) sent without compression".into(),
                savings_bytes: Some(1_040_000),
                savings_ms: None,
                items: Vec::new(),
            }],
            ..PageResult::default()
        };
        result.settings.runs = 3;
        result.settings.throttle.preset = "none".into();
        result.summary = vec![PageMetricSummary {
            metric: "page_lcp".into(),
            unit: "ms".into(),
            runs: 3,
            median: 1100.0,
            median_interval: [1000.0, 1200.0],
            p75: 1150.0,
            p75_interval: [1000.0, 1200.0],
            confidence: 0.75,
            min: 1000.0,
            max: 1200.0,
            outliers: vec![],
        }];
        result
    }

    #[test]
    fn text_markdown_and_html_show_the_metrics_and_audits() {
        let r = result();
        let text = text(&r);
        assert!(text.contains("p75 of 3 loads: LCP 1150 ms"), "{text}");
        assert!(text.contains("LCP              1,100 ms"), "{text}");
        assert!(
            text.contains("at 75.0% confidence (95% needs more loads"),
            "{text}"
        );
        let saving = format!("sent without compression: saves {}", bytes(1_040_000));
        assert!(text.contains(&saving), "{text}");
        let md = markdown(&r);
        assert!(
            md.contains("| LCP | 1,100 ms | 1,000 ms .. 1,200 ms | 1,150 ms |"),
            "{md}"
        );
        let html = crate::html::html(&[crate::html::ReportRun::Page("r1", &r)], None);
        assert!(
            html.contains("Page load r1: http://127.0.0.1:8080/"),
            "{html}"
        );
        assert!(html.contains("/big.js"), "the waterfall lists the request");
        assert!(
            html.contains("#d9534f"),
            "a render-blocking request is drawn red"
        );
    }
}
