//! Markdown that fits where it is posted: a GitHub pull-request comment holds at most 65,536
//! characters, so a longer report is cut at a line (never inside a table row or a word, and an
//! open code block is closed) and says so, with how much was left out and where the rest is.

use std::borrow::Cow;

/// The most characters a GitHub comment (issue or pull request) holds.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Room kept for the note that says the text was cut.
const NOTE_ROOM: usize = 400;

/// `markdown` as it fits in a GitHub comment: unchanged when short enough, else cut with a note.
pub fn fit_comment(markdown: &str) -> Cow<'_, str> {
    fit(markdown, GITHUB_COMMENT_LIMIT)
}

/// `markdown` in at most `limit` characters, cut at a line boundary with a note when longer.
pub fn fit(markdown: &str, limit: usize) -> Cow<'_, str> {
    let total = markdown.chars().count();
    if total <= limit {
        return Cow::Borrowed(markdown);
    }
    let budget = limit.saturating_sub(NOTE_ROOM);
    let end = markdown
        .char_indices()
        .nth(budget)
        .map_or(markdown.len(), |(i, _)| i);
    let cut = markdown[..end].rfind('\n').map_or("", |i| &markdown[..i]);
    let mut out = cut.to_owned();
    if out.matches("```").count() % 2 == 1 {
        out.push_str("\n```");
    }
    let shown = out.chars().count();
    out.push_str(&format!(
        "\n\n> **Truncated**: this comment shows the first {} of {} characters (GitHub comments \
         hold at most {}); the rest is in the full report: `plumb report RUN... --markdown FILE` \
         or `--html FILE`.\n",
        crate::format::count(shown as u64),
        crate::format::count(total as u64),
        crate::format::count(limit as u64)
    ));
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_unchanged() {
        assert!(matches!(fit_comment("| a |\n"), Cow::Borrowed("| a |\n")));
    }

    #[test]
    fn long_text_is_cut_at_a_line_and_says_so() {
        let rows: String = (0..200)
            .map(|i| format!("| row {i} | {} |\n", i * 7))
            .collect();
        let text = format!("### title\n\n```\ncode\n{rows}");
        let fitted = fit(&text, 1_000);
        assert!(fitted.chars().count() <= 1_000, "{}", fitted.len());
        let body = fitted.split("\n\n> **Truncated**").next().unwrap();
        assert!(
            text.starts_with(body.trim_end_matches("\n```")),
            "cut at a line"
        );
        assert!(body.ends_with("\n```"), "the open code block is closed");
        assert!(fitted.contains(&format!(
            "of {} characters",
            crate::format::count(text.len() as u64)
        )));
    }

    #[test]
    fn a_report_just_at_the_limit_is_kept_whole() {
        let text = "x".repeat(GITHUB_COMMENT_LIMIT);
        assert_eq!(fit_comment(&text).len(), GITHUB_COMMENT_LIMIT);
    }
}
