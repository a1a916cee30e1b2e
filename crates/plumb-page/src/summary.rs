//! The runs summed up: each metric's median and p75 over the runs with distribution-free
//! intervals (plumb-stats' order-statistic intervals), its outlying runs, and the representative
//! run whose waterfall and audits the report shows.

use plumb_schema::page::{PageMetricSummary, PageRun};
use plumb_stats::sample;

/// The confidence the intervals aim for.
const CONFIDENCE: f64 = 0.95;

/// Every metric a page run has, with its unit, in the order reports show them.
pub const METRICS: [(&str, &str); 9] = [
    ("page_ttfb", "ms"),
    ("page_fcp", "ms"),
    ("page_lcp", "ms"),
    ("page_cls", ""),
    ("page_tbt", "ms"),
    ("page_dcl", "ms"),
    ("page_load", "ms"),
    ("page_weight", "bytes"),
    ("page_requests", "requests"),
];

/// The values of `metric` over the runs that have it.
pub fn values(runs: &[PageRun], metric: &str) -> Vec<f64> {
    runs.iter().filter_map(|r| r.value(metric)).collect()
}

/// Each metric that some run measured.
pub fn summarize(runs: &[PageRun]) -> Vec<PageMetricSummary> {
    METRICS
        .iter()
        .filter_map(|(metric, unit)| {
            let values = values(runs, metric);
            let median = sample::quantile_interval(&values, 0.5, CONFIDENCE)?;
            let p75 = sample::quantile_interval(&values, 0.75, CONFIDENCE)?;
            let summary = sample::Summary::of(&values)?;
            Some(PageMetricSummary {
                metric: (*metric).to_owned(),
                unit: (*unit).to_owned(),
                runs: values.len(),
                median: median.value,
                median_interval: [median.low, median.high],
                p75: p75.value,
                p75_interval: [p75.low, p75.high],
                confidence: median.confidence.min(p75.confidence),
                min: summary.min,
                max: summary.max,
                outliers: sample::outlier_indices(&values),
            })
        })
        .collect()
}

/// The run nearest the median FCP and LCP (each relative to its median), as Lighthouse's
/// `computeMedianRun` picks by FCP and TTI; ties go to the earlier run.
pub fn representative(runs: &[PageRun]) -> usize {
    let centre = |metric: &str| sample::median(&values(runs, metric));
    let (fcp, lcp) = (centre("page_fcp"), centre("page_lcp"));
    let distance = |run: &PageRun| {
        let relative = |v: Option<f64>, m: f64| match v {
            Some(v) if m.is_finite() && m > 0.0 => (v - m) / m,
            _ => 0.0,
        };
        relative(run.fcp_ms, fcp).hypot(relative(run.lcp_ms, lcp))
    };
    runs.iter()
        .enumerate()
        .min_by(|a, b| distance(a.1).total_cmp(&distance(b.1)))
        .map_or(0, |(i, _)| i)
}
