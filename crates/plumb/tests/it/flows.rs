//! `plumb load -f FILE`: flows through the binary against a real shop on 127.0.0.1, the dry run,
//! and bad flow files refused with the file, the line and the key.

use crate::support::{plumb, stderr, stdout};
use plumb_test::Shop;
use std::path::Path;

const FLOWS: &str = r#"
[goals]                      # a plan's own section: ignored by the flows' reader
p95 = "300ms"

[data.users]
file = "users.csv"

[flows.buy]
[[flows.buy.steps]]
name = "login"
method = "POST"
url = "/login"
json = { user = "{{users.email}}", pw = "secret" }
capture = { token = "json:$.token" }
check = { status = 200 }

[[flows.buy.steps]]
name = "cart"
method = "POST"
url = "/cart"
headers = { Authorization = "Bearer {{token}}" }
check = { status = 200, json = { "$.ok" = true } }

[flows.look]
weight = 0
[[flows.look.steps]]
url = "/"
"#;

fn write_flows(dir: &Path, text: &str) -> String {
    std::fs::write(dir.join("users.csv"), "email\na@x.org\nb@x.org\n").unwrap();
    let path = dir.join("plumb.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_flow_runs_through_the_binary_with_per_step_figures() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let file = write_flows(dir.path(), FLOWS);
    let output = plumb()
        .args([
            "load",
            "-f",
            &file,
            "--flow",
            "buy",
            &shop.url(),
            "-c",
            "2",
            "-t",
            "1",
            "-n",
            "20",
            "-o",
            "json",
        ])
        .args(["--threshold", "http_req_failed: rate==0"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let flows = &json["flows"]["flows"];
    assert_eq!(flows.as_array().unwrap().len(), 1, "only --flow buy ran");
    assert_eq!(flows[0]["name"], "buy");
    assert_eq!(flows[0]["sessions_completed"], 20);
    assert_eq!(flows[0]["steps"][0]["name"], "login");
    assert_eq!(flows[0]["steps"][1]["requests"], 20);
    assert_eq!(flows[0]["steps"][1]["checks_passed"], 40);
    assert_eq!(json["summary"]["requests"], 40);
    assert_eq!(shop.served("/cart", 200), 20);
}

#[test]
fn gate_judges_tagged_thresholds_on_a_saved_flow_run() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let file = write_flows(dir.path(), FLOWS);
    let run = dir.path().join("run.json");
    let output = plumb()
        .args(["load", "-f", &file, "--flow", "buy", &shop.url()])
        .args(["-c", "2", "-t", "1", "-n", "20", "-q", "--json"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let run = run.display().to_string();
    let gate = |threshold: &str| {
        let output = plumb()
            .args(["gate", "--baseline", &run, &run, "--threshold", threshold])
            .output()
            .unwrap();
        (output.status.code(), stdout(&output))
    };
    for passes in [
        "http_reqs{step:cart}: count==20",
        "http_reqs{flow:buy}: count==40",
        "http_reqs{status:200}: count==40",
        "checks{flow:buy}: rate==1",
        "http_req_failed{step:login}: rate==0",
        "http_req_duration{step:login}: p(95)<10s",
    ] {
        let (code, text) = gate(passes);
        assert_eq!(code, Some(0), "{passes}: {text}");
    }
    let (code, text) = gate("http_req_duration{step:login}: p(95)<1ns");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("failed (threshold)"), "{text}");
    let (code, text) = gate("http_reqs{step:nope}: count>0");
    assert_eq!(code, Some(1), "a step not in the file has no data: {text}");
}

#[test]
fn tagged_thresholds_are_judged_over_rolling_windows() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let file = write_flows(dir.path(), FLOWS);
    let output = plumb()
        .args(["load", "-f", &file, "--flow", "buy", &shop.url()])
        .args(["--rate", "10", "-d", "3s", "-t", "1", "-o", "json"])
        .args(["--threshold-window", "1s"])
        .args(["--threshold", "http_reqs{step:cart}: count>0"])
        .args(["--threshold", "http_reqs{status:200}: count>0"])
        .args(["--threshold", "http_req_duration{flow:buy}: p(95)<1ns"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let windows: Vec<(String, u64, u64)> = json["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let w = &t["window"];
            (
                w["status"].as_str().unwrap().to_string(),
                w["windows"].as_u64().unwrap(),
                w["failed_windows"].as_u64().unwrap(),
            )
        })
        .collect();
    for (i, (status, judged, failed)) in windows.iter().enumerate() {
        assert!(
            *judged >= 2,
            "threshold {i} judged {judged} windows: {windows:?}"
        );
        let expected = if i == 2 {
            ("failed", *judged)
        } else {
            ("passed", 0)
        };
        assert_eq!((status.as_str(), *failed), expected, "{windows:?}");
    }
}

#[test]
fn the_dry_run_prints_every_request_capture_and_check() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let file = write_flows(dir.path(), FLOWS);
    let output = plumb()
        .args([
            "load",
            "-f",
            &file,
            "--flow",
            "buy",
            &shop.url(),
            "--dry-run",
        ])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(output.status.success(), "{text}{}", stderr(&output));
    assert!(text.contains("  step login (line 9)"), "{text}");
    assert!(text.contains("    > POST /login HTTP/1.1"), "{text}");
    assert!(
        text.contains(r#"    > {"pw":"secret","user":"a@x.org"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"capture token = "tok-a@x.org" (json:$.token)"#),
        "{text}"
    );
    assert!(
        text.contains("    > Authorization: Bearer tok-a@x.org"),
        "{text}"
    );
    assert!(text.contains("check $.ok == true: passed"), "{text}");
    assert_eq!(shop.log().logins, vec!["a@x.org"]);
}

#[test]
fn a_dry_run_over_http2_is_refused_before_anything_is_sent() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let file = write_flows(dir.path(), FLOWS);
    for extra in [&["--dry-run"][..], &["-n", "1"][..]] {
        let output = plumb()
            .args(["load", "-f", &file, &shop.url(), "--http2"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{extra:?}");
        let err = stderr(&output);
        assert!(
            err.contains("flows (-f) speak HTTP/1.1 only in this version\nhint: drop --http2 to run the flows, or load one URL over HTTP/2 without -f"),
            "{err}"
        );
    }
    assert!(shop.log().logins.is_empty());
    assert_eq!(shop.served("/", 200), 0);
}

#[test]
fn a_capture_that_never_matches_is_named_with_its_line() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let file = write_flows(dir.path(), &FLOWS.replace("json:$.token", "json:$.tokn"));
    let output = plumb()
        .args([
            "load",
            "-f",
            &file,
            "--flow",
            "buy",
            &shop.url(),
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "{file}:14: capture 'token' of step 'login' matched nothing"
        )),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
    // Under load the same capture is a warning naming the file and line, and its sessions end.
    let output = plumb()
        .args([
            "load",
            "-f",
            &file,
            "--flow",
            "buy",
            &shop.url(),
            "-c",
            "1",
            "-n",
            "5",
            "-q",
        ])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(text.contains(&format!("{file}:14: capture 'token' (json:$.tokn) of step 'login' matched nothing in any of its 5 responses")), "{text}");
    assert_eq!(shop.served("/cart", 200), 0);
}

#[test]
fn bad_flow_files_name_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    for (change, at, words) in [
        (
            FLOWS.replace("name = \"cart\"", "name = \"cart\"\nretry = 2"),
            "19:1",
            "unknown field `retry`",
        ),
        (
            FLOWS.replace("Bearer {{token}}", "Bearer {{tokn}}"),
            "21:37",
            "flows.buy.steps[1].headers.Authorization: undefined variable 'tokn'",
        ),
        (
            FLOWS.replace("json:$.token", "json:$[?"),
            "14:21",
            "capture.token: bad JSON path",
        ),
    ] {
        let file = write_flows(dir.path(), &change);
        let output = plumb()
            .args(["load", "-f", &file, "http://127.0.0.1:9"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let err = stderr(&output);
        assert!(err.contains(&format!("{file}:{at}: ")), "{err}");
        assert!(!err.contains("for --file"), "{err}");
        let message = err.split_once(&format!("{file}:{at}: ")).unwrap().1;
        assert!(message.contains(words), "{err}");
        assert!(message.contains("\nhint: "), "{err}");
    }
}

/// A recording of a session on the shop, as a browser exports it: a login whose token the next
/// requests send back, a third-party script, and gaps between the requests.
fn recording(origin: &str) -> String {
    let entry = |at: &str,
                 method: &str,
                 url: &str,
                 headers: &str,
                 body: Option<(&str, &str)>,
                 status: u16,
                 response: &str| {
        let post = body.map_or(String::new(), |(mime, text)| {
            format!(
                r#","postData":{{"mimeType":"{mime}","text":{}}}"#,
                serde_json::to_string(text).unwrap()
            )
        });
        format!(
            r#"{{"startedDateTime":"2026-03-01T10:00:{at}Z","time":10,"request":{{"method":"{method}","url":"{url}","headers":[{headers}]{post}}},"response":{{"status":{status},"content":{{"mimeType":"application/json","text":{}}}}}}}"#,
            serde_json::to_string(response).unwrap()
        )
    };
    let auth = r#"{"name":"Authorization","value":"Bearer tok-alice"},{"name":"Cookie","value":"sid=s-alice"}"#;
    let entries = [
        entry(
            "00.000",
            "POST",
            &format!("{origin}/login"),
            r#"{"name":"Content-Type","value":"application/json"},{"name":":authority","value":"x"}"#,
            Some(("application/json", r#"{"user":"alice","pw":"secret"}"#)),
            200,
            r#"{"ok":true,"token":"tok-alice"}"#,
        ),
        entry(
            "00.020",
            "GET",
            "https://cdn.example.com/app.js",
            "",
            None,
            200,
            "1",
        ),
        entry(
            "00.060",
            "GET",
            &format!("{origin}/items"),
            auth,
            None,
            200,
            r#"{"items":[{"id":"i1"}],"count":1}"#,
        ),
        entry(
            "00.100",
            "POST",
            &format!("{origin}/cart"),
            &format!(
                r#"{auth},{{"name":"Content-Type","value":"application/x-www-form-urlencoded"}}"#
            ),
            Some(("application/x-www-form-urlencoded", "item=i1")),
            200,
            r#"{"cart":"c-alice","ok":true}"#,
        ),
    ];
    format!(
        r#"{{"log":{{"version":"1.2","entries":[{}]}}}}"#,
        entries.join(",")
    )
}

#[test]
fn a_har_import_replays_and_passes() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("session.har");
    std::fs::write(&har, recording(&shop.url())).unwrap();
    let flows = dir.path().join("flows.toml");
    let output = plumb()
        .args([
            "import",
            "har",
            &har.display().to_string(),
            "-o",
            &flows.display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(&flows).unwrap();
    assert!(
        text.contains(r#"capture = { token = "json:$.token" }"#),
        "{text}"
    );
    assert!(
        text.contains(r#"Authorization = "Bearer {{token}}""#),
        "{text}"
    );
    assert!(
        text.contains("Dropped the requests to other origins: https://cdn.example.com"),
        "{text}"
    );
    assert!(text.contains(r#"think = "50ms""#), "{text}");
    assert!(
        !text.contains("Cookie") && !text.contains(":authority"),
        "{text}"
    );
    let output = plumb()
        .args([
            "load",
            "-f",
            &flows.display().to_string(),
            &shop.url(),
            "-c",
            "1",
            "-t",
            "1",
            "-n",
            "3",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["summary"]["errors"], 0, "{json}");
    assert_eq!(json["flows"]["flows"][0]["sessions_completed"], 3);
    // The shop refuses /cart without the live token and cookie: the replay used both.
    assert_eq!(shop.served("/cart", 200), 3);
    assert_eq!(shop.log().logins, vec!["alice", "alice", "alice"]);
}

#[test]
fn a_curl_command_imports_as_one_step() {
    let output = plumb()
        .args(["import", "curl", "curl -X POST http://127.0.0.1:8080/login -H 'Content-Type: application/json' -d '{\"user\":\"a\"}'"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let file = plumb_flow::parse_flow_file(&text, Path::new("curl.toml")).unwrap();
    let step = &file.flows[0].steps[0];
    assert_eq!(
        (step.method.as_str(), step.url_text.as_str()),
        ("POST", "/login")
    );
    assert!(text.contains(r#"body = "{\"user\":\"a\"}""#), "{text}");
}

#[test]
fn an_openapi_document_imports_one_step_per_operation_and_runs() {
    let shop = Shop::start();
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("api.json");
    let spec = format!(
        r#"{{"openapi":"3.0.0","servers":[{{"url":"{}"}}],"paths":{{
            "/":{{"get":{{"operationId":"home","responses":{{"200":{{}}}}}}}},
            "/track/{{code}}":{{"get":{{"parameters":[{{"name":"code","in":"path","example":"abc-1"}}],"responses":{{"200":{{}}}}}}}}}}}}"#,
        shop.url()
    );
    std::fs::write(&doc, spec).unwrap();
    let flows = dir.path().join("api.toml");
    let output = plumb()
        .args([
            "import",
            "openapi",
            &doc.display().to_string(),
            "-o",
            &flows.display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let output = plumb()
        .args([
            "load",
            "-f",
            &flows.display().to_string(),
            &shop.url(),
            "-c",
            "1",
            "-t",
            "1",
            "-n",
            "4",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let steps = &json["flows"]["flows"][0]["steps"];
    assert_eq!(
        (steps[0]["name"].as_str(), steps[1]["name"].as_str()),
        (Some("home"), Some("GET /track/{code}"))
    );
    assert_eq!(shop.log().tracked, vec!["abc-1"; 4]);
}

#[test]
fn an_openapi_document_in_yaml_imports_as_its_json_twin() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("api.json");
    std::fs::write(
        &json,
        r#"{"openapi":"3.0.0","paths":{"/track/{code}":{"get":{"parameters":[{"name":"code","in":"path","example":"abc-1"}],"responses":{"200":{}}}}}}"#,
    )
    .unwrap();
    let yaml = dir.path().join("api.yml");
    std::fs::write(
        &yaml,
        "openapi: 3.0.0\npaths:\n  /track/{code}:\n    get:\n      parameters:\n        - {name: code, in: path, example: abc-1}\n      responses:\n        200: {}\n",
    )
    .unwrap();
    let import = |file: &Path| {
        let output = plumb()
            .args(["import", "openapi", &file.display().to_string()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    };
    let from_json = import(&json);
    assert!(from_json.contains("url = \"/track/abc-1\""), "{from_json}");
    assert_eq!(import(&yaml), from_json);
}
