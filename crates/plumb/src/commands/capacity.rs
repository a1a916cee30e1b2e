//! `plumb capacity URL --goal GOAL`: run the steps `plumb_capacity::Search` asks for, each a
//! steady open-model load, hand their seconds back to be judged, and print the table and the
//! headline. Every figure and verdict comes from `plumb_capacity`.

use crate::exit::Outcome;
use crate::output::{self, Destination};
use plumb_capacity::{judge_step, Goal, ResultContext, Search, SearchLimits, StepRun};
use plumb_cli::{CapacityArgs, OutputFormat};
use plumb_schema::capacity::{CapacityResult, CapacityStep};
use std::time::{Duration, SystemTime};

/// `plumb capacity SCENARIO`: the URL, method and headers of the plan's load scenario, and its
/// first latency goal when `--goal` is not given. A URL is left as it is.
fn with_scenario(mut args: CapacityArgs) -> anyhow::Result<CapacityArgs> {
    if args.url.contains("://") {
        return Ok(args);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let path = plumb_cli::plan::locate(args.plan.as_deref(), &cwd).ok_or_else(|| {
        anyhow::anyhow!(
            "'{}' is not a URL, and there is no plan file (plumb.toml) to find a scenario of that name in\nhint: give an http:// URL, or write a plan with `plumb init URL`",
            args.url
        )
    })?;
    let plan = plumb_cli::plan::Plan::load(&path)?;
    let names: Vec<&str> = plan
        .scenarios
        .iter()
        .filter(|s| s.is_load())
        .map(|s| s.name.as_str())
        .collect();
    let scenario = plan
        .scenario(&args.url)
        .filter(|s| s.is_load())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no load scenario called '{}'\nhint: the plan's load scenarios are: {}",
                path.display(),
                args.url,
                names.join(", ")
            )
        })?;
    if scenario.args.iter().any(|a| a.flag == "--flow") {
        anyhow::bail!(
            "{}: scenario '{}' runs flows, and plumb capacity searches the rate of one URL\nhint: give capacity the URL of the flow's heaviest step, or run `plumb run stress` on the scenario",
            path.display(),
            scenario.name
        );
    }
    for arg in &scenario.args {
        let value = arg.value.clone().unwrap_or_default();
        match arg.flag {
            "" => args.url = value,
            "--method" => args.method = value,
            "--header" => args.headers.push(value),
            "--threshold" if args.goal.is_none() => {
                let latency = plumb_stats::Threshold::parse(&value)
                    .is_ok_and(|t| t.metric == plumb_stats::Metric::HttpReqDuration);
                if latency {
                    args.goal = Some(value);
                }
            }
            _ => {}
        }
    }
    Ok(args)
}

/// Run `plumb capacity`.
pub fn run(args: CapacityArgs) -> anyhow::Result<Outcome> {
    let args = with_scenario(args)?;
    args.check()?;
    let goal = args.goal.as_deref().ok_or_else(|| {
        anyhow::anyhow!(
            "--goal is needed: what every step must meet\nhint: e.g. --goal 'p(99)<250ms'"
        )
    })?;
    let goal = Goal::parse(goal, args.max_errors)?;
    let (method, headers) = args.request()?;
    let json = args
        .json
        .as_deref()
        .map(|path| Destination::check("--json", path, false))
        .transpose()?;
    let started = SystemTime::now();
    let stop = crate::interrupt::stop();
    let mut search = Search::new(SearchLimits {
        start: args.start,
        max_rate: args.max_rate,
        min_rate: 1.0,
        precision: args.precision,
        max_steps: args.max_steps,
    });
    output::log(&format!(
        "plumb: searching the rate {} sustains at {} ({} s settle + {} s measured per step)",
        args.url,
        goal.expression(),
        args.settle.as_secs_f64(),
        args.measure.as_secs()
    ));
    while let Some(next) = search.next_step() {
        let step = run_step(&args, (&method, &headers), next, &goal, &stop)?;
        output::log(&progress_line(search.steps().len() + 1, &step));
        search.record(step);
        if let Some(reason) = stop.reason() {
            search.stop(&format!("{reason}: stopped before the search ended"));
        }
    }
    let result = plumb_capacity::summarize(
        &search,
        &goal,
        ResultContext {
            url: args.url.clone(),
            started_at: humantime::format_rfc3339_seconds(started).to_string(),
            settle_s: args.settle.as_secs_f64(),
            measure_s: args.measure.as_secs() as f64,
            interrupted: stop.reason().is_some(),
        },
    );
    let saved = plumb_ledger::RunResult::Capacity(Box::new(result.clone()));
    crate::save::save(&args.save, saved, started);
    finish(&args, &result, json.as_ref())?;
    Ok(outcome(&result))
}

/// One steady step: settle, then the measured seconds.
fn run_step(
    args: &CapacityArgs,
    (method, headers): (&str, &[(String, String)]),
    next: plumb_capacity::Next,
    goal: &Goal,
    stop: &crate::interrupt::Stop,
) -> anyhow::Result<CapacityStep> {
    let mut settings = plumb_load::LoadSettings::new(&args.url);
    settings.method = method.to_string();
    settings.headers = headers.to_vec();
    settings.timeout = args.timeout;
    if let Some(threads) = args.threads {
        settings.threads = usize::from(threads);
    }
    settings.model = plumb_load::LoadModel::Open {
        rate: next.rate,
        max_connections: args.max_connections,
    };
    let settle = Duration::from_secs(args.settle.as_secs_f64().ceil() as u64);
    settings.duration = Some(settle + Duration::from_secs(args.measure.as_secs()));
    let report = plumb_load::run(&settings, &mut plumb_load::Unobserved, stop.signal())?;
    let result = report.to_result(&settings, Vec::new());
    let run = StepRun {
        rate: next.rate,
        confirmation: next.confirmation,
        windows: &result.timeseries,
        settle: settle.as_secs() as usize,
        generator_saturated: result.summary.generator.saturated,
    };
    let seed = 0x0070_6c75_6d62 ^ next.rate.to_bits();
    Ok(judge_step(&run, goal, seed))
}

fn progress_line(number: usize, step: &CapacityStep) -> String {
    let kind = if step.confirmation {
        " (confirmation)"
    } else {
        ""
    };
    format!(
        "plumb: step {number}: {} req/s{kind}: {}, {}",
        plumb_capacity::rate_text(step.rate),
        step.verdict,
        step.reason
    )
}

fn finish(
    args: &CapacityArgs,
    result: &CapacityResult,
    json: Option<&Destination>,
) -> anyhow::Result<()> {
    let pretty = serde_json::to_string_pretty(result)? + "\n";
    let written = json.map_or(Ok(()), |d| d.write(pretty.as_bytes()));
    let text = match args.output {
        OutputFormat::Text => plumb_report::capacity::text(result),
        OutputFormat::Markdown => plumb_report::capacity::markdown(result),
        OutputFormat::Json => pretty,
    };
    output::stdout(text.as_bytes())?;
    written
}

/// Passed when a rate was sustained; a threshold failure when no step met the goal.
fn outcome(result: &CapacityResult) -> Outcome {
    match result.sustained_rps {
        Some(_) => Outcome::Passed,
        None => Outcome::ThresholdFailed,
    }
}
