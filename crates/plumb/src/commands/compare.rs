//! `plumb compare BASE CAND`: two sets of runs metric by metric, with a verdict against a
//! tolerance. Each side is one run or several pooled (`A,B`, `latest~4..latest`, `name:NAME`,
//! `label:K=V`); `plumb_compare` decides every figure and verdict, this module only gathers the
//! runs and hands the comparison to a renderer.

use crate::exit::Outcome;
use plumb_cli::{CompareArgs, CompareFormat};
use plumb_compare::CompareSettings;
use plumb_ledger::{RunRecord, RunResult};
use plumb_report::compare::{self as render, ComparisonTable, ThresholdRow};

/// Run `plumb compare`.
pub fn run(args: CompareArgs) -> anyhow::Result<Outcome> {
    let flamegraph = args
        .flamegraph
        .as_deref()
        .map(|path| crate::output::Destination::check("--flamegraph", path, false))
        .transpose()?;
    let table = if args.ab {
        ab_table(&args)?
    } else {
        let mut ledger = None;
        let base = crate::runs::find_many(&mut ledger, &args.ledger, &args.base)?;
        let cand = crate::runs::find_many(&mut ledger, &args.ledger, &args.candidate)?;
        if let Some(destination) = &flamegraph {
            write_differential(destination, &base, &cand)?;
        }
        table(&base, &cand, args.tolerance)?
    };
    let text = match args.output {
        CompareFormat::Text => render::text(&table),
        CompareFormat::Markdown => render::markdown(&table),
        CompareFormat::Json => render::json(&table),
    };
    crate::output::stdout(text.as_bytes())?;
    Ok(Outcome::Passed)
}

/// `--flamegraph`: the candidate profiles' stacks coloured by their change against the
/// baseline's, each side's runs pooled.
fn write_differential(
    destination: &crate::output::Destination,
    base: &[RunRecord],
    cand: &[RunRecord],
) -> anyhow::Result<()> {
    let (Some(b), Some(c)) = (profiles(base), profiles(cand)) else {
        anyhow::bail!("--flamegraph needs profiles on both sides (runs saved by `plumb profile`)\nhint: compare two profiles, or leave out --flamegraph");
    };
    let (before, after) = (pooled_stacks(&b), pooled_stacks(&c));
    if before.is_empty() || after.is_empty() {
        anyhow::bail!("a side has no CPU samples, so there is no differential flamegraph to draw\nhint: profile while the program uses the CPU");
    }
    let title = format!(
        "plumb compare: {} -> {}",
        labels(base).join(", "),
        labels(cand).join(", ")
    );
    let mut svg = Vec::new();
    plumb_profile::write_differential_flamegraph(&before, &after, &title, &mut svg)?;
    destination.write(&svg)
}

/// The folded stacks of several profiles, counts summed per stack.
fn pooled_stacks(
    reports: &[&plumb_schema::profile::ProfileReport],
) -> Vec<plumb_schema::profile::FoldedStack> {
    let mut pooled: std::collections::BTreeMap<&str, u64> = Default::default();
    for report in reports {
        if let plumb_schema::profile::CpuOutcome::Sampled(cpu) = &report.cpu {
            for stack in &cpu.folded {
                *pooled.entry(&stack.stack).or_default() += stack.count;
            }
        }
    }
    pooled
        .into_iter()
        .map(|(stack, count)| plumb_schema::profile::FoldedStack {
            stack: stack.to_string(),
            count,
        })
        .collect()
}

fn settings(tolerance: f64) -> CompareSettings {
    CompareSettings {
        tolerance,
        ..CompareSettings::default()
    }
}

/// Rounds of `--ab` with two URLs, at most.
const MAX_URL_ROUNDS: u32 = 10;
/// Each load of a `--ab` round with two URLs.
const URL_ROUND: std::time::Duration = std::time::Duration::from_secs(2);
/// Connections of each such load.
const URL_CONNECTIONS: u32 = 10;

fn is_url(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://")
}

/// `--ab URL_A URL_B`: interleaved rounds of short closed-model loads, A then B or B then A in
/// turn, so the machine's drift hits both; the rounds of each side are pooled and compared.
fn ab_urls(args: &CompareArgs) -> anyhow::Result<ComparisonTable> {
    let rounds = args.runs.clamp(1, MAX_URL_ROUNDS);
    let stop = crate::interrupt::stop();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            if stop.is_stopped() {
                break;
            }
            let url = if side == 0 {
                &args.base
            } else {
                &args.candidate
            };
            let mut settings = plumb_load::LoadSettings::new(url);
            settings.model = plumb_load::LoadModel::Closed {
                connections: URL_CONNECTIONS,
            };
            settings.duration = Some(URL_ROUND);
            let report = plumb_load::run(&settings, &mut plumb_load::Unobserved, stop.signal())?;
            let result = report.to_result(&settings, Vec::new());
            if side == 0 {
                a.push(result)
            } else {
                b.push(result)
            }
        }
    }
    if let Some(reason) = stop.reason() {
        anyhow::bail!("{reason}: the interleaved rounds were not finished\nhint: let them run to the end, or lower -r");
    }
    let settings = settings(args.tolerance);
    let (ra, rb): (Vec<_>, Vec<_>) = (a.iter().collect(), b.iter().collect());
    let mut comparison = plumb_compare::compare_load(&ra, &rb, &settings);
    // The URLs differ by design: that warning says nothing the reader does not know.
    comparison.warnings.retain(|w| !w.contains(" URL "));
    Ok(ComparisonTable {
        baseline: vec![format!(
            "A: {} ({rounds} interleaved rounds of {} s, -c {URL_CONNECTIONS})",
            args.base,
            URL_ROUND.as_secs()
        )],
        candidate: vec![format!("B: {}", args.candidate)],
        tolerance: args.tolerance,
        confidence: settings.confidence,
        comparison,
        thresholds: Vec::new(),
        no_data: plumb_stats::NoData::default(),
    })
}

/// `--ab`: run both commands (or load both URLs) now in interleaved rounds and compare.
fn ab_table(args: &CompareArgs) -> anyhow::Result<ComparisonTable> {
    if is_url(&args.base) && is_url(&args.candidate) {
        return ab_urls(args);
    }
    let report = super::calibrate::run_pair(&args.base, &args.candidate, args.runs, None)?;
    let settings = settings(args.tolerance);
    Ok(ComparisonTable {
        baseline: vec![format!("A: {} (paired rounds)", args.base)],
        candidate: vec![format!("B: {}", args.candidate)],
        tolerance: args.tolerance,
        confidence: settings.confidence,
        comparison: plumb_compare::compare_paired_bench(&report, &settings),
        thresholds: Vec::new(),
        no_data: plumb_stats::NoData::default(),
    })
}

/// Compare the runs of `cand` with those of `base`; all must be of one kind.
pub fn table(
    base: &[RunRecord],
    cand: &[RunRecord],
    tolerance: f64,
) -> anyhow::Result<ComparisonTable> {
    let settings = settings(tolerance);
    let mut comparison = compare_kind(base, cand, &settings)?;
    if comparison.rows.is_empty() {
        anyhow::bail!(
            "{} and {} have nothing in common to compare (no benchmark of the same name, or no CPU samples)\nhint: compare runs of the same commands (matched by name), or profiles that sampled the CPU",
            labels(base).join(", "),
            labels(cand).join(", ")
        );
    }
    comparison.warnings.extend(host_warnings(base, cand));
    comparison.warnings.extend(same_runs(base, cand));
    Ok(ComparisonTable {
        baseline: labels(base),
        candidate: labels(cand),
        tolerance,
        confidence: settings.confidence,
        thresholds: threshold_rows(base, cand),
        comparison,
        no_data: plumb_stats::NoData::default(),
    })
}

/// The comparison of runs of one kind: load, bench or profile.
fn compare_kind(
    base: &[RunRecord],
    cand: &[RunRecord],
    settings: &CompareSettings,
) -> anyhow::Result<plumb_compare::Comparison> {
    if let (Some(b), Some(c)) = (loads(base), loads(cand)) {
        return Ok(plumb_compare::compare_load(&b, &c, settings));
    }
    if let (Some(b), Some(c)) = (benches(base), benches(cand)) {
        let mut comparison = plumb_compare::compare_bench(&b, &c, settings);
        comparison
            .warnings
            .extend(plumb_compare::bench_mismatches(&b, &c));
        return Ok(comparison);
    }
    if let (Some(b), Some(c)) = (profiles(base), profiles(cand)) {
        return Ok(plumb_compare::compare_profile(&b, &c, settings));
    }
    if let (Some(b), Some(c)) = (capacities(base), capacities(cand)) {
        return Ok(plumb_compare::compare_capacity(&b, &c, settings));
    }
    if let (Some(b), Some(c)) = (pages(base), pages(cand)) {
        return Ok(plumb_compare::compare_page(&b, &c, settings));
    }
    anyhow::bail!(
        "cannot compare {} with {}: every run must be of one kind (load, bench, profile, capacity or page)\nhint: compare load runs with load runs, bench runs with bench runs and profiles with profiles",
        kinds(base),
        kinds(cand)
    )
}

/// Every run's page loads, when every run is a page run.
fn pages(runs: &[RunRecord]) -> Option<Vec<&plumb_schema::page::PageResult>> {
    runs.iter()
        .map(|r| match &r.result {
            RunResult::Page(result) => Some(&**result),
            _ => None,
        })
        .collect()
}

/// Every run's capacity search, when every run is one.
fn capacities(runs: &[RunRecord]) -> Option<Vec<&plumb_schema::capacity::CapacityResult>> {
    runs.iter()
        .map(|r| match &r.result {
            RunResult::Capacity(result) => Some(&**result),
            _ => None,
        })
        .collect()
}

/// Every run's profile, when every run is a profile.
pub fn profiles(runs: &[RunRecord]) -> Option<Vec<&plumb_schema::profile::ProfileReport>> {
    runs.iter()
        .map(|r| match &r.result {
            RunResult::Profile(report) => Some(&**report),
            _ => None,
        })
        .collect()
}

fn loads(runs: &[RunRecord]) -> Option<Vec<&plumb_schema::load::LoadResult>> {
    runs.iter()
        .map(|r| match &r.result {
            RunResult::Load(result) => Some(&**result),
            _ => None,
        })
        .collect()
}

fn benches(runs: &[RunRecord]) -> Option<Vec<&plumb_schema::bench::BenchReport>> {
    runs.iter()
        .map(|r| match &r.result {
            RunResult::Bench(report) => Some(&**report),
            _ => None,
        })
        .collect()
}

fn kinds(runs: &[RunRecord]) -> String {
    let described: Vec<String> = runs
        .iter()
        .map(|r| format!("{} ({} run)", label(r), r.result.kind().as_str()))
        .collect();
    described.join(", ")
}

/// A run as people know it: its name, short id and git commit.
pub fn label(run: &RunRecord) -> String {
    // A ledger id is long hex: its first 12 characters name it. A result file keeps its path.
    let is_ledger_id = run.id.chars().all(|c| c.is_ascii_hexdigit());
    let id: String = if is_ledger_id {
        run.id.chars().take(12).collect()
    } else {
        run.id.clone()
    };
    let mut details = Vec::new();
    if run.name.is_some() {
        details.push(id.clone());
    }
    if let Some(git) = &run.git {
        let commit: String = git.commit.chars().take(8).collect();
        let dirty = if git.dirty { "+dirty" } else { "" };
        details.push(format!("commit {commit}{dirty}"));
    }
    let head = run.name.clone().unwrap_or(id);
    if details.is_empty() {
        head
    } else {
        format!("{head} ({})", details.join(", "))
    }
}

fn labels(runs: &[RunRecord]) -> Vec<String> {
    runs.iter().map(label).collect()
}

/// The first candidate run's thresholds, next to the baseline's value of each.
fn threshold_rows(base: &[RunRecord], cand: &[RunRecord]) -> Vec<ThresholdRow> {
    let (Some(RunResult::Load(c)), b) = (cand.first().map(|r| &r.result), base.first()) else {
        return Vec::new();
    };
    let base_thresholds = match b.map(|r| &r.result) {
        Some(RunResult::Load(b)) => b.thresholds.clone(),
        _ => Vec::new(),
    };
    c.thresholds
        .iter()
        .map(|t| ThresholdRow {
            expression: t.expression.clone(),
            baseline: base_thresholds
                .iter()
                .find(|b| b.expression == t.expression)
                .and_then(|b| b.observed),
            achieved: t.observed,
            status: t.status,
        })
        .collect()
}

/// A run on both sides, or twice on one, makes the comparison partly a run against itself.
fn same_runs(base: &[RunRecord], cand: &[RunRecord]) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for run in base.iter().chain(cand) {
        if seen.contains(&run.id.as_str()) {
            warnings.push(format!(
                "run {} is counted more than once (on both sides, or twice on one): the comparison is partly a run against itself",
                label(run)
            ));
        }
        seen.push(&run.id);
    }
    warnings.dedup();
    warnings
}

/// Runs from other machines.
fn host_warnings(base: &[RunRecord], cand: &[RunRecord]) -> Vec<String> {
    let mut out = Vec::new();
    let reference = base.iter().chain(cand).find_map(|r| r.host.as_ref());
    if let Some(reference) = reference {
        for run in base.iter().chain(cand) {
            let Some(host) = &run.host else { continue };
            let differences = reference.differences(host);
            if !differences.is_empty() {
                let warning = format!(
                    "the runs come from different machines ({}): differences may be the machine's",
                    differences.join(", ")
                );
                if !out.contains(&warning) {
                    out.push(warning);
                }
            }
        }
    }
    out
}
