//! `plumb page URL`: resolve flags, check the output files, load the page N times in a fresh
//! headless Chromium each (`plumb_page::run`), judge the thresholds over the loads, then save to
//! the ledger, write `--json` and `--har`, and print.

use crate::exit::Outcome;
use crate::output::{self, Destination};
use plumb_cli::{PageArgs, PageFormat};
use plumb_ledger::RunResult;
use plumb_schema::page::{PageResult, PageRun, PageThreshold};
use plumb_stats::{NoData, Threshold};
use std::sync::atomic::Ordering;

/// Run `plumb page`.
pub fn run(args: PageArgs) -> anyhow::Result<Outcome> {
    let settings = args.resolve()?;
    let thresholds = plumb_cli::parse_thresholds(&args.thresholds)?;
    let no_data = plumb_cli::no_data_policy(args.allow_no_data);
    let check = |flag, path: &Option<std::path::PathBuf>| {
        path.as_deref()
            .map(|p| Destination::check(flag, p, false))
            .transpose()
    };
    let (json, har) = (check("--json", &args.json)?, check("--har", &args.har)?);
    let stop = crate::interrupt::stop();
    let flag = stop.flag();
    let started = std::time::SystemTime::now();
    let started_at = humantime::format_rfc3339_seconds(started).to_string();
    output::log(&format!(
        "plumb: loading {} {} time(s), each in a fresh browser",
        settings.url, settings.runs
    ));
    let mut progress = |index: usize, run: &PageRun| output::log(&progress_line(index, run));
    let mut result =
        plumb_page::run(&settings, &started_at, &flag, &mut progress).map_err(|e| with_hint(&e))?;
    result.interrupted |= flag.load(Ordering::SeqCst);
    result.thresholds = judge(&thresholds, &result);
    for warning in plumb_cli::no_data_warnings(
        &thresholds,
        result.thresholds.iter().map(|t| t.status),
        no_data,
    ) {
        output::log(&format!("warning: {warning}"));
    }
    crate::save::save(
        &args.save,
        RunResult::Page(Box::new(result.clone())),
        started,
    );
    finish(&args, &result, json.as_ref(), har.as_ref())?;
    Ok(outcome(&result, no_data))
}

fn with_hint(error: &plumb_page::PageError) -> anyhow::Error {
    match error.hint() {
        Some(hint) => anyhow::anyhow!("{error}\nhint: {hint}"),
        None => anyhow::anyhow!("{error}"),
    }
}

/// `plumb: load 2: LCP 1,234 ms, FCP 456 ms, CLS 0.012, TBT 80 ms`.
fn progress_line(index: usize, run: &PageRun) -> String {
    let opt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0} ms"));
    format!(
        "plumb: load {}: LCP {}, FCP {}, CLS {:.3}, TBT {:.0} ms, {} requests",
        index + 1,
        opt(run.lcp_ms),
        opt(run.fcp_ms),
        run.cls,
        run.tbt_ms,
        run.weight.requests
    )
}

/// Every threshold over the loads, as the result records it.
fn judge(thresholds: &[Threshold], result: &PageResult) -> Vec<PageThreshold> {
    plumb_compare::check_page(thresholds, result, None)
        .into_iter()
        .map(|t| PageThreshold {
            expression: t.expression,
            status: t.status,
            observed: t.observed,
        })
        .collect()
}

fn finish(
    args: &PageArgs,
    result: &PageResult,
    json: Option<&Destination>,
    har: Option<&Destination>,
) -> anyhow::Result<()> {
    let pretty = serde_json::to_string_pretty(result)? + "\n";
    let json_written = json.map_or(Ok(()), |d| d.write(pretty.as_bytes()));
    let har_text = serde_json::to_string_pretty(&plumb_page::har::har(result))? + "\n";
    let har_written = har.map_or(Ok(()), |d| d.write(har_text.as_bytes()));
    let text = match args.output {
        PageFormat::Text => plumb_report::page::text(result),
        PageFormat::Markdown => plumb_report::page::markdown(result),
        PageFormat::Json => pretty,
        PageFormat::Html => {
            plumb_report::html::html(&[plumb_report::html::ReportRun::Page("page", result)], None)
        }
    };
    output::stdout(text.as_bytes())?;
    json_written?;
    har_written
}

/// A failed threshold (or one with no data, unless `--allow-no-data`) fails the run.
fn outcome(result: &PageResult, no_data: NoData) -> Outcome {
    if result.thresholds.iter().any(|t| t.status.fails(no_data)) {
        Outcome::ThresholdFailed
    } else {
        Outcome::Passed
    }
}
