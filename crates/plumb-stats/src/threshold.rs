//! Thresholds in k6's syntax: `http_req_duration: p(95)<200ms`, `http_req_failed: rate<0.01`.
//!
//! Parsing points at the bad part of an expression; evaluation asks a [`MetricSource`] for the
//! observed value, so this module stays free of any engine's types. A metric with no value (no
//! response measured a latency, no request completed to have a failure rate) is a third outcome,
//! [`ThresholdStatus::NoData`], which fails a run unless [`NoData::Passes`] is chosen: a load test
//! against a dead server must not pass a CI job.

use std::fmt;

/// A metric a threshold can name (k6's names where k6 has one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Request latency, measured from the intended send time in the open model.
    HttpReqDuration,
    /// Service time: from the actual send to the end of the response (no schedule correction).
    HttpReqServiceTime,
    /// Time to first byte: from the actual send to the first response byte.
    HttpReqWaiting,
    /// TCP (and TLS) connect time.
    HttpReqConnecting,
    /// Fraction of requests that failed (any error class or unexpected status).
    HttpReqFailed,
    /// Requests completed (count, or rate per second).
    HttpReqs,
    /// Fraction of requests whose checks passed.
    Checks,
    /// Bytes received (count, or rate per second).
    DataReceived,
    /// Bytes sent (count, or rate per second).
    DataSent,
    /// Statements the database ran per completed request (`plumb load --db`).
    DbQueriesPerRequest,
    /// Database time (planning and execution) per completed request (`plumb load --db`).
    DbTimePerRequest,
    /// A page load's metric over the loads (`plumb page`: `page_lcp`, `page_cls`, ...).
    Page(crate::PageMetric),
}

/// How a metric is reduced to one number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Aggregation {
    /// Mean.
    Avg,
    /// Minimum.
    Min,
    /// Median.
    Med,
    /// Maximum.
    Max,
    /// A percentile, 0..=100.
    Percentile(f64),
    /// A fraction (failed, checks) or events per second (reqs, data).
    Rate,
    /// A total count.
    Count,
}

/// The comparison operator of a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
}

/// One parsed threshold. Durations are held in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The expression as the user wrote it.
    pub source: String,
    /// The metric it constrains.
    pub metric: Metric,
    /// How the metric is reduced.
    pub aggregation: Aggregation,
    /// The operator.
    pub comparison: Comparison,
    /// The bound, in milliseconds for durations, a fraction for rates of failure, per second for rates.
    pub bound: f64,
    /// A submetric: only the requests of one step, flow or status (k6's `metric{key:value}`).
    pub tag: Option<Tag>,
}

/// A submetric selector, k6's `{key:value}` after a metric's name: `{step:login}`,
/// `{flow:checkout}`, `{status:200}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// What is selected by.
    pub key: TagKey,
    /// The step's or flow's name, or the status code.
    pub value: String,
}

/// The tags a submetric can select by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKey {
    /// A flow step's name.
    Step,
    /// A flow's name.
    Flow,
    /// A response status code.
    Status,
}

impl TagKey {
    /// The key as written.
    pub fn name(self) -> &'static str {
        match self {
            TagKey::Step => "step",
            TagKey::Flow => "flow",
            TagKey::Status => "status",
        }
    }
}

/// A threshold's outcome, recorded in results as `passed`, `failed` or `no data`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub enum ThresholdStatus {
    /// The observed value satisfies the condition.
    #[serde(rename = "passed")]
    Passed,
    /// The observed value breaks the condition.
    #[serde(rename = "failed")]
    Failed,
    /// There is no value to compare (e.g. no response, so no latency).
    #[serde(rename = "no data")]
    NoData,
}

/// What a threshold with no data counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoData {
    /// It fails the run (the default).
    #[default]
    Fails,
    /// It passes (`--allow-no-data`).
    Passes,
}

/// A threshold evaluated against a source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Passed, failed, or no data.
    pub status: ThresholdStatus,
    /// The observed value, when there is one (milliseconds for durations).
    pub observed: Option<f64>,
}

impl ThresholdStatus {
    /// The status as results record it: `passed`, `failed`, `no data`.
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdStatus::Passed => "passed",
            ThresholdStatus::Failed => "failed",
            ThresholdStatus::NoData => "no data",
        }
    }

    /// The status recorded as `text` (`None` for a status this version does not know).
    pub fn from_recorded(text: &str) -> Option<ThresholdStatus> {
        [
            ThresholdStatus::Passed,
            ThresholdStatus::Failed,
            ThresholdStatus::NoData,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether this outcome fails the run, given what no data counts as.
    pub fn fails(self, no_data: NoData) -> bool {
        match self {
            ThresholdStatus::Passed => false,
            ThresholdStatus::Failed => true,
            ThresholdStatus::NoData => no_data == NoData::Fails,
        }
    }
}

/// Gives the observed value of a metric under an aggregation (durations in milliseconds).
pub trait MetricSource {
    /// `None` when the source has no such value (no samples yet).
    fn value(&self, metric: Metric, aggregation: Aggregation) -> Option<f64>;

    /// The value of a submetric (`http_req_duration{step:login}`); `None` when the source keeps
    /// no figures by that tag or has none for its value (a source without tags has no data).
    fn tagged_value(&self, metric: Metric, aggregation: Aggregation, tag: &Tag) -> Option<f64> {
        let _ = (metric, aggregation, tag);
        None
    }
}

/// A threshold expression that could not be parsed, with the span of the bad part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ThresholdParseError {
    /// The whole expression.
    pub expression: String,
    /// Byte offset of the bad part.
    pub start: usize,
    /// Length in bytes of the bad part (at least 1).
    pub len: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl fmt::Display for ThresholdParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let before = self
            .expression
            .get(..self.start)
            .unwrap_or(&self.expression);
        let bad = self.expression.get(self.start..self.start + self.len);
        // One caret per character of the bad part, not per byte (`µs` is one character).
        let carets = bad.map_or(self.len, |b| b.chars().count()).max(1);
        writeln!(f, "invalid threshold: {}", self.message)?;
        writeln!(f, "  {}", self.expression)?;
        writeln!(
            f,
            "  {}{}",
            " ".repeat(before.chars().count()),
            "^".repeat(carets)
        )?;
        write!(f, "hint: {}", self.hint)
    }
}

impl Threshold {
    /// Parse `METRIC: AGGREGATION OP VALUE[UNIT]`, e.g. `http_req_duration: p(95)<200ms`.
    pub fn parse(expression: &str) -> Result<Threshold, ThresholdParseError> {
        Parser { text: expression }.threshold()
    }

    /// Evaluate against a source; `None` when the source has no value for this metric yet.
    pub fn passes(&self, source: &dyn MetricSource) -> Option<bool> {
        let observed = self.observe(source)?;
        Some(self.comparison.holds(observed, self.bound))
    }

    /// The observed value: of the submetric when the threshold has a tag.
    pub fn observe(&self, source: &dyn MetricSource) -> Option<f64> {
        match &self.tag {
            Some(tag) => source.tagged_value(self.metric, self.aggregation, tag),
            None => source.value(self.metric, self.aggregation),
        }
    }

    /// Evaluate against a source: passed, failed, or no data (an explicit outcome, never a
    /// number that happens to pass).
    pub fn evaluate(&self, source: &dyn MetricSource) -> Evaluation {
        let observed = self.observe(source);
        let status = match observed {
            Some(v) if self.comparison.holds(v, self.bound) => ThresholdStatus::Passed,
            Some(_) => ThresholdStatus::Failed,
            None => ThresholdStatus::NoData,
        };
        Evaluation { status, observed }
    }

    /// Why this threshold has no data, e.g. `no data: 0 responses measured http_req_duration`.
    pub fn no_data_reason(&self) -> String {
        self.metric.no_data_reason()
    }

    /// Whether the metric is a duration (its bound is in milliseconds).
    pub fn is_duration(&self) -> bool {
        self.metric.is_duration()
    }

    /// The expression in one canonical form (`http_req_duration: p(95)<200ms`), which parses
    /// back to the same threshold.
    pub fn canonical(&self) -> String {
        let unit = if self.is_duration() { "ms" } else { "" };
        let tag = self.tag.as_ref().map_or(String::new(), |t| {
            format!("{{{}:{}}}", t.key.name(), t.value)
        });
        format!(
            "{}{tag}: {}{}{}{unit}",
            self.metric.name(),
            self.aggregation,
            self.comparison.symbol(),
            self.bound
        )
    }
}

impl Comparison {
    /// Whether `observed OP bound` holds.
    pub fn holds(self, observed: f64, bound: f64) -> bool {
        match self {
            Comparison::Less => observed < bound,
            Comparison::LessOrEqual => observed <= bound,
            Comparison::Greater => observed > bound,
            Comparison::GreaterOrEqual => observed >= bound,
            Comparison::Equal => observed == bound,
            Comparison::NotEqual => observed != bound,
        }
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Equal => "==",
            Comparison::NotEqual => "!=",
        }
    }
}

impl Metric {
    const ALL: [(&'static str, Metric); 20] = [
        ("http_req_duration", Metric::HttpReqDuration),
        ("http_req_service_time", Metric::HttpReqServiceTime),
        ("http_req_waiting", Metric::HttpReqWaiting),
        ("http_req_connecting", Metric::HttpReqConnecting),
        ("http_req_failed", Metric::HttpReqFailed),
        ("http_reqs", Metric::HttpReqs),
        ("checks", Metric::Checks),
        ("data_received", Metric::DataReceived),
        ("data_sent", Metric::DataSent),
        ("db_queries_per_request", Metric::DbQueriesPerRequest),
        ("db_time_per_request", Metric::DbTimePerRequest),
        ("page_ttfb", Metric::Page(crate::PageMetric::Ttfb)),
        ("page_fcp", Metric::Page(crate::PageMetric::Fcp)),
        ("page_lcp", Metric::Page(crate::PageMetric::Lcp)),
        ("page_cls", Metric::Page(crate::PageMetric::Cls)),
        ("page_tbt", Metric::Page(crate::PageMetric::Tbt)),
        ("page_dcl", Metric::Page(crate::PageMetric::Dcl)),
        ("page_load", Metric::Page(crate::PageMetric::Load)),
        ("page_weight", Metric::Page(crate::PageMetric::Weight)),
        ("page_requests", Metric::Page(crate::PageMetric::Requests)),
    ];

    /// The metric's name in threshold expressions.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// Why the metric can have no value: what there were none of.
    pub fn no_data_reason(self) -> String {
        if self.is_database() {
            return format!(
                "no data: {} needs the database's figures (plumb load --db URL) and a completed request",
                self.name()
            );
        }
        let none_of = match self {
            Metric::Page(_) => "0 page loads measured",
            Metric::HttpReqConnecting => "0 connections measured",
            m if m.is_duration() => "0 responses measured",
            _ => "0 requests completed to measure",
        };
        format!("no data: {none_of} {}", self.name())
    }

    fn from_name(name: &str) -> Option<Metric> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    /// Whether the metric comes from the database (`plumb load --db`), not the HTTP engine.
    pub fn is_database(self) -> bool {
        matches!(self, Metric::DbQueriesPerRequest | Metric::DbTimePerRequest)
    }

    fn is_duration(self) -> bool {
        if let Metric::Page(page) = self {
            return page.is_duration();
        }
        matches!(
            self,
            Metric::DbTimePerRequest
                | Metric::HttpReqDuration
                | Metric::HttpReqServiceTime
                | Metric::HttpReqWaiting
                | Metric::HttpReqConnecting
        )
    }

    fn allows(self, aggregation: Aggregation) -> bool {
        if self.is_database() {
            return aggregation == Aggregation::Avg;
        }
        if let Metric::Page(_) = self {
            return !matches!(aggregation, Aggregation::Rate | Aggregation::Count);
        }
        match aggregation {
            Aggregation::Rate => !self.is_duration(),
            Aggregation::Count => matches!(
                self,
                Metric::HttpReqs | Metric::DataReceived | Metric::DataSent
            ),
            _ => self.is_duration(),
        }
    }

    fn allowed_aggregations(self) -> &'static str {
        if self.is_database() {
            "avg"
        } else if self.is_duration() || matches!(self, Metric::Page(_)) {
            "avg, min, med, max, p(N)"
        } else if matches!(self, Metric::HttpReqFailed | Metric::Checks) {
            "rate"
        } else {
            "rate, count"
        }
    }
}

struct Parser<'a> {
    text: &'a str,
}

impl Parser<'_> {
    fn threshold(&self) -> Result<Threshold, ThresholdParseError> {
        let Some(colon) = self.condition_colon() else {
            return Err(self.error(
                0,
                self.text.len(),
                "missing ':' between the metric and the condition",
                "write it as METRIC: CONDITION, e.g. 'http_req_duration: p(95)<200ms'",
            ));
        };
        let (metric, tag) = self.metric_and_tag(colon)?;
        let condition_start = colon + 1;
        let (aggregation, op_start) = self.aggregation(metric, condition_start)?;
        let (comparison, value_start) = self.comparison(op_start)?;
        let bound = self.bound(metric, value_start)?;
        self.possible(metric, bound, value_start)?;
        Ok(Threshold {
            source: self.text.trim().to_string(),
            metric,
            aggregation,
            comparison,
            bound,
            tag,
        })
    }

    /// The `:` between the metric and the condition: the first one after a `{...}` tag.
    fn condition_colon(&self) -> Option<usize> {
        let first = self.text.find(':')?;
        match self.text.find('{') {
            Some(open) if open < first => {
                let close = open + self.text[open..].find('}')?;
                self.text[close..].find(':').map(|i| close + i)
            }
            _ => Some(first),
        }
    }

    /// `http_req_duration` or `http_req_duration{step:login}`.
    fn metric_and_tag(&self, colon: usize) -> Result<(Metric, Option<Tag>), ThresholdParseError> {
        let Some(open) = self.text[..colon].find('{') else {
            return Ok((self.metric(colon)?, None));
        };
        let metric = self.metric(open)?;
        let close = open + self.text[open..colon].find('}').unwrap_or(colon - open);
        let inner = &self.text[open + 1..close];
        let bad = |message: String| {
            self.error(
                open,
                close + 1 - open,
                &message,
                "a submetric is {step:NAME}, {flow:NAME} or {status:CODE}, e.g. 'http_req_duration{step:login}: p(95)<300ms'",
            )
        };
        let (key, value) = inner
            .split_once(':')
            .ok_or_else(|| bad(format!("'{{{inner}}}' is not a tag")))?;
        let key = match key.trim() {
            "step" => TagKey::Step,
            "flow" => TagKey::Flow,
            "status" => TagKey::Status,
            other => return Err(bad(format!("unknown tag '{other}'"))),
        };
        let value = value
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string();
        if value.is_empty() {
            return Err(bad("the tag has no value".into()));
        }
        if key == TagKey::Status && !value.parse::<u16>().is_ok_and(|c| (100..=599).contains(&c)) {
            return Err(bad(format!("'{value}' is not a status code (100 to 599)")));
        }
        Ok((metric, Some(Tag { key, value })))
    }

    fn metric(&self, colon: usize) -> Result<Metric, ThresholdParseError> {
        let (start, name) = trimmed(self.text, 0, colon);
        Metric::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Metric::ALL.iter().map(|(n, _)| *n).collect();
            self.error(
                start,
                name.len(),
                &format!("unknown metric '{name}'"),
                &format!("known metrics: {}", known.join(", ")),
            )
        })
    }

    fn aggregation(
        &self,
        metric: Metric,
        from: usize,
    ) -> Result<(Aggregation, usize), ThresholdParseError> {
        let op_at = self.text[from..]
            .find(['<', '>', '=', '!'])
            .map(|i| from + i)
            .ok_or_else(|| {
                let (start, rest) = trimmed(self.text, from, self.text.len());
                self.error(
                    start,
                    rest.len(),
                    "missing comparison operator",
                    "use one of <, <=, >, >=, ==, !=, e.g. 'p(95)<200ms'",
                )
            })?;
        let (start, word) = trimmed(self.text, from, op_at);
        let aggregation = parse_aggregation(word).ok_or_else(|| {
            self.error(
                start,
                word.len(),
                &format!("unknown aggregation '{word}'"),
                &format!("{} takes {}", metric.name(), metric.allowed_aggregations()),
            )
        })?;
        if !metric.allows(aggregation) {
            return Err(self.error(
                start,
                word.len(),
                &format!("'{word}' does not apply to {}", metric.name()),
                &format!("{} takes {}", metric.name(), metric.allowed_aggregations()),
            ));
        }
        Ok((aggregation, op_at))
    }

    fn comparison(&self, at: usize) -> Result<(Comparison, usize), ThresholdParseError> {
        let rest = &self.text[at..];
        let table = [
            // k6's strict equality: numbers compare as with ==.
            ("===", Comparison::Equal),
            ("<=", Comparison::LessOrEqual),
            (">=", Comparison::GreaterOrEqual),
            ("==", Comparison::Equal),
            ("!=", Comparison::NotEqual),
            ("<", Comparison::Less),
            (">", Comparison::Greater),
        ];
        table
            .iter()
            .find(|(sym, _)| rest.starts_with(sym))
            .map(|(sym, cmp)| (*cmp, at + sym.len()))
            .ok_or_else(|| {
                self.error(
                    at,
                    1,
                    "invalid comparison operator",
                    "use one of <, <=, >, >=, ==, ===, !=",
                )
            })
    }

    /// A bound no run can reach makes a threshold that always passes or always fails: a fraction
    /// outside 0..=1, a negative duration, count or rate.
    fn possible(&self, metric: Metric, bound: f64, from: usize) -> Result<(), ThresholdParseError> {
        let (start, word) = trimmed(self.text, from, self.text.len());
        let fraction = matches!(metric, Metric::HttpReqFailed | Metric::Checks);
        if fraction && !(0.0..=1.0).contains(&bound) {
            return Err(self.error(
                start,
                word.len(),
                &format!(
                    "{} is a fraction of requests: '{word}' is outside 0 to 1 (0% to 100%)",
                    metric.name()
                ),
                "e.g. 'http_req_failed: rate<0.01' or 'rate<1%'",
            ));
        }
        if bound < 0.0 {
            return Err(self.error(
                start,
                word.len(),
                &format!("'{word}' is negative, and {} never is", metric.name()),
                "write a bound of 0 or more",
            ));
        }
        Ok(())
    }

    fn bound(&self, metric: Metric, from: usize) -> Result<f64, ThresholdParseError> {
        let (start, word) = trimmed(self.text, from, self.text.len());
        if word.is_empty() {
            return Err(self.error(
                from.saturating_sub(1),
                1,
                "missing value after the operator",
                "e.g. 'p(95)<200ms' or 'rate<0.01'",
            ));
        }
        let digits_end = word
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
            .unwrap_or(word.len());
        let (number, unit) = word.split_at(digits_end);
        let value: f64 = number.parse().map_err(|_| {
            self.error(
                start,
                word.len(),
                &format!("'{word}' is not a number"),
                "write a plain number, optionally with a unit: 200ms, 1.5s, 0.01",
            )
        })?;
        if !value.is_finite() {
            return Err(self.error(
                start,
                word.len(),
                &format!("'{word}' is too large"),
                "write a finite number, optionally with a unit: 200ms, 1.5s, 0.01",
            ));
        }
        if !metric.is_duration() {
            return match unit {
                "" => Ok(value),
                "%" if matches!(metric, Metric::HttpReqFailed | Metric::Checks) => {
                    Ok(value / 100.0)
                }
                _ => Err(self.error(
                    start + digits_end,
                    unit.len(),
                    &format!("{} takes no unit '{unit}'", metric.name()),
                    "rates are plain numbers: a fraction (0.01 or 1%) or events per second",
                )),
            };
        }
        let scale = match unit {
            "" | "ms" => 1.0,
            "us" | "µs" => 1e-3,
            "ns" => 1e-6,
            "s" => 1e3,
            "m" => 60e3,
            _ => {
                return Err(self.error(
                    start + digits_end,
                    unit.len(),
                    &format!("unknown unit '{unit}'"),
                    "duration units are ns, us, ms, s, m (a bare number means ms)",
                ))
            }
        };
        let scaled = value * scale;
        if !scaled.is_finite() {
            return Err(self.error(
                start,
                word.len(),
                &format!("'{word}' is too large"),
                "write a finite duration, e.g. 200ms or 1.5s",
            ));
        }
        Ok(scaled)
    }

    fn error(&self, start: usize, len: usize, message: &str, hint: &str) -> ThresholdParseError {
        ThresholdParseError {
            expression: self.text.to_string(),
            start,
            len: len.max(1),
            message: message.to_string(),
            hint: hint.to_string(),
        }
    }
}

fn parse_aggregation(word: &str) -> Option<Aggregation> {
    match word {
        "avg" => Some(Aggregation::Avg),
        "min" => Some(Aggregation::Min),
        "med" => Some(Aggregation::Med),
        "max" => Some(Aggregation::Max),
        "rate" => Some(Aggregation::Rate),
        "count" => Some(Aggregation::Count),
        _ => {
            let inner = word.strip_prefix("p(")?.strip_suffix(')')?;
            let p: f64 = inner.trim().parse().ok()?;
            (0.0..=100.0)
                .contains(&p)
                .then_some(Aggregation::Percentile(p))
        }
    }
}

/// The trimmed slice of `text[from..to]` and the byte offset where it starts.
fn trimmed(text: &str, from: usize, to: usize) -> (usize, &str) {
    let slice = &text[from..to];
    let lead = slice.len() - slice.trim_start().len();
    (from + lead, slice.trim())
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Aggregation::Avg => f.write_str("avg"),
            Aggregation::Min => f.write_str("min"),
            Aggregation::Med => f.write_str("med"),
            Aggregation::Max => f.write_str("max"),
            Aggregation::Percentile(p) => write!(f, "p({p})"),
            Aggregation::Rate => f.write_str("rate"),
            Aggregation::Count => f.write_str("count"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expr: &str, metric: Metric, agg: Aggregation, cmp: Comparison, bound: f64) {
        let t = Threshold::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!((t.metric, t.aggregation, t.comparison), (metric, agg, cmp));
        assert!((t.bound - bound).abs() < 1e-9, "{expr}: bound {}", t.bound);
    }

    fn check_error(expr: &str, bad_part: &str, message_contains: &str) {
        let e = Threshold::parse(expr).unwrap_err();
        assert_eq!(&expr[e.start..e.start + e.len], bad_part, "{e}");
        assert!(e.message.contains(message_contains), "{e}");
    }

    #[test]
    fn bounds_no_run_can_reach_are_refused() {
        check_error("http_req_failed: rate<200%", "200%", "outside 0 to 1");
        check_error("checks: rate>=1.5", "1.5", "outside 0 to 1");
        check_error("http_req_duration: p(95)<-5ms", "-5ms", "is negative");
        check_error("http_reqs: count>-1", "-1", "is negative");
        assert!(Threshold::parse("http_req_failed: rate<=100%").is_ok());
        assert!(Threshold::parse("http_req_duration: p(95)<0ms").is_ok());
    }

    #[test]
    fn parses_k6_expressions() {
        use Aggregation::*;
        use Comparison::*;
        use Metric::*;
        check(
            "http_req_duration: p(95)<200ms",
            HttpReqDuration,
            Percentile(95.0),
            Less,
            200.0,
        );
        check(
            "http_req_duration:p(99.9)<=1.5s",
            HttpReqDuration,
            Percentile(99.9),
            LessOrEqual,
            1500.0,
        );
        check(
            "http_req_duration: avg < 250",
            HttpReqDuration,
            Avg,
            Less,
            250.0,
        );
        check(
            "http_req_waiting: med<300us",
            HttpReqWaiting,
            Med,
            Less,
            0.3,
        );
        check(
            "http_req_failed: rate<0.01",
            HttpReqFailed,
            Rate,
            Less,
            0.01,
        );
        check("http_req_failed: rate<1%", HttpReqFailed, Rate, Less, 0.01);
        check("http_reqs: rate>1000", HttpReqs, Rate, Greater, 1000.0);
        check(
            "http_reqs: count>=10",
            HttpReqs,
            Count,
            GreaterOrEqual,
            10.0,
        );
        check("checks: rate==1", Checks, Rate, Equal, 1.0);
    }

    #[test]
    fn errors_point_at_the_bad_part() {
        check_error(
            "http_req_duraton: p(95)<200ms",
            "http_req_duraton",
            "unknown metric",
        );
        check_error("http_req_duration: p(95)<200xs", "xs", "unknown unit");
        check_error(
            "http_req_duration: q(95)<200ms",
            "q(95)",
            "unknown aggregation",
        );
        check_error("http_req_duration: p(95)", "p(95)", "missing comparison");
        check_error("http_req_duration: p(95)<", "<", "missing value");
        check_error("http_req_failed: p(95)<0.1", "p(95)", "does not apply");
        check_error("http_req_duration: rate<0.1", "rate", "does not apply");
        check_error(
            "http_req_duration p(95)<200",
            "http_req_duration p(95)<200",
            "missing ':'",
        );
        check_error("http_reqs: rate>abc", "abc", "not a number");
    }

    #[test]
    fn error_display_has_caret_and_hint() {
        let e = Threshold::parse("http_req_duration: p(95)<200xs").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("                            ^^"), "{text}");
        assert!(text.contains("hint: duration units"), "{text}");
    }

    struct Fixed(f64);
    impl MetricSource for Fixed {
        fn value(&self, _: Metric, _: Aggregation) -> Option<f64> {
            Some(self.0)
        }
    }

    #[test]
    fn evaluates_against_a_source() {
        let t = Threshold::parse("http_req_duration: p(95)<200ms").unwrap();
        assert_eq!(t.passes(&Fixed(199.9)), Some(true));
        assert_eq!(t.passes(&Fixed(200.0)), Some(false));
    }
}

#[cfg(test)]
#[path = "threshold_tests.rs"]
mod more_tests;
