//! Flamegraph SVGs from folded stacks, rendered in-process with inferno: one profile's, or the
//! differential of two (red where a stack grew, blue where it shrank).

use plumb_schema::profile::{CpuProfile, FoldedStack, WaitingProfile};
use std::io::Write;

/// Write an interactive flamegraph SVG of `folded` to `out`.
pub fn write_flamegraph(
    folded: &[FoldedStack],
    title: &str,
    out: impl Write,
) -> std::io::Result<()> {
    render(folded, Labels::new(title, "samples", None), out)
}

/// What a flamegraph says around its frames.
struct Labels<'a> {
    title: &'a str,
    count_name: &'a str,
    subtitle: Option<&'a str>,
}

impl<'a> Labels<'a> {
    fn new(title: &'a str, count_name: &'a str, subtitle: Option<&'a str>) -> Self {
        Labels {
            title,
            count_name,
            subtitle,
        }
    }

    fn options(&self) -> inferno::flamegraph::Options<'static> {
        let mut options = inferno::flamegraph::Options::default();
        options.title = self.title.to_string();
        options.subtitle = self.subtitle.map(str::to_string);
        options.count_name = self.count_name.to_string();
        options.deterministic = true;
        options
    }
}

fn render(folded: &[FoldedStack], labels: Labels<'_>, out: impl Write) -> std::io::Result<()> {
    let lines: Vec<String> = folded
        .iter()
        .map(|stack| format!("{} {}", stack.stack, stack.count))
        .collect();
    inferno::flamegraph::from_lines(&mut labels.options(), lines.iter().map(String::as_str), out)
        .map_err(|err| std::io::Error::other(err.to_string()))
}

/// Folded stacks of wall-clock time in microseconds: each CPU sample as `1/frequency` of a
/// second of its stack, and each waiting stack with a `[waiting]` leaf, so one picture shows
/// where the time went, running or blocked.
pub fn wall_clock_folded(cpu: &CpuProfile, waiting: &WaitingProfile) -> Vec<FoldedStack> {
    let per_sample = 1e6 / f64::from(cpu.frequency_hz.max(1));
    let running = cpu.folded.iter().map(|stack| FoldedStack {
        stack: stack.stack.clone(),
        count: (stack.count as f64 * per_sample).round() as u64,
    });
    let blocked = waiting.folded.iter().map(|stack| FoldedStack {
        stack: format!("{};[waiting]", stack.stack),
        count: stack.count,
    });
    running.chain(blocked).filter(|s| s.count > 0).collect()
}

/// Write a wall-clock flamegraph (see [`wall_clock_folded`]) to `out`.
pub fn write_wall_clock_flamegraph(
    folded: &[FoldedStack],
    title: &str,
    out: impl Write,
) -> std::io::Result<()> {
    let subtitle = "on-CPU and waiting ([waiting]) time, in microseconds";
    render(folded, Labels::new(title, "µs", Some(subtitle)), out)
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
    let subtitle = "red: grew against the baseline; blue: shrank";
    let mut options = Labels::new(title, "samples", Some(subtitle)).options();
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
