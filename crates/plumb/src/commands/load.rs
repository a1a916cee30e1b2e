//! `plumb load`: resolve flags, run the engine with live progress, render and write the result.

use crate::exit::Outcome;
use crate::progress::LoadProgress;
use crate::watch::Watching;
use anyhow::Context;
use plumb_cli::{LoadArgs, LoadPlan, OutputFormat};
use plumb_ledger::RunResult;
use plumb_load::StopSignal;
use plumb_schema::load::LoadResult;
use std::io::Write;

/// Run `plumb load`.
pub fn run(args: LoadArgs) -> anyhow::Result<Outcome> {
    let save = args.save.clone();
    let plan = args.resolve()?;
    let stop = crate::interrupt::stop_on_ctrl_c();
    let started = std::time::SystemTime::now();
    let result = execute(&plan, &stop)?;
    emit(&plan, &result)?;
    crate::save::save(&save, RunResult::Load(Box::new(result.clone())), started);
    Ok(outcome_of(&result, plan.no_data))
}

/// Run the plan's load test and evaluate its thresholds; shared with `plumb demo`.
pub fn execute(plan: &LoadPlan, stop: &StopSignal) -> anyhow::Result<LoadResult> {
    let abort_on = plan.abort_on_fail.then_some(plan.thresholds.as_slice());
    let watching = plan.watch.map(Watching::start).transpose()?;
    let mut progress = LoadProgress::new(plan.planned(), plan.quiet, abort_on);
    let report = plumb_load::run(&plan.settings, &mut progress, stop);
    progress.finish();
    let server = watching.map(Watching::stop);
    let report = report?;
    let outcomes = report.evaluate(&plan.thresholds);
    let mut result = report.to_result(&plan.settings, outcomes);
    result.server = server;
    let no_data = plan.no_data_warnings(result.thresholds.iter().map(|t| t.status.as_str()));
    result.warnings.extend(no_data);
    Ok(result)
}

/// Print the result on stdout in the chosen format, and write `--json FILE`.
pub fn emit(plan: &LoadPlan, result: &LoadResult) -> anyhow::Result<()> {
    if let Some(path) = &plan.json {
        std::fs::write(path, plumb_report::load::json(result))
            .with_context(|| format!("cannot write the JSON result to '{}'", path.display()))?;
    }
    let text = match plan.output {
        OutputFormat::Text => plumb_report::load::text(result),
        OutputFormat::Json => plumb_report::load::json(result),
        OutputFormat::Markdown => plumb_report::load::markdown(result),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// Failed when any threshold failed (or had no data, unless `--allow-no-data`) or the run was
/// aborted by one.
pub fn outcome_of(result: &LoadResult, no_data: plumb_cli::NoData) -> Outcome {
    let aborted_by_threshold = result
        .stop_reason
        .as_deref()
        .is_some_and(|r| r.contains("--abort-on-fail"));
    let failed = |t: &plumb_schema::load::ThresholdOutcome| {
        plumb_stats::ThresholdStatus::recorded_fails(&t.status, no_data)
    };
    if aborted_by_threshold || result.thresholds.iter().any(failed) {
        Outcome::ThresholdFailed
    } else {
        Outcome::Passed
    }
}
