//! `plumb demo`: start the embedded target with a planted bottleneck and show what plumb sees.
//!
//! Two runs against a target that stalls 300 ms every 2 s: the closed model (what wrk reports)
//! and the open model at half that throughput, whose latency from the intended send time shows
//! the stall that the closed model hides.

use crate::commands::load;
use crate::exit::Outcome;
use anyhow::Context;
use plumb_cli::{DemoArgs, LoadPlan, NoData, OutputFormat};
use plumb_load::{LoadModel, LoadSettings};
use plumb_schema::load::LoadResult;
use plumb_target::{Latency, Stall, TargetSettings};
use std::time::Duration;

/// Run `plumb demo`.
pub fn run(args: DemoArgs) -> anyhow::Result<Outcome> {
    let phase = args.phase()?;
    let target = plumb_target::spawn(planted_bottleneck(), "127.0.0.1:0".parse()?, 1)
        .context("cannot start the embedded target on 127.0.0.1")?;
    let url = target.url("/api/orders");
    let stop = crate::interrupt::stop();
    say(&format!(
        "plumb demo: the embedded target at {url} answers in 1-3 ms, but stalls 300 ms every 2 s.\n\n\
         1/2  Closed model: 20 connections sending back to back (what wrk and oha measure).\n\n"
    ))?;
    let closed = load::execute(
        &demo_plan(
            &url,
            LoadModel::Closed { connections: 20 },
            phase,
            args.quiet,
        ),
        &stop,
    )?;
    say(&plumb_report::load::text(&closed))?;
    // A reader that went away (`| head`) has seen all it wanted: skip the second run.
    if stop.is_stopped() || crate::output::stdout_closed() {
        return Ok(Outcome::Passed);
    }

    let rate = (closed.summary.rps / 2.0).max(10.0).round();
    say(&format!(
        "\n2/2  Open model: {rate} requests/s on a schedule, half the closed model's throughput.\n\n"
    ))?;
    let open_model = LoadModel::Open {
        rate,
        max_connections: 1_000,
    };
    let open = load::execute(&demo_plan(&url, open_model, phase, args.quiet), &stop)?;
    say(&plumb_report::load::text(&open))?;
    say(&format!("{}\n", lesson(&closed, &open)))?;
    Ok(load::outcome_of(&open, NoData::Fails))
}

/// Demo text on stdout (a closed pipe ends it quietly; another failure names stdout).
fn say(text: &str) -> anyhow::Result<()> {
    crate::output::stdout(text.as_bytes())
}

fn planted_bottleneck() -> TargetSettings {
    TargetSettings {
        latency: Latency::Uniform(Duration::from_millis(1), Duration::from_millis(3)),
        stall: Some(Stall {
            length: Duration::from_millis(300),
            every: Duration::from_secs(2),
        }),
        error_rate: 0.0,
        body_size: 1024,
    }
}

fn demo_plan(url: &str, model: LoadModel, duration: Duration, quiet: bool) -> LoadPlan {
    let mut settings = LoadSettings::new(url);
    settings.model = model;
    settings.duration = Some(duration);
    settings.threads = 1;
    LoadPlan {
        settings,
        thresholds: Vec::new(),
        abort_on_fail: false,
        threshold_window: None,
        dry_run: false,
        no_data: NoData::Fails,
        output: OutputFormat::Text,
        json: None,
        quiet,
        watch: None,
    }
}

fn lesson(closed: &LoadResult, open: &LoadResult) -> String {
    format!(
        "\nWhat this shows: the closed model reports p99 {:.1} ms. Its connections stop sending while \
         they wait out a stall, so only a handful of requests ever see one: the stall hides itself \
         (coordinated omission). On a schedule, requests keep arriving during the stall, as real \
         users' do, and p99 measured from each request's intended send time is {:.1} ms. \
         Try it on your own service: `plumb load URL --rate R`.",
        closed.summary.latency_ms.p99, open.summary.latency_ms.p99
    )
}
