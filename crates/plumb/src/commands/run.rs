//! `plumb run [SCENARIO|PRESET]`: run a plan's scenario (or a preset derived from its normal
//! scenario) as the `plumb load` or `plumb bench` it stands for, each run saved to the ledger
//! labelled with the plan, the scenario and the preset; judge the goals; print the before/after
//! table against the baseline. Exit codes as `plumb gate`'s.

use super::load::{self, Measured};
use crate::exit::Outcome;
use crate::output::Destination;
use plumb_cli::plan::{Arg, Plan, Preset, PresetRun, Scenario, ScenarioKind};
use plumb_cli::{OutputFormat, RunArgs};
use plumb_ledger::{RunRecord, RunResult};
use plumb_schema::load::LoadResult;
use plumb_schema::plan::{PlanRunResult, PlanStep, PLAN_RUN_SCHEMA_VERSION};

/// Run `plumb run`.
pub fn run(args: RunArgs) -> anyhow::Result<Outcome> {
    let plan = load_plan(&args)?;
    if args.list {
        crate::output::stdout(listing(&plan).as_bytes())?;
        return Ok(Outcome::Passed);
    }
    let (scenario, preset) = select(&plan, args.scenario.as_deref())?;
    match scenario.kind {
        ScenarioKind::Bench => run_bench(&plan, scenario, &args),
        ScenarioKind::Load => run_load(&plan, scenario, preset, &args),
    }
}

fn load_plan(args: &RunArgs) -> anyhow::Result<Plan> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let path = plumb_cli::plan::locate(args.file.as_deref(), &cwd).ok_or_else(|| {
        anyhow::anyhow!(
            "no plan file: no {} in {} or any directory above it\nhint: write one with `plumb init URL` (or `plumb init -- COMMAND`), or name it with -f FILE",
            plumb_cli::plan::PLAN_FILE,
            cwd.display()
        )
    })?;
    Ok(Plan::load(&path)?)
}

/// The scenario named (or the normal one), and the preset when a preset was named.
fn select<'a>(
    plan: &'a Plan,
    name: Option<&str>,
) -> anyhow::Result<(&'a Scenario, Option<Preset>)> {
    let names = || {
        let scenarios: Vec<&str> = plan.scenarios.iter().map(|s| s.name.as_str()).collect();
        format!(
            "scenarios: {}; presets: load, stress, soak, spike",
            scenarios.join(", ")
        )
    };
    if let Some(scenario) = name.and_then(|n| plan.scenario(n)) {
        return Ok((scenario, None));
    }
    let preset = match name {
        None => Preset::Load,
        Some(n) => Preset::named(n).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no scenario or preset called '{n}'\nhint: {}",
                plan.path.display(),
                names()
            )
        })?,
    };
    let normal = plan.normal_scenario().ok_or_else(|| {
        anyhow::anyhow!(
            "{}: the {} preset derives from the normal scenario, and the plan has none\nhint: set [plan] normal = \"NAME\" to one of its load scenarios, or name a scenario ({})",
            plan.path.display(),
            preset.name(),
            names()
        )
    })?;
    // `plumb run load` is the normal scenario as written: its runs are the plain runs'.
    Ok((normal, name.map(|_| preset).filter(|p| *p != Preset::Load)))
}

/// The arguments `plumb run` adds to every command: labels, and its own ledger flags.
fn extras(
    plan: &Plan,
    scenario: &Scenario,
    preset: Option<Preset>,
    step: &str,
    args: &RunArgs,
) -> Vec<Arg> {
    let label = |k: &str, v: &str| Arg::extra("--label", Some(format!("{k}={v}")));
    let mut extra = vec![label("plan", &plan.name), label("scenario", &scenario.name)];
    if let Some(preset) = preset {
        extra.push(label("preset", preset.name()));
        extra.push(label("step", step));
    }
    for (k, v) in &args.save.labels {
        extra.push(label(k, v));
    }
    if let Some(ledger) = &args.save.ledger {
        extra.push(Arg::extra("--ledger", Some(ledger.display().to_string())));
    }
    if args.save.no_save {
        extra.push(Arg::extra("--no-save", None));
    }
    if let Some(name) = &args.save.run_name {
        extra.push(Arg::extra("--run-name", Some(name.clone())));
    }
    if args.quiet {
        extra.push(Arg::extra("--quiet", None));
    }
    if let Some(segment) = &args.segment {
        extra.push(Arg::extra("--segment", Some(segment.clone())));
    }
    if let Some(start_at) = &args.start_at {
        extra.push(Arg::extra("--start-at", Some(start_at.clone())));
    }
    extra
}

fn run_bench(plan: &Plan, scenario: &Scenario, args: &RunArgs) -> anyhow::Result<Outcome> {
    if args.segment.is_some() || args.start_at.is_some() {
        anyhow::bail!(
            "scenario '{}' benchmarks a command: --segment and --start-at split a load over machines\nhint: drop them, or name a load scenario",
            scenario.name
        );
    }
    // `--` ends the flags of a bench scenario: plumb run's go before it.
    let split = scenario
        .args
        .iter()
        .position(|a| a.flag == "--")
        .unwrap_or(scenario.args.len());
    let mut all = scenario.args[..split].to_vec();
    all.extend(
        extras(plan, scenario, None, &scenario.name, args)
            .into_iter()
            .filter(|a| a.flag != "--quiet"),
    );
    all.extend_from_slice(&scenario.args[split..]);
    super::bench::run(scenario.bench_args(&all)?)
}

fn run_load(
    plan: &Plan,
    scenario: &Scenario,
    preset: Option<Preset>,
    args: &RunArgs,
) -> anyhow::Result<Outcome> {
    let json = args
        .json
        .as_deref()
        .map(|path| Destination::check("--json", path, true))
        .transpose()?;
    let html = args
        .html
        .as_deref()
        .map(|path| Destination::check("--html", path, false))
        .transpose()?;
    let runs = match preset {
        Some(p) => plan.presets.runs(p, scenario)?,
        None => vec![PresetRun {
            label: scenario.name.clone(),
            factor: 1.0,
            level: scenario
                .rate
                .unwrap_or(f64::from(scenario.connections.unwrap_or(50))),
            args: scenario.args.clone(),
        }],
    };
    if args.start_at.is_some() && runs.len() > 1 {
        anyhow::bail!(
            "--start-at is one moment, and the {} preset runs {} steps\nhint: give each step a scenario of its own and run one scenario per segment job",
            preset.map_or("", |p| p.name()),
            runs.len()
        );
    }
    let compares = !args.no_compare
        && args.segment.is_none()
        && matches!(preset, None | Some(Preset::Load) | Some(Preset::Soak));
    let baseline = if compares {
        find_baseline(plan, scenario, args)?
    } else {
        Baseline::None(String::new())
    };
    let mut result = plan_result(plan, scenario, preset);
    let stopped_early = run_steps(plan, scenario, preset, &runs, args, &mut result)?;
    summarize(plan, preset, stopped_early, &mut result);
    match baseline {
        Baseline::Found(records) => result.before_after = before_after(&records, &result),
        Baseline::None(why) if compares && !why.is_empty() => result.warnings.push(why),
        Baseline::None(_) => {}
    }
    let written = html.map_or(Ok(()), |d| {
        d.write(plumb_report::plan::html(&result).as_bytes())
    });
    emit(args.output, json.as_ref(), &result)?;
    written?;
    let regressed = result
        .before_after
        .as_ref()
        .is_some_and(|t| t.rows.iter().any(|r| r.verdict == "regressed"));
    Ok(if result.goals_passed && !regressed {
        Outcome::Passed
    } else {
        Outcome::ThresholdFailed
    })
}

fn plan_result(plan: &Plan, scenario: &Scenario, preset: Option<Preset>) -> PlanRunResult {
    PlanRunResult {
        schema_version: PLAN_RUN_SCHEMA_VERSION,
        plumb_version: env!("CARGO_PKG_VERSION").to_owned(),
        plan: plan.name.clone(),
        file: plan.path.display().to_string(),
        scenario: scenario.name.clone(),
        preset: preset.map(|p| p.name().to_owned()),
        steps: Vec::new(),
        goals_passed: true,
        before_after: None,
        stress: None,
        spike: None,
        soak: None,
        warnings: Vec::new(),
    }
}

/// Run each step in turn; a stress test stops at the first step that fails a goal (unless
/// `all_steps`). Returns whether steps were left out.
fn run_steps(
    plan: &Plan,
    scenario: &Scenario,
    preset: Option<Preset>,
    runs: &[PresetRun],
    args: &RunArgs,
    result: &mut PlanRunResult,
) -> anyhow::Result<bool> {
    let stop = crate::interrupt::stop();
    for (i, step) in runs.iter().enumerate() {
        let mut all = step.args.clone();
        all.extend(extras(plan, scenario, preset, &step.label, args));
        let load_args = scenario.load_args(&all)?;
        if args.output == OutputFormat::Text {
            say(&format!(
                "\nplumb run: {} ({} of {})\n",
                step.label,
                i + 1,
                runs.len()
            ));
        }
        let measured = load::measure(load_args, false)?;
        if args.output == OutputFormat::Text {
            say(&plumb_report::load::text(&measured.result));
        }
        let passed = goals_held(&measured);
        result.steps.push(step_of(step, passed, measured));
        if stop.is_stopped() {
            result
                .warnings
                .push("interrupted: the steps after this one were not run".to_owned());
            return Ok(i + 1 < runs.len());
        }
        let stress = preset == Some(Preset::Stress);
        if stress && !passed && !plan.presets.stress.all_steps {
            return Ok(i + 1 < runs.len());
        }
    }
    Ok(false)
}

fn say(text: &str) {
    let _ = crate::output::stdout(text.as_bytes());
}

fn goals_held(measured: &Measured) -> bool {
    load::outcome_of(&measured.result, measured.plan.no_data) == Outcome::Passed
}

fn step_of(step: &PresetRun, passed: bool, measured: Measured) -> PlanStep {
    PlanStep {
        label: step.label.clone(),
        factor: step.factor,
        level: step.level,
        goals_passed: passed,
        run_id: measured.run_id,
        result: Box::new(measured.result),
    }
}

/// Each preset's reading, and whether the goals held where they count.
fn summarize(plan: &Plan, preset: Option<Preset>, stopped_early: bool, result: &mut PlanRunResult) {
    let steps = &result.steps;
    result.goals_passed = !steps.is_empty() && steps.iter().all(|s| s.goals_passed);
    match preset {
        Some(Preset::Stress) => {
            let open = steps
                .first()
                .is_some_and(|s| s.result.settings.model == "open");
            let summary = plumb_capacity::stress_summary(
                &steps
                    .iter()
                    .map(|s| plumb_capacity::StressStep {
                        label: s.label.clone(),
                        level: s.level,
                        passed: s.goals_passed,
                    })
                    .collect::<Vec<_>>(),
                stopped_early,
                if open { "req/s" } else { "connections" },
            );
            // A stress test exists to find where the goals fail: it passes when the normal load
            // (its first step) held.
            result.goals_passed = steps.first().is_some_and(|s| s.goals_passed);
            result.stress = Some(summary);
        }
        Some(Preset::Spike) => {
            let spike = &plan.presets.spike;
            let from = spike.before.as_secs();
            let to = from + spike.hold.as_secs();
            if let Some(step) = steps.first() {
                result.spike = Some(plumb_capacity::spike_summary(&step.result, from, to));
            }
        }
        Some(Preset::Soak) => {
            if let Some(step) = steps.first() {
                result.soak = Some(plumb_capacity::soak_summary(&step.result));
            }
        }
        Some(Preset::Load) | None => {}
    }
}

/// The runs the before/after table compares with, or why there are none.
enum Baseline {
    Found(Vec<RunRecord>),
    None(String),
}

fn find_baseline(plan: &Plan, scenario: &Scenario, args: &RunArgs) -> anyhow::Result<Baseline> {
    let path = plumb_cli::LedgerPath {
        ledger: args.save.ledger.clone(),
    };
    let mut ledger = None;
    if let Some(name) = args.baseline.as_deref().or(plan.baseline.as_deref()) {
        return match crate::runs::find_baseline(&mut ledger, &path, name) {
            Ok(record) => Ok(Baseline::Found(vec![record])),
            Err(_) if args.baseline.is_none() => Ok(Baseline::None(format!(
                "the plan's baseline '{name}' is not set yet, so there is no before/after table \
                 (set it with `plumb baseline set {name} RUN`)"
            ))),
            Err(e) => Err(e),
        };
    }
    let selector = format!("label:scenario={}", scenario.name);
    let previous = match crate::runs::find_many(&mut ledger, &path, &selector) {
        Ok(records) => records
            .into_iter()
            .filter(|r| {
                r.labels.get("plan") == Some(&plan.name) && !r.labels.contains_key("preset")
            })
            .max_by(|a, b| a.started_at.cmp(&b.started_at)),
        Err(_) => None,
    };
    Ok(match previous {
        Some(record) => Baseline::Found(vec![record]),
        None => Baseline::None(format!(
            "no earlier run of scenario '{}' in the ledger: the next `plumb run` compares with this one",
            scenario.name
        )),
    })
}

fn before_after(
    records: &[RunRecord],
    result: &PlanRunResult,
) -> Option<plumb_schema::plan::BeforeAfter> {
    let step = result.steps.last()?;
    let base: Vec<&LoadResult> = records
        .iter()
        .filter_map(|r| match &r.result {
            RunResult::Load(load) => Some(load.as_ref()),
            _ => None,
        })
        .collect();
    if base.is_empty() {
        return None;
    }
    let settings = plumb_compare::CompareSettings::default();
    let mut comparison = plumb_compare::compare_load(&base, &[step.result.as_ref()], &settings);
    comparison.warnings.extend(plumb_compare::load_mismatches(
        &base,
        &[step.result.as_ref()],
    ));
    let goals: Vec<plumb_stats::Threshold> = step
        .result
        .thresholds
        .iter()
        .filter_map(|t| plumb_stats::Threshold::parse(&t.expression).ok())
        .collect();
    let ids: Vec<String> = records.iter().map(|r| short(&r.id)).collect();
    let now = step.run_id.as_deref().map_or("this run".to_owned(), |id| {
        format!("this run ({})", short(id))
    });
    Some(plumb_compare::before_after(
        &comparison,
        &goals,
        &base,
        &step.result,
        (format!("run {}", ids.join(", ")), now),
        settings.tolerance,
    ))
}

/// Run ids as `plumb history` shows them (their first characters are a timestamp, so any
/// shorter prefix may name several runs).
fn short(id: &str) -> String {
    id.to_owned()
}

fn emit(
    format: OutputFormat,
    json: Option<&Destination>,
    result: &PlanRunResult,
) -> anyhow::Result<()> {
    let written = json.map_or(Ok(()), |d| {
        d.write(plumb_report::plan::json(result).as_bytes())
    });
    let text = match format {
        OutputFormat::Text => plumb_report::plan::text(result),
        OutputFormat::Markdown => plumb_report::plan::markdown(result),
        OutputFormat::Json => plumb_report::plan::json(result),
    };
    if json.is_some_and(Destination::is_stdout) {
        crate::output::log(text.trim_end());
    } else {
        crate::output::stdout(text.as_bytes())?;
    }
    written
}

/// `plumb run --list`: the goals, the scenarios as the commands they stand for, and the presets.
fn listing(plan: &Plan) -> String {
    let mut out = format!("plan {} ({})\n\ngoals\n", plan.name, plan.path.display());
    for goal in &plan.goals {
        out.push_str(&format!("  {:<12} {}\n", goal.name, goal.expression));
    }
    out.push_str("\nscenarios\n");
    for scenario in &plan.scenarios {
        let normal = if plan.normal.as_deref() == Some(&scenario.name) {
            " (normal)"
        } else {
            ""
        };
        let argv = scenario.argv(&scenario.args);
        out.push_str(&format!(
            "  {}{normal}\n    {}\n",
            scenario.name,
            shell_words(&argv)
        ));
    }
    if let Some(normal) = plan.normal_scenario() {
        out.push_str("\npresets (from the normal scenario)\n");
        for preset in [Preset::Load, Preset::Stress, Preset::Soak, Preset::Spike] {
            match plan.presets.runs(preset, normal) {
                Ok(runs) => {
                    out.push_str(&format!("  {}\n", preset.name()));
                    for run in &runs {
                        out.push_str(&format!("    {:<12} {}\n", run.label, shape(&run.args)));
                    }
                }
                Err(e) => out.push_str(&format!(
                    "  {:<7} unavailable: {}\n",
                    preset.name(),
                    e.message
                )),
            }
        }
    }
    out
}

/// The flags that shape a preset's load: `--rate 400 --duration 30s`.
fn shape(args: &[Arg]) -> String {
    const SHAPING: [&str; 4] = ["--rate", "--connections", "--duration", "--stages"];
    args.iter()
        .filter(|a| SHAPING.contains(&a.flag))
        .map(|a| format!("{} {}", a.flag, a.value.as_deref().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `argv` as a shell would read it back.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
