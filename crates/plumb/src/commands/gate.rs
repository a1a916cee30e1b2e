//! `plumb gate --baseline NAME [RUN] [--threshold EXPR]`: the CI gate. Compares the run (the latest by default) with
//! the baseline and decides the exit code: 0 passed, 1 a regression or a failed threshold (or an
//! inconclusive verdict with `--strict`), 3 a bench run whose commands failed, 2 plumb could not
//! run. Prints the comparison as Markdown for a pull-request comment, appends it to
//! `$GITHUB_STEP_SUMMARY` when that is set, and writes `--junit FILE`.

use crate::exit::Outcome;
use anyhow::Context;
use plumb_cli::{CompareFormat, GateArgs};
use plumb_compare::SavedLoadMetrics;
use plumb_ledger::{RunRecord, RunResult};
use plumb_report::compare::{ComparisonTable, ThresholdRow};
use plumb_schema::compare::{GateResult, GateThreshold, GATE_SCHEMA_VERSION};
use plumb_schema::load::LoadResult;
use plumb_stats::Threshold;
use std::io::Write;

/// Run `plumb gate`.
pub fn run(args: GateArgs) -> anyhow::Result<Outcome> {
    let junit = args
        .junit
        .as_deref()
        .map(|path| crate::output::Destination::check("--junit", path, true))
        .transpose()?;
    let mut ledger = None;
    let base = baseline_runs(&mut ledger, &args)?;
    let run = args.run.as_deref().unwrap_or("latest");
    let cand = crate::runs::find_many(&mut ledger, &args.ledger, run)?;
    let mut table = super::compare::table(&base, &cand, args.tolerance)?;
    let thresholds = args.parsed_thresholds()?;
    let rows = gate_thresholds(&thresholds, &base[0].result, &cand[0].result)?;
    let statuses = rows.iter().map(|r| r.status);
    let no_data = args.no_data();
    table
        .comparison
        .warnings
        .extend(plumb_cli::no_data_warnings(&thresholds, statuses, no_data));
    table.thresholds.extend(rows);
    table.no_data = no_data;
    let outcome = outcome(&table, &cand, args.strict);
    let verdict = describe(outcome, &table, args.strict);
    let mut markdown = plumb_report::compare::markdown(&table);
    markdown.push_str(&format!("\n**gate: {verdict}**\n"));
    if let Some(junit) = &junit {
        let seconds = measured_seconds(&cand);
        junit.write(plumb_report::junit::junit(&table, args.strict, seconds).as_bytes())?;
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        append(std::path::Path::new(&path), &markdown)?;
    }
    let printed = match args.output {
        CompareFormat::Markdown => markdown,
        CompareFormat::Text => {
            plumb_report::compare::text(&table) + &format!("\ngate: {verdict}\n")
        }
        CompareFormat::Json => gate_json(&table, outcome, verdict)?,
    };
    if junit
        .as_ref()
        .is_some_and(crate::output::Destination::is_stdout)
    {
        crate::output::log(printed.trim_end());
    } else {
        crate::output::stdout(printed.as_bytes())?;
    }
    Ok(outcome)
}

/// `--baseline`: a baseline's name or a run reference, or several runs to pool (a list, a range,
/// `name:NAME`, `label:K=V`).
fn baseline_runs(
    ledger: &mut Option<plumb_ledger::Ledger>,
    args: &GateArgs,
) -> anyhow::Result<Vec<RunRecord>> {
    let selector = args.baseline.as_str();
    let several = selector.contains(',')
        || selector.contains("..")
        || selector.starts_with("name:")
        || selector.starts_with("label:");
    if several {
        crate::runs::find_many(ledger, &args.ledger, selector)
    } else {
        Ok(vec![crate::runs::find_baseline(
            ledger,
            &args.ledger,
            selector,
        )?])
    }
}

/// How long the candidate runs measured, in seconds (the JUnit cases' time).
fn measured_seconds(runs: &[RunRecord]) -> f64 {
    runs.iter()
        .map(|r| match &r.result {
            RunResult::Load(result) => result.summary.duration_s,
            RunResult::Bench(report) => report
                .benchmarks
                .iter()
                .flat_map(|b| &b.runs)
                .map(|run| run.wall_seconds)
                .sum(),
            RunResult::Profile(report) => report.duration_secs,
            RunResult::Capacity(result) => {
                result.steps.len() as f64 * (result.settle_s.ceil() + result.measure_s)
            }
            RunResult::Page(result) => result.runs.iter().map(|run| run.load_ms / 1e3).sum(),
        })
        .sum()
}

/// The gate's versioned JSON (`plumb_schema::compare::GateResult`).
fn gate_json(table: &ComparisonTable, outcome: Outcome, verdict: &str) -> anyhow::Result<String> {
    let exit_code = crate::exit::code_for(Ok(outcome));
    let result = GateResult {
        schema_version: GATE_SCHEMA_VERSION,
        outcome: if outcome == Outcome::Passed {
            "passed"
        } else {
            "failed"
        }
        .into(),
        reason: verdict.to_owned(),
        exit_code,
        comparison: plumb_report::compare::result(table),
        thresholds: table
            .thresholds
            .iter()
            .map(|t| GateThreshold {
                expression: t.expression.clone(),
                baseline: t.baseline,
                observed: t.achieved,
                status: t.status,
            })
            .collect(),
    };
    Ok(serde_json::to_string_pretty(&result)? + "\n")
}

/// `--threshold` checked against the candidate (and, for reference, the baseline) load run.
fn gate_thresholds(
    thresholds: &[Threshold],
    base: &RunResult,
    cand: &RunResult,
) -> anyhow::Result<Vec<ThresholdRow>> {
    if thresholds.is_empty() {
        return Ok(Vec::new());
    }
    if let RunResult::Page(cand) = cand {
        let base = match base {
            RunResult::Page(base) => Some(&**base),
            _ => None,
        };
        return Ok(plumb_compare::check_page(thresholds, cand, base)
            .into_iter()
            .map(|checked| ThresholdRow {
                expression: checked.expression,
                baseline: checked.baseline,
                achieved: checked.observed,
                status: checked.status,
            })
            .collect());
    }
    let RunResult::Load(cand) = cand else {
        anyhow::bail!(
            "--threshold applies to load and page runs, and the gated run is a {} run\n\
             hint: a bench or profile run is gated by its comparison with the baseline and --tolerance",
            cand.kind().as_str()
        );
    };
    let saved = |result: &LoadResult| {
        SavedLoadMetrics::from_result(result).context("the saved run's histograms cannot be read")
    };
    let cand_values = saved(cand)?;
    let base_values = match base {
        RunResult::Load(base) => Some(saved(base)?),
        RunResult::Bench(_)
        | RunResult::Profile(_)
        | RunResult::Capacity(_)
        | RunResult::Page(_) => None,
    };
    Ok(
        plumb_compare::check_saved(thresholds, &cand_values, base_values.as_ref())
            .into_iter()
            .map(|checked| ThresholdRow {
                expression: checked.expression,
                baseline: checked.baseline,
                achieved: checked.observed,
                status: checked.status,
            })
            .collect(),
    )
}

fn outcome(table: &ComparisonTable, cand: &[RunRecord], strict: bool) -> Outcome {
    if cand.iter().any(|run| bench_failed(&run.result)) {
        Outcome::BenchmarkFailed
    } else if table.regressed() || table.threshold_failed() || (strict && table.inconclusive()) {
        Outcome::ThresholdFailed
    } else {
        Outcome::Passed
    }
}

/// A bench run in which a command exited non-zero or was killed (kept with `--ignore-failure`).
fn bench_failed(result: &RunResult) -> bool {
    let RunResult::Bench(report) = result else {
        return false;
    };
    report
        .benchmarks
        .iter()
        .flat_map(|b| &b.runs)
        .any(|r| r.exit_code != Some(0) || r.signal.is_some())
}

fn describe(outcome: Outcome, table: &ComparisonTable, strict: bool) -> &'static str {
    match outcome {
        Outcome::BenchmarkFailed => "failed (a benchmarked command failed)",
        Outcome::ThresholdFailed if table.regressed() => "failed (regression)",
        Outcome::ThresholdFailed
            if table
                .thresholds
                .iter()
                .any(|t| t.status == plumb_stats::ThresholdStatus::Failed) =>
        {
            "failed (threshold)"
        }
        Outcome::ThresholdFailed if table.threshold_failed() => "failed (threshold with no data)",
        Outcome::ThresholdFailed => "failed (inconclusive, --strict)",
        Outcome::Passed if table.inconclusive() && !strict => "passed (some verdicts inconclusive)",
        Outcome::Passed => "passed",
    }
}

fn append(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot append to $GITHUB_STEP_SUMMARY '{}'", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}
