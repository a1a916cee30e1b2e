//! Tests of `plumb import curl`: each option's form with the exact step it gives (the expected
//! requests were checked against curl 7.88 sending to a listening socket).

use super::*;

/// The step a command gives, as (method, url, headers, body); files relative to `dir`.
fn step_in(command: &str, dir: &Path) -> (String, String, Vec<(String, String)>, Option<String>) {
    let imported = curl(command, dir).unwrap();
    let step = imported.steps.into_iter().next().unwrap();
    (step.method, step.url, step.headers, step.body)
}

fn step(command: &str) -> (String, String, Vec<(String, String)>, Option<String>) {
    step_in(command, Path::new("."))
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn check(
    command: &str,
    method: &str,
    url: &str,
    expected_headers: &[(&str, &str)],
    body: Option<&str>,
) {
    assert_eq!(
        step(command),
        (
            method.to_string(),
            url.to_string(),
            headers(expected_headers),
            body.map(str::to_string)
        ),
        "{command}"
    );
}

fn error(command: &str) -> ImportError {
    curl(command, Path::new(".")).unwrap_err()
}

#[test]
fn a_copied_curl_command_becomes_a_step() {
    let imported = curl(
        r#"curl 'http://127.0.0.1:8080/login?next=%2F' -H 'Accept: application/json' -H 'Cookie: a=1' --data-raw '{"user":"a"}' -H 'Content-Type: application/json'"#,
        Path::new("."),
    )
    .unwrap();
    assert_eq!(imported.base_url, "http://127.0.0.1:8080");
    let step = &imported.steps[0];
    assert_eq!(
        (step.method.as_str(), step.url.as_str()),
        ("POST", "/login?next=%2F")
    );
    assert_eq!(step.name, "POST /login");
    assert_eq!(step.body.as_deref(), Some(r#"{"user":"a"}"#));
    assert_eq!(
        step.headers,
        headers(&[
            ("Accept", "application/json"),
            ("Cookie", "a=1"),
            ("Content-Type", "application/json")
        ])
    );
    assert!(error("curl -X").message.contains("-X needs a value"));
    assert!(curl("curl 'unclosed", Path::new(".")).is_err());
    assert!(error("curl ftp://x/")
        .message
        .contains("not an http(s) URL"));
}

#[test]
fn user_becomes_basic_authorization() {
    check(
        "curl -u al:pw http://h/p",
        "GET",
        "/p",
        &[("Authorization", "Basic YWw6cHc=")],
        None,
    );
    check(
        "curl --user al:pw -H 'Authorization: Bearer t' http://h/p",
        "GET",
        "/p",
        &[("Authorization", "Bearer t")],
        None,
    );
    let e = error("curl -u al http://h/");
    assert_eq!(
        e.message,
        "-u 'al' has no password (curl would prompt for it)"
    );
    assert_eq!(e.hint, "give it as -u user:password");
}

#[test]
fn cookies_become_one_cookie_header() {
    check(
        "curl -b 'a=1' --cookie 'b=2; c=3' http://h/",
        "GET",
        "/",
        &[("Cookie", "a=1;b=2; c=3")],
        None,
    );
    for jar in ["cookies.txt", "@cookies.txt"] {
        let e = error(&format!("curl -b {jar} http://h/"));
        assert_eq!(
            e.message,
            format!("-b '{jar}' names a cookie file, which plumb does not read")
        );
        assert!(
            e.hint.contains("-b 'name=value; other=value'"),
            "{}",
            e.hint
        );
    }
}

#[test]
fn head_get_and_request_choose_the_method() {
    check("curl -I http://h/x", "HEAD", "/x", &[], None);
    check("curl --head http://h/x", "HEAD", "/x", &[], None);
    check("curl -X PUT http://h/x", "PUT", "/x", &[], None);
    check("curl -XDELETE http://h/x", "DELETE", "/x", &[], None);
    check(
        "curl -X PATCH -d a=1 http://h/x",
        "PATCH",
        "/x",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some("a=1"),
    );
}

#[test]
fn data_urlencode_takes_curls_five_forms() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.txt"), "a b\nc\r\n").unwrap();
    let command = "curl --data-urlencode 'a b' --data-urlencode '=c&d' \
        --data-urlencode 'n=x y' --data-urlencode @f.txt --data-urlencode 'm@f.txt' \
        --data-urlencode 'a@b=c d' http://h/u";
    assert_eq!(
        step_in(command, dir.path()),
        (
            "POST".to_string(),
            "/u".to_string(),
            headers(&[("Content-Type", "application/x-www-form-urlencoded")]),
            Some("a+b&c%26d&n=x+y&a+b%0Ac%0D%0A&m=a+b%0Ac%0D%0A&a@b=c+d".to_string())
        )
    );
}

#[test]
fn get_moves_the_data_into_the_query() {
    check(
        "curl -G -d a=1 --data-urlencode 'b=c d' 'http://h/g?z=0'",
        "GET",
        "/g?z=0&a=1&b=c+d",
        &[],
        None,
    );
    check("curl --get -d a=1 http://h/g", "GET", "/g?a=1", &[], None);
    check("curl -G -I -d a=1 http://h/g", "HEAD", "/g?a=1", &[], None);
}

#[test]
fn data_joins_pieces_and_reads_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.txt"), "a b\nc\r\n").unwrap();
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let cases = [
        ("curl -d @f.txt -d x=1 http://h/d", "a bc&x=1"),
        ("curl --data @f.txt http://h/d", "a bc"),
        ("curl --data-ascii a=1 --data b=2 http://h/d", "a=1&b=2"),
        ("curl --data-binary @f.txt http://h/d", "a b\nc\r\n"),
        ("curl --data-raw @f.txt http://h/d", "@f.txt"),
        ("curl -da=1 http://h/d", "a=1"),
    ];
    for (command, body) in cases {
        assert_eq!(
            step_in(command, dir.path()),
            (
                "POST".to_string(),
                "/d".to_string(),
                headers(&form),
                Some(body.to_string())
            ),
            "{command}"
        );
    }
    let e = curl("curl -d @missing.txt http://h/", dir.path()).unwrap_err();
    assert!(e.message.starts_with("cannot read "), "{}", e.message);
    assert!(e.message.contains("missing.txt"), "{}", e.message);
    assert!(error("curl -d @- http://h/")
        .message
        .contains("standard input"));
}

#[test]
fn json_sets_the_body_content_type_and_accept() {
    check(
        r#"curl --json '{"a":1}' --json '{"b":2}' http://h/j"#,
        "POST",
        "/j",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ],
        Some(r#"{"a":1}{"b":2}"#),
    );
    check(
        r#"curl --json '{}' -H 'Accept: text/plain' http://h/j"#,
        "POST",
        "/j",
        &[
            ("Accept", "text/plain"),
            ("Content-Type", "application/json"),
        ],
        Some("{}"),
    );
}

#[test]
fn agent_referer_compressed_and_headers() {
    check(
        "curl -A ua -e ref --compressed --user-agent ua2 http://h/p",
        "GET",
        "/p",
        &[
            ("Referer", "ref"),
            ("User-Agent", "ua2"),
            ("Accept-Encoding", "deflate, gzip, br, zstd"),
        ],
        None,
    );
    check(
        "curl -H 'User-Agent:' -H 'X-E;' -A foo -H 'Host: x' http://h/hh",
        "GET",
        "/hh",
        &[("X-E", "")],
        None,
    );
    let e = error("curl -H nocolon http://h/");
    assert_eq!(e.message, "-H 'nocolon' is not 'Name: value'");
    assert!(error("curl -H @headers.txt http://h/")
        .message
        .contains("reads headers from a file"));
}

#[test]
fn output_options_are_ignored() {
    check(
        "curl -sSL -v -i -o out.html --max-time 5 -m 5 --connect-timeout 2 -w '%{http_code}' \
         --url http://h/p",
        "GET",
        "/p",
        &[],
        None,
    );
}

#[test]
fn insecure_is_a_note_in_the_written_file() {
    let imported = curl("curl -k https://h:8443/p", Path::new(".")).unwrap();
    assert_eq!(
        super::super::write_toml(&imported),
        "# Imported by plumb from a curl command.\n\
         # Run it: plumb load -f THIS_FILE https://h:8443 --dry-run\n\
         # curl's -k (--insecure) skipped the certificate check: load it with plumb load -k\n\
         \n[flows.curl]\n\
         \n[[flows.curl.steps]]\n\
         name = \"GET /p\"\n\
         method = \"GET\"\n\
         url = \"/p\"\n"
    );
}

#[test]
fn an_unknown_option_is_an_error_naming_it() {
    for (command, option) in [
        ("curl -F a=1 http://h/", "-F"),
        ("curl --form a=1 http://h/", "--form"),
        ("curl -sz http://h/", "-z"),
        ("curl --data=1 http://h/", "--data=1"),
        ("curl --http2 http://h/", "--http2"),
    ] {
        let e = error(command);
        assert_eq!(
            e.message,
            format!("plumb import curl does not know curl's option '{option}'"),
            "{command}"
        );
        assert!(e
            .hint
            .starts_with("remove it if it does not change the request"));
    }
    let e = error("curl http://h/a http://h/b");
    assert_eq!(
        e.message,
        "the curl command names two URLs, 'http://h/a' and 'http://h/b'"
    );
}
