//! The values thresholds read from a page run (`plumb page`): one value per page load for each
//! metric, reduced over the loads (`page_lcp: p(75)<2500ms` is the 75th percentile of the loads'
//! LCP, linear between closest ranks as [`crate::sample::quantile`] computes it).

use crate::{sample, Aggregation, Metric, MetricSource};

/// A metric of a page load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageMetric {
    /// Time to first byte of the document.
    Ttfb,
    /// First Contentful Paint.
    Fcp,
    /// Largest Contentful Paint.
    Lcp,
    /// Cumulative Layout Shift (no unit).
    Cls,
    /// Total Blocking Time.
    Tbt,
    /// DOMContentLoaded.
    Dcl,
    /// The load event.
    Load,
    /// Bytes over the network.
    Weight,
    /// Requests made.
    Requests,
}

impl PageMetric {
    /// Every page metric with its threshold name.
    pub const ALL: [(&'static str, PageMetric); 9] = [
        ("page_ttfb", PageMetric::Ttfb),
        ("page_fcp", PageMetric::Fcp),
        ("page_lcp", PageMetric::Lcp),
        ("page_cls", PageMetric::Cls),
        ("page_tbt", PageMetric::Tbt),
        ("page_dcl", PageMetric::Dcl),
        ("page_load", PageMetric::Load),
        ("page_weight", PageMetric::Weight),
        ("page_requests", PageMetric::Requests),
    ];

    /// The name in threshold expressions and results (`page_lcp`).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("?", |(n, _)| *n)
    }

    /// Whether its values are milliseconds.
    pub fn is_duration(self) -> bool {
        !matches!(
            self,
            PageMetric::Cls | PageMetric::Weight | PageMetric::Requests
        )
    }
}

/// The page loads' values of each metric, borrowed from wherever they live.
pub struct PageMetrics<'a> {
    /// The values of a metric over the loads that measured it.
    pub values: &'a dyn Fn(PageMetric) -> Vec<f64>,
}

impl MetricSource for PageMetrics<'_> {
    /// Milliseconds for durations; `None` when no load measured the metric, and for metrics
    /// that are not a page's.
    fn value(&self, metric: Metric, aggregation: Aggregation) -> Option<f64> {
        let Metric::Page(metric) = metric else {
            return None;
        };
        let values = (self.values)(metric);
        if values.is_empty() {
            return None;
        }
        Some(match aggregation {
            Aggregation::Avg => sample::mean(&values),
            Aggregation::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
            Aggregation::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Aggregation::Med => sample::median(&values),
            Aggregation::Percentile(p) => sample::quantile(&values, p / 100.0),
            Aggregation::Rate | Aggregation::Count => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Threshold;

    #[test]
    fn page_thresholds_reduce_over_the_loads() {
        let lcp = [1800.0, 2600.0, 2000.0, 2200.0];
        let values = |m: PageMetric| match m {
            PageMetric::Lcp => lcp.to_vec(),
            PageMetric::Cls => vec![0.05, 0.2],
            _ => Vec::new(),
        };
        let source = PageMetrics { values: &values };
        let check = |expression: &str| Threshold::parse(expression).unwrap().passes(&source);
        // p75 of 1800, 2000, 2200, 2600: 2200 + 0.25 * 400 = 2300.
        assert_eq!(check("page_lcp: p(75)<2300ms"), Some(false));
        assert_eq!(check("page_lcp: p(75)<=2300ms"), Some(true));
        assert_eq!(check("page_lcp: med<2.2s"), Some(true));
        assert_eq!(check("page_cls: max<0.1"), Some(false));
        assert_eq!(check("page_fcp: p(75)<1s"), None, "no load measured FCP");
        assert!(Threshold::parse("page_cls: rate<0.1").is_err());
        assert!(Threshold::parse("page_cls: p(75)<0.1ms").is_err());
        assert_eq!(
            Threshold::parse("page_tbt: p(75)<200ms")
                .unwrap()
                .no_data_reason(),
            "no data: 0 page loads measured page_tbt"
        );
    }
}
