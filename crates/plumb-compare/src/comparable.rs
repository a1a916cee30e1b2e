//! Whether two sides measured the same thing: the settings that make a comparison meaningful
//! (URL, method, model, rate or connections, threads, HTTP version; the benchmarked commands; the
//! host), each difference named in a warning.

use plumb_schema::bench::BenchReport;
use plumb_schema::load::{LoadResult, LoadSettingsRecord};

/// Rates within this fraction of each other count as the same.
const RATE_SLACK: f64 = 0.01;

/// Every setting in which the load runs of the two sides (or the runs within one side) differ.
pub fn load_mismatches(base: &[&LoadResult], cand: &[&LoadResult]) -> Vec<String> {
    let Some(reference) = base.first().or(cand.first()) else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    for (side, results) in [("baseline", base), ("candidate", cand)] {
        for (i, result) in results.iter().enumerate() {
            for difference in settings_differences(&reference.settings, &result.settings) {
                let which = if results.len() > 1 {
                    format!("{side} run {}", i + 1)
                } else {
                    side.to_string()
                };
                let warning = format!("not the same load: the {which} {difference}");
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
        }
    }
    warnings
}

fn settings_differences(a: &LoadSettingsRecord, b: &LoadSettingsRecord) -> Vec<String> {
    let mut out = Vec::new();
    let mut differs = |what: &str, x: String, y: String| {
        if x != y {
            out.push(format!("has {what} {y} where the baseline has {x}"));
        }
    };
    differs("URL", a.url.clone(), b.url.clone());
    differs("method", a.method.clone(), b.method.clone());
    differs("model", a.model.clone(), b.model.clone());
    differs(
        "connections",
        a.connections.to_string(),
        b.connections.to_string(),
    );
    differs("threads", a.threads.to_string(), b.threads.to_string());
    differs(
        "HTTP version",
        a.http_version.clone(),
        b.http_version.clone(),
    );
    differs("stages", stages(a), stages(b));
    if let (Some(x), Some(y)) = (a.rate, b.rate) {
        if (x - y).abs() > RATE_SLACK * x.abs().max(y.abs()) {
            out.push(format!("has rate {y}/s where the baseline has {x}/s"));
        }
    }
    out
}

fn stages(s: &LoadSettingsRecord) -> String {
    let parts: Vec<String> = s
        .stages
        .iter()
        .map(|st| format!("{}s:{}", st.duration_s, st.target))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(",")
    }
}

/// Benchmarks whose commands differ between the sides, matched by name.
pub fn bench_mismatches(base: &[&BenchReport], cand: &[&BenchReport]) -> Vec<String> {
    let mut warnings = Vec::new();
    for b in cand.iter().flat_map(|r| &r.benchmarks) {
        for a in base.iter().flat_map(|r| &r.benchmarks) {
            if a.name == b.name && a.command != b.command {
                let warning = format!(
                    "not the same command: '{}' is `{}` in the candidate and `{}` in the baseline",
                    b.name, b.command, a.command
                );
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
        }
    }
    warnings
}

/// A warning when the runs did not all come from one host (by fingerprint).
pub fn host_warnings(base_hosts: &[String], cand_hosts: &[String]) -> Vec<String> {
    let mut hosts: Vec<&String> = base_hosts.iter().chain(cand_hosts).collect();
    hosts.sort();
    hosts.dedup();
    if hosts.len() > 1 {
        vec![format!(
            "the runs come from {} different hosts ({}): machine differences mix with the change",
            hosts.len(),
            hosts
                .iter()
                .map(|h| h.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )]
    } else {
        Vec::new()
    }
}
