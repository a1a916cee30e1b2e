//! Parsing: good files compile; bad ones name the file, the line and the key.

use plumb_flow::{parse_flow_file, FlowFileError};
use std::path::Path;

const GOOD: &str = r#"
[goals]
p95 = "200ms"          # the plan's key: ignored here

[scenarios.smoke]
flow = "checkout"

[data.users]
file = "users.csv"
order = "shuffle"
on_eof = "stop"

[flows.checkout]
weight = 3
think = "uniform(10ms, 20ms)"

[[flows.checkout.steps]]
name = "login"
method = "POST"
url = "/login"
json = { user = "{{users.email}}", pw = "{{users.pw}}" }
capture = { token = "json:$.token", sid = 'regex:sid=(\w+)' }
check = { status = 200, body_contains = "ok", json = { "$.ok" = true } }

[[flows.checkout.steps]]
name = "cart"
url = "/cart?token={{token}}"
headers = { Authorization = "Bearer {{token}}" }

[flows.browse]
[[flows.browse.steps]]
url = "/"
"#;

fn parse(text: &str) -> Result<plumb_flow::FlowFile, FlowFileError> {
    parse_flow_file(text, Path::new("plan.toml"))
}

/// The error of `text`, checked to name the line and to contain `words`.
fn check_error(text: &str, line: usize, words: &[&str]) -> String {
    let error = parse(text).expect_err("the file must be refused");
    let shown = error.to_string();
    assert_eq!(error.at.map(|a| a.0), Some(line), "{shown}");
    assert!(shown.starts_with(&format!("plan.toml:{line}:")), "{shown}");
    assert!(shown.contains("\nhint: "), "{shown}");
    for w in words {
        assert!(shown.contains(w), "missing {w:?} in {shown}");
    }
    shown
}

#[test]
fn a_full_file_compiles_and_other_sections_are_ignored() {
    let file = parse(GOOD).unwrap();
    assert_eq!(file.flow_names(), vec!["browse", "checkout"]);
    let checkout = &file.flows[1];
    assert_eq!(checkout.weight, 3);
    let names: Vec<&str> = checkout.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["login", "cart"]);
    assert_eq!(checkout.steps[0].checks.len(), 3);
    assert_eq!(checkout.steps[0].captures.len(), 2);
    assert_eq!(checkout.steps[0].line, 17);
    assert_eq!(file.flows[0].steps[0].name, "GET /");
}

#[test]
fn an_unknown_field_names_its_line() {
    let text = GOOD.replace("name = \"cart\"", "name = \"cart\"\nretries = 3");
    check_error(&text, 27, &["unknown field `retries`"]);
}

#[test]
fn an_undefined_variable_names_its_line_and_key() {
    let text = GOOD.replace("Bearer {{token}}", "Bearer {{tokn}}");
    check_error(
        &text,
        28,
        &[
            "flows.checkout.steps[1].headers.Authorization",
            "undefined variable 'tokn'",
        ],
    );
}

#[test]
fn a_variable_captured_later_is_undefined_before() {
    let text = GOOD.replace("user = \"{{users.email}}\"", "user = \"{{token}}\"");
    check_error(&text, 21, &["undefined variable 'token'", "steps[0].json"]);
}

#[test]
fn a_bad_json_path_names_the_capture() {
    let text = GOOD.replace("json:$.token", "json:$.tok[");
    check_error(&text, 22, &["capture.token", "bad JSON path '$.tok['"]);
    let text = GOOD.replace("\"$.ok\" = true", "\"$..[?\" = true");
    check_error(&text, 23, &["check.json", "bad JSON path"]);
}

#[test]
fn other_mistakes_are_located() {
    check_error(
        &GOOD.replace(r"sid=(\w+)", "sid=(\\w+"),
        22,
        &["capture.sid", "bad regex"],
    );
    check_error(
        &GOOD.replace("json:$.token", "xpath://t"),
        22,
        &["unknown capture source 'xpath'"],
    );
    check_error(
        &GOOD.replace("url = \"/cart?token={{token}}\"", ""),
        25,
        &["steps[1].url is missing"],
    );
    check_error(
        &GOOD.replace("order = \"shuffle\"", "order = \"backwards\""),
        10,
        &["unknown variant `backwards`"],
    );
    check_error(
        &GOOD.replace("status = 200", "status = 700"),
        23,
        &["check.status", "700 is not a status code"],
    );
    check_error(
        &GOOD.replace("uniform(10ms, 20ms)", "uniform(20ms)"),
        15,
        &["think"],
    );
    check_error(
        &GOOD.replace("{{users.pw}}", "{{users.pw"),
        21,
        &["without its closing"],
    );
    check_error(
        &GOOD.replace("name = \"cart\"", "name = \"login\""),
        25,
        &["'login' is used twice"],
    );
    check_error(
        &GOOD.replace("url = \"/login\"", "url = \"login\""),
        20,
        &["neither a path"],
    );
}

#[test]
fn the_worked_example_of_the_docs_compiles() {
    let doc = include_str!("../../../../docs/flows.md");
    let start = doc.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let file = parse(&doc[start..end]).unwrap_or_else(|e| panic!("{e}"));
    let checkout = file.flows.iter().find(|f| f.name == "checkout").unwrap();
    let names: Vec<&str> = checkout.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["login", "items", "cart"]);
    assert_eq!(checkout.steps[0].method, "POST", "from [requests.auth]");
    assert_eq!(checkout.weight, 3);
}
