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
    let table = if args.ab {
        ab_table(&args)?
    } else {
        let mut ledger = None;
        let base = crate::runs::find_many(&mut ledger, &args.ledger, &args.base)?;
        let cand = crate::runs::find_many(&mut ledger, &args.ledger, &args.candidate)?;
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
    let mut comparison = match (loads(base), loads(cand), benches(base), benches(cand)) {
        (Some(b), Some(c), _, _) => plumb_compare::compare_load(&b, &c, &settings),
        (_, _, Some(b), Some(c)) => {
            let mut comparison = plumb_compare::compare_bench(&b, &c, &settings);
            comparison
                .warnings
                .extend(plumb_compare::bench_mismatches(&b, &c));
            comparison
        }
        _ => anyhow::bail!(
            "cannot compare {} with {}: every run must be a load run, or every run a bench run\nhint: compare load runs with load runs and bench runs with bench runs",
            kinds(base),
            kinds(cand)
        ),
    };
    if comparison.rows.is_empty() {
        anyhow::bail!(
            "{} and {} have no benchmark in common\nhint: compare runs of the same commands (matched by name)",
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

fn loads(runs: &[RunRecord]) -> Option<Vec<&plumb_schema::load::LoadResult>> {
    runs.iter()
        .map(|r| match &r.result {
            RunResult::Load(result) => Some(&**result),
            RunResult::Bench(_) => None,
        })
        .collect()
}

fn benches(runs: &[RunRecord]) -> Option<Vec<&plumb_schema::bench::BenchReport>> {
    runs.iter()
        .map(|r| match &r.result {
            RunResult::Bench(report) => Some(&**report),
            RunResult::Load(_) => None,
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
