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
    let background = args
        .under
        .as_deref()
        .map(|name| BackgroundLoad::start(name, args.plan.as_deref()))
        .transpose()?;
    let started = std::time::SystemTime::now();
    let started_at = humantime::format_rfc3339_seconds(started).to_string();
    output::log(&format!(
        "plumb: loading {} {} time(s), each in a fresh browser",
        settings.url, settings.runs
    ));
    let mut progress = |index: usize, run: &PageRun| output::log(&progress_line(index, run));
    let measured = plumb_page::run(&settings, &started_at, &flag, &mut progress);
    // A background load that failed must not cost the page loads measured beside it.
    let under_load = background.and_then(|load| match load.finish() {
        Ok(under) => Some(under),
        Err(e) => {
            output::log(&format!(
                "warning: the background load failed, so the page run records no load: {e}"
            ));
            None
        }
    });
    let mut result = measured.map_err(|e| with_hint(&e))?;
    result.under_load = under_load;
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

/// A plan scenario's load running against the backend while the page is measured.
struct BackgroundLoad {
    scenario: String,
    stop: plumb_load::StopSignal,
    thread: std::thread::JoinHandle<Result<plumb_load::LoadReport, plumb_load::LoadError>>,
    settings: plumb_load::LoadSettings,
}

/// How long the backend load runs before the first page load.
const LOAD_SETTLE: std::time::Duration = std::time::Duration::from_secs(2);
/// The longest a background load runs (it is stopped after the last page load).
const LOAD_MAX: std::time::Duration = std::time::Duration::from_secs(3600);

impl BackgroundLoad {
    /// Start scenario `name` of the plan file, and let it settle.
    fn start(name: &str, plan: Option<&std::path::Path>) -> anyhow::Result<BackgroundLoad> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
        let path = plumb_cli::plan::locate(plan, &cwd).ok_or_else(|| {
            anyhow::anyhow!("--under {name}: there is no plan file (plumb.toml) here or above\nhint: write one with `plumb init URL`, or name it with --plan FILE")
        })?;
        let plan = plumb_cli::plan::Plan::load(&path)?;
        let scenario = plan.scenario(name).filter(|s| s.is_load()).ok_or_else(|| {
            anyhow::anyhow!("--under {name}: {} has no load scenario called '{name}'\nhint: `plumb run --list` shows its scenarios", path.display())
        })?;
        let mut settings = scenario.load_args(&scenario.args)?.resolve()?.settings;
        if settings.stages.is_empty() {
            // It runs until the last page load, however long the scenario says.
            settings.duration = Some(LOAD_MAX);
            settings.requests = None;
        }
        let stop = plumb_load::StopSignal::new();
        let (run_settings, run_stop) = (settings.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("plumb-page-load".into())
            .spawn(move || {
                plumb_load::run(&run_settings, &mut plumb_load::Unobserved, &run_stop)
            })?;
        output::log(&format!(
            "plumb: scenario {name} loads {} in the background; page loads start in {} s",
            settings.url,
            LOAD_SETTLE.as_secs()
        ));
        std::thread::sleep(LOAD_SETTLE);
        Ok(BackgroundLoad {
            scenario: name.to_owned(),
            stop,
            thread,
            settings,
        })
    }

    /// Stop the load and say what it did.
    fn finish(self) -> anyhow::Result<plumb_schema::page::PageUnderLoad> {
        let ended_early = self
            .thread
            .is_finished()
            .then(|| "it finished (its stages or -n ran out) before the page loads did".to_owned());
        self.stop.stop("the page loads are done");
        let report = self
            .thread
            .join()
            .map_err(|_| anyhow::anyhow!("the background load's thread panicked"))??;
        let result = report.to_result(&self.settings, Vec::new());
        let s = &result.summary;
        Ok(plumb_schema::page::PageUnderLoad {
            scenario: self.scenario,
            url: result.settings.url.clone(),
            requested_rps: s.requested_rps,
            achieved_rps: s.rps,
            requests: s.requests,
            latency_p95_ms: s.latency_ms.p95,
            latency_p99_ms: s.latency_ms.p99,
            error_rate: s.error_rate,
            duration_s: s.duration_s,
            ended_early,
        })
    }
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
