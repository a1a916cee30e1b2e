//! `plumb run`'s summary: the goals of each step, a stress test's steps, a spike's and a soak's
//! reading, and the seeds' before/after table (Metric | Baseline | Target | Achieved |
//! Improvement | Verdict), in text, Markdown, JSON and HTML. Each step's own load report is rendered by
//! [`crate::load`].

use crate::layout::{Card, Cell, Section, Table, Tone};
use crate::{format, thresholds};
use plumb_schema::plan::{BeforeAfter, BeforeAfterRow, Improvement, PlanRunResult, PlanStep};
use std::fmt::Write;

/// The result as pretty JSON.
pub fn json(result: &PlanRunResult) -> String {
    serde_json::to_string_pretty(result).expect("a plan run always serializes") + "\n"
}

/// The summary for a terminal.
pub fn text(result: &PlanRunResult) -> String {
    let mut out = String::new();
    let what = match &result.preset {
        Some(preset) => format!("preset {preset} of scenario {}", result.scenario),
        None => format!("scenario {}", result.scenario),
    };
    let _ = writeln!(out, "\nplumb run: plan {}, {what}", result.plan);
    if result.steps.len() > 1 || result.stress.is_some() {
        write_steps(&mut out, &result.steps);
    }
    write_goals(&mut out, result.steps.last());
    for line in headlines(result) {
        let _ = writeln!(
            out,
            "\n  {}: {line}",
            result.preset.as_deref().unwrap_or("result")
        );
    }
    if let Some(table) = &result.before_after {
        write_table(&mut out, table);
    }
    for warning in &result.warnings {
        let _ = writeln!(out, "\nwarning: {warning}");
    }
    let _ = writeln!(out, "\n{}", verdict(result));
    out
}

/// Rows of the before/after table that regressed.
fn regressions(result: &PlanRunResult) -> usize {
    result.before_after.as_ref().map_or(0, |t| {
        t.rows.iter().filter(|r| r.verdict == "regressed").count()
    })
}

/// The last line: what the exit code stands for. A stress test is judged by its normal step
/// (it exists to find where the goals fail); a regression against the baseline fails a run whose
/// goals held.
pub fn verdict(result: &PlanRunResult) -> String {
    let regressed = match regressions(result) {
        0 => String::new(),
        1 => ", but 1 metric regressed against the baseline".to_owned(),
        n => format!(", but {n} metrics regressed against the baseline"),
    };
    match (&result.stress, result.goals_passed) {
        (Some(stress), true) => format!(
            "stress: the normal step held its goals; {}",
            stress.headline.replace("the goals ", "they ")
        ),
        (Some(_), false) => "stress: the goals FAILED at the normal step".to_owned(),
        (None, true) => format!("goals: all held{regressed}"),
        (None, false) => format!("goals: FAILED{}", regressed.replacen(", but", ", and", 1)),
    }
}

fn write_steps(out: &mut String, steps: &[PlanStep]) {
    let _ = writeln!(
        out,
        "\n  {:<14} {:>10} {:>10} {:>10} {:>10} {:>8}  goals",
        "step", "level", "achieved", "p95", "p99", "errors"
    );
    for step in steps {
        let c = step_cells(step);
        let goals = if step.goals_passed { "held" } else { "FAILED" };
        let _ = writeln!(
            out,
            "  {:<14} {:>10} {:>10} {:>10} {:>10} {:>8}  {goals}",
            c[0], c[1], c[2], c[3], c[4], c[5]
        );
    }
}

/// A step's cells: label, level, achieved rate, p95, p99, error rate.
fn step_cells(step: &PlanStep) -> [String; 6] {
    let s = &step.result.summary;
    [
        step.label.clone(),
        format::rate(step.level),
        format!("{}/s", format::rate(s.rps)),
        format!("{} ms", format::ms(s.latency_ms.p95)),
        format!("{} ms", format::ms(s.latency_ms.p99)),
        format::percent(s.error_rate),
    ]
}

/// The preset's one-sentence readings.
fn headlines(result: &PlanRunResult) -> impl Iterator<Item = &String> {
    [
        result.stress.as_ref().map(|s| &s.headline),
        result.spike.as_ref().map(|s| &s.headline),
        result.soak.as_ref().map(|s| &s.headline),
    ]
    .into_iter()
    .flatten()
}

fn write_goals(out: &mut String, step: Option<&PlanStep>) {
    let Some(step) = step else { return };
    if step.result.thresholds.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n  goals ({})", step.label);
    for t in &step.result.thresholds {
        let observed = t
            .observed
            .map(|v| thresholds::observed(&t.expression, v))
            .unwrap_or_else(|| "no data".to_owned());
        let window = thresholds::windows(t)
            .map(|w| format!("; {w}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    {:<7} {}  (whole run {observed}{window})",
            t.status.as_str(),
            t.expression
        );
    }
}

fn write_table(out: &mut String, table: &BeforeAfter) {
    let _ = writeln!(
        out,
        "\n  before/after: {} -> {}",
        table.baseline, table.candidate
    );
    let header = [
        "metric",
        "baseline",
        "target",
        "achieved",
        "improvement",
        "verdict",
    ];
    let rows: Vec<[String; 6]> = table.rows.iter().map(cells).collect();
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("    {}", padded.join("  ").trim_end())
    };
    let _ = writeln!(out, "{}", line(&header));
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        let _ = writeln!(out, "{}", line(&cells));
    }
    for warning in &table.warnings {
        let _ = writeln!(out, "    note: {warning}");
    }
}

/// One row's cells: metric, baseline, target, achieved, improvement, verdict.
fn cells(row: &BeforeAfterRow) -> [String; 6] {
    let value = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| with_unit(&row.unit, v));
    let target = match (&row.target, row.target_met) {
        (Some(t), Some(true)) => format!("{t} (met)"),
        (Some(t), Some(false)) => format!("{t} (MISSED)"),
        (Some(t), None) => t.clone(),
        (None, _) => "-".to_owned(),
    };
    [
        row.metric.clone(),
        value(row.baseline),
        target,
        value(row.achieved),
        row.improvement
            .map_or_else(|| "-".to_owned(), |i| improvement_words(&row.unit, &i)),
        row.verdict.clone(),
    ]
}

fn with_unit(unit: &str, value: f64) -> String {
    match unit {
        "ms" => format!("{} ms", format::ms(value)),
        "req/s" => format!("{}/s", format::rate(value)),
        "fraction" => format::percent(value),
        "bytes" => format::bytes(value.max(0.0) as u64),
        "" => format::significant(value),
        other => format!("{} {other}", format::significant(value)),
    }
}

/// The seeds' wording: "78% faster", "5.2x faster", "12% slower", "2.1x more", "30% less".
pub fn improvement_words(unit: &str, improvement: &Improvement) -> String {
    let (good, bad) = match unit {
        "ms" | "s" => ("faster", "slower"),
        "req/s" => ("more", "less"),
        _ => ("better", "worse"),
    };
    let word = if improvement.better { good } else { bad };
    if improvement.fraction == 0.0 {
        return "no change".to_owned();
    }
    if improvement.factor >= 2.0 {
        format!("{:.1}x {word}", improvement.factor)
    } else {
        format!("{:.0}% {word}", improvement.fraction.abs() * 100.0)
    }
}

/// The summary as Markdown for a pull request.
pub fn markdown(result: &PlanRunResult) -> String {
    let mut out = String::new();
    let what = match &result.preset {
        Some(preset) => format!("preset `{preset}` of scenario `{}`", result.scenario),
        None => format!("scenario `{}`", result.scenario),
    };
    let failed = !result.goals_passed || (result.stress.is_none() && regressions(result) > 0);
    let verdict = if failed {
        format!("**{}**", verdict(result))
    } else {
        verdict(result)
    };
    let _ = writeln!(
        out,
        "### plumb run: plan `{}`, {what}: {verdict}\n",
        result.plan
    );
    if result.steps.len() > 1 || result.stress.is_some() {
        let _ = writeln!(out, "| step | level | achieved | p95 | p99 | errors | goals |\n|---|---:|---:|---:|---:|---:|---|");
        for step in &result.steps {
            let c = step_cells(step);
            let goals = if step.goals_passed {
                "held"
            } else {
                "**failed**"
            };
            let _ = writeln!(out, "| {} | {goals} |", c.join(" | "));
        }
        out.push('\n');
    }
    for line in headlines(result) {
        let _ = writeln!(out, "{line}\n");
    }
    if let Some(table) = &result.before_after {
        let _ = writeln!(out, "Against {}:\n", table.baseline);
        let _ = writeln!(out, "| Metric | Baseline | Target | Achieved | Improvement | Verdict |\n|---|---:|---|---:|---|---|");
        for row in &table.rows {
            let c = cells(row);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                c[0], c[1], c[2], c[3], c[4], c[5]
            );
        }
    }
    for warning in &result.warnings {
        let _ = writeln!(out, "\n> warning: {warning}");
    }
    out
}

/// The HTML report of a plan run: its section (goals, steps, the preset's reading, the
/// before/after table), then each step's own load report.
pub fn html(result: &PlanRunResult) -> String {
    let entries: Vec<crate::html::Entry<'_>> = result
        .steps
        .iter()
        .map(|step| crate::html::Entry {
            run: crate::html::ReportRun::Load(
                step.run_id.as_deref().unwrap_or(&step.label),
                &step.result,
            ),
            context: crate::html::RunContext {
                name: Some(step.label.clone()),
                ..crate::html::RunContext::default()
            },
        })
        .collect();
    crate::html::report_after(vec![section(result).render()], &entries, None)
}

/// The plan run as one section of the report.
pub fn section(result: &PlanRunResult) -> Section {
    let title = match &result.preset {
        Some(preset) => format!(
            "plumb run: plan {}, preset {preset} of {}",
            result.plan, result.scenario
        ),
        None => format!(
            "plumb run: plan {}, scenario {}",
            result.plan, result.scenario
        ),
    };
    let verdict = match (&result.stress, result.goals_passed) {
        (Some(_), true) => Card::new("normal step", "held").tone(Tone::Good),
        (Some(_), false) => Card::new("normal step", "FAILED").tone(Tone::Bad),
        (None, true) => Card::new("goals", "all held").tone(Tone::Good),
        (None, false) => Card::new("goals", "FAILED").tone(Tone::Bad),
    };
    let mut cards = vec![verdict, Card::new("steps", result.steps.len().to_string())];
    if let Some(stress) = &result.stress {
        let breaking = stress
            .first_failing_step
            .and_then(|i| result.steps.get(i))
            .map(|s| (s.label.clone(), Tone::Warn))
            .unwrap_or(("no step".to_owned(), Tone::Good));
        cards.push(Card::new("goals fail from", breaking.0).tone(breaking.1));
    }
    if let Some(table) = &result.before_after {
        let regressed = table
            .rows
            .iter()
            .filter(|r| r.verdict == "regressed")
            .count();
        let improved = table
            .rows
            .iter()
            .filter(|r| r.verdict == "improved")
            .count();
        let tone = if regressed > 0 {
            Tone::Bad
        } else if improved > 0 {
            Tone::Good
        } else {
            Tone::Neutral
        };
        cards.push(
            Card::new(
                "against the baseline",
                format!("{improved} improved, {regressed} regressed"),
            )
            .tone(tone),
        );
    }
    let mut section = Section::new("plan", title)
        .meta(&[
            ("plan file", result.file.clone()),
            ("plumb", result.plumb_version.clone()),
        ])
        .cards(cards);
    for headline in headlines(result) {
        section = section.note(headline);
    }
    if result.steps.len() > 1 || result.stress.is_some() {
        section = section.heading("Steps").table(steps_table(&result.steps));
    }
    if let Some(step) = result.steps.last() {
        section = section
            .heading(&format!("Goals ({})", step.label))
            .table(goals_table(step));
    }
    if let Some(table) = &result.before_after {
        section = section
            .heading(&format!(
                "Before and after: {} -> {}",
                table.baseline, table.candidate
            ))
            .table(before_after_table(table))
            .warnings(&table.warnings);
    }
    section.warnings(&result.warnings)
}

fn steps_table(steps: &[PlanStep]) -> Table {
    let mut table = Table::new(
        "steps",
        &["step", "level", "achieved", "p95", "p99", "errors", "goals"],
    );
    for step in steps {
        let [label, cells @ ..] = step_cells(step);
        let mut row = vec![Cell::text(label)];
        row.extend(cells.iter().map(Cell::num));
        row.push(goal_badge(step.goals_passed));
        table.push(row);
    }
    table
}

fn goal_badge(passed: bool) -> Cell {
    if passed {
        Cell::badge("held", Tone::Good)
    } else {
        Cell::badge("failed", Tone::Bad)
    }
}

fn goals_table(step: &PlanStep) -> Table {
    let mut table = Table::new("goals", &["goal", "result", "whole run", "windows"]);
    for t in &step.result.thresholds {
        let tone = match t.status {
            plumb_stats::ThresholdStatus::Passed => Tone::Good,
            plumb_stats::ThresholdStatus::Failed => Tone::Bad,
            plumb_stats::ThresholdStatus::NoData => Tone::Warn,
        };
        let windows = thresholds::windows(t).unwrap_or_else(|| "-".to_owned());
        table.push(vec![
            Cell::code(&t.expression),
            Cell::badge(t.status.as_str(), tone),
            Cell::num(t.observed.map_or("no data".to_owned(), |v| {
                thresholds::observed(&t.expression, v)
            })),
            Cell::text(windows),
        ]);
    }
    table
}

fn before_after_table(table: &BeforeAfter) -> Table {
    let mut out = Table::new(
        "before-after",
        &[
            "metric",
            "baseline",
            "target",
            "achieved",
            "improvement",
            "verdict",
        ],
    );
    for row in &table.rows {
        let c = cells(row);
        let tone = match row.verdict.as_str() {
            "improved" => Tone::Good,
            "regressed" => Tone::Bad,
            "inconclusive" => Tone::Warn,
            _ => Tone::Neutral,
        };
        let target_tone = match row.target_met {
            Some(true) => Tone::Good,
            Some(false) => Tone::Bad,
            None => Tone::Neutral,
        };
        out.push(vec![
            Cell::text(&c[0]),
            Cell::num(&c[1]),
            Cell::text(&c[2]).tone(target_tone),
            Cell::num(&c[3]),
            Cell::text(&c[4]),
            Cell::badge(&c[5], tone),
        ]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn better(fraction: f64, factor: f64) -> Improvement {
        Improvement {
            factor,
            fraction,
            better: fraction > 0.0,
        }
    }

    #[test]
    fn improvements_read_as_the_seeds_write_them() {
        assert_eq!(
            improvement_words("ms", &better(0.78, 200.0 / 44.0)),
            "4.5x faster"
        );
        assert_eq!(
            improvement_words("ms", &better(0.3, 1.0 / 0.7)),
            "30% faster"
        );
        assert_eq!(improvement_words("ms", &better(-0.12, 1.12)), "12% slower");
        assert_eq!(improvement_words("req/s", &better(4.2, 5.2)), "5.2x more");
        assert_eq!(
            improvement_words("fraction", &better(-0.5, 1.5)),
            "50% worse"
        );
    }
}
