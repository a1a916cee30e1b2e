//! Flamegraph SVG from folded stacks, rendered in-process with inferno.

use plumb_schema::profile::FoldedStack;
use std::io::Write;

/// Write an interactive flamegraph SVG of `folded` to `out`.
pub fn write_flamegraph(
    folded: &[FoldedStack],
    title: &str,
    out: impl Write,
) -> std::io::Result<()> {
    let lines: Vec<String> = folded
        .iter()
        .map(|stack| format!("{} {}", stack.stack, stack.count))
        .collect();
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_string();
    options.count_name = "samples".to_string();
    options.deterministic = true;
    inferno::flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), out)
        .map_err(|err| std::io::Error::other(err.to_string()))
}

/// Write folded stacks, one `stack count` line each.
pub fn write_folded(folded: &[FoldedStack], mut out: impl Write) -> std::io::Result<()> {
    for stack in folded {
        writeln!(out, "{} {}", stack.stack, stack.count)?;
    }
    out.flush()
}
