//! `plumb init`'s starter plan files: commented TOML a person reads, edits and commits.

/// A starter plan that load-tests `url` at `rate` requests per second.
pub fn starter_for_url(url: &str, rate: f64) -> String {
    let (base, path) = split_url(url);
    format!(
        r#"# plumb's plan: goals, scenarios and presets (docs/plan.md).
# `plumb run` runs the normal scenario and judges it by the goals; `plumb run stress|soak|spike`
# derive the classic test types from it. Every run is saved to the ledger (.plumb/).

[plan]
# Runs are labelled with this name (default: this directory's name).
name = "{name}"
# `plumb run` prints a before/after table against this baseline (`plumb baseline set NAME RUN`);
# without one it compares with the previous run of the same scenario.
# baseline = "main"
# Judge every goal over each rolling window too, so a late failure is not diluted.
threshold_window = "10s"

[target]
url = "{base}"

# Goals: thresholds in k6's syntax (docs/load.md lists the metrics).
[goals]
latency = "http_req_duration: p(95)<200ms"
errors = "http_req_failed: rate<1%"

# The normal load: {rate} requests per second on a schedule (open model) for 30 s.
[scenarios.normal]
url = "{path}"
rate = {rate}
duration = "30s"
# connections = 50          # instead of rate: the closed model, back to back
# headers = {{ Authorization = "Bearer ..." }}
# expect_status = "200"
# db = "postgres://app@127.0.0.1/app"   # pg_stat_statements around the load

[presets]
# plumb run stress: 1x to 5x the normal rate in steps, stopping at the first that fails a goal.
stress = {{ factors = [1, 2, 3, 4, 5], step = "30s" }}
# plumb run soak: the normal rate for a long time (latency drift, the server's memory).
soak = {{ duration = "1h" }}
# plumb run spike: 5x the normal rate for 10 s, then the time to recover.
spike = {{ factor = 5, before = "20s", hold = "10s", after = "30s" }}
"#,
        name = plan_name(),
    )
}

/// A starter plan that benchmarks `command`.
pub fn starter_for_command(command: &str) -> String {
    format!(
        r#"# plumb's plan: goals, scenarios and presets (docs/plan.md).
# `plumb run build` benchmarks the command; every run is saved to the ledger (.plumb/).

[plan]
name = "{name}"
# baseline = "main"

[scenarios.build]
bench = [{command}]
# runs = 20
# warmup = 2
"#,
        name = plan_name(),
        command = toml_string(command),
    )
}

/// The working directory's name, for `[plan] name`.
fn plan_name() -> String {
    std::env::current_dir()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map(|n| n.replace(['"', '\\'], ""))
        .unwrap_or_else(|| "plan".to_owned())
}

/// `http://host:port/path?q` as (`http://host:port`, `/path?q`).
fn split_url(url: &str) -> (String, String) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => (
            url[..after_scheme + i].to_owned(),
            url[after_scheme + i..].to_owned(),
        ),
        None => (url.to_owned(), "/".to_owned()),
    }
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    let mut quoted = String::from('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}
