//! Properties of every flag parser over arbitrary input: no string panics; each one parses to a
//! value within its limit or fails with an error that names the flag and has a hint; and a
//! value formatted back parses to itself.

use plumb_cli::limits::{
    MAX_BODY_SIZE, MAX_CONNECTIONS, MAX_METHOD_LEN, MAX_RATE, MAX_RUN, MAX_WAIT,
};
use plumb_cli::{
    parse_bytes, parse_duration, parse_duration_at_most, parse_header, parse_latency, parse_method,
    parse_rate, parse_run_duration, parse_stages, parse_stall, parse_thresholds, parse_whole, Cli,
    Command, StageTargets,
};
use proptest::prelude::*;
use std::time::Duration;

/// Strings that look like flag values more often than `any::<String>()` does.
fn value_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9.e+-]{0,24}(ns|us|ms|s|m|h|d|KB|KiB|MB|GiB|GB|b|x)?",
        "[0-9.e]{0,12}[a-z]{0,3}(:|/|\\.\\.)[0-9.e-]{0,12}[a-z]{0,3}(,[0-9.]{0,6}s?:[0-9.e-]{0,8}){0,3}",
        "[ -~]{0,40}",
    ]
}

fn assert_names_flag(error: &str, flag: &str) {
    assert!(error.contains(flag), "error lacks {flag}: {error}");
    assert!(error.contains("hint: "), "error lacks a hint: {error}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn durations_are_bounded_or_refused(text in value_like()) {
        match parse_duration("--timeout", &text) {
            Ok(d) => prop_assert!(d <= MAX_WAIT),
            Err(e) => assert_names_flag(&e.to_string(), "--timeout"),
        }
        match parse_run_duration("--duration", &text) {
            Ok(d) => prop_assert!(!d.is_zero() && d <= MAX_RUN),
            Err(e) => assert_names_flag(&e.to_string(), "--duration"),
        }
    }

    #[test]
    fn durations_round_trip(nanos in 1..=MAX_RUN.as_nanos() as u64) {
        let d = Duration::from_nanos(nanos);
        let text = humantime::format_duration(d).to_string();
        prop_assert_eq!(parse_run_duration("-d", &text).unwrap(), d, "{}", text);
        let seconds = (nanos / 1_000_000_000).max(1);
        prop_assert_eq!(
            parse_duration_at_most("-d", &seconds.to_string(), MAX_RUN).unwrap(),
            Duration::from_secs(seconds)
        );
    }

    #[test]
    fn sizes_are_bounded_or_refused(text in value_like()) {
        match parse_bytes("--size", &text, MAX_BODY_SIZE) {
            Ok(n) => prop_assert!(n as u64 <= MAX_BODY_SIZE),
            Err(e) => assert_names_flag(&e.to_string(), "--size"),
        }
    }

    #[test]
    fn sizes_round_trip(n in 0..=MAX_BODY_SIZE, kib in 0..=(MAX_BODY_SIZE >> 10)) {
        prop_assert_eq!(parse_bytes("--size", &n.to_string(), MAX_BODY_SIZE).unwrap() as u64, n);
        let text = format!("{kib}KiB");
        prop_assert_eq!(parse_bytes("--size", &text, MAX_BODY_SIZE).unwrap() as u64, kib << 10);
    }

    #[test]
    fn rates_are_bounded_or_refused(text in value_like()) {
        match parse_rate(&text) {
            Ok(r) => prop_assert!(r == 0.0 || (0.01..=MAX_RATE).contains(&r), "{}", r),
            Err(e) => assert_names_flag(&e, "--rate"),
        }
    }

    #[test]
    fn rates_round_trip(rate in 0.01..=MAX_RATE) {
        prop_assert_eq!(parse_rate(&rate.to_string()).unwrap(), rate);
    }

    #[test]
    fn whole_numbers_are_bounded_or_refused(text in value_like(), max in 1..=u64::MAX) {
        match parse_whole::<u64>("-c", &text, 1..=max, "e.g. -c 50") {
            Ok(n) => prop_assert!((1..=max).contains(&n)),
            Err(e) => assert_names_flag(&e, "-c"),
        }
        if let Ok(n) = text.trim().parse::<u64>() {
            let narrow = parse_whole::<u32>("-c", &text, 0..=MAX_CONNECTIONS, "e.g. -c 50");
            prop_assert_eq!(narrow.is_ok(), n <= MAX_CONNECTIONS);
        }
    }

    #[test]
    fn stages_are_bounded_or_refused(text in value_like()) {
        for targets in [StageTargets::Rate, StageTargets::Connections] {
            match parse_stages(&text, targets) {
                Ok(stages) => {
                    let total: Duration = stages.iter().map(|s| s.duration).sum();
                    prop_assert!(!total.is_zero() && total <= MAX_RUN);
                    prop_assert!(stages.iter().all(|s| (0.0..=MAX_RATE).contains(&s.target)));
                }
                Err(e) => assert_names_flag(&e.to_string(), "--stages"),
            }
        }
    }

    #[test]
    fn stages_round_trip(plan in prop::collection::vec((1..=3_600_000u64, 0..=1_000_000u32), 1..8)) {
        let text = plan
            .iter()
            .map(|(ms, target)| format!("{ms}ms:{target}"))
            .collect::<Vec<_>>()
            .join(",");
        let stages = parse_stages(&text, StageTargets::Connections).unwrap();
        let back: Vec<(u64, u32)> = stages
            .iter()
            .map(|s| (s.duration.as_millis() as u64, s.target as u32))
            .collect();
        prop_assert_eq!(back, plan);
    }

    #[test]
    fn latencies_and_stalls_are_bounded_or_refused(text in value_like()) {
        match parse_latency(&text) {
            Ok(plumb_target::Latency::Fixed(d)) => prop_assert!(d <= MAX_WAIT),
            Ok(plumb_target::Latency::Uniform(lo, hi)) => prop_assert!(lo <= hi && hi <= MAX_WAIT),
            Ok(plumb_target::Latency::None) => {}
            Err(e) => assert_names_flag(&e.to_string(), "--latency"),
        }
        match parse_stall(&text) {
            Ok(s) => prop_assert!(s.length < s.every && s.every <= MAX_WAIT),
            Err(e) => assert_names_flag(&e.to_string(), "--stall"),
        }
    }

    #[test]
    fn methods_are_tokens_or_refused(text in value_like()) {
        match parse_method(&text) {
            Ok(m) => {
                prop_assert!(!m.is_empty() && m.len() <= MAX_METHOD_LEN);
                prop_assert!(http::Method::from_bytes(m.as_bytes()).is_ok(), "{:?}", m);
            }
            Err(e) => {
                let e = e.to_string();
                assert_names_flag(&e, "--method");
                prop_assert!(!e.contains(['\r', '\n', '\0']) || e.matches('\n').count() == 1);
            }
        }
    }

    #[test]
    fn methods_round_trip(method in "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}") {
        prop_assert_eq!(parse_method(&method).unwrap(), method.to_ascii_uppercase());
    }

    #[test]
    fn headers_are_safe_or_refused(text in value_like()) {
        match parse_header(&text) {
            Ok((name, value)) => {
                prop_assert!(http::HeaderName::from_bytes(name.as_bytes()).is_ok());
                prop_assert!(http::HeaderValue::from_bytes(value.as_bytes()).is_ok(), "{:?}", value);
            }
            Err(e) => {
                let e = e.to_string();
                assert_names_flag(&e, "--header");
                prop_assert_eq!(e.matches('\n').count(), 1, "one line break, before the hint");
            }
        }
    }

    #[test]
    fn headers_round_trip(name in "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}", value in "[!-~]([ -~]{0,30}[!-~])?") {
        let parsed = parse_header(&format!("{name}: {value}")).unwrap();
        prop_assert_eq!(parsed, (name, value));
    }

    #[test]
    fn thresholds_parse_or_point_at_the_bad_part(text in value_like()) {
        if let Err(e) = parse_thresholds(&[text]) {
            prop_assert!(e.to_string().contains("hint: "));
        }
    }

    #[test]
    fn every_numeric_flag_of_load_names_itself(
        flag in prop::sample::select(vec![
            ("-c", "--connections"), ("-r", "--rate"), ("-d", "--duration"), ("-n", "--requests"),
            ("-t", "--threads"), ("--stages", "--stages"), ("--timeout", "--timeout"),
            ("-m", "--method"), ("-H", "--header"),
        ]),
        value in value_like().prop_filter("not a flag", |v| !v.starts_with('-') || v.len() < 2),
    ) {
        let argv = ["plumb", "load", "http://127.0.0.1:1/", flag.0, &value];
        let error = match clap::Parser::try_parse_from(argv) {
            Err(e) => Some(e.to_string()),
            Ok(Cli { command: Command::Load(load) }) => load.resolve().err().map(|e| e.to_string()),
            Ok(_) => unreachable!(),
        };
        if let Some(error) = error {
            prop_assert!(error.contains(flag.1) || error.contains(flag.0), "{}", error);
        }
    }
}
