//! Load shapes over time: the open model's send times and the closed model's active connections.
//!
//! Both follow piecewise-linear stages. The open model's k-th request (0-based, across all threads)
//! is due when the integral of the rate reaches k; thread `t` of `T` sends indices `t, t+T, ...`,
//! so the split is exact and deterministic.

use crate::settings::Stage;
use std::time::Duration;

/// A piecewise-linear value over time, starting at `start` and following `stages`,
/// holding the last value afterwards.
#[derive(Debug, Clone)]
pub struct Ramp {
    segments: Vec<Segment>,
    hold: f64,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    begin_s: f64,
    length_s: f64,
    from: f64,
    to: f64,
    /// Integral of the value from time zero to `begin_s`.
    area_before: f64,
}

impl Ramp {
    /// A ramp from `start` through `stages`; a constant `start` when there are none.
    pub fn new(start: f64, stages: &[Stage]) -> Ramp {
        let mut segments = Vec::with_capacity(stages.len());
        let (mut begin_s, mut from, mut area) = (0.0, start, 0.0);
        for stage in stages {
            let length_s = stage.duration.as_secs_f64();
            segments.push(Segment {
                begin_s,
                length_s,
                from,
                to: stage.target,
                area_before: area,
            });
            area += (from + stage.target) / 2.0 * length_s;
            begin_s += length_s;
            from = stage.target;
        }
        Ramp {
            segments,
            hold: from,
        }
    }

    /// The value at `t`.
    pub fn value_at(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        for s in &self.segments {
            if t < s.begin_s + s.length_s {
                let progress = if s.length_s > 0.0 {
                    (t - s.begin_s) / s.length_s
                } else {
                    1.0
                };
                return s.from + (s.to - s.from) * progress;
            }
        }
        self.hold
    }

    /// When the integral of the value reaches `count`, i.e. when the open model's request number
    /// `count` (0-based) is due. `None` if it never does (the value drops to zero for good).
    pub fn time_of_count(&self, count: f64) -> Option<Duration> {
        let mut area_end = 0.0;
        for s in &self.segments {
            area_end = s.area_before + (s.from + s.to) / 2.0 * s.length_s;
            if count <= area_end && s.length_s > 0.0 {
                let offset = solve_within(s, count - s.area_before)?;
                return Some(Duration::from_secs_f64(s.begin_s + offset));
            }
        }
        if self.hold <= 0.0 {
            return None;
        }
        let begin_s = self.segments.last().map_or(0.0, |s| s.begin_s + s.length_s);
        Some(Duration::from_secs_f64(
            begin_s + (count - area_end) / self.hold,
        ))
    }

    /// The integral of the value from time zero to `t`: how many open-model requests are due by
    /// then, as a real number.
    pub fn area_at(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        let mut area_end = 0.0;
        for s in &self.segments {
            if t < s.begin_s + s.length_s {
                let tau = (t - s.begin_s).max(0.0);
                let slope = (s.to - s.from) / (2.0 * s.length_s);
                return s.area_before + s.from * tau + slope * tau * tau;
            }
            area_end = s.area_before + (s.from + s.to) / 2.0 * s.length_s;
        }
        let end_s = self.segments.last().map_or(0.0, |s| s.begin_s + s.length_s);
        area_end + self.hold.max(0.0) * (t - end_s).max(0.0)
    }

    /// How many open-model requests (indices 0, 1, ...) are due strictly before `t`: O(1), so a
    /// backlog of any size is counted without walking it.
    pub fn count_before(&self, t: Duration) -> u64 {
        let area = self.area_at(t);
        if area.is_nan() || area <= 0.0 {
            0
        } else {
            // `as` saturates at u64::MAX.
            area.ceil() as u64
        }
    }

    /// The largest value reached anywhere on the ramp.
    pub fn peak(&self) -> f64 {
        self.segments
            .iter()
            .map(|s| s.from.max(s.to))
            .fold(self.hold, f64::max)
    }
}

/// Time into segment `s` at which its area reaches `need` (0 <= need <= segment area).
fn solve_within(s: &Segment, need: f64) -> Option<f64> {
    // area(τ) = from·τ + (to − from)/(2·len)·τ²; solve area(τ) = need in the stable form.
    let a = (s.to - s.from) / (2.0 * s.length_s);
    let b = s.from;
    if need <= 0.0 {
        return Some(0.0);
    }
    let discriminant = b * b + 4.0 * a * need;
    if discriminant < 0.0 {
        return None;
    }
    let denominator = b + discriminant.sqrt();
    if denominator <= 0.0 {
        return None;
    }
    Some((2.0 * need / denominator).min(s.length_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(secs: f64, target: f64) -> Stage {
        Stage {
            duration: Duration::from_secs_f64(secs),
            target,
        }
    }

    fn secs(d: Option<Duration>) -> f64 {
        d.expect("due").as_secs_f64()
    }

    #[test]
    fn count_before_inverts_time_of_count() {
        for ramp in [
            Ramp::new(1000.0, &[]),
            Ramp::new(0.0, &[stage(10.0, 100.0)]),
            Ramp::new(50.0, &[stage(2.0, 400.0), stage(3.0, 10.0)]),
        ] {
            for k in [0u64, 1, 7, 99, 123, 480, 900] {
                let due = ramp.time_of_count(k as f64).expect("due");
                // Request k is due at `due`: counted strictly after, not at or before.
                assert!(ramp.count_before(due + Duration::from_micros(1)) > k, "{k}");
                if due > Duration::from_micros(1) {
                    assert!(
                        ramp.count_before(due - Duration::from_micros(1)) <= k,
                        "{k}"
                    );
                }
            }
        }
        assert_eq!(
            Ramp::new(1e12, &[]).count_before(Duration::from_secs(3600)),
            3_600_000_000_000_000
        );
    }

    #[test]
    fn constant_rate_sends_evenly() {
        let ramp = Ramp::new(1000.0, &[]);
        assert_eq!(secs(ramp.time_of_count(0.0)), 0.0);
        assert!((secs(ramp.time_of_count(1500.0)) - 1.5).abs() < 1e-9);
    }

    #[test]
    fn linear_ramp_from_zero_follows_the_integral() {
        // 0 -> 100 rps over 10 s: area(t) = 5 t², so 125 requests are due by t = 5 s.
        let ramp = Ramp::new(0.0, &[stage(10.0, 100.0)]);
        assert!((secs(ramp.time_of_count(125.0)) - 5.0).abs() < 1e-9);
        assert!((secs(ramp.time_of_count(500.0)) - 10.0).abs() < 1e-9);
        // Then it holds 100 rps.
        assert!((secs(ramp.time_of_count(600.0)) - 11.0).abs() < 1e-9);
    }

    #[test]
    fn ramp_down_to_zero_ends_the_schedule() {
        let ramp = Ramp::new(
            0.0,
            &[stage(10.0, 100.0), stage(30.0, 100.0), stage(5.0, 0.0)],
        );
        let total = 500.0 + 3000.0 + 250.0;
        assert!((secs(ramp.time_of_count(total)) - 45.0).abs() < 1e-6);
        assert_eq!(ramp.time_of_count(total + 1.0), None);
        assert_eq!(ramp.peak(), 100.0);
    }

    #[test]
    fn value_interpolates_and_holds() {
        let ramp = Ramp::new(10.0, &[stage(10.0, 20.0)]);
        assert_eq!(ramp.value_at(Duration::from_secs(5)), 15.0);
        assert_eq!(ramp.value_at(Duration::from_secs(50)), 20.0);
    }

    #[test]
    fn send_times_never_go_backwards_on_any_ramp() {
        let ramp = Ramp::new(
            50.0,
            &[stage(2.0, 500.0), stage(1.0, 20.0), stage(3.0, 300.0)],
        );
        let mut last = Duration::ZERO;
        for k in 0..1500 {
            let t = ramp.time_of_count(k as f64).expect("due");
            assert!(t >= last, "request {k} at {t:?} before {last:?}");
            last = t;
        }
    }
}
