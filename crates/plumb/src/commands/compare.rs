//! `plumb compare BASE CAND`: two runs metric by metric, with a verdict against a tolerance.

use crate::exit::Outcome;
use plumb_cli::{CompareArgs, CompareFormat};
use plumb_ledger::{RunRecord, RunResult};
use plumb_report::compare::{self as render, ComparisonTable};
use plumb_stats::compare::CompareSettings;

/// Run `plumb compare`.
pub fn run(args: CompareArgs) -> anyhow::Result<Outcome> {
    let table = if args.ab {
        ab_table(&args)?
    } else {
        let mut ledger = None;
        let base = crate::runs::find(&mut ledger, &args.ledger, &args.base)?;
        let cand = crate::runs::find(&mut ledger, &args.ledger, &args.candidate)?;
        table(&base, &cand, args.tolerance)?
    };
    let text = match args.output {
        CompareFormat::Text => render::text(&table),
        CompareFormat::Markdown => render::markdown(&table),
        CompareFormat::Json => render::json(&table, CompareSettings::default().confidence),
    };
    crate::output::stdout(text.as_bytes())?;
    Ok(Outcome::Passed)
}

/// `--ab`: run both commands now in paired rounds and compare round by round.
fn ab_table(args: &CompareArgs) -> anyhow::Result<ComparisonTable> {
    let report = super::calibrate::run_pair(&args.base, &args.candidate, args.runs, None)?;
    let settings = CompareSettings {
        tolerance: args.tolerance,
        ..CompareSettings::default()
    };
    Ok(ComparisonTable {
        baseline_id: format!("A: {} (paired rounds)", args.base),
        candidate_id: format!("B: {}", args.candidate),
        tolerance: args.tolerance,
        rows: render::paired_bench_rows(&report, &settings),
        thresholds: Vec::new(),
        warnings: Vec::new(),
    })
}

/// Compare `cand` with `base`; both must be of the same kind.
pub fn table(
    base: &RunRecord,
    cand: &RunRecord,
    tolerance: f64,
) -> anyhow::Result<ComparisonTable> {
    let settings = CompareSettings {
        tolerance,
        ..CompareSettings::default()
    };
    let (rows, thresholds) = match (&base.result, &cand.result) {
        (RunResult::Load(b), RunResult::Load(c)) => (
            render::load_rows(b, c, &settings),
            render::threshold_rows(b, c),
        ),
        (RunResult::Bench(b), RunResult::Bench(c)) => (render::bench_rows(b, c, &settings), Vec::new()),
        (b, c) => anyhow::bail!(
            "cannot compare a {} run ({}) with a {} run ({})\nhint: compare two load runs or two bench runs",
            b.kind().as_str(),
            base.id,
            c.kind().as_str(),
            cand.id
        ),
    };
    if rows.is_empty() {
        anyhow::bail!(
            "runs {} and {} have no benchmark in common\nhint: compare runs of the same commands (matched by name)",
            base.id,
            cand.id
        );
    }
    Ok(ComparisonTable {
        baseline_id: base.id.clone(),
        candidate_id: cand.id.clone(),
        tolerance,
        rows,
        thresholds,
        warnings: warnings(base, cand),
    })
}

fn warnings(base: &RunRecord, cand: &RunRecord) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(a), Some(b)) = (&base.host, &cand.host) {
        let differences = a.differences(b);
        if !differences.is_empty() {
            out.push(format!(
                "the runs come from different machines ({}): differences may be the machine's",
                differences.join(", ")
            ));
        }
    }
    for (role, run) in [("baseline", base), ("candidate", cand)] {
        if run.result.interrupted() {
            out.push(format!("the {role} run {} was interrupted", run.id));
        }
    }
    out
}
