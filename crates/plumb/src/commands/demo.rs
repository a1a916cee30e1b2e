//! `plumb demo`: the whole loop on the embedded target, with no setup. Goals; what a closed-model
//! tool would report (the stall hides itself); the baseline on a schedule (the goal fails); a
//! planted fix (the stall removed); the run after it; the before/after table with its verdicts.
//! Nothing is saved to the ledger: the demo's runs are compared in memory.

use crate::commands::load;
use crate::exit::Outcome;
use anyhow::Context;
use plumb_cli::{DemoArgs, LoadPlan, NoData, OutputFormat};
use plumb_load::{LoadModel, LoadSettings};
use plumb_schema::load::LoadResult;
use plumb_schema::plan::{PlanRunResult, PlanStep, PLAN_RUN_SCHEMA_VERSION};
use plumb_stats::Threshold;
use plumb_target::{Latency, Stall, TargetSettings};
use std::time::Duration;

/// The demo's goals.
const GOALS: [&str; 2] = ["http_req_duration: p(99)<100ms", "http_req_failed: rate<1%"];

/// The baseline's rate at most: enough requests for a p99 in each second, and light enough that
/// a busy machine, not the target, does not decide the figures.
const MAX_RATE: f64 = 500.0;

/// Run `plumb demo`.
pub fn run(args: DemoArgs) -> anyhow::Result<Outcome> {
    let phase = args.phase()?;
    let goals: Vec<Threshold> = GOALS
        .iter()
        .map(|g| Threshold::parse(g))
        .collect::<Result<_, _>>()?;
    let stalling = plumb_target::spawn(target(true), "127.0.0.1:0".parse()?, 1)
        .context("cannot start the embedded target on 127.0.0.1")?;
    let url = stalling.url("/api/orders");
    let stop = crate::interrupt::stop();
    say(&format!(
        "plumb demo: the embedded target at {url} answers in 1-3 ms, but stalls 200 ms every second.\n\
         The goals: {}.\n\n\
         1/4  Closed model, 20 connections sending back to back (what wrk and oha measure).\n\n",
        GOALS.join(", ")
    ))?;
    let closed_model = LoadModel::Closed { connections: 20 };
    let closed = load::execute(
        &demo_plan(&url, closed_model, phase, &goals, args.quiet),
        &stop,
    )?;
    say(&plumb_report::load::text(&closed))?;
    // A reader that went away (`| head`) has seen all it wanted: skip the rest.
    if stop.is_stopped() || crate::output::stdout_closed() {
        return Ok(Outcome::Passed);
    }

    let rate = (closed.summary.rps / 2.0).clamp(10.0, MAX_RATE).round();
    say(&format!(
        "\n2/4  The baseline: {rate} requests/s on a schedule (open model), at most half the closed \
         model's throughput, timed from each request's intended send.\n\n"
    ))?;
    let open_model = LoadModel::Open {
        rate,
        max_connections: 1_000,
    };
    let before = load::execute(
        &demo_plan(&url, open_model, phase, &goals, args.quiet),
        &stop,
    )?;
    say(&plumb_report::load::text(&before))?;
    if stop.is_stopped() || crate::output::stdout_closed() {
        return Ok(load::outcome_of(&before, NoData::Fails));
    }

    drop(stalling);
    let fixed = plumb_target::spawn(target(false), "127.0.0.1:0".parse()?, 1)
        .context("cannot start the embedded target on 127.0.0.1")?;
    let fixed_url = fixed.url("/api/orders");
    say(&format!(
        "\n3/4  The fix: the stall removed (the target restarted without it, at {fixed_url}).\n\
         4/4  After the fix: the same {rate} requests/s.\n\n"
    ))?;
    let after = load::execute(
        &demo_plan(&fixed_url, open_model, phase, &goals, args.quiet),
        &stop,
    )?;
    say(&plumb_report::load::text(&after))?;
    say(&plumb_report::plan::text(&before_after(
        &before,
        after.clone(),
        &goals,
    )))?;
    say(&format!("{}\n", lesson(&closed, &before, &after)))?;
    Ok(load::outcome_of(&after, NoData::Fails))
}

/// Demo text on stdout (a closed pipe ends it quietly; another failure names stdout).
fn say(text: &str) -> anyhow::Result<()> {
    crate::output::stdout(text.as_bytes())
}

/// The embedded target, with its planted stall or without it.
fn target(stalls: bool) -> TargetSettings {
    TargetSettings {
        latency: Latency::Uniform(Duration::from_millis(1), Duration::from_millis(3)),
        stall: stalls.then_some(Stall {
            length: Duration::from_millis(200),
            every: Duration::from_secs(1),
        }),
        error_rate: 0.0,
        body_size: 1024,
    }
}

fn demo_plan(
    url: &str,
    model: LoadModel,
    duration: Duration,
    goals: &[Threshold],
    quiet: bool,
) -> LoadPlan {
    let mut settings = LoadSettings::new(url);
    settings.model = model;
    settings.duration = Some(duration);
    settings.threads = 1;
    LoadPlan {
        settings,
        thresholds: goals.to_vec(),
        abort_on_fail: false,
        threshold_window: None,
        dry_run: false,
        no_data: NoData::Fails,
        output: OutputFormat::Text,
        json: None,
        quiet,
        watch: None,
        coordinator: None,
    }
}

/// The after run against the baseline, as `plumb run` shows it.
fn before_after(before: &LoadResult, after: LoadResult, goals: &[Threshold]) -> PlanRunResult {
    let settings = plumb_compare::CompareSettings::default();
    let mut comparison = plumb_compare::compare_load(&[before], &[&after], &settings);
    // The fixed target listens on a port of its own: that difference is the demo's, not the load's.
    comparison.warnings.retain(|w| !w.contains(" URL "));
    let table = plumb_compare::before_after(
        &comparison,
        goals,
        &[before],
        &after,
        (
            "the baseline (step 2)".to_owned(),
            "after the fix (step 4)".to_owned(),
        ),
        settings.tolerance,
    );
    let passed = load::outcome_of(&after, NoData::Fails) == Outcome::Passed;
    PlanRunResult {
        schema_version: PLAN_RUN_SCHEMA_VERSION,
        plumb_version: env!("CARGO_PKG_VERSION").to_owned(),
        plan: "demo".to_owned(),
        file: String::new(),
        scenario: "orders".to_owned(),
        preset: None,
        steps: vec![PlanStep {
            label: "after the fix".to_owned(),
            factor: 1.0,
            level: after.summary.requested_rps.unwrap_or(after.summary.rps),
            goals_passed: passed,
            run_id: None,
            result: Box::new(after),
        }],
        goals_passed: passed,
        before_after: Some(table),
        stress: None,
        spike: None,
        soak: None,
        warnings: Vec::new(),
    }
}

fn lesson(closed: &LoadResult, before: &LoadResult, after: &LoadResult) -> String {
    format!(
        "\nWhat this shows: the closed model reports p99 {:.1} ms. Its connections stop sending while \
         they wait out a stall, so only a handful of requests ever see one: the stall hides itself \
         (coordinated omission), and a tool that measures this way passes the goal. On a schedule, \
         requests keep arriving during the stall, as real users' do: p99 from each request's \
         intended send time is {:.1} ms, and the goal fails. With the stall removed it is {:.1} ms. \
         On your own service: `plumb init URL` writes a plan with goals, `plumb run` measures the \
         baseline, and `plumb run` again after a change prints this table against it.",
        closed.summary.latency_ms.p99, before.summary.latency_ms.p99, after.summary.latency_ms.p99
    )
}
