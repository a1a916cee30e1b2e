//! Page comparisons: each metric of two sets of `plumb page` results, the runs of each side
//! pooled, judged on the median of runs with the same bootstrap and three-way rule as a bench
//! row ([`crate::compare_runs`]), at the Bonferroni level over the rows. Lower is better for
//! every page metric. A metric that is zero on the baseline (no layout shift, no blocking time)
//! has no ratio, and says so.

use crate::{compare_runs, CompareSettings, Comparison, Row, SavedThreshold, Stat, Unit};
use plumb_schema::page::{PageResult, PageRun};
use plumb_stats::{MetricSource, PageMetric, PageMetrics, Threshold};

/// The compared metrics: (name, unit, value of a run).
type Metric = (&'static str, Unit, fn(&PageRun) -> Option<f64>);

const METRICS: [Metric; 8] = [
    ("LCP", Unit::Millis, |r| r.lcp_ms),
    ("FCP", Unit::Millis, |r| r.fcp_ms),
    ("TTFB", Unit::Millis, |r| Some(r.ttfb_ms)),
    ("CLS", Unit::Number, |r| Some(r.cls)),
    ("TBT", Unit::Millis, |r| Some(r.tbt_ms)),
    ("load", Unit::Millis, |r| Some(r.load_ms)),
    ("page weight", Unit::Bytes, |r| {
        Some(r.weight.transfer_bytes as f64)
    }),
    ("requests", Unit::Number, |r| Some(r.weight.requests as f64)),
];

/// Compare the page loads of `base` with those of `cand`.
pub fn compare_page(
    base: &[&PageResult],
    cand: &[&PageResult],
    settings: &CompareSettings,
) -> Comparison {
    let per_row = settings.per_row(METRICS.len());
    let rows: Vec<Row> = METRICS
        .iter()
        .map(|(name, unit, value)| {
            let b = values(base, *value);
            let c = values(cand, *value);
            compare_runs(name, *unit, Stat::Median, &b, &c, &per_row)
        })
        .collect();
    Comparison {
        rows,
        warnings: warnings(base, cand),
        row_confidence: per_row.confidence,
    }
}

/// Check `thresholds` against the candidate's loads (`plumb gate --threshold 'page_lcp:
/// p(75)<2500ms'`), with the baseline's value of each beside it.
pub fn check_page(
    thresholds: &[Threshold],
    candidate: &PageResult,
    baseline: Option<&PageResult>,
) -> Vec<SavedThreshold> {
    let cand_values = |m: PageMetric| candidate.values(m.name());
    let cand = PageMetrics {
        values: &cand_values,
    };
    let base_values = |m: PageMetric| baseline.map_or_else(Vec::new, |b| b.values(m.name()));
    let base = PageMetrics {
        values: &base_values,
    };
    thresholds
        .iter()
        .map(|t| {
            let evaluation = t.evaluate(&cand);
            SavedThreshold {
                expression: t.source.clone(),
                status: evaluation.status,
                observed: evaluation.observed,
                baseline: base.value(t.metric, t.aggregation),
            }
        })
        .collect()
}

fn values(results: &[&PageResult], value: fn(&PageRun) -> Option<f64>) -> Vec<f64> {
    results
        .iter()
        .flat_map(|r| &r.runs)
        .filter_map(value)
        .collect()
}

/// The settings in which the sides differ, and interrupted results.
fn warnings(base: &[&PageResult], cand: &[&PageResult]) -> Vec<String> {
    let all: Vec<&PageResult> = base.iter().chain(cand).copied().collect();
    let mut warnings = Vec::new();
    let differ = |what: &str, of: &dyn Fn(&PageResult) -> String| {
        let mut seen: Vec<String> = all.iter().map(|r| of(r)).collect();
        seen.dedup();
        (seen.len() > 1).then(|| format!("the runs differ in {what}: {}", seen.join(" vs ")))
    };
    warnings.extend(differ("URL", &|r| r.url.clone()));
    warnings.extend(differ("throttling", &|r| {
        r.settings.throttle.preset.clone()
    }));
    warnings.extend(differ("browser", &|r| r.browser.clone()));
    if all.iter().any(|r| r.interrupted) {
        warnings.push("a page run was interrupted: it has fewer loads than asked".into());
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn result(lcp: &[f64], bytes: u64) -> PageResult {
        let runs = lcp
            .iter()
            .map(|&l| PageRun {
                lcp_ms: Some(l),
                fcp_ms: Some(l / 2.0),
                ttfb_ms: 10.0,
                load_ms: l + 10.0,
                weight: plumb_schema::page::PageWeight {
                    transfer_bytes: bytes,
                    requests: 4,
                    by_type: Vec::new(),
                },
                ..PageRun::default()
            })
            .collect();
        PageResult {
            url: "http://127.0.0.1/".into(),
            runs,
            ..PageResult::default()
        }
    }

    #[test]
    fn a_slower_lcp_regresses_and_the_same_weight_is_equivalent() {
        let base = result(&[1000.0, 1010.0, 990.0, 1005.0, 995.0], 50_000);
        let cand = result(&[2000.0, 2010.0, 1990.0, 2005.0, 1995.0], 50_000);
        let comparison = compare_page(&[&base], &[&cand], &CompareSettings::default());
        let row = |name: &str| comparison.rows.iter().find(|r| r.metric == name).unwrap();
        assert_eq!(row("LCP").verdict, Verdict::Regressed);
        assert_eq!(row("LCP").statistic, "median of runs");
        assert_eq!(row("LCP").samples, (5, 5));
        assert_eq!(row("page weight").verdict, Verdict::Equivalent);
        assert!(matches!(row("CLS").verdict, Verdict::NotComparable(_)));
        assert!(comparison.warnings.is_empty(), "{:?}", comparison.warnings);
    }
}
