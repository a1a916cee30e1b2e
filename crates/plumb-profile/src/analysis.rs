//! From sampled stacks to answers: folded stacks, functions ranked by self and total samples,
//! the smallest set of functions that covers most of the time (the Pareto view), and whether
//! the stacks are plausible at all (a broken frame-pointer chain gives `[unknown]` frames and
//! stacks that run to the depth limit).
//!
//! Pure functions over `(stack, count)` pairs, so tests can feed any stacks.

use crate::perf::sampler::RawProfile;
use crate::symbols::Symbolizer;
use plumb_schema::profile::{CpuProfile, FoldedStack, HotFunction, StackQuality};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A symbolized stack, root first, with its sample count.
pub type NamedStack = (Vec<String>, u64);

/// Share of samples the "cover" set must reach.
pub const COVER_FRACTION: f64 = 0.8;

/// Turn address stacks into name stacks (root first), merging stacks that become equal.
pub(crate) fn symbolize(raw: &RawProfile) -> Vec<NamedStack> {
    let mut symbolizer = Symbolizer::default();
    let mut merged: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for ((pid, addresses), count) in &raw.stacks {
        let mut names = Vec::new();
        for (depth, &address) in addresses.iter().enumerate() {
            names.extend(symbolizer.frames_in(&raw.spaces, *pid, address, depth > 0));
        }
        names.reverse();
        *merged.entry(names).or_default() += count;
    }
    merged.into_iter().collect()
}

/// Folded-stack lines (`root;child;leaf count`), sorted by stack for stable output.
pub fn fold(stacks: &[NamedStack]) -> Vec<FoldedStack> {
    let mut folded: BTreeMap<String, u64> = BTreeMap::new();
    for (frames, count) in stacks {
        let stack = frames
            .iter()
            .map(|frame| clean_frame(frame))
            .collect::<Vec<_>>()
            .join(";");
        *folded.entry(stack).or_default() += count;
    }
    folded
        .into_iter()
        .map(|(stack, count)| FoldedStack { stack, count })
        .collect()
}

/// `;` separates frames in the folded format, so a name must not contain one
/// (Rust array types do: `[u8; 4]`).
fn clean_frame(frame: &str) -> String {
    frame.replace(';', ",")
}

/// Functions ranked by self samples (then total), with their shares of all samples.
pub fn rank(stacks: &[NamedStack]) -> Vec<HotFunction> {
    let total: u64 = stacks.iter().map(|(_, count)| count).sum();
    let mut self_counts: HashMap<&str, u64> = HashMap::new();
    let mut total_counts: HashMap<&str, u64> = HashMap::new();
    for (frames, count) in stacks {
        if let Some(leaf) = frames.last() {
            *self_counts.entry(leaf).or_default() += count;
        }
        let unique: HashSet<&str> = frames.iter().map(String::as_str).collect();
        for name in unique {
            *total_counts.entry(name).or_default() += count;
        }
    }
    let percent = |count: u64| {
        if total == 0 {
            0.0
        } else {
            100.0 * count as f64 / total as f64
        }
    };
    let mut ranked: Vec<HotFunction> = total_counts
        .into_iter()
        .map(|(name, total_samples)| {
            let self_samples = self_counts.get(name).copied().unwrap_or(0);
            HotFunction {
                name: name.to_string(),
                self_samples,
                total_samples,
                self_percent: percent(self_samples),
                total_percent: percent(total_samples),
            }
        })
        .collect();
    ranked.sort_by(|a, b| {
        (b.self_samples, b.total_samples)
            .cmp(&(a.self_samples, a.total_samples))
            .then_with(|| a.name.cmp(&b.name))
    });
    ranked
}

/// The fewest functions whose self samples add up to `fraction` of all samples.
pub fn cover(ranked: &[HotFunction], fraction: f64) -> Vec<String> {
    let total: u64 = ranked.iter().map(|function| function.self_samples).sum();
    let goal = fraction * total as f64;
    let mut covered = 0u64;
    let mut names = Vec::new();
    for function in ranked.iter().filter(|function| function.self_samples > 0) {
        if covered as f64 >= goal {
            break;
        }
        covered += function.self_samples;
        names.push(function.name.clone());
    }
    names
}

/// Share of samples with `[unknown]` frames above which the stacks are called bogus.
const UNKNOWN_WARN_PERCENT: f64 = 10.0;
/// Share of samples cut at the depth limit above which the stacks are called implausible.
const AT_LIMIT_WARN_PERCENT: f64 = 1.0;

/// How the stacks were walked, for the advice on bogus ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// The kernel followed frame pointers.
    FramePointers,
    /// plumb unwound copied stacks with DWARF.
    Dwarf,
}

/// How plausible the stacks of `cpu` are; `None` without samples. `depth_limit` is the most
/// frames one stack can have (the kernel's `perf_event_max_stack`, or the DWARF unwinder's).
pub fn stack_quality(cpu: &CpuProfile, walk: Walk, depth_limit: u64) -> Option<StackQuality> {
    let total: u64 = cpu.folded.iter().map(|stack| stack.count).sum();
    if total == 0 {
        return None;
    }
    let (mut unknown, mut at_limit, mut max_depth) = (0u64, 0u64, 0u64);
    for stack in &cpu.folded {
        let frames: Vec<&str> = stack.stack.split(';').collect();
        let depth = frames.len() as u64;
        max_depth = max_depth.max(depth);
        if frames.contains(&"[unknown]") {
            unknown += stack.count;
        }
        if depth >= depth_limit {
            at_limit += stack.count;
        }
    }
    let percent = |count: u64| 100.0 * count as f64 / total as f64;
    let (unknown_percent, at_limit_percent) = (percent(unknown), percent(at_limit));
    let warning = bogus_warning(unknown_percent, at_limit_percent, depth_limit);
    let hint = warning.as_ref().map(|_| bogus_hint(walk).to_string());
    Some(StackQuality {
        unknown_percent,
        max_depth,
        at_limit_percent,
        warning,
        hint,
    })
}

fn bogus_warning(unknown_percent: f64, at_limit_percent: f64, depth_limit: u64) -> Option<String> {
    let mut problems = Vec::new();
    if unknown_percent >= UNKNOWN_WARN_PERCENT {
        problems.push(format!(
            "{unknown_percent:.0}% of samples have [unknown] frames (return addresses outside any mapped file)"
        ));
    }
    if at_limit_percent >= AT_LIMIT_WARN_PERCENT {
        problems.push(format!(
            "{at_limit_percent:.0}% of samples run to the {depth_limit}-frame limit"
        ));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "the stacks look truncated or bogus: {}; self times are right, callers and totals are not",
            problems.join(", and ")
        )
    })
}

fn bogus_hint(walk: Walk) -> &'static str {
    match walk {
        Walk::FramePointers => {
            "the code was probably built without frame pointers (CPython usually is): try --unwind dwarf"
        }
        Walk::Dwarf => {
            "DWARF unwinding stops in code without unwind information (JIT or interpreter-generated code without a perf map)"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stacks(lines: &[(&str, u64)]) -> Vec<NamedStack> {
        lines
            .iter()
            .map(|(stack, count)| (stack.split(';').map(str::to_string).collect(), *count))
            .collect()
    }

    fn check_rank(input: &[(&str, u64)], expected: &[(&str, u64, u64)]) {
        let ranked = rank(&stacks(input));
        let got: Vec<(&str, u64, u64)> = ranked
            .iter()
            .map(|function| {
                (
                    function.name.as_str(),
                    function.self_samples,
                    function.total_samples,
                )
            })
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn self_counts_leaves_and_total_counts_each_stack_once() {
        check_rank(
            &[("main;a;b", 6), ("main;a", 3), ("main;c;c", 1)],
            &[("b", 6, 6), ("a", 3, 9), ("c", 1, 1), ("main", 0, 10)],
        );
    }

    #[test]
    fn cover_takes_the_fewest_functions_reaching_eighty_percent() {
        let ranked = rank(&stacks(&[("m;a", 70), ("m;b", 20), ("m;c", 10)]));
        assert_eq!(cover(&ranked, COVER_FRACTION), vec!["a", "b"]);
        let ranked = rank(&stacks(&[("m;a", 80), ("m;b", 20)]));
        assert_eq!(cover(&ranked, COVER_FRACTION), vec!["a"]);
        assert!(cover(&[], COVER_FRACTION).is_empty());
    }

    fn profile_of(lines: &[(&str, u64)]) -> CpuProfile {
        let stacks = stacks(lines);
        CpuProfile {
            frequency_hz: 99,
            unwinding: "frame-pointers".into(),
            samples: stacks.iter().map(|(_, count)| count).sum(),
            lost_samples: 0,
            hot_functions: rank(&stacks),
            cover_80_percent: Vec::new(),
            folded: fold(&stacks),
        }
    }

    #[test]
    fn unknown_frames_make_the_stacks_bogus_with_the_dwarf_hint() {
        let cpu = profile_of(&[("[unknown];[unknown];eval", 30), ("main;eval", 70)]);
        let quality = stack_quality(&cpu, Walk::FramePointers, 127).unwrap();
        assert_eq!((quality.unknown_percent, quality.max_depth), (30.0, 3));
        assert!(quality
            .warning
            .unwrap()
            .contains("30% of samples have [unknown] frames"));
        assert!(quality.hint.unwrap().contains("--unwind dwarf"));
    }

    #[test]
    fn stacks_at_the_depth_limit_are_implausible() {
        let deep = vec!["f"; 127].join(";");
        let cpu = profile_of(&[(deep.as_str(), 5), ("main;f", 95)]);
        let quality = stack_quality(&cpu, Walk::Dwarf, 127).unwrap();
        assert_eq!(quality.at_limit_percent, 5.0);
        assert!(quality.warning.unwrap().contains("127-frame limit"));
    }

    #[test]
    fn complete_stacks_get_no_warning() {
        let cpu = profile_of(&[("_start;main;hot", 95), ("[unknown]", 5)]);
        let quality = stack_quality(&cpu, Walk::FramePointers, 127).unwrap();
        assert_eq!((quality.warning, quality.hint), (None, None));
        assert!(stack_quality(&profile_of(&[]), Walk::Dwarf, 256).is_none());
    }

    #[test]
    fn fold_joins_root_first_and_escapes_semicolons() {
        let folded = fold(&stacks(&[("main;<[u8, 4]>::f", 2)]));
        assert_eq!(
            folded,
            vec![FoldedStack {
                stack: "main;<[u8, 4]>::f".into(),
                count: 2
            }]
        );
        let folded = fold(&[(vec!["main".into(), "[u8; 4]::f".into()], 1)]);
        assert_eq!(folded[0].stack, "main;[u8, 4]::f");
    }
}
