//! The seeds' before/after table (Metric | Baseline | Target | Achieved | Improvement) from a
//! load comparison and the goals: each comparison row keeps its statistic and verdict, gains the
//! goal on its metric as its target, and says how much better or worse it got. A goal on a
//! metric the comparison has no row for (p99.9, time to first byte) gets a row of its own, read
//! from both runs' histograms, marked "not compared".

use crate::thresholds::SavedLoadMetrics;
use crate::{Comparison, Direction, Row, Unit};
use plumb_schema::load::LoadResult;
use plumb_schema::plan::{BeforeAfter, BeforeAfterRow, Improvement};
use plumb_stats::{Aggregation, Metric, MetricSource, Threshold};

/// The table of `comparison` (baseline runs against the candidate run `achieved`), with `goals`
/// as the targets.
pub fn before_after(
    comparison: &Comparison,
    goals: &[Threshold],
    baseline: &[&LoadResult],
    achieved: &LoadResult,
    labels: (String, String),
    tolerance: f64,
) -> BeforeAfter {
    let mut rows: Vec<BeforeAfterRow> = comparison
        .rows
        .iter()
        .map(|row| compared_row(row, goals))
        .collect();
    for goal in goals {
        if !comparison
            .rows
            .iter()
            .any(|r| goal_matches(goal, &r.metric))
        {
            rows.push(goal_row(goal, baseline, achieved));
        }
    }
    BeforeAfter {
        baseline: labels.0,
        candidate: labels.1,
        tolerance,
        rows,
        warnings: comparison.warnings.clone(),
    }
}

fn compared_row(row: &Row, goals: &[Threshold]) -> BeforeAfterRow {
    let goal = goals.iter().find(|g| goal_matches(g, &row.metric));
    let (baseline, achieved) = (
        shown(row.unit, row.baseline),
        shown(row.unit, row.candidate),
    );
    BeforeAfterRow {
        metric: row.metric.clone(),
        unit: unit_name(row.unit).to_owned(),
        lower_is_better: row.direction == Direction::LowerIsBetter,
        baseline: Some(baseline),
        target: goal.map(target_text),
        target_met: goal.map(|g| g.comparison.holds(achieved, g.bound)),
        achieved: Some(achieved),
        improvement: improvement(
            baseline,
            achieved,
            row.direction == Direction::LowerIsBetter,
        ),
        verdict: row.verdict.as_str().to_owned(),
    }
}

/// A row's value in the unit the table shows: seconds as milliseconds.
fn shown(unit: Unit, value: f64) -> f64 {
    match unit {
        Unit::Seconds => value * 1e3,
        _ => value,
    }
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Seconds => "ms",
        other => other.name(),
    }
}

/// A goal on a metric the comparison has no row for, read from each side's histograms.
fn goal_row(goal: &Threshold, baseline: &[&LoadResult], achieved: &LoadResult) -> BeforeAfterRow {
    let value = |result: &LoadResult| {
        SavedLoadMetrics::from_result(result)
            .ok()
            .and_then(|m| m.metrics().value(goal.metric, goal.aggregation))
    };
    // Several baseline runs: the median of their values.
    let mut values: Vec<f64> = baseline.iter().filter_map(|r| value(r)).collect();
    values.sort_by(f64::total_cmp);
    let base = values.get(values.len() / 2).copied();
    let now = value(achieved);
    let lower = !matches!(
        goal.comparison,
        plumb_stats::Comparison::Greater | plumb_stats::Comparison::GreaterOrEqual
    );
    BeforeAfterRow {
        metric: format!("{} {}", goal.metric.name(), goal.aggregation),
        unit: if goal.is_duration() { "ms" } else { "" }.to_owned(),
        lower_is_better: lower,
        baseline: base,
        target: Some(target_text(goal)),
        target_met: now.map(|v| goal.comparison.holds(v, goal.bound)),
        achieved: now,
        improvement: base.zip(now).and_then(|(b, n)| improvement(b, n, lower)),
        verdict: "not compared".to_owned(),
    }
}

/// Whether `goal` is on the metric of the comparison row called `metric`.
fn goal_matches(goal: &Threshold, metric: &str) -> bool {
    match (goal.metric, goal.aggregation) {
        (Metric::HttpReqDuration, Aggregation::Percentile(p)) => metric == format!("latency p{p}"),
        (Metric::HttpReqDuration, Aggregation::Med) => metric == "latency p50",
        (Metric::HttpReqFailed, Aggregation::Rate) => metric == "error rate",
        (Metric::HttpReqs, Aggregation::Rate) => metric == "throughput",
        _ => false,
    }
}

/// `< 200 ms`, `< 1%`, `>= 500/s`.
fn target_text(goal: &Threshold) -> String {
    let symbol = goal.comparison.symbol();
    let bound = goal.bound;
    match (goal.metric, goal.aggregation) {
        _ if goal.is_duration() => format!("{symbol} {bound} ms"),
        (Metric::HttpReqFailed | Metric::Checks, Aggregation::Rate) => {
            format!("{symbol} {}%", trim(bound * 100.0))
        }
        (_, Aggregation::Rate) => format!("{symbol} {bound}/s"),
        _ => format!("{symbol} {bound}"),
    }
}

fn trim(value: f64) -> String {
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// How much better `achieved` is than `baseline`; `None` when either is zero (no ratio).
pub fn improvement(baseline: f64, achieved: f64, lower_is_better: bool) -> Option<Improvement> {
    if baseline <= 0.0 || achieved <= 0.0 || !baseline.is_finite() || !achieved.is_finite() {
        return None;
    }
    let (better, factor) = if lower_is_better {
        (
            achieved < baseline,
            (baseline / achieved).max(achieved / baseline),
        )
    } else {
        (
            achieved > baseline,
            (achieved / baseline).max(baseline / achieved),
        )
    };
    let change = (achieved - baseline) / baseline;
    Some(Improvement {
        factor,
        fraction: if lower_is_better { -change } else { change },
        better,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faster_is_a_positive_fraction_and_a_factor() {
        let i = improvement(200.0, 44.0, true).unwrap();
        assert!(i.better);
        assert!((i.fraction - 0.78).abs() < 1e-12);
        assert!((i.factor - 200.0 / 44.0).abs() < 1e-12);
        let i = improvement(100.0, 130.0, true).unwrap();
        assert!(!i.better);
        assert!((i.fraction + 0.3).abs() < 1e-12);
        let i = improvement(1000.0, 5200.0, false).unwrap();
        assert!(i.better && (i.factor - 5.2).abs() < 1e-12);
        assert_eq!(improvement(0.0, 5.0, true), None);
    }

    #[test]
    fn goals_find_their_rows() {
        let p95 = Threshold::parse("http_req_duration: p(95)<200ms").unwrap();
        assert!(goal_matches(&p95, "latency p95"));
        assert!(!goal_matches(&p95, "latency p99"));
        assert_eq!(target_text(&p95), "< 200 ms");
        let errors = Threshold::parse("http_req_failed: rate<1%").unwrap();
        assert!(goal_matches(&errors, "error rate"));
        assert_eq!(target_text(&errors), "< 1%");
        let rps = Threshold::parse("http_reqs: rate>=500").unwrap();
        assert!(goal_matches(&rps, "throughput"));
        assert_eq!(target_text(&rps), ">= 500/s");
    }
}
