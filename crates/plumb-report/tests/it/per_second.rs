//! `plumb load --per-second`: the table of every second, from the fixed 20 s load run.

use crate::fixtures;

#[test]
fn a_line_per_second_with_rate_errors_and_percentiles() {
    let text = plumb_report::per_second::text(&fixtures::load(1.0));
    assert_eq!(
        text.lines().count(),
        2 + fixtures::SECONDS as usize,
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn a_run_shorter_than_a_second_says_so() {
    let mut r = fixtures::load(1.0);
    r.timeseries.clear();
    assert!(plumb_report::per_second::text(&r).contains("no whole second was measured"));
}
