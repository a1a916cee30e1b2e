//! `plumb merge FILES...`: read every segment's JSON result, merge them with plumb-merge, judge
//! the thresholds on the merged run, then save it to the ledger (labelled `segments=N`), write
//! `--json` and print it with the usual load renderers.

use crate::exit::Outcome;
use crate::output::Destination;
use anyhow::Context;
use plumb_cli::MergeArgs;
use plumb_ledger::RunResult;
use plumb_merge::Part;
use plumb_schema::load::LoadResult;
use std::path::Path;

/// Run `plumb merge`.
pub fn run(args: MergeArgs) -> anyhow::Result<Outcome> {
    let json = args
        .json
        .as_deref()
        .map(|path| Destination::check("--json", path, true))
        .transpose()?;
    let extra = args.parsed_thresholds()?;
    let parts = args
        .files
        .iter()
        .map(|path| read(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = plumb_merge::merge(parts, &extra)
        .map_err(|e| anyhow::anyhow!("{e}\nhint: {}", e.hint()))?;
    let mut result = merged.result;
    let statuses = result.thresholds.iter().map(|t| t.status);
    let no_data = plumb_cli::no_data_warnings(&merged.thresholds, statuses, args.no_data());
    result.warnings.extend(no_data);
    let mut save = args.save.clone();
    let count = result.merged_from.as_ref().map_or(0, Vec::len);
    save.labels.push(("segments".into(), count.to_string()));
    let started = started_at(&result);
    crate::save::save(&save, RunResult::Load(Box::new(result.clone())), started);
    super::load::print_result(args.output, json.as_ref(), &result)?;
    Ok(outcome(&result, args.no_data()))
}

/// One file as a segment result; the error names the file.
fn read(path: &Path) -> anyhow::Result<Part> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("cannot read {name}\nhint: give the --json files the segments wrote")
    })?;
    let result = match RunResult::parse(&text) {
        Ok(RunResult::Load(result)) => *result,
        Ok(other) => anyhow::bail!(
            "{name} is a {} result, not a load segment\nhint: merge the results of `plumb load --segment I/N` runs",
            other.kind().as_str()
        ),
        Err(plumb_schema::run::ParseError::Newer { found, supported }) => anyhow::bail!(
            "{name} has schema version {found}, newer than the {supported} this plumb reads\nhint: merge with the plumb version that ran the segments"
        ),
        Err(plumb_schema::run::ParseError::Invalid(why)) => anyhow::bail!(
            "{name} is not a plumb result: {why}\nhint: give the JSON files `plumb load --segment I/N --json FILE` wrote (or its `-o json` stdout)"
        ),
    };
    Ok(Part { name, result })
}

/// The agreed start of the merged run, for the ledger.
fn started_at(result: &LoadResult) -> std::time::SystemTime {
    humantime::parse_rfc3339_weak(&result.started_at)
        .unwrap_or_else(|_| std::time::SystemTime::now())
}

/// Failed when a threshold failed (as `plumb load` decides) or the merged run is invalid: a
/// segment's generator was saturated, so its figures may describe plumb, not the target.
fn outcome(result: &LoadResult, no_data: plumb_cli::NoData) -> Outcome {
    if plumb_merge::is_invalid(result) {
        return Outcome::ThresholdFailed;
    }
    super::load::outcome_of(result, no_data)
}
