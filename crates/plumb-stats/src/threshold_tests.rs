//! Thresholds with no data, bounds that are not finite, and properties of the parser: any string
//! parses or fails with a pointed message (never a panic), and the canonical form parses back.

use super::*;
use proptest::prelude::*;

struct NoValue;
impl MetricSource for NoValue {
    fn value(&self, _: Metric, _: Aggregation) -> Option<f64> {
        None
    }
}

struct Fixed(f64);
impl MetricSource for Fixed {
    fn value(&self, _: Metric, _: Aggregation) -> Option<f64> {
        Some(self.0)
    }
}

#[test]
fn a_threshold_with_no_data_fails_unless_allowed() {
    let t = Threshold::parse("http_req_duration: p(95)<5ms").unwrap();
    let judged = t.evaluate(&NoValue);
    assert_eq!(judged.status, ThresholdStatus::NoData);
    assert_eq!(judged.observed, None);
    assert!(judged.status.fails(NoData::Fails));
    assert!(!judged.status.fails(NoData::Passes));
    assert!(
        judged.status.fails(NoData::default()),
        "failing is the default"
    );
    assert_eq!(
        t.no_data_reason(),
        "no data: 0 responses measured http_req_duration"
    );
}

#[test]
fn no_data_reasons_name_what_was_missing() {
    for (expression, reason) in [
        (
            "http_req_failed: rate<0.01",
            "no data: 0 requests completed to measure http_req_failed",
        ),
        (
            "http_req_connecting: max<1s",
            "no data: 0 connections measured http_req_connecting",
        ),
        (
            "http_reqs: count>10",
            "no data: 0 requests completed to measure http_reqs",
        ),
        (
            "http_req_waiting: med<5ms",
            "no data: 0 responses measured http_req_waiting",
        ),
    ] {
        let t = Threshold::parse(expression).unwrap();
        assert_eq!(t.no_data_reason(), reason, "{expression}");
    }
}

#[test]
fn values_pass_and_fail_as_before() {
    let t = Threshold::parse("http_req_failed: rate<0.01").unwrap();
    assert_eq!(t.evaluate(&Fixed(0.0)).status, ThresholdStatus::Passed);
    assert_eq!(t.evaluate(&Fixed(0.5)).status, ThresholdStatus::Failed);
    assert!(!ThresholdStatus::Passed.fails(NoData::Fails));
    assert!(ThresholdStatus::Failed.fails(NoData::Passes));
}

#[test]
fn recorded_statuses_are_read_back() {
    for status in [
        ThresholdStatus::Passed,
        ThresholdStatus::Failed,
        ThresholdStatus::NoData,
    ] {
        assert_eq!(
            ThresholdStatus::from_recorded(status.as_str()),
            Some(status)
        );
    }
    assert!(ThresholdStatus::NoData.fails(NoData::Fails));
    assert!(!ThresholdStatus::NoData.fails(NoData::Passes));
    assert!(!ThresholdStatus::Passed.fails(NoData::Fails));
    assert!(ThresholdStatus::Failed.fails(NoData::Passes));
    assert_eq!(ThresholdStatus::from_recorded("exploded"), None);
    // Results record the status as text: the same words, through serde.
    assert_eq!(
        serde_json::to_string(&ThresholdStatus::NoData).unwrap(),
        "\"no data\""
    );
}

#[test]
fn carets_count_characters_not_bytes() {
    let e = Threshold::parse("http_req_duration: p(95)<5µx").unwrap_err();
    let under = format!("\n  {}^^\n", " ".repeat("http_req_duration: p(95)<5".len()));
    assert!(e.to_string().contains(&under), "{e}");
}

#[test]
fn bounds_that_are_not_finite_are_refused() {
    for (expression, bad_part) in [
        ("http_req_duration: p(95)<1e400ms", "1e400ms"),
        ("http_req_duration: p(95)<1e305m", "1e305m"),
        ("http_reqs: rate>1e999", "1e999"),
    ] {
        let e = Threshold::parse(expression).unwrap_err();
        assert_eq!(&expression[e.start..e.start + e.len], bad_part, "{e}");
        assert!(e.message.contains("is too large"), "{e}");
        assert!(e.to_string().contains("hint: write a finite"), "{e}");
    }
}

fn metric() -> impl Strategy<Value = Metric> {
    proptest::sample::select(Metric::ALL.iter().map(|(_, m)| *m).collect::<Vec<_>>())
}

fn comparison() -> impl Strategy<Value = Comparison> {
    proptest::sample::select(vec![
        Comparison::Less,
        Comparison::LessOrEqual,
        Comparison::Greater,
        Comparison::GreaterOrEqual,
        Comparison::Equal,
        Comparison::NotEqual,
    ])
}

/// An aggregation that applies to `metric`.
fn aggregation(metric: Metric) -> BoxedStrategy<Aggregation> {
    if metric.is_database() {
        Just(Aggregation::Avg).boxed()
    } else if metric.is_duration() || matches!(metric, Metric::Page(_)) {
        prop_oneof![
            Just(Aggregation::Avg),
            Just(Aggregation::Min),
            Just(Aggregation::Med),
            Just(Aggregation::Max),
            (0.0..=100.0f64).prop_map(Aggregation::Percentile),
        ]
        .boxed()
    } else if matches!(metric, Metric::HttpReqFailed | Metric::Checks) {
        Just(Aggregation::Rate).boxed()
    } else {
        prop_oneof![Just(Aggregation::Rate), Just(Aggregation::Count)].boxed()
    }
}

fn threshold() -> impl Strategy<Value = Threshold> {
    // Bounds a run can reach: fractions of requests in 0..=1, everything else 0 or more.
    (metric(), comparison(), 0.0..1e12f64).prop_flat_map(|(metric, comparison, bound)| {
        let bound = if matches!(metric, Metric::HttpReqFailed | Metric::Checks) {
            bound / 1e12
        } else {
            bound
        };
        aggregation(metric).prop_map(move |aggregation| Threshold {
            source: String::new(),
            metric,
            aggregation,
            comparison,
            bound,
            tag: None,
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_string_parses_or_points_at_its_bad_part(text in any::<String>()) {
        check_never_panics(&text);
    }

    #[test]
    fn near_misses_parse_or_point_at_their_bad_part(
        text in "[a-z_]{0,20}:? ?(p\\(|avg|rate|count|med)?[0-9.e+-]{0,8}\\)?[<>=!]{0,2}[0-9.e+-]{0,10}(ms|s|us|µs|%|m|x)?"
    ) {
        check_never_panics(&text);
    }

    #[test]
    fn the_canonical_form_parses_back(t in threshold()) {
        let text = t.canonical();
        let back = Threshold::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back.metric, t.metric);
        prop_assert_eq!(back.aggregation, t.aggregation);
        prop_assert_eq!(back.comparison, t.comparison);
        prop_assert_eq!(back.bound, t.bound, "{}", text);
    }
}

/// Parsing `text` returns a threshold with a finite bound, or an error whose span lies inside the
/// expression on character boundaries, and whose message has a hint.
fn check_never_panics(text: &str) {
    match Threshold::parse(text) {
        Ok(t) => assert!(t.bound.is_finite(), "{text}: {}", t.bound),
        Err(e) => {
            assert!(e.start + e.len <= text.len().max(1), "{text:?}: {e:?}");
            assert!(text.is_char_boundary(e.start.min(text.len())), "{text:?}");
            assert!(e.to_string().contains("hint: "), "{text:?}");
        }
    }
}

#[test]
fn database_thresholds_read_the_database_figures() {
    use crate::{LoadMetrics, WithDatabase};
    let empty = crate::DurationHistogram::new();
    let load = LoadMetrics {
        latency: &empty,
        service: &empty,
        ttfb: &empty,
        connect: &empty,
        requests: 10,
        errors: 0,
        bytes_sent: 0,
        bytes_received: 0,
        elapsed: std::time::Duration::from_secs(1),
    };
    let with = WithDatabase {
        load: &load,
        queries_per_request: Some(11.0),
        time_per_request_ms: Some(2.5),
    };
    let fewer = Threshold::parse("db_queries_per_request: avg<5").unwrap();
    assert_eq!(fewer.evaluate(&with).status, ThresholdStatus::Failed);
    let time = Threshold::parse("db_time_per_request: avg<3ms").unwrap();
    assert_eq!(time.evaluate(&with).status, ThresholdStatus::Passed);
    assert_eq!(fewer.evaluate(&load).status, ThresholdStatus::NoData);
    assert!(
        fewer.no_data_reason().contains("plumb load --db"),
        "{}",
        fewer.no_data_reason()
    );
    let error = Threshold::parse("db_queries_per_request: p(95)<5").unwrap_err();
    assert!(error.to_string().contains("avg"), "{error}");
}

#[test]
fn submetrics_by_tag_and_strict_equality_parse() {
    use crate::{Tag, TagKey};
    let t = Threshold::parse("http_req_duration{step:login}: p(95)<300ms").unwrap();
    assert_eq!(
        t.tag,
        Some(Tag {
            key: TagKey::Step,
            value: "login".into()
        })
    );
    assert_eq!(t.bound, 300.0);
    assert_eq!(t.canonical(), "http_req_duration{step:login}: p(95)<300ms");
    let f = Threshold::parse("http_req_failed{ flow: checkout }: rate===0").unwrap();
    assert_eq!(
        f.tag.as_ref().map(|t| (t.key, t.value.as_str())),
        Some((TagKey::Flow, "checkout"))
    );
    assert_eq!(f.comparison, Comparison::Equal);
    let s = Threshold::parse("http_reqs{status:200}: count>10").unwrap();
    assert_eq!(s.tag.map(|t| t.key), Some(TagKey::Status));
    let bad = Threshold::parse("http_reqs{colour:red}: count>1").unwrap_err();
    assert!(bad.message.contains("unknown tag 'colour'"), "{bad}");
    assert_eq!(bad.start, 9);
    assert!(Threshold::parse("http_reqs{status:9000}: count>1").is_err());
    // A source without tags has no data for a submetric.
    assert_eq!(
        Threshold::parse("http_req_duration{step:x}: p(95)<1ms")
            .unwrap()
            .evaluate(&Fixed(1.0))
            .status,
        ThresholdStatus::NoData
    );
}
