//! The plan file: what it accepts, what each preset derives, and errors that name the place.

use super::*;

fn parse(text: &str) -> Result<Plan, PlanError> {
    Plan::parse(text, Path::new("/tmp/shop/plumb.toml"))
}

const PLAN: &str = r#"
[plan]
name = "shop"
baseline = "main"
threshold_window = "10s"

[target]
url = "http://127.0.0.1:8080"

[goals]
latency = "http_req_duration: p(95)<200ms"
errors = "http_req_failed: rate<1%"

[scenarios.normal]
url = "/api/orders"
rate = 200
duration = "30s"
headers = { Accept = "application/json" }

[scenarios.build]
bench = ["sleep 0.01"]
runs = 5

[presets]
stress = { factors = [1, 2, 4], step = "20s" }
spike = { factor = 3, before = "10s", hold = "5s", after = "15s" }
"#;

fn argv(plan: &Plan, args: &[Arg]) -> String {
    plan.normal_scenario().unwrap().argv(args)[1..].join(" ")
}

#[test]
fn a_scenario_is_the_command_line_it_stands_for() {
    let plan = parse(PLAN).unwrap();
    assert_eq!(plan.name, "shop");
    assert_eq!(plan.baseline.as_deref(), Some("main"));
    assert_eq!(plan.normal.as_deref(), Some("normal"));
    let normal = plan.normal_scenario().unwrap();
    assert_eq!(
        argv(&plan, &normal.args),
        "load http://127.0.0.1:8080/api/orders --rate 200 --duration 30s --threshold-window 10s \
         --header Accept: application/json --threshold http_req_duration: p(95)<200ms \
         --threshold http_req_failed: rate<1%"
    );
    let resolved = normal.load_args(&normal.args).unwrap().resolve().unwrap();
    assert_eq!(resolved.thresholds.len(), 2);
    assert_eq!(resolved.threshold_window, Some(Duration::from_secs(10)));
    let build = plan.scenario("build").unwrap();
    assert_eq!(build.kind, ScenarioKind::Bench);
    assert_eq!(
        build.argv(&build.args)[1..].join(" "),
        "bench --runs 5 -- sleep 0.01"
    );
}

use std::time::Duration;

#[test]
fn stress_steps_multiply_the_normal_rate() {
    let plan = parse(PLAN).unwrap();
    let runs = plan
        .presets
        .runs(Preset::Stress, plan.normal_scenario().unwrap())
        .unwrap();
    let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["stress 1x", "stress 2x", "stress 4x"]);
    assert_eq!(runs[2].level, 800.0);
    let line = argv(&plan, &runs[2].args);
    assert!(line.contains("--rate 800 --duration 20s"), "{line}");
    assert!(!line.contains("--duration 30s"), "{line}");
}

#[test]
fn a_spike_jumps_holds_and_comes_back() {
    let plan = parse(PLAN).unwrap();
    let runs = plan
        .presets
        .runs(Preset::Spike, plan.normal_scenario().unwrap())
        .unwrap();
    assert_eq!(runs.len(), 1);
    let line = argv(&plan, &runs[0].args);
    assert!(
        line.contains("--rate 200 --stages 10s:200,0s:600,5s:600,0s:200,15s:200"),
        "{line}"
    );
    let load = plan
        .normal_scenario()
        .unwrap()
        .load_args(&runs[0].args)
        .unwrap();
    let resolved = load.resolve().unwrap();
    assert_eq!(resolved.planned(), Some(Duration::from_secs(30)));
}

#[test]
fn the_closed_model_scales_connections() {
    let text = PLAN.replace("rate = 200", "connections = 10");
    let plan = parse(&text).unwrap();
    let runs = plan
        .presets
        .runs(Preset::Stress, plan.normal_scenario().unwrap())
        .unwrap();
    let line = argv(&plan, &runs[1].args);
    assert!(line.contains("--connections 20 --duration 20s"), "{line}");
    assert!(!line.contains("--connections 10"), "{line}");
}

#[test]
fn soak_defaults_to_an_hour() {
    let plan = parse(PLAN).unwrap();
    let runs = plan
        .presets
        .runs(Preset::Soak, plan.normal_scenario().unwrap())
        .unwrap();
    assert!(argv(&plan, &runs[0].args).contains("--rate 200 --duration 3600s"));
}

fn error(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn an_unknown_key_names_the_file_the_line_and_the_key() {
    let text = PLAN.replace("duration = \"30s\"", "duraton = \"30s\"");
    let e = error(&text);
    assert!(
        e.starts_with("/tmp/shop/plumb.toml:17:1: scenarios.normal: unknown field `duraton`"),
        "{e}"
    );
    assert!(e.contains("hint: check the key's spelling"), "{e}");
}

#[test]
fn a_goal_on_an_unknown_metric_points_at_it() {
    let text = PLAN.replace("http_req_failed: rate<1%", "http_req_fialed: rate<1%");
    let e = error(&text);
    assert!(
        e.starts_with("/tmp/shop/plumb.toml:12:10: goals.errors: "),
        "{e}"
    );
    assert!(e.contains("http_req_fialed"), "{e}");
}

#[test]
fn a_scenario_naming_a_missing_flow_is_refused() {
    let text = PLAN.replace("url = \"/api/orders\"", "flow = \"checkout\"");
    let e = error(&text);
    assert!(e.starts_with("/tmp/shop/plumb.toml:15:8: scenarios.normal.flow: names a flow the plan does not have: 'checkout'"), "{e}");
    let with_flows = format!("{text}\n[flows.browse]\nweight = 1\n");
    let e = error(&with_flows);
    assert!(e.contains("the plan's flows are: browse"), "{e}");
}

#[test]
fn a_bad_value_is_checked_by_plumb_loads_own_rules() {
    let e = error(&PLAN.replace("rate = 200", "rate = -5"));
    assert!(
        e.starts_with("/tmp/shop/plumb.toml:16:8: scenarios.normal.rate: "),
        "{e}"
    );
    assert!(e.contains("hint:"), "{e}");
    let e = error(&PLAN.replace("duration = \"30s\"", "duration = \"30 parsecs\""));
    assert!(
        e.starts_with(
            "/tmp/shop/plumb.toml:17:12: scenarios.normal.duration: invalid value '30 parsecs'"
        ),
        "{e}"
    );
}

#[test]
fn a_path_needs_a_target() {
    let text = PLAN.replace("[target]\nurl = \"http://127.0.0.1:8080\"\n", "");
    let e = error(&text);
    assert!(
        e.contains("scenarios.normal.url: '/api/orders' is a path"),
        "{e}"
    );
}

#[test]
fn an_unknown_goal_name_is_refused() {
    let text = PLAN.replace(
        "duration = \"30s\"",
        "duration = \"30s\"\ngoals = [\"latncy\"]",
    );
    let e = error(&text);
    assert!(
        e.contains("scenarios.normal.goals: names a goal the plan does not have: 'latncy'"),
        "{e}"
    );
    assert!(e.contains("the [goals] are: latency, errors"), "{e}");
}

#[test]
fn the_starter_plan_parses_and_runs_the_url_given() {
    let text = starter_for_url("http://127.0.0.1:9000/health?deep=1", 50.0);
    let plan = parse(&text).unwrap();
    let normal = plan.normal_scenario().unwrap();
    assert_eq!(
        normal.args[0].value.as_deref(),
        Some("http://127.0.0.1:9000/health?deep=1")
    );
    assert_eq!(normal.rate, Some(50.0));
    assert_eq!(plan.goals.len(), 2);
    let text = starter_for_command("make -j2 \"all\"");
    let plan = parse(&text).unwrap();
    let build = plan.scenario("build").unwrap();
    assert_eq!(build.argv(&build.args).last().unwrap(), "make -j2 \"all\"");
}

#[test]
fn slo_goals_read_as_the_thresholds_they_mean() {
    let text = PLAN.replace(
        "errors = \"http_req_failed: rate<1%\"",
        "errors = \"99.9% available\"\ntail = \"99% under 300ms\"",
    );
    let plan = parse(&text).unwrap();
    let expressions: Vec<&str> = plan.goals.iter().map(|g| g.expression.as_str()).collect();
    assert_eq!(
        expressions,
        [
            "http_req_duration: p(95)<200ms",
            "http_req_failed: rate<=0.1%",
            "http_req_duration: p(99)<300ms"
        ]
    );
    let e = error(&PLAN.replace("rate<1%\"", "rate<1%\"\nbad = \"99.9% availble\""));
    assert!(e.contains("goals.bad"), "{e}");
    assert!(
        e.contains("99.9% available"),
        "the hint shows the SLO form: {e}"
    );
}

#[test]
fn a_wrong_type_names_its_key_in_words() {
    let e = error(&PLAN.replace("rate = 200", "rate = \"fast\""));
    assert!(
        e.starts_with(
            "/tmp/shop/plumb.toml:16:8: scenarios.normal.rate: expected a number (e.g. 200 or 2.5)"
        ),
        "{e}"
    );
    let e = error(&PLAN.replace("duration = \"30s\"", "duration = 5"));
    assert!(
        e.contains("scenarios.normal.duration: invalid type: integer `5`, expected a string"),
        "{e}"
    );
}

#[test]
fn a_bad_url_is_refused_at_its_key_before_anything_runs() {
    let e = error(&PLAN.replace("url = \"/api/orders\"", "url = \"ftp://127.0.0.1/x\""));
    assert!(
        e.starts_with("/tmp/shop/plumb.toml:15:7: scenarios.normal.url: "),
        "{e}"
    );
    assert!(e.contains("ftp"), "{e}");
}

#[test]
fn the_plans_own_window_is_named_as_the_plans() {
    let e = error(&PLAN.replace("threshold_window = \"10s\"", "threshold_window = \"20m\""));
    assert!(
        e.starts_with("/tmp/shop/plumb.toml:5:20: plan.threshold_window: "),
        "{e}"
    );
    assert!(!e.contains("For more information"), "{e}");
}
