//! The rules that turn the page's raw entries into metrics, as pure functions: TBT by
//! Lighthouse's rule, CLS by session windows (web-vitals), and LCP's four parts (web-vitals'
//! attribution).

use plumb_schema::page::{LayoutShift, LcpParts, LongTask};

/// A task's first 50 ms do not block.
const BLOCKING_AFTER_MS: f64 = 50.0;

/// Total Blocking Time: for every long task, the part beyond its first 50 ms that falls after
/// FCP (Lighthouse's `total-blocking-time.js`). Lighthouse also clips at TTI; a run here ends
/// once the main thread has been quiet for the settle time, so no task after it is seen.
pub fn total_blocking_time(tasks: &[LongTask], fcp_ms: f64) -> f64 {
    tasks
        .iter()
        .map(|task| {
            let blocking_start = (task.start_ms + BLOCKING_AFTER_MS).max(fcp_ms);
            let end = task.start_ms + task.duration_ms;
            (end - blocking_start).max(0.0)
        })
        .fold(0.0, |sum, blocking| sum + blocking)
}

/// A session window ends after a 1 s gap between shifts or 5 s after its first shift.
const WINDOW_GAP_MS: f64 = 1000.0;
const WINDOW_MAX_MS: f64 = 5000.0;

/// Cumulative Layout Shift: the largest sum of shifts within one session window. Shifts that
/// follow recent input are left out before this is called.
pub fn cumulative_layout_shift(shifts: &[LayoutShift]) -> f64 {
    let mut largest: f64 = 0.0;
    let mut window: Option<(f64, f64, f64)> = None; // (first, last, sum)
    for shift in shifts {
        window = match window {
            Some((first, last, sum))
                if shift.start_ms - last < WINDOW_GAP_MS
                    && shift.start_ms - first < WINDOW_MAX_MS =>
            {
                Some((first, shift.start_ms, sum + shift.value))
            }
            _ => Some((shift.start_ms, shift.start_ms, shift.value)),
        };
        largest = largest.max(window.map_or(0.0, |w| w.2));
    }
    largest
}

/// The LCP resource's timing, from navigation start (Resource Timing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResourceTiming {
    /// `startTime`.
    pub start_ms: f64,
    /// `requestStart` (0 when the browser hides it).
    pub request_start_ms: f64,
    /// `responseEnd`.
    pub response_end_ms: f64,
}

/// LCP split into TTFB, resource load delay, resource load duration and render delay, each
/// clamped so that they add up to LCP (web-vitals' `onLCP` attribution).
pub fn lcp_parts(
    lcp_ms: f64,
    ttfb_ms: f64,
    resource: Option<ResourceTiming>,
    element: Option<String>,
    url: Option<String>,
) -> LcpParts {
    let ttfb = ttfb_ms.min(lcp_ms);
    let (request_start, response_end) = match resource {
        Some(r) => {
            let started = if r.request_start_ms > 0.0 {
                r.request_start_ms
            } else {
                r.start_ms
            };
            let request_start = started.max(ttfb).min(lcp_ms);
            (
                request_start,
                r.response_end_ms.max(request_start).min(lcp_ms),
            )
        }
        None => (ttfb, ttfb),
    };
    LcpParts {
        element,
        url,
        ttfb_ms: ttfb,
        resource_load_delay_ms: request_start - ttfb,
        resource_load_duration_ms: response_end - request_start,
        render_delay_ms: lcp_ms - response_end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(start_ms: f64, duration_ms: f64) -> LongTask {
        LongTask {
            start_ms,
            duration_ms,
        }
    }

    fn shift(start_ms: f64, value: f64) -> LayoutShift {
        LayoutShift { start_ms, value }
    }

    #[test]
    fn blocking_time_counts_beyond_50ms_after_fcp() {
        // 300 ms after FCP: 250 blocking; 40 ms: none; one straddling FCP at 1000 ms from 900 to
        // 1100: blocking from max(950, 1000) to 1100 = 100.
        let tasks = [task(2000.0, 300.0), task(3000.0, 40.0), task(900.0, 200.0)];
        assert_eq!(total_blocking_time(&tasks, 1000.0), 350.0);
        // Entirely before FCP: nothing.
        assert_eq!(total_blocking_time(&[task(0.0, 400.0)], 500.0), 0.0);
    }

    #[test]
    fn layout_shift_windows_split_on_gaps_and_length() {
        // One window of three (gaps under 1 s), then a new one after a 1.2 s gap.
        let shifts = [
            shift(100.0, 0.1),
            shift(900.0, 0.1),
            shift(1800.0, 0.05),
            shift(3000.0, 0.2),
        ];
        assert!((cumulative_layout_shift(&shifts) - 0.25).abs() < 1e-12);
        // A window stops 5 s after its first shift even without a gap.
        let steady: Vec<_> = (0..12).map(|i| shift(f64::from(i) * 900.0, 0.1)).collect();
        assert!((cumulative_layout_shift(&steady) - 0.6).abs() < 1e-9);
        assert_eq!(cumulative_layout_shift(&[]), 0.0);
    }

    #[test]
    fn lcp_parts_add_up() {
        let resource = ResourceTiming {
            start_ms: 40.0,
            request_start_ms: 45.0,
            response_end_ms: 1245.0,
        };
        let parts = lcp_parts(1260.0, 20.0, Some(resource), None, None);
        assert_eq!(parts.ttfb_ms, 20.0);
        assert_eq!(parts.resource_load_delay_ms, 25.0);
        assert_eq!(parts.resource_load_duration_ms, 1200.0);
        assert_eq!(parts.render_delay_ms, 15.0);
        let text = lcp_parts(300.0, 20.0, None, Some("p".into()), None);
        assert_eq!(text.render_delay_ms, 280.0);
    }
}
