//! A threshold's figures in words with their unit (`1.94 ms`, `0.01%`, `19,998.7/s`), and the
//! latency goals a chart draws as lines: one reading of a threshold expression for every renderer.

use crate::format;
use plumb_stats::{Aggregation, Metric, Threshold};

/// The observed value of the threshold `expression`, with the unit its metric is measured in;
/// the bare number when the expression does not parse (a result from a newer plumb).
pub fn observed(expression: &str, value: f64) -> String {
    match Threshold::parse(expression) {
        Ok(t) => with_unit(&t, value),
        Err(_) => format::significant(value),
    }
}

/// `value` in the unit of `t`'s metric and aggregation.
pub fn with_unit(t: &Threshold, value: f64) -> String {
    match (t.metric, t.aggregation) {
        _ if t.is_duration() => format!("{} ms", format::ms(value)),
        (Metric::HttpReqFailed | Metric::Checks, _) => fraction(value),
        (Metric::HttpReqs, Aggregation::Rate) => format!("{}/s", format::rate(value)),
        (Metric::HttpReqs, _) => format!("{} requests", format::count(value.max(0.0) as u64)),
        (Metric::DataReceived | Metric::DataSent, Aggregation::Rate) => {
            format!("{}/s", format::bytes(value.max(0.0) as u64))
        }
        (Metric::DataReceived | Metric::DataSent, _) => format::bytes(value.max(0.0) as u64),
        (Metric::DbQueriesPerRequest, _) => {
            format!("{} queries per request", format::significant(value))
        }
        _ => format::significant(value),
    }
}

/// A fraction as a percentage that keeps small rates readable: `0.40%`, `0.006%`, `0%`.
fn fraction(value: f64) -> String {
    let p = value * 100.0;
    if p == 0.0 || p.abs() >= 0.01 {
        return format::percent(value);
    }
    let digits = format::significant(p);
    let digits = if digits.contains('e') {
        digits
    } else {
        digits.trim_end_matches('0').to_owned()
    };
    format!("{digits}%")
}

/// The latency goals among `expressions`: (label, percentile or `None` for the mean/max, bound in
/// ms) of each `http_req_duration` threshold, for the goal lines of latency charts.
pub fn latency_goals<'a>(
    expressions: impl Iterator<Item = &'a str>,
) -> Vec<(String, Option<f64>, f64)> {
    expressions
        .filter_map(|e| Threshold::parse(e).ok())
        .filter(|t| t.metric == Metric::HttpReqDuration)
        .map(|t| {
            let p = match t.aggregation {
                Aggregation::Percentile(p) => Some(p),
                Aggregation::Med => Some(50.0),
                _ => None,
            };
            (t.source.clone(), p, t.bound)
        })
        .collect()
}

/// What a threshold's rolling windows showed (`--threshold-window`), in words: `3 of 8 windows
/// of 3 s failed, worst 201.1 ms at 5-8 s`; `None` without windows.
pub fn windows(outcome: &plumb_schema::load::ThresholdOutcome) -> Option<String> {
    let w = outcome.window.as_ref()?;
    Some(match (w.windows, w.worst_observed, w.worst_from_s) {
        (0, _, _) => format!("the run was shorter than one window of {} s", w.seconds),
        (n, Some(worst), Some(from)) if w.failed_windows > 0 => format!(
            "{} of {n} windows of {} s failed, worst {} at {from}-{} s",
            w.failed_windows,
            w.seconds,
            observed(&outcome.expression, worst),
            from + w.seconds
        ),
        (n, _, _) => format!("all {n} windows of {} s held", w.seconds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_values_carry_their_unit() {
        assert_eq!(observed("http_req_duration: p(95)<200ms", 1.94), "1.940 ms");
        assert_eq!(observed("http_req_failed: rate<0.01", 0.0006), "0.06%");
        assert_eq!(observed("http_req_failed: rate<0.00001", 0.00006), "0.006%");
        assert_eq!(observed("http_req_failed: rate<0.01", 0.0), "0.00%");
        assert_eq!(observed("http_reqs: rate>100", 19_998.7), "19,998.7/s");
        assert_eq!(observed("http_reqs: count>100", 120.0), "120 requests");
        assert_eq!(observed("not a threshold", 3.0), "3.00");
    }

    #[test]
    fn latency_goals_name_their_percentile() {
        let goals = latency_goals(
            [
                "http_req_duration: p(95)<200ms",
                "http_req_failed: rate<0.01",
            ]
            .into_iter(),
        );
        assert_eq!(
            goals,
            [(
                "http_req_duration: p(95)<200ms".to_string(),
                Some(95.0),
                200.0
            )]
        );
    }
}
