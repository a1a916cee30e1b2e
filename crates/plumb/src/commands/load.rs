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
    let save = args.save.clone();
    let db = args.db.clone();
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
    crate::save::save(&save, RunResult::Load(Box::new(result.clone())), started);
    emit(&plan, json.as_ref(), &result)?;
    Ok(outcome_of(&result, plan.no_data))
}

/// Run the plan's load test and evaluate its thresholds; shared with `plumb demo`.
pub fn execute(plan: &LoadPlan, stop: &Stop) -> anyhow::Result<LoadResult> {
    let abort_on = plan.abort_on_fail.then_some(plan.thresholds.as_slice());
    let watching = plan.watch.clone().map(Watching::start).transpose()?;
    let mut progress = LoadProgress::new(plan.planned(), plan.quiet, abort_on);
    let probe = NoiseProbe::start();
    let report = plumb_load::run(&plan.settings, &mut progress, stop.signal());
    let host_noise = probe.finish();
    progress.finish();
    let server = watching.map(Watching::stop);
    let report = report?;
    let outcomes = report.evaluate(&plan.thresholds);
    let mut result = report.to_result(&plan.settings, outcomes);
    result.server = server.map(|s| crate::watch::per_request(s, result.summary.requests));
    result.host_noise = Some(host_noise);
    let no_data = plan.no_data_warnings(result.thresholds.iter().map(|t| t.status));
    result.warnings.extend(no_data);
    Ok(result)
}

/// Write `--json` (stdout for `-`, then the summary goes to stderr) and print the result in the
/// chosen format. A file that cannot be written does not keep the summary from printing.
fn emit(plan: &LoadPlan, json: Option<&Destination>, result: &LoadResult) -> anyhow::Result<()> {
    let written = json.map_or(Ok(()), |d| {
        d.write(plumb_report::load::json(result).as_bytes())
    });
    let text = match plan.output {
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

/// Failed when any threshold failed (or had no data, unless `--allow-no-data`) or the run was
/// aborted by one.
pub fn outcome_of(result: &LoadResult, no_data: plumb_cli::NoData) -> Outcome {
    let aborted_by_threshold = result
        .stop_reason
        .as_deref()
        .is_some_and(|r| r.contains("--abort-on-fail"));
    let failed = |t: &plumb_schema::load::ThresholdOutcome| t.status.fails(no_data);
    if aborted_by_threshold || result.thresholds.iter().any(failed) {
        Outcome::ThresholdFailed
    } else {
        Outcome::Passed
    }
}
