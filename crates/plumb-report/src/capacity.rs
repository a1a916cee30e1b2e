//! Rendering of a `plumb capacity` result: the headline, the table of steps, the Universal
//! Scalability Law and the knee, as text for a terminal and as Markdown.

use plumb_schema::capacity::{CapacityResult, CapacityStep, UslFit};
use std::fmt::Write;

/// The result for a terminal.
pub fn text(result: &CapacityResult) -> String {
    let mut out = format!("{}\n\n", result.headline);
    let _ = writeln!(
        out,
        "  {:>4}  {:>10}  {:>10}  {:>8}  {:>10}  {:>10}  {:>7}  verdict",
        "step", "offered/s", "achieved/s", "errors", "p50 ms", "p99 ms", "conc."
    );
    for (i, step) in result.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {:>4}  {:>10}  {:>10.0}  {:>7.2}%  {:>10}  {:>10}  {:>7.1}  {}{}",
            i + 1,
            rate(step.rate),
            step.achieved_rps,
            step.error_rate * 100.0,
            ms(step.p50_ms),
            ms(step.p99_ms),
            step.concurrency,
            step.verdict,
            if step.confirmation {
                " (confirmation)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(
        out,
        "\ngoal: {} (errors at most {:.2}%), each step {} s settled + {} s measured",
        result.goal,
        result.max_error_rate * 100.0,
        result.settle_s,
        result.measure_s
    );
    if let Some(knee) = result.knee_rps {
        let _ = writeln!(out, "knee: latency doubled above {} req/s", rate(knee));
    }
    if let Some(usl) = &result.usl {
        let _ = writeln!(out, "{}", usl_line(usl));
    }
    if let Some(limit) = &result.limited_by {
        let _ = writeln!(out, "note: {limit}");
    }
    out
}

/// The result as Markdown.
pub fn markdown(result: &CapacityResult) -> String {
    let mut out = format!(
        "## plumb capacity: {}\n\n**{}**\n\n",
        result.url, result.headline
    );
    out.push_str("| Step | Offered req/s | Achieved req/s | Errors | p50 ms | p99 ms | Verdict |\n|---:|---:|---:|---:|---:|---:|---|\n");
    for (i, step) in result.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.2}% | {} | {} | {} |",
            i + 1,
            rate(step.rate),
            step.achieved_rps,
            step.error_rate * 100.0,
            ms(step.p50_ms),
            ms(step.p99_ms),
            verdict(step)
        );
    }
    if let Some(usl) = &result.usl {
        let _ = writeln!(out, "\n{}", usl_line(usl));
    }
    out
}

fn verdict(step: &CapacityStep) -> String {
    if step.confirmation {
        format!("{} (confirmation)", step.verdict)
    } else {
        step.verdict.clone()
    }
}

fn usl_line(usl: &UslFit) -> String {
    let peak = match (usl.peak_rps, usl.peak_rps_low, usl.peak_rps_high) {
        (Some(peak), Some(low), Some(high)) => format!(
            "predicted peak {} req/s [{}, {}] at concurrency {:.1}{}",
            rate(peak),
            rate(low),
            rate(high),
            usl.peak_concurrency.unwrap_or(0.0),
            if usl.extrapolated {
                " (extrapolated beyond the steps)"
            } else {
                ""
            }
        ),
        (Some(peak), _, _) => format!("predicted peak {} req/s", rate(peak)),
        _ => "no peak: throughput levels off (κ = 0)".to_string(),
    };
    format!(
        "USL over {} steps: σ = {:.4}, κ = {:.6}, λ = {:.1} req/s; {peak}",
        usl.points, usl.sigma, usl.kappa, usl.lambda
    )
}

fn rate(value: f64) -> String {
    crate::format::count(value.round() as u64)
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"))
}
