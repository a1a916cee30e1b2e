//! Every bad value an outside review found, and their neighbours: each is refused with an error
//! that names the flag, the limit and what to do (the exact text is checked).

use super::error_of;
use plumb_cli::{Cli, Command};

const URL: &str = "http://127.0.0.1:1/";
const DURATION_HINT: &str = "durations look like 10s, 1m30s, 250ms or 2.5 (seconds)";

/// `plumb load URL ARGS` fails with an error containing every one of `expected`.
fn check_load(args: &[&str], expected: &[&str]) {
    let mut full = vec!["load", URL];
    full.extend_from_slice(args);
    check(&full, expected);
}

fn check(args: &[&str], expected: &[&str]) {
    let error = error_of(args);
    for part in expected {
        assert!(
            error.contains(part),
            "plumb {args:?}:\n{error}\nlacks: {part}"
        );
    }
    assert!(
        error.contains("hint: "),
        "plumb {args:?}: no hint in\n{error}"
    );
}

#[test]
fn methods_are_tokens() {
    let hint = "hint: give an HTTP method such as GET, POST, PUT, DELETE or PATCH \
                (letters, digits and !#$%&'*+-.^_`|~ only)";
    for (method, why) in [
        (
            "GET\r\nX-Injected: 1",
            "invalid value 'GET\\r\\nX-Injected: 1' for --method: is not an HTTP method: CR (\\r) is not allowed in a method",
        ),
        (
            "GET / HTTP/1.1",
            "invalid value 'GET / HTTP/1.1' for --method: is not an HTTP method: a space is not allowed in a method",
        ),
        ("", "invalid value '' for --method: is empty"),
        (
            "PO\0ST",
            "invalid value 'PO\\0ST' for --method: is not an HTTP method: NUL (\\0) is not allowed in a method",
        ),
        (
            "GÉT",
            "invalid value 'GÉT' for --method: is not an HTTP method: 'É' is not allowed in a method",
        ),
        (
            &"X".repeat(33),
            "is longer than the limit of 32 characters",
        ),
    ] {
        check_load(&["-m", method], &[why, hint]);
    }
}

#[test]
fn headers_cannot_split_the_request() {
    let hint = "hint: write it as -H 'Name: value', e.g. -H 'Accept: application/json'";
    for (header, why) in [
        (
            "X-A: b\r\nEvil: 1",
            "invalid value 'X-A: b\\r\\nEvil: 1' for --header: has CR (\\r) in its value: control characters would corrupt the request",
        ),
        ("X-A: b\nc", "has LF (\\n) in its value"),
        ("X-A: b\0", "has NUL (\\0) in its value"),
        ("X-A: b\u{7f}", "has the control character U+007F in its value"),
        (
            "X: it's \"q\"\u{1}",
            "invalid value 'X: it's \"q\"\\u{1}' for --header: has the control character U+0001",
        ),
        (
            "Bad Name: x",
            "has an invalid header name: a space is not allowed in a name",
        ),
        ("X\r\nY: x", "has an invalid header name: CR (\\r) is not allowed"),
        (": x", "has an empty header name"),
        ("NoColon", "is missing ':'"),
        ("Content-Length: 99", "sets Content-Length, which plumb computes"),
        ("transfer-encoding: chunked", "sets Transfer-Encoding"),
        ("Host:", "sets an empty Host"),
    ] {
        check_load(&["-H", header], &[why, hint]);
    }
}

#[test]
fn a_body_file_is_bounded_while_it_is_read() {
    check_load(
        &["-m", "POST", "--body-file", "/dev/zero"],
        &[
            "invalid value '/dev/zero' for --body-file: is larger than the limit of 64 MiB",
            "hint: send a smaller body",
        ],
    );
}

#[test]
fn load_durations_are_bounded() {
    let zero = |flag: &str| format!("hint: e.g. {flag} ");
    for (args, why, hint) in [
        (
            ["-d", "1e30"],
            "invalid value '1e30' for --duration: is longer than the limit of 7d",
            DURATION_HINT.into(),
        ),
        (
            ["-d", "18446744073709551615s"],
            "invalid value '18446744073709551615s' for --duration: is longer than the limit of 7d",
            "hint: --duration takes at most 7d; durations look like".into(),
        ),
        (
            ["-d", "8d"],
            "for --duration: is longer than the limit of 7d",
            DURATION_HINT.into(),
        ),
        (
            ["-d", "0s"],
            "invalid value '0s' for --duration: must be longer than zero",
            zero("--duration"),
        ),
        (
            ["-d", "-5"],
            "invalid value '-5' for --duration: is negative",
            DURATION_HINT.into(),
        ),
        (
            ["-d", "nan"],
            "invalid value 'nan' for --duration: is not a number of seconds",
            DURATION_HINT.into(),
        ),
        (
            ["-d", "inf"],
            "for --duration: is not a number of seconds",
            DURATION_HINT.into(),
        ),
        (
            ["-d", "ten"],
            "invalid value 'ten' for --duration: ",
            DURATION_HINT.into(),
        ),
        (
            ["--timeout", "1e20"],
            "invalid value '1e20' for --timeout: is longer than the limit of 24h",
            "hint: --timeout takes at most 24h".into(),
        ),
        (
            ["--timeout", "25h"],
            "for --timeout: is longer than the limit of 24h",
            DURATION_HINT.into(),
        ),
        (
            ["--timeout", "0"],
            "invalid value '0' for --timeout: must be longer than zero",
            zero("--timeout"),
        ),
    ] {
        check_load(&args, &[why, &hint]);
    }
}

#[test]
fn stages_are_bounded_and_must_last() {
    let syntax = "hint: write stages as DURATION:TARGET separated by commas";
    for (args, expected) in [
        (
            vec!["--stages", "1e20:5"],
            [
                "invalid value '1e20' for --stages: is longer than the limit of 7d",
                "hint: --stages takes at most 7d",
            ],
        ),
        (
            vec!["--stages", "1s:nan"],
            [
                "invalid value '1s:nan' for --stages: has a target that is not a number",
                syntax,
            ],
        ),
        (
            vec!["--stages", "1s:-3"],
            [
                "invalid value '1s:-3' for --stages: has a negative target",
                syntax,
            ],
        ),
        (
            vec!["--stages", "0s:100"],
            [
                "invalid value '0s:100' for --stages: lasts 0 s in all, so nothing would run",
                "hint: give the stages a positive total length",
            ],
        ),
        (
            vec!["--stages", "0s:100,0s:0"],
            [
                "lasts 0 s in all",
                "hint: give the stages a positive total length",
            ],
        ),
        (
            vec!["--stages", "4d:10,4d:10"],
            [
                "invalid value '4d:10,4d:10' for --stages: lasts longer than the limit of 7d",
                "hint: the stages of one run add up to at most 7d",
            ],
        ),
        (
            vec!["--stages", "10s:2000000"],
            [
                "has a target above the limit of 1000000 connections",
                syntax,
            ],
        ),
        (
            vec!["--rate", "100", "--stages", "10s:1e8"],
            [
                "has a rate target that is above the limit of 10000000 requests per second",
                syntax,
            ],
        ),
        (
            vec!["--rate", "100", "--stages", "10s:inf"],
            ["has a rate target that is above the limit", syntax],
        ),
        (
            vec!["--rate", "100", "--stages", "10s:0.001"],
            [
                "has a rate target that is below the lowest rate, 0.01 requests per second",
                syntax,
            ],
        ),
        (
            vec!["--stages", "10s"],
            ["invalid value '10s' for --stages: is missing ':'", syntax],
        ),
    ] {
        check_load(&args, &expected);
    }
}

#[test]
fn counts_of_load_are_whole_and_bounded() {
    for (args, expected) in [
        (
            ["-c", "-1"],
            "-c must be a positive whole number, at most 1000000\nhint: e.g. -c 50",
        ),
        (
            ["-c", "0"],
            "-c must be a positive whole number, at most 1000000",
        ),
        (
            ["-c", "1000001"],
            "-c must be a positive whole number, at most 1000000",
        ),
        (["-c", "2.5"], "-c must be a positive whole number"),
        (
            ["-n", "0"],
            "-n must be a positive whole number, at most 1000000000000",
        ),
        (["-n", "-5"], "-n must be a positive whole number"),
        (
            ["-t", "0"],
            "-t must be a positive whole number, at most 1024",
        ),
        (
            ["-t", "5000"],
            "-t must be a positive whole number, at most 1024",
        ),
    ] {
        check_load(&args, &[expected]);
    }
    let error = error_of(&["load", URL, "-c", "-1"]);
    assert!(
        !error.contains("-- -1"),
        "clap's advice would make -1 the URL: {error}"
    );
}

#[test]
fn rates_are_bounded() {
    let hint = "hint: give requests per second from 0.01 to 10000000, e.g. --rate 1000";
    for (rate, why) in [
        (
            "1e20",
            "--rate is above the limit of 10000000 requests per second",
        ),
        (
            "10000001",
            "--rate is above the limit of 10000000 requests per second",
        ),
        ("inf", "--rate is above the limit"),
        ("nan", "--rate must be a number"),
        ("-5", "--rate must not be negative"),
        (
            "0.001",
            "--rate is below the lowest rate, 0.01 requests per second (one every 100 s)",
        ),
        ("fast", "--rate must be a number"),
    ] {
        check_load(&["--rate", rate], &[why, hint]);
    }
    check_load(
        &["--rate", "0"],
        &["invalid value '0' for --rate: must be positive without --stages"],
    );
}

#[test]
fn target_knobs_are_bounded() {
    for (args, expected) in [
        (
            vec!["target", "--size", "100GB"],
            "invalid value '100GB' for --size: is larger than the limit of 1 GiB\nhint: give at most 1 GiB",
        ),
        (vec!["target", "--size", "1.5GiB"], "is larger than the limit of 1 GiB"),
        (vec!["target", "--size", "1e30"], "invalid value '1e30' for --size: is not a size"),
        (
            vec!["target", "--latency", "1e20"],
            "invalid value '1e20' for --latency: is longer than the limit of 24h",
        ),
        (
            vec!["target", "--latency", "1ms..1e20"],
            "invalid value '1e20' for --latency: is longer than the limit of 24h",
        ),
        (
            vec!["target", "--stall", "1e20/1e21"],
            "invalid value '1e20' for --stall: is longer than the limit of 24h",
        ),
        (
            vec!["target", "--stall", "1s/1e21"],
            "invalid value '1e21' for --stall: is longer than the limit of 24h",
        ),
        (vec!["target", "-t", "0"], "-t must be a positive whole number, at most 1024"),
        (vec!["target", "-p", "-1"], "-p must be a whole number from 0 to 65535"),
        (vec!["target", "-p", "70000"], "-p must be a whole number from 0 to 65535"),
        (vec!["target", "--error-rate", "nan"], "--error-rate must be a number from 0 to 1"),
        (vec!["target", "--error-rate", "-0.5"], "--error-rate must be a number from 0 to 1"),
    ] {
        check(&args, &[expected]);
    }
}

#[test]
fn demo_profile_and_bench_durations_are_bounded() {
    for (args, expected) in [
        (
            vec!["demo", "-d", "1e20"],
            "invalid value '1e20' for --duration: is longer than the limit of 7d",
        ),
        (
            vec!["demo", "-d", "0s"],
            "for --duration: must be longer than zero",
        ),
        (
            vec!["profile", "--pid", "1", "-d", "1e20"],
            "invalid value '1e20' for '--duration <DURATION>': is longer than the limit of 7d",
        ),
        (
            vec!["profile", "--interval", "1e20", "--", "true"],
            "invalid value '1e20' for '--interval <DURATION>': is longer than the limit of 24h",
        ),
        (
            vec!["profile", "--interval", "1ms", "--", "true"],
            "must be at least 10ms (/proc reads are not precise below that)",
        ),
        (
            vec!["bench", "--min-time", "1e20", "true"],
            "invalid value '1e20' for '--min-time <DURATION>': is longer than the limit of 24h",
        ),
        (
            vec!["bench", "--max-time", "18446744073709551615s", "true"],
            "is longer than the limit of 24h",
        ),
    ] {
        check(&args, &[expected]);
    }
}

#[test]
fn other_counts_are_whole_and_bounded() {
    for (args, expected) in [
        (
            vec!["history", "--limit", "9223372036854775808"],
            "invalid value '9223372036854775808' for '--limit <N>': --limit must be a whole number from 0 to 1000000",
        ),
        (vec!["history", "--limit", "-1"], "--limit must be a whole number from 0 to 1000000"),
        (vec!["profile", "-F", "0", "--", "true"], "-F must be a positive whole number, at most 10000"),
        (vec!["profile", "-F", "20000", "--", "true"], "-F must be a positive whole number, at most 10000"),
        (vec!["profile", "--top", "-1", "--", "true"], "--top must be a whole number from 0 to 10000"),
        (vec!["profile", "--pid", "-1"], "--pid must be a positive whole number, at most 4294967295"),
        (vec!["bench", "--runs", "0", "true"], "--runs must be a positive whole number, at most 1000000"),
        (vec!["bench", "--warmup", "-1", "true"], "--warmup must be a whole number from 0 to 1000000"),
        (vec!["bench", "--min-runs", "2000000", "true"], "--min-runs must be a positive whole number"),
        (vec!["bench", "-P", "n", "1", "1e308", "echo {n}"], "the scan has more than 100000 values"),
        (vec!["bench", "-P", "n", "1", "5", "-D", "1e-300", "echo {n}"], "the scan has more than 100000 values"),
        (vec!["bench", "-P", "n", "-5", "5", "echo"], "no command uses the parameter `n`"),
        (vec!["load", URL, "--watch-pid", "-1"], "--watch-pid must be a positive whole number, at most 4294967295"),
        (vec!["load", URL, "--profile-pid", "0"], "--profile-pid must be a positive whole number"),
        (vec!["target", "--error-rate", "abc"], "--error-rate must be a number from 0 to 1"),
        (vec!["bench", "--seed", "-1", "true"], "--seed must be a whole number from 0 to 18446744073709551615"),
        (vec!["compare", "a", "b", "--ab", "-r", "1"], "--runs must be a whole number from 2 to 10000"),
        (vec!["calibrate", "true", "-r", "100000"], "--runs must be a whole number from 2 to 10000"),
        (vec!["calibrate", "true", "--repeats", "0"], "--repeats must be a positive whole number, at most 1000"),
    ] {
        check(&args, &[expected]);
    }
}

#[test]
fn an_out_of_range_port_reaches_the_engine_unchanged() {
    use clap::Parser;
    let url = "http://127.0.0.1:99999/";
    let Command::Load(load) = Cli::parse_from(["plumb", "load", url]).command else {
        unreachable!()
    };
    let plan = load
        .resolve()
        .expect("plumb-cli leaves the URL to the engine");
    assert_eq!(plan.settings.url, url);
    let error = plumb_load::Endpoint::resolve(&plan.settings.url)
        .expect_err("the engine refuses port 99999")
        .to_string();
    assert!(error.contains("99999"), "{error}");
}

#[test]
fn values_within_the_limits_are_accepted() {
    use clap::Parser;
    let argv = [
        "plumb",
        "load",
        URL,
        "-c",
        "1000000",
        "-d",
        "7d",
        "--timeout",
        "24h",
        "-m",
        "PATCH",
        "-H",
        "X-Tab:\ta\tb",
        "-n",
        "5",
        "-t",
        "1024",
    ];
    let Command::Load(load) = Cli::parse_from(argv).command else {
        unreachable!()
    };
    let plan = load.resolve().unwrap();
    assert_eq!(plan.settings.method, "PATCH");
    assert_eq!(plan.settings.headers, vec![("X-Tab".into(), "a\tb".into())]);
    assert_eq!(plan.settings.duration, Some(plumb_cli::limits::MAX_RUN));
    let rate = [
        "plumb",
        "load",
        URL,
        "--rate",
        "0",
        "--stages",
        "7d:10000000",
    ];
    let Command::Load(load) = Cli::parse_from(rate).command else {
        unreachable!()
    };
    assert_eq!(load.resolve().unwrap().settings.stages.len(), 1);
}
