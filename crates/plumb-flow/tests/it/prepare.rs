//! Preparing a plan: data files opened and their columns checked, URLs joined to the base,
//! requests rendered.

use plumb_flow::{read_flow_file, ResponseView};
use rand::SeedableRng;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const FLOWS: &str = r#"
[data.users]
file = "users.csv"
on_eof = "stop"

[flows.login]
vars = { app = "shop" }
[[flows.login.steps]]
name = "login"
method = "POST"
url = "/login"
form = { user = "{{users.email}}", app = "{{app}}" }
capture = { token = "json:$.token", sid = "cookie:sid" }

[[flows.login.steps]]
name = "me"
url = "http://127.0.0.1:9/me?s={{$session}}"
headers = { Authorization = "Bearer {{token}}" }
json = { name = "{{users.name}}" }
"#;

#[test]
fn a_plan_renders_requests_from_rows_captures_and_cookies() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "users.csv",
        "email,name\na b@x.org,\"Ann \"\"A\"\"\"\n",
    );
    let file = read_flow_file(&write(dir.path(), "flows.toml", FLOWS)).unwrap();
    let plan = file.prepare("http://127.0.0.1:9/api", &[], 1).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut session = plan.start_session(0, 0, 5, &mut rng).unwrap();
    let (mut out, mut body) = (Vec::new(), Vec::new());
    let steps = &plan.flows[0].steps;
    plan.render_http1(&steps[0], &session, &mut out, &mut body)
        .unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.starts_with("POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Content-Type: application/x-www-form-urlencoded\r\n"),
        "{text}"
    );
    assert!(
        text.ends_with("Content-Length: 25\r\n\r\napp=shop&user=a+b%40x.org"),
        "{text}"
    );
    let headers = vec![(b"set-cookie".to_vec(), b"sid=s1; Path=/".to_vec())];
    let response = ResponseView {
        status: 200,
        headers: &headers,
        body: br#"{"token":"T9"}"#,
    };
    let outcome = plan.apply(&steps[0], &mut session, &response, None);
    assert_eq!(
        (outcome.missing_capture(), outcome.failed_check),
        (None, None)
    );
    plan.render_http1(&steps[1], &session, &mut out, &mut body)
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("GET /api/me?s=5 HTTP/1.1\r\n"), "{text}");
    assert!(text.contains("Authorization: Bearer T9\r\n"), "{text}");
    assert!(text.contains("Cookie: sid=s1\r\n"), "{text}");
    assert!(
        text.ends_with("\r\n\r\n{\"name\":\"Ann \\\"A\\\"\"}"),
        "{text}"
    );
    // One row, on_eof = "stop": the second session finds no data.
    assert!(plan.start_session(0, 0, 6, &mut rng).is_none());
}

#[test]
fn a_missing_column_and_a_foreign_origin_are_located() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "users.csv", "email,nom\nx,y\n");
    let file = read_flow_file(&write(dir.path(), "flows.toml", FLOWS)).unwrap();
    let error = file
        .prepare("http://127.0.0.1:9", &[], 1)
        .unwrap_err()
        .to_string();
    assert!(error.contains("flows.toml:19:"), "{error}");
    assert!(
        error.contains("data 'users' has no column 'name'") && error.contains("email, nom"),
        "{error}"
    );
    write(dir.path(), "users.csv", "email,name\nx,y\n");
    let error = file
        .prepare("http://127.0.0.1:8", &[], 1)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("flows.toml:15:") && error.contains("not on the base URL's origin"),
        "{error}"
    );
    let error = file
        .prepare("http://127.0.0.1:9", &["nope".into()], 1)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("--flow nope") && error.contains("its flows are: login"),
        "{error}"
    );
    std::fs::remove_file(dir.path().join("users.csv")).unwrap();
    let error = file
        .prepare("http://127.0.0.1:9", &[], 1)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("flows.toml:3:") && error.contains("data.users.file: cannot read"),
        "{error}"
    );
}
