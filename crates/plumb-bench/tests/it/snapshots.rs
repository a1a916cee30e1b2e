//! Snapshots of every output format, rendered from a scripted run (fixed seed, fixed durations),
//! so a change in any report shows up as a reviewable diff.

use std::time::Duration;

use plumb_bench::mock::MockExecutor;
use plumb_bench::{CommandSpec, Parameter, ShellMode, Silent};
use plumb_report::bench::{self as render, Colors};
use plumb_schema::bench::BenchReport;

use crate::{direct, took};

/// Two parameterized commands through a shell, 12 runs each; `fast` takes about half as long
/// as `slow`, and `slow`'s first run is cold; `fast` stays within plumb's own peak RSS.
fn report() -> BenchReport {
    let mut settings = direct(&[], 12);
    settings.commands = vec![CommandSpec {
        command: "compress --level {level} input.bin".into(),
        name: Some("level {level}".into()),
    }];
    settings.parameters = vec![Parameter {
        name: "level".into(),
        values: vec!["1".into(), "9".into()],
    }];
    settings.shell = ShellMode::Shell("sh".into());
    settings.warmup = 1;
    let mut level_9_calls = 0;
    let mut executor = MockExecutor::new(move |invocation, call| {
        let line = invocation.args.last().unwrap();
        let (base, rss) = match line.as_str() {
            "" => (2_000, 1 << 20),
            l if l.contains("level 1") => (22_000, 30 << 20),
            _ => (42_000, 90 << 20),
        };
        if line.contains("level 9") {
            level_9_calls += 1;
        }
        // Call 1 is the warmup; call 2 is the first measured run, slowed by "cold caches".
        let cold = if line.contains("level 9") && level_9_calls == 2 {
            30_000
        } else {
            0
        };
        let jitter = (call as u64 * 7919 % 13) * 100;
        Ok(took(Duration::from_micros(base + jitter + cold), rss))
    });
    executor.peak_rss_floor = Some(31 << 20);
    plumb_bench::run(&settings, &mut executor, &mut Silent).unwrap()
}

#[test]
fn text() {
    insta::assert_snapshot!(render::text(&report(), Colors::Never));
}

#[test]
fn text_with_colors_only_adds_escape_codes() {
    let report = report();
    let colored = render::text(&report, Colors::Always);
    assert!(colored.contains("\x1b["));
    let stripped = regex_free_strip(&colored);
    assert_eq!(stripped, render::text(&report, Colors::Never));
}

fn regex_free_strip(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for inner in chars.by_ref() {
                if inner == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn markdown() {
    insta::assert_snapshot!(render::markdown(&report()));
}

#[test]
fn csv() {
    insta::assert_snapshot!(render::csv(&report()));
}

#[test]
fn json() {
    insta::with_settings!({ filters => vec![(r#""plumb_version": "[^"]*""#, r#""plumb_version": "[version]""#)] }, {
        insta::assert_snapshot!(render::json(&report()).unwrap());
    });
}

#[test]
fn hyperfine_json() {
    insta::assert_snapshot!(render::hyperfine_json(&report()).unwrap());
}

#[test]
fn plumb_json_reads_back_into_the_same_report() {
    let report = report();
    let json = render::json(&report).unwrap();
    let back: BenchReport = serde_json::from_str(&json).unwrap();
    // Compare through the same float parser on both sides: serde_json's default parsing may
    // differ from the original f64 in the last bit.
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), parsed);
    assert_eq!(back.benchmarks.len(), report.benchmarks.len());
}
