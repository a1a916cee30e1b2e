//! Every kind of HTML report, rendered from fixed results, opened in headless Chromium and
//! screenshotted: no console errors; charts with axes and legends; thresholds, the percentile
//! table, verdicts and units in the page's text.
//!
//! `PLUMB_SCREENSHOTS=DIR` keeps the pages and their screenshots in DIR to look at.

use crate::fixtures;
use plumb_compare::CompareSettings;
use plumb_report::compare::{ComparisonTable, ThresholdRow};
use plumb_report::format;
use plumb_report::html::{self, Entry, ReportRun, RunContext};
use plumb_test::{page_text, Chromium};
use std::path::PathBuf;

/// A run's context as the ledger would give it.
fn context(name: &str, commit: &str) -> RunContext {
    RunContext {
        name: Some(name.into()),
        started_at: "2026-12-01T12:00:00Z".into(),
        command_line: "plumb load http://127.0.0.1:8080/api/orders --rate 500 -d 20s".into(),
        commit: Some(commit.into()),
        host: Some("ci-runner · AMD EPYC · 2 cores · 7.8 GiB".into()),
        server_flamegraph: None,
    }
}

fn entry<'a>(run: ReportRun<'a>, name: &str, commit: &str) -> Entry<'a> {
    let command_line = match run {
        ReportRun::Load(..) => "plumb load http://127.0.0.1:8080/api/orders --rate 500 -d 20s",
        ReportRun::Bench(..) => "plumb bench 'make build' 'make test'",
        ReportRun::Profile(..) => "plumb profile -- ./server --port 8080",
        ReportRun::Capacity(..) => "plumb capacity http://127.0.0.1:8080/ --goal 'p(99)<50ms'",
        ReportRun::Page(..) => "plumb page http://127.0.0.1:8080/",
    };
    Entry {
        run,
        context: RunContext {
            command_line: command_line.into(),
            ..context(name, commit)
        },
    }
}

/// What a page showed in the browser.
struct Opened {
    html: String,
    text: String,
}

/// Writes `page` as `NAME.html`, screenshots it, checks the console, and returns the DOM's text.
fn open(name: &str, page: &str) -> Opened {
    let dir = match std::env::var_os("PLUMB_SCREENSHOTS") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::temp_dir().join(format!("plumb-report-html-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.html"));
    std::fs::write(&path, page).unwrap();
    let shot = Chromium::screenshot(&path, 1280, 2400).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        shot.console.is_empty(),
        "{name}: console: {:?}",
        shot.console
    );
    let png = std::fs::metadata(&shot.png).unwrap().len();
    assert!(png > 10_000, "{name}: a {png}-byte screenshot is blank");
    let (dom, console) = Chromium::dump_dom(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(console.is_empty(), "{name}: console: {console:?}");
    for outside in ["<script", "<link", "@import", "url("] {
        assert!(
            !page.contains(outside),
            "{name} is not self-contained: {outside}"
        );
    }
    Opened {
        text: page_text(&dom),
        html: dom,
    }
}

/// Asserts that every chart named has its figure, both axes and a legend.
fn assert_charts(o: &Opened, charts: &[&str]) {
    for chart in charts {
        let at = o
            .html
            .find(&format!("class=\"chart {chart}\""))
            .unwrap_or_else(|| panic!("chart {chart} missing"));
        let figure = &o.html[at..at + o.html[at..].find("</figure>").unwrap()];
        assert!(
            figure.matches("class=\"axis\"").count() >= 1,
            "{chart}: no axis"
        );
        assert!(figure.contains("axis-title"), "{chart}: no axis title");
        assert!(figure.contains("class=\"legend\""), "{chart}: no legend");
    }
}

fn assert_text(o: &Opened, needles: &[&str]) {
    for needle in needles {
        assert!(
            o.text.contains(needle),
            "{needle:?} not in the page: {}",
            o.text
        );
    }
}

fn verdict_word(s: plumb_stats::ThresholdStatus) -> &'static str {
    match s {
        plumb_stats::ThresholdStatus::Passed => "PASS",
        plumb_stats::ThresholdStatus::Failed => "FAIL",
        plumb_stats::ThresholdStatus::NoData => "NO DATA",
    }
}

#[test]
fn a_load_report_shows_goals_percentiles_statuses_and_charts() {
    let r = fixtures::load(1.0);
    let page = html::report(
        &[entry(
            ReportRun::Load("018c1d2e3f40", &r),
            "orders",
            "1a2b3c4d",
        )],
        None,
    );
    let o = open("load", &page);
    assert_charts(&o, &["spectrum", "latency", "throughput", "errors"]);
    let l = &r.summary.latency_ms;
    let errors = format!(
        "503 {} {}",
        format::count(fixtures::ERRORS),
        format::percent(fixtures::ERRORS as f64 / r.summary.requests as f64)
    );
    assert_text(
        &o,
        &[
            "Load run orders @ 1a2b3c4d: GET http://127.0.0.1:8080/api/orders",
            "open model · 500.0/s requested · up to 64 connections · 2 threads · HTTP/1.1 · 20 s",
            "ci-runner · AMD EPYC · 2 cores",
            "Goals and thresholds",
            "p50 p90 p95 p99 p99.9 max",
            &format!("p99 latency {} ms", format::ms(l.p99)),
            &format!("p95 latency {} ms", format::ms(l.p95)),
            &errors,
            "status outside 200-399",
            "latency (ms)",
            "throughput (req/s)",
            "requested rate (500 req/s)",
            "http_req_duration: p(95)<40ms (40 ms)",
            "the host was busy",
        ],
    );
    // Each threshold with its verdict and its observed value in its unit; the fixture has both.
    let words: Vec<&str> = r
        .thresholds
        .iter()
        .map(|t| verdict_word(t.status))
        .collect();
    assert!(
        words.contains(&"PASS") && words.contains(&"FAIL"),
        "{words:?}"
    );
    for (t, word) in r.thresholds.iter().zip(&words) {
        let observed = plumb_report::thresholds::observed(&t.expression, t.observed.unwrap());
        assert_text(&o, &[&format!("{word} {} {observed}", t.expression)]);
    }
    assert_text(&o, &["FAIL http_req_failed: rate<0.001 0.56%"]);
    let passed = words.iter().filter(|w| **w == "PASS").count();
    assert_text(&o, &[&format!("thresholds {passed} / 3 passed")]);
    // The percentile axis in nines, and no tick at the maximum divided by four.
    for tick in [">p50<", ">p90<", ">p99<", ">p99.9<"] {
        assert!(o.html.contains(tick), "{tick}");
    }
    assert!(o.html.contains("class=\"goal\""), "a goal line is drawn");
}

/// Two loads compared, the candidate 30% slower.
fn load_table(
    base: &plumb_schema::load::LoadResult,
    cand: &plumb_schema::load::LoadResult,
) -> ComparisonTable {
    let settings = CompareSettings {
        tolerance: 0.05,
        ..CompareSettings::default()
    };
    ComparisonTable {
        baseline: vec!["main (018c1d2e3f40, commit 1a2b3c4d)".into()],
        candidate: vec!["018c1d2e3f99".into()],
        tolerance: 0.05,
        confidence: settings.confidence,
        comparison: plumb_compare::compare_load(&[base], &[cand], &settings),
        thresholds: vec![ThresholdRow {
            expression: "http_req_duration: p(95)<40ms".into(),
            baseline: Some(base.summary.latency_ms.p95),
            achieved: Some(cand.summary.latency_ms.p95),
            status: plumb_stats::ThresholdStatus::Passed,
        }],
        no_data: plumb_stats::NoData::default(),
    }
}

#[test]
fn a_load_comparison_overlays_both_runs_on_shared_axes() {
    let (base, cand) = (fixtures::load(1.0), fixtures::load(1.3));
    let table = load_table(&base, &cand);
    let entries = [
        entry(ReportRun::Load("018c1d2e3f40", &base), "main", "1a2b3c4d"),
        entry(
            ReportRun::Load("018c1d2e3f99", &cand),
            "feature",
            "5e6f7a8b",
        ),
    ];
    let o = open("load-compare", &html::report(&entries, Some(&table)));
    assert_charts(&o, &["spectrum", "latency", "throughput"]);
    assert_text(
        &o,
        &[
            "Comparison",
            "Thresholds before and after",
            "baseline main @ 1a2b3c4d",
            "candidate feature @ 5e6f7a8b",
            "Baseline and candidate on shared axes",
        ],
    );
    for row in &table.comparison.rows {
        let cells = plumb_report::compare::row_cells(row);
        assert_text(
            &o,
            &[&format!(
                "{} {} {} {}",
                cells[0], cells[1], cells[2], cells[3]
            )],
        );
        assert_text(&o, &[&plumb_report::compare::verdict_text(row)]);
    }
    let comparison = &o.html[..o.html.find("class=\"run load\"").unwrap()];
    let spectrum = &comparison[comparison.find("class=\"chart spectrum\"").unwrap()..];
    let spectrum = &spectrum[..spectrum.find("</figure>").unwrap()];
    assert_eq!(
        spectrum.matches("<polyline").count(),
        2,
        "both runs on one spectrum"
    );
    assert!(
        spectrum.contains("stroke-dasharray"),
        "the baseline is dashed"
    );
    assert!(comparison.contains("class=\"card "), "cards of the changes");
}

#[test]
fn a_bench_report_puts_every_command_on_one_axis() {
    let r = fixtures::bench(1.0);
    let o = open(
        "bench",
        &html::report(
            &[entry(
                ReportRun::Bench("018c1d2e3f41", &r),
                "make",
                "1a2b3c4d",
            )],
            None,
        ),
    );
    assert_charts(&o, &["distribution"]);
    assert_eq!(o.html.matches("class=\"box\"").count(), 2);
    assert_eq!(o.html.matches("class=\"point\"").count(), 40);
    let build = r.benchmarks[0].stats.wall.median_seconds * 1e3;
    assert_text(
        &o,
        &[
            &format!("build {} ms fastest", format::ms(build)),
            "2.50× the fastest",
            "wall time (ms)",
            "build (20 runs)",
            "median mean σ min max",
        ],
    );
}

#[test]
fn a_bench_comparison_shows_both_sides_row_by_row() {
    let (base, cand) = (fixtures::bench(1.0), fixtures::bench(1.2));
    let settings = CompareSettings {
        tolerance: 0.05,
        ..CompareSettings::default()
    };
    let table = ComparisonTable {
        baseline: vec!["main".into()],
        candidate: vec!["feature".into()],
        tolerance: 0.05,
        confidence: settings.confidence,
        comparison: plumb_compare::compare_bench(&[&base], &[&cand], &settings),
        thresholds: vec![],
        no_data: plumb_stats::NoData::default(),
    };
    let entries = [
        entry(ReportRun::Bench("a", &base), "main", "1a2b3c4d"),
        entry(ReportRun::Bench("b", &cand), "feature", "5e6f7a8b"),
    ];
    let o = open("bench-compare", &html::report(&entries, Some(&table)));
    assert_text(
        &o,
        &[
            "build (baseline) (20 runs)",
            "build (candidate) (20 runs)",
            "regressed",
            "+20.0%",
        ],
    );
}

#[test]
fn a_profile_report_shows_hot_functions_cpu_and_memory() {
    let r = fixtures::profile();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1200 120\"><rect width=\"1200\" height=\"20\" y=\"100\" fill=\"#e9573f\"/><rect width=\"840\" height=\"20\" y=\"80\" fill=\"#f0a33a\"/></svg>";
    let o = open(
        "profile",
        &html::report(
            &[entry(
                ReportRun::Profile("018c1d2e3f42", &r, Some(svg)),
                "server",
                "1a2b3c4d",
            )],
            None,
        ),
    );
    assert_charts(&o, &["cpu", "memory"]);
    assert_text(
        &o,
        &[
            "Hot functions",
            "orders::lookup 70.1%",
            "CPU (% of a core)",
            "resident memory (MiB)",
            "possible leak",
            "Flamegraph",
        ],
    );
}

#[test]
fn a_capacity_report_shows_the_steps_and_where_it_broke() {
    let r = fixtures::capacity();
    let o = open(
        "capacity",
        &html::report(
            &[entry(
                ReportRun::Capacity("018c1d2e3f43", &r),
                "cap",
                "1a2b3c4d",
            )],
            None,
        ),
    );
    assert_charts(&o, &["capacity", "achieved"]);
    assert_text(
        &o,
        &[
            "sustained rate 400.0/s",
            "failing rate 566.0/s",
            "offered rate (req/s)",
            "p(99) above the goal",
        ],
    );
}

#[test]
fn several_runs_show_the_trend_of_each_metric_by_name_and_commit() {
    let runs: Vec<_> = [1.0, 1.1, 0.9, 1.4].map(fixtures::load).into();
    let entries: Vec<Entry<'_>> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            entry(
                ReportRun::Load("x", r),
                &format!("run{i}"),
                &format!("c0mm1t{i}"),
            )
        })
        .collect();
    let o = open("trend", &html::report(&entries, None));
    assert_charts(&o, &["trend-latency", "trend-throughput", "trend-errors"]);
    assert_text(
        &o,
        &["Trend over 4 load runs", "run0 @ c0mm1t0", "run3 @ c0mm1t3"],
    );
}
