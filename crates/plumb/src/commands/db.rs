//! `plumb db`, `plumb db explain` and `plumb db reset-stats`: connect, run the plumb-db engine,
//! write `--json` if asked, then print the chosen format on stdout. Errors carry their hint
//! after the cause.

use crate::exit::Outcome;
use crate::output::{self, Destination};
use plumb_cli::{DbAction, DbArgs, ExplainArgs, OutputFormat, ResetStatsArgs};
use plumb_db::{Access, DbError, Session};
use serde::Serialize;
use std::path::PathBuf;

/// Run `plumb db`.
pub fn run(args: DbArgs) -> anyhow::Result<Outcome> {
    match &args.action {
        Some(DbAction::Explain(explain)) => run_explain(explain),
        Some(DbAction::ResetStats(reset)) => run_reset(reset),
        None => run_report(&args),
    }
}

/// A plumb-db error as the binary prints it: the cause, then `hint:`.
pub fn failure(error: DbError) -> anyhow::Error {
    anyhow::anyhow!("{error}\nhint: {}", error.hint())
}

fn run_report(args: &DbArgs) -> anyhow::Result<Outcome> {
    let json = check_json(&args.json)?;
    let session = connect(args.connection.options(args.url.clone(), Access::ReadOnly))?;
    output::log(&format!(
        "plumb: reading the statistics of {} (read-only)",
        session.target()
    ));
    let report = plumb_db::report(&session, &args.report_settings()).map_err(failure)?;
    let rendered = match args.output {
        OutputFormat::Text => plumb_report::db::render_report_text(&report),
        OutputFormat::Markdown => plumb_report::db::render_report_markdown(&report),
        OutputFormat::Json => to_json(&report)?,
    };
    finish(json, &report, &rendered)
}

fn run_explain(args: &ExplainArgs) -> anyhow::Result<Outcome> {
    let json = check_json(&args.json)?;
    let (url, settings) = args.resolve();
    let session = connect(args.connection.options(url, Access::ReadOnly))?;
    let result = plumb_db::explain(&session, &settings).map_err(failure)?;
    let rendered = match args.output {
        OutputFormat::Text => plumb_report::db::render_explain_text(&result),
        OutputFormat::Markdown => plumb_report::db::render_explain_markdown(&result),
        OutputFormat::Json => to_json(&result)?,
    };
    finish(json, &result, &rendered)
}

fn run_reset(args: &ResetStatsArgs) -> anyhow::Result<Outcome> {
    args.confirmed().map_err(anyhow::Error::msg)?;
    let session = connect(args.connection.options(args.url.clone(), Access::ReadWrite))?;
    plumb_db::reset_stats(&session).map_err(failure)?;
    output::log(&format!(
        "plumb: pg_stat_statements reset on {}",
        session.target()
    ));
    Ok(Outcome::Passed)
}

fn connect(options: plumb_db::ConnectOptions) -> anyhow::Result<Session> {
    Session::connect(&options).map_err(failure)
}

fn check_json(path: &Option<PathBuf>) -> anyhow::Result<Option<Destination>> {
    path.as_deref()
        .map(|p| Destination::check("--json", p, true))
        .transpose()
}

fn to_json(value: &impl Serialize) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// Write `--json`, then stdout; a file that fails does not hide the result.
fn finish(
    json: Option<Destination>,
    value: &impl Serialize,
    rendered: &str,
) -> anyhow::Result<Outcome> {
    let written = json.map_or(Ok(()), |d| d.write(to_json(value)?.as_bytes()));
    output::stdout(rendered.as_bytes())?;
    written?;
    Ok(Outcome::Passed)
}

/// `plumb load --db URL`: connect and take the first snapshot before the run (a database that
/// cannot be watched stops the run before it starts, with the fix).
pub fn watch_load(url: Option<String>) -> anyhow::Result<Option<plumb_db::LoadWatch>> {
    let Some(url) = url else {
        return Ok(None);
    };
    let options = plumb_db::ConnectOptions::new(Some(url));
    let watch = plumb_db::LoadWatch::start(&options).map_err(|e| {
        let error = failure(e);
        error.context("--db: cannot watch the database during the load")
    })?;
    Ok(Some(watch))
}

/// Take the second snapshot, attach the difference to the run, and evaluate the thresholds on
/// database figures. A database that fails now costs a warning, never the run's result.
pub fn attach_to_load(
    watch: Option<plumb_db::LoadWatch>,
    plan: &plumb_cli::LoadPlan,
    result: &mut plumb_schema::load::LoadResult,
) {
    let Some(watch) = watch else {
        return;
    };
    let latency =
        Some(result.summary.latency_ms.mean).filter(|_| result.summary.latency_ms.count > 0);
    match watch.finish(result.summary.requests, latency) {
        Ok(db) => {
            result
                .warnings
                .extend(db.notes.iter().map(|n| format!("--db: {n}")));
            result.db = Some(db);
        }
        Err(e) => result.warnings.push(format!(
            "--db: the database's figures after the run could not be read: {e} ({})",
            e.hint()
        )),
    }
    evaluate_database_thresholds(plan, result);
}

/// The thresholds on `db_*` metrics, evaluated now that the database's figures are known (the
/// engine saw no value for them); their no-data warnings are replaced.
fn evaluate_database_thresholds(
    plan: &plumb_cli::LoadPlan,
    result: &mut plumb_schema::load::LoadResult,
) {
    let (queries, time) = result.db.as_ref().map_or((None, None), |d| {
        (d.queries_per_request, d.db_time_per_request_ms)
    });
    let source = plumb_stats::WithDatabase {
        load: &NoEngineFigures,
        queries_per_request: queries,
        time_per_request_ms: time,
    };
    for (threshold, outcome) in plan.thresholds.iter().zip(result.thresholds.iter_mut()) {
        if !threshold.metric.is_database() {
            continue;
        }
        let stale = plumb_cli::no_data_warning(threshold, plan.no_data);
        result.warnings.retain(|w| *w != stale);
        let evaluation = threshold.evaluate(&source);
        outcome.status = evaluation.status;
        outcome.observed = evaluation.observed;
        if evaluation.status == plumb_stats::ThresholdStatus::NoData {
            result.warnings.push(stale);
        }
    }
}

/// The engine's figures are not needed for `db_*` metrics.
struct NoEngineFigures;

impl plumb_stats::MetricSource for NoEngineFigures {
    fn value(&self, _: plumb_stats::Metric, _: plumb_stats::Aggregation) -> Option<f64> {
        None
    }
}
