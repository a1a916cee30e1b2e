//! The choice of each step's rate: doubling while steps pass, bisection of the bracket, one
//! confirmation of the sustained rate, and the bounds that end a search (a maximum rate, a
//! maximum number of steps, a step the generator could not drive).

use plumb_schema::capacity::CapacityStep;

/// Where a search must stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchLimits {
    /// The first rate tried.
    pub start: f64,
    /// Never offer more than this.
    pub max_rate: f64,
    /// Never offer less than this.
    pub min_rate: f64,
    /// Stop when failing / passing ≤ 1 + this.
    pub precision: f64,
    /// Never run more steps than this.
    pub max_steps: usize,
}

/// The next step to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Next {
    /// Its rate.
    pub rate: f64,
    /// Whether it re-runs the sustained rate.
    pub confirmation: bool,
}

/// A capacity search in progress.
#[derive(Debug, Clone)]
pub struct Search {
    limits: SearchLimits,
    steps: Vec<CapacityStep>,
    /// The highest passing rate below `failing`.
    passing: Option<f64>,
    /// The lowest rate that did not pass.
    failing: Option<f64>,
    confirmed: bool,
    limit: Option<String>,
}

impl Search {
    /// A search within `limits`.
    pub fn new(limits: SearchLimits) -> Search {
        Search {
            limits,
            steps: Vec::new(),
            passing: None,
            failing: None,
            confirmed: false,
            limit: None,
        }
    }

    /// The steps so far.
    pub fn steps(&self) -> &[CapacityStep] {
        &self.steps
    }

    /// The highest rate that passed (confirmed, when the search finished).
    pub fn sustained(&self) -> Option<f64> {
        self.passing
    }

    /// The lowest rate that did not pass.
    pub fn failing(&self) -> Option<f64> {
        self.failing
    }

    /// Why the search ended without a bracket, if it did.
    pub fn limit(&self) -> Option<&str> {
        self.limit.as_deref()
    }

    /// The precision asked for.
    pub fn precision(&self) -> f64 {
        self.limits.precision
    }

    /// Stop with `reason` (an interrupt, a time budget).
    pub fn stop(&mut self, reason: &str) {
        self.limit.get_or_insert_with(|| reason.to_string());
    }

    /// The next step, or `None` when the search is over.
    pub fn next_step(&mut self) -> Option<Next> {
        if self.limit.is_some() {
            return None;
        }
        if self.steps.len() >= self.limits.max_steps {
            self.limit = Some(format!("stopped after {} steps", self.limits.max_steps));
            return None;
        }
        let fresh = |rate| {
            Some(Next {
                rate,
                confirmation: false,
            })
        };
        match (self.passing, self.failing) {
            (None, None) => fresh(self.limits.start),
            (Some(pass), None) if pass >= self.limits.max_rate => {
                self.limit = Some(format!(
                    "the maximum rate {} req/s passed",
                    crate::rate_text(self.limits.max_rate)
                ));
                None
            }
            (Some(pass), None) => fresh((pass * 2.0).min(self.limits.max_rate)),
            (None, Some(fail)) if fail / 2.0 < self.limits.min_rate => {
                self.limit = Some(format!(
                    "even {} req/s missed the goal",
                    crate::rate_text(fail)
                ));
                None
            }
            (None, Some(fail)) => fresh(fail / 2.0),
            (Some(pass), Some(fail)) if fail / pass <= 1.0 + self.limits.precision => {
                if self.confirmed {
                    None
                } else {
                    Some(Next {
                        rate: pass,
                        confirmation: true,
                    })
                }
            }
            (Some(pass), Some(fail)) => fresh((pass * fail).sqrt()),
        }
    }

    /// Take a step's judgement.
    pub fn record(&mut self, step: CapacityStep) {
        let rate = step.rate;
        match step.verdict.as_str() {
            "pass" if step.confirmation => self.confirmed = true,
            "pass" => {
                if self.failing.is_none_or(|fail| rate < fail) {
                    self.passing = Some(self.passing.map_or(rate, |p| p.max(rate)));
                }
            }
            "inconclusive" => {
                self.limit = Some(format!(
                    "the generator could not drive {} req/s: run plumb on more cores or from more machines",
                    crate::rate_text(rate)
                ));
            }
            _ => self.on_failure(rate, step.confirmation),
        }
        self.steps.push(step);
    }

    /// A step at `rate` did not pass: it bounds the bracket from above, and a passing rate at or
    /// above it (a noisy earlier pass, or the failed confirmation) no longer counts.
    fn on_failure(&mut self, rate: f64, confirmation: bool) {
        self.failing = Some(self.failing.map_or(rate, |f| f.min(rate)));
        if self.passing.is_some_and(|pass| pass >= rate) {
            self.passing = self
                .steps
                .iter()
                .filter(|s| s.verdict == "pass" && s.rate < rate)
                .map(|s| s.rate)
                .reduce(f64::max);
        }
        if confirmation {
            self.confirmed = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(rate: f64, verdict: &str, confirmation: bool) -> CapacityStep {
        CapacityStep {
            rate,
            confirmation,
            requests: 100,
            errors: 0,
            achieved_rps: rate,
            error_rate: 0.0,
            observed: Some(1.0),
            observed_low: None,
            observed_high: None,
            p50_ms: Some(1.0),
            p99_ms: Some(1.0),
            concurrency: 1.0,
            verdict: verdict.into(),
            reason: String::new(),
        }
    }

    fn limits() -> SearchLimits {
        SearchLimits {
            start: 100.0,
            max_rate: 1e6,
            min_rate: 1.0,
            precision: 0.05,
            max_steps: 40,
        }
    }

    /// Run the search against a target that passes below `capacity`.
    fn search_against(capacity: f64) -> Search {
        let mut search = Search::new(limits());
        while let Some(next) = search.next_step() {
            let verdict = if next.rate <= capacity {
                "pass"
            } else {
                "fail"
            };
            search.record(step(next.rate, verdict, next.confirmation));
        }
        search
    }

    #[test]
    fn doubling_then_bisection_brackets_the_capacity_within_the_precision() {
        let search = search_against(1234.0);
        let (pass, fail) = (search.sustained().unwrap(), search.failing().unwrap());
        assert!(pass <= 1234.0 && fail > 1234.0, "{pass} {fail}");
        assert!(fail / pass <= 1.05);
        assert!(search.steps().last().unwrap().confirmation);
        assert!(search.steps().len() < 15, "{} steps", search.steps().len());
        assert_eq!(search.limit(), None);
    }

    #[test]
    fn a_target_weaker_than_the_start_is_searched_downwards() {
        let search = search_against(30.0);
        let pass = search.sustained().unwrap();
        assert!(pass <= 30.0 && pass > 30.0 / 1.05 - 1.0, "{pass}");
    }

    #[test]
    fn a_failed_confirmation_lowers_the_sustained_rate() {
        let mut search = Search::new(limits());
        for (rate, verdict) in [
            (100.0, "pass"),
            (200.0, "fail"),
            (141.0, "pass"),
            (168.0, "fail"),
            (154.0, "pass"),
            (161.0, "fail"),
            (157.5, "pass"),
        ] {
            search.record(step(rate, verdict, false));
        }
        let confirm = search.next_step().unwrap();
        assert!(confirm.confirmation && (confirm.rate - 157.5).abs() < 1e-9);
        search.record(step(confirm.rate, "fail", true));
        assert_eq!(search.sustained(), Some(154.0));
        assert_eq!(search.failing(), Some(157.5));
    }

    #[test]
    fn an_inconclusive_step_ends_the_search_and_says_why() {
        let mut search = Search::new(limits());
        search.record(step(100.0, "pass", false));
        search.record(step(200.0, "inconclusive", false));
        assert!(search.next_step().is_none());
        assert!(search
            .limit()
            .unwrap()
            .contains("generator could not drive 200 req/s"));
        assert_eq!(search.sustained(), Some(100.0));
    }

    #[test]
    fn the_maximum_rate_passing_ends_the_search() {
        let mut search = Search::new(SearchLimits {
            max_rate: 400.0,
            ..limits()
        });
        while let Some(next) = search.next_step() {
            search.record(step(next.rate, "pass", next.confirmation));
        }
        assert_eq!(search.sustained(), Some(400.0));
        assert!(search
            .limit()
            .unwrap()
            .contains("maximum rate 400 req/s passed"));
    }
}
