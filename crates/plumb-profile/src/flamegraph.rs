//! Flamegraph SVGs from folded stacks, rendered in-process with inferno: one profile's, or the
//! differential of two (red where a stack grew, blue where it shrank).

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

/// Write a differential flamegraph of `after` against `before` to `out`: the frames are
/// `after`'s, coloured red where a stack's share of the samples grew and blue where it shrank.
/// The before counts are scaled to the after total, so runs of different lengths compare.
pub fn write_differential_flamegraph(
    before: &[FoldedStack],
    after: &[FoldedStack],
    title: &str,
    out: impl Write,
) -> std::io::Result<()> {
    let (mut before_text, mut after_text) = (Vec::new(), Vec::new());
    write_folded(before, &mut before_text)?;
    write_folded(after, &mut after_text)?;
    let mut differential = Vec::new();
    let diff_options = inferno::differential::Options {
        normalize: true,
        ..Default::default()
    };
    inferno::differential::from_readers(
        diff_options,
        before_text.as_slice(),
        after_text.as_slice(),
        &mut differential,
    )?;
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_string();
    options.subtitle = Some("red: grew against the baseline; blue: shrank".to_string());
    options.count_name = "samples".to_string();
    options.deterministic = true;
    inferno::flamegraph::from_reader(&mut options, differential.as_slice(), out)
        .map_err(|err| std::io::Error::other(err.to_string()))
}

/// Write folded stacks, one `stack count` line each.
pub fn write_folded(folded: &[FoldedStack], mut out: impl Write) -> std::io::Result<()> {
    for stack in folded {
        writeln!(out, "{} {}", stack.stack, stack.count)?;
    }
    out.flush()
}
