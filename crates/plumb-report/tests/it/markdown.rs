//! Markdown for pull-request comments, snapshot by snapshot, from the fixed results of every kind;
//! and the cut at GitHub's comment limit.

use crate::fixtures;
use plumb_report::markdown::{fit_comment, GITHUB_COMMENT_LIMIT};

#[test]
fn bench_markdown() {
    insta::assert_snapshot!(plumb_report::bench::markdown(&fixtures::bench(1.0)));
}

#[test]
fn profile_markdown() {
    insta::assert_snapshot!(plumb_report::profile::markdown(&fixtures::profile(), 10));
}

#[test]
fn capacity_markdown() {
    insta::assert_snapshot!(plumb_report::capacity::markdown(&fixtures::capacity()));
}

#[test]
fn a_report_longer_than_a_github_comment_is_cut_with_a_note() {
    let one = plumb_report::load::markdown(&fixtures::load(1.0));
    let many = one.repeat(GITHUB_COMMENT_LIMIT / one.len() + 2);
    let fitted = fit_comment(&many);
    assert!(fitted.chars().count() <= GITHUB_COMMENT_LIMIT);
    assert!(
        fitted.contains("> **Truncated**: this comment shows the first"),
        "{}",
        &fitted[fitted.len() - 400..]
    );
    assert!(fitted.contains(&format!(
        "of {} characters",
        plumb_report::format::count(many.chars().count() as u64)
    )));
}
