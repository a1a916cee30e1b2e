//! `plumb load`: resolve flags, check the output files, run the engine with live progress, then
//! save the result to the ledger, write `--json` and print it.

use crate::exit::Outcome;
use crate::interrupt::Stop;
use crate::noise::NoiseProbe;
use crate::output::{self, Destination};
use crate::progress::LoadProgress;
use crate::watch::Watching;
use plumb_cli::{LoadArgs, LoadPlan, OutputFormat};
use plumb_ledger::RunResult;
use plumb_schema::load::LoadResult;

/// Run `plumb load`.
pub fn run(args: LoadArgs) -> anyhow::Result<Outcome> {
    if args.dry_run {
        return super::dry_run::run(&args.resolve()?);
    }
    let measured = measure(args, true)?;
    Ok(outcome_of(&measured.result, measured.plan.no_data))
}

/// A finished `plumb load`: its resolved plan, its result, and its ledger run when saved.
pub struct Measured {
    /// The resolved flags.
    pub plan: LoadPlan,
    /// The result.
    pub result: LoadResult,
    /// The ledger run it was saved as.
    pub run_id: Option<String>,
}

/// Resolve the flags, check the output files, run, save to the ledger, write `--json`, and print
/// the result when `print` (else the caller prints it); shared with `plumb run`.
pub fn measure(args: LoadArgs, print: bool) -> anyhow::Result<Measured> {
    let save = args.save.clone();
    let db = args.db.clone();
    let remote_write = args.prometheus_rw.clone();
    let per_second = args.per_second;
    let plan = args.resolve()?;
    let json = plan
        .json
        .as_deref()
        .map(|path| Destination::check("--json", path, true))
        .transpose()?;
    let stop = crate::interrupt::stop();
    let started = std::time::SystemTime::now();
    let db = super::db::watch_load(db)?;
    let mut result = execute(&plan, &stop)?;
    super::db::attach_to_load(db, &plan, &mut result);
    let run_id = crate::save::save(&save, RunResult::Load(Box::new(result.clone())), started);
    if let Some(url) = &remote_write {
        super::monitor::push_load(url, &result, run_id.as_deref());
    }
    if print {
        emit(&plan, json.as_ref(), &result)?;
        if per_second {
            emit_per_second(&plan, json.as_ref(), &result)?;
        }
    } else if let Some(json) = &json {
        json.write(plumb_report::load::json(&result).as_bytes())?;
    }
    Ok(Measured {
        plan,
        result,
        run_id,
    })
}

/// Run the plan's load test and evaluate its thresholds; shared with `plumb demo`.
pub fn execute(plan: &LoadPlan, stop: &Stop) -> anyhow::Result<LoadResult> {
    let joined = super::coordinate::join(plan, stop)?;
    let mut settings = plan.settings.clone();
    if let Some(joined) = &joined {
        settings.start_at = Some(joined.start_at);
    }
    let watching = plan.watch.clone().map(Watching::start).transpose()?;
    let mut progress = LoadProgress::new(plan);
    let probe = NoiseProbe::start();
    let report = match &joined {
        Some(joined) => {
            let mut forwarding = super::coordinate::Forwarding {
                inner: &mut progress,
                joined,
            };
            plumb_load::run(&settings, &mut forwarding, stop.signal())
        }
        None => plumb_load::run(&settings, &mut progress, stop.signal()),
    };
    if let (Some(joined), Ok(report)) = (&joined, &report) {
        joined.done(report.interrupted());
    }
    let host_noise = probe.finish();
    let windows = progress.finish();
    let server = watching.map(Watching::stop);
    let report = report?;
    let mut outcomes = report.evaluate(&plan.thresholds);
    if let Some(windows) = windows {
        plumb_load::with_windows(&mut outcomes, windows);
    }
    let mut result = report.to_result(&plan.settings, outcomes);
    if let (Some(joined), Some(segment)) = (&joined, result.segment.as_mut()) {
        segment.clock_offset_ms = Some(joined.clock_offset_ms);
    }
    result.server = server.map(|s| crate::watch::per_request(s, result.summary.requests));
    result.host_noise = Some(host_noise);
    let no_data = plan.no_data_warnings(result.thresholds.iter().map(|t| t.status));
    result.warnings.extend(no_data);
    Ok(result)
}

/// Write `--json` (stdout for `-`, then the summary goes to stderr) and print the result in the
/// chosen format. A file that cannot be written does not keep the summary from printing.
fn emit(plan: &LoadPlan, json: Option<&Destination>, result: &LoadResult) -> anyhow::Result<()> {
    print_result(plan.output, json, result)
}

/// Write `--json`, then print in `format` (on stderr when `--json -` takes stdout); shared with
/// `plumb merge`.
pub fn print_result(
    format: OutputFormat,
    json: Option<&Destination>,
    result: &LoadResult,
) -> anyhow::Result<()> {
    let written = json.map_or(Ok(()), |d| {
        d.write(plumb_report::load::json(result).as_bytes())
    });
    let text = match format {
        OutputFormat::Text => plumb_report::load::text(result),
        OutputFormat::Json => plumb_report::load::json(result),
        OutputFormat::Markdown => plumb_report::load::markdown(result),
    };
    if json.is_some_and(Destination::is_stdout) {
        output::log(text.trim_end());
    } else {
        output::stdout(text.as_bytes())?;
    }
    written
}

/// `--per-second`: the table of every second, after the summary: on stdout beside a text summary,
/// on stderr when stdout carries JSON or Markdown.
fn emit_per_second(
    plan: &LoadPlan,
    json: Option<&Destination>,
    result: &LoadResult,
) -> anyhow::Result<()> {
    let table = plumb_report::per_second::text(result);
    if plan.output == OutputFormat::Text && !json.is_some_and(Destination::is_stdout) {
        output::stdout(table.as_bytes())?;
    } else {
        output::log(table.trim_end());
    }
    Ok(())
}

/// Failed when any threshold failed (or had no data, unless `--allow-no-data`) or the run was
/// aborted by one.
pub fn outcome_of(result: &LoadResult, no_data: plumb_cli::NoData) -> Outcome {
    // A segment that lost its coordinator ran only part of its share: not a passing run.
    let aborted_by_threshold = result
        .stop_reason
        .as_deref()
        .is_some_and(|r| r.contains("--abort-on-fail") || r.starts_with("lost the coordinator"));
    let failed = |t: &plumb_schema::load::ThresholdOutcome| t.status.fails(no_data);
    if aborted_by_threshold || result.thresholds.iter().any(failed) {
        Outcome::ThresholdFailed
    } else {
        Outcome::Passed
    }
}
