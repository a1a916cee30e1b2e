//! Terminal rendering of a `plumb profile` result: the hot-function table, the 80% cover set,
//! the resource summary and the notes. Plain text, no colour: it reads the same under `NO_COLOR`.

use plumb_schema::profile::{
    CpuOutcome, CpuProfile, MemoryProfile, MinAvgMax, ProfileReport, PythonProfile,
    ResourceSummary, RuntimeKind, RuntimeNote, StackQuality, WaitingProfile, WeightedFunction,
};
use std::fmt::Write;

/// Longest function name shown before it is shortened (with `…` in the middle).
const NAME_WIDTH: usize = 90;

/// Render the report for a terminal, with at most `top` rows of hot functions.
pub fn render_profile(report: &ProfileReport, top: usize) -> String {
    let mut out = String::new();
    render_runtimes(&mut out, &report.runtimes);
    if let Some(python) = &report.python {
        render_python(&mut out, python, top);
    }
    match &report.cpu {
        CpuOutcome::Sampled(cpu) => render_cpu(&mut out, cpu, top),
        CpuOutcome::Unavailable { reason, .. } => {
            let _ = writeln!(out, "CPU profile: not available ({reason})");
        }
    }
    if let Some(quality) = &report.stack_quality {
        render_stack_quality(&mut out, quality);
    }
    if let Some(waiting) = &report.waiting {
        render_waiting(&mut out, waiting, top);
    }
    if let Some(memory) = &report.memory {
        render_memory(&mut out, memory, top);
    }
    out.push('\n');
    render_resources(&mut out, &report.resources.summary, report.duration_secs);
    if let Some(group) = &report.resources.processes {
        render_processes(&mut out, group);
    }
    if !report.resources.unreadable.is_empty() {
        let _ = writeln!(
            out,
            "  not readable: {}",
            report.resources.unreadable.join(", ")
        );
    }
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

fn render_cpu(out: &mut String, cpu: &CpuProfile, top: usize) {
    let _ = writeln!(
        out,
        "CPU profile: {} samples at {} Hz ({} unwinding{})",
        cpu.samples,
        cpu.frequency_hz,
        cpu.unwinding,
        if cpu.lost_samples > 0 {
            format!(", {} lost", cpu.lost_samples)
        } else {
            String::new()
        }
    );
    render_ranking(out, cpu, top);
}

/// One line per runtime found (`runtime: Python 3.12.1, named by ...`), each with its hint.
fn render_runtimes(out: &mut String, runtimes: &[RuntimeNote]) {
    for runtime in runtimes {
        let version = runtime
            .version
            .as_deref()
            .map(|version| format!(" {version}"))
            .unwrap_or_default();
        let named = if runtime.named_by.is_empty() {
            "no names beyond the native symbols".to_string()
        } else {
            format!("named by {}", runtime.named_by.join("; "))
        };
        let _ = writeln!(
            out,
            "runtime: {}{version}, {named}",
            runtime_name(runtime.kind)
        );
        if let Some(hint) = &runtime.hint {
            let _ = writeln!(out, "hint: {hint}");
        }
    }
    if !runtimes.is_empty() {
        out.push('\n');
    }
}

fn runtime_name(kind: RuntimeKind) -> &'static str {
    match kind {
        RuntimeKind::Python => "Python",
        RuntimeKind::Node => "Node",
        RuntimeKind::Jvm => "JVM",
        RuntimeKind::Dotnet => ".NET",
        RuntimeKind::Go => "Go",
        RuntimeKind::Ruby => "Ruby",
    }
}

/// The Python stacks read from the interpreter, ranked like the CPU profile.
fn render_python(out: &mut String, python: &PythonProfile, top: usize) {
    let profile = &python.profile;
    let _ = writeln!(
        out,
        "Python profile: {} samples at {} Hz ({}, frames read from its memory{})",
        profile.samples,
        profile.frequency_hz,
        python.interpreter,
        if python.failed_reads > 0 {
            format!(", {} reads failed", python.failed_reads)
        } else {
            String::new()
        }
    );
    render_ranking(out, profile, top);
    out.push('\n');
}

/// The warning and hint when the stacks look truncated or bogus.
fn render_stack_quality(out: &mut String, quality: &StackQuality) {
    if let Some(warning) = &quality.warning {
        let _ = writeln!(out, "\nwarning: {warning}");
        if let Some(hint) = &quality.hint {
            let _ = writeln!(out, "hint: {hint}");
        }
    }
}

/// The ranked table and the 80% set.
fn render_ranking(out: &mut String, cpu: &CpuProfile, top: usize) {
    if cpu.samples == 0 {
        let _ = writeln!(
            out,
            "  no samples: the process used (almost) no CPU while it was watched"
        );
        return;
    }
    let _ = writeln!(out, "\n  rank   self%  total%  function");
    for (rank, function) in cpu.hot_functions.iter().take(top).enumerate() {
        let _ = writeln!(
            out,
            "  {:>4}  {:>6.1}  {:>6.1}  {}",
            rank + 1,
            function.self_percent,
            function.total_percent,
            shorten(&function.name)
        );
    }
    let covered: f64 = cpu
        .hot_functions
        .iter()
        .filter(|function| cpu.cover_80_percent.contains(&function.name))
        .map(|function| function.self_percent)
        .sum();
    let _ = writeln!(
        out,
        "\n  {} function{} cover {covered:.0}% of samples (the 80% set): {}",
        cpu.cover_80_percent.len(),
        if cpu.cover_80_percent.len() == 1 {
            ""
        } else {
            "s"
        },
        cpu.cover_80_percent
            .iter()
            .map(|name| shorten(name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    render_callers(out, cpu, top);
}

/// Most frames below which the time is spent, but none of it in the frame itself, shown.
const CALLERS: usize = 5;

/// Functions whose time is all in what they call (a Python function named from a perf map,
/// whose samples land in the interpreter; a Rust function whose work was inlined): the ranking
/// by self time never shows them, yet they are where to look.
fn render_callers(out: &mut String, cpu: &CpuProfile, top: usize) {
    let shown: Vec<&str> = cpu
        .hot_functions
        .iter()
        .take(top)
        .map(|f| f.name.as_str())
        .collect();
    let mut callers: Vec<&plumb_schema::profile::HotFunction> = cpu
        .hot_functions
        .iter()
        .filter(|f| f.self_percent < 1.0 && (5.0..99.0).contains(&f.total_percent))
        .filter(|f| !shown.contains(&f.name.as_str()))
        .collect();
    callers.sort_by(|a, b| b.total_percent.total_cmp(&a.total_percent));
    if callers.is_empty() {
        return;
    }
    let listed: Vec<String> = callers
        .iter()
        .take(CALLERS)
        .map(|f| format!("{} {:.1}%", shorten(&f.name), f.total_percent))
        .collect();
    let _ = writeln!(
        out,
        "  by total, with their time in what they call: {}",
        listed.join(", ")
    );
}

/// The wall-clock split of the threads' time, and where they waited.
fn render_waiting(out: &mut String, waiting: &WaitingProfile, top: usize) {
    let whole = waiting.thread_seconds.max(f64::MIN_POSITIVE);
    let share = |seconds: f64| 100.0 * seconds / whole;
    let _ = writeln!(
        out,
        "\nWall-clock time of {} thread{} ({:.2} s together): {:.1}% on CPU, {:.1}% waiting, {:.1}% runnable (waiting for a CPU)",
        waiting.threads,
        if waiting.threads == 1 { "" } else { "s" },
        waiting.thread_seconds,
        share(waiting.on_cpu_seconds),
        share(waiting.waiting_seconds),
        share(waiting.runnable_seconds)
    );
    if let Some(reason) = &waiting.no_stacks {
        let _ = writeln!(out, "  no waiting stacks: {reason}");
        return;
    }
    weighted_table(out, "waiting", &waiting.functions, top, |v| {
        format!("{:.3} s", v)
    });
}

/// Where memory was first touched.
fn render_memory(out: &mut String, memory: &MemoryProfile, top: usize) {
    let _ = writeln!(
        out,
        "\nMemory first touched: {} in {} page faults",
        bytes(memory.bytes as f64),
        memory.faults
    );
    if memory.lost_records > 0 {
        let _ = writeln!(
            out,
            "  {} records lost (the kernel's buffer was full): the figures miss them",
            memory.lost_records
        );
    }
    weighted_table(out, "touched", &memory.functions, top.min(10), bytes);
}

fn weighted_table(
    out: &mut String,
    what: &str,
    functions: &[WeightedFunction],
    top: usize,
    value: impl Fn(f64) -> String,
) {
    if functions.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "  {:>10}  {:>6}  {:>7}  function",
        what, "self%", "total%"
    );
    for f in functions.iter().take(top) {
        let _ = writeln!(
            out,
            "  {:>10}  {:>6.1}  {:>7.1}  {}",
            value(f.total_value),
            f.self_percent,
            f.total_percent,
            shorten(&f.name)
        );
    }
}

fn render_resources(out: &mut String, summary: &ResourceSummary, duration_secs: f64) {
    let _ = writeln!(
        out,
        "Resources over {duration_secs:.1} s ({} points):",
        summary.points
    );
    if summary.points == 0 {
        let _ = writeln!(
            out,
            "  none recorded: the process ended before the first reading"
        );
        return;
    }
    let _ = writeln!(
        out,
        "  {:<22} {:>10} {:>10} {:>10}",
        "", "min", "avg", "max"
    );
    row(
        out,
        "CPU user (% of a core)",
        summary.cpu_user_percent,
        |v| format!("{v:.1}"),
    );
    row(out, "CPU system (%)", summary.cpu_system_percent, |v| {
        format!("{v:.1}")
    });
    row(out, "RSS", summary.rss_bytes, bytes);
    row(out, "threads", summary.threads, |v| format!("{v:.0}"));
    if let Some(fds) = summary.open_fds {
        row(out, "open files", fds, |v| format!("{v:.0}"));
    }
    let _ = writeln!(
        out,
        "  context switches: {} voluntary, {} involuntary",
        summary.voluntary_ctx_switches, summary.involuntary_ctx_switches
    );
    if let (Some(read), Some(written)) = (summary.read_bytes, summary.written_bytes) {
        let _ = writeln!(
            out,
            "  I/O: {} read, {} written",
            bytes(read as f64),
            bytes(written as f64)
        );
    }
    let _ = writeln!(
        out,
        "  RSS growth: {}/s",
        bytes(summary.rss_growth_bytes_per_sec)
    );
}

fn row(out: &mut String, label: &str, values: MinAvgMax, format: impl Fn(f64) -> String) {
    let _ = writeln!(
        out,
        "  {label:<22} {:>10} {:>10} {:>10}",
        format(values.min),
        format(values.avg),
        format(values.max)
    );
}

/// How many members the busiest-process table shows.
const BUSIEST_SHOWN: usize = 5;

/// A tree's or cgroup's totals and its busiest members (nothing more for one process alone).
fn render_processes(out: &mut String, group: &plumb_schema::profile::ProcessGroup) {
    if group.processes_seen <= 1 && !group.selection.contains(' ') {
        return;
    }
    let _ = writeln!(
        out,
        "  processes: {} seen, up to {} at once ({}); CPU {:.2} s user + {:.2} s system",
        group.processes_seen,
        group.processes_max,
        group.selection,
        group.cpu_user_secs,
        group.cpu_system_secs
    );
    if group.busiest.len() < 2 {
        return;
    }
    let _ = writeln!(
        out,
        "  {:<22} {:>10} {:>10} {:>10}",
        "busiest processes", "CPU s", "share", "peak RSS"
    );
    for member in group.busiest.iter().take(BUSIEST_SHOWN) {
        let label = format!(
            "{} {}{}",
            member.pid,
            member.name,
            if member.exited { " (exited)" } else { "" }
        );
        let _ = writeln!(
            out,
            "  {label:<22} {:>10.2} {:>9.1}% {:>10}",
            member.cpu_secs,
            member.cpu_percent,
            bytes(member.peak_rss_bytes as f64)
        );
    }
}

/// Bytes in binary units (`12.3 MiB`).
fn bytes(value: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut scaled = value;
    let mut unit = 0;
    while scaled.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        scaled /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{scaled:.0} B")
    } else {
        format!("{scaled:.1} {}", UNITS[unit])
    }
}

/// Long generic names are cut in the middle, keeping the start (crate path) and the end (method).
fn shorten(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= NAME_WIDTH {
        return name.to_string();
    }
    let keep = (NAME_WIDTH - 1) / 2;
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}…{tail}")
}

/// Render the report as Markdown (a pull-request comment): the hot functions and the resources.
pub fn markdown(report: &ProfileReport, top: usize) -> String {
    let mut out = String::from("## plumb profile\n\n");
    let what = match &report.target.command {
        Some(command) => format!("`{}`", command.join(" ")),
        None => format!("PID {}", report.target.pid),
    };
    let _ = writeln!(out, "{what} for {:.1} s\n", report.duration_secs);
    markdown_runtimes(&mut out, report, top);
    match &report.cpu {
        CpuOutcome::Sampled(cpu) => {
            let _ = writeln!(
                out,
                "{} CPU samples at {} Hz ({} unwinding)\n",
                cpu.samples, cpu.frequency_hz, cpu.unwinding
            );
            markdown_ranking(&mut out, cpu, top);
            let warning = report
                .stack_quality
                .as_ref()
                .and_then(|q| q.warning.as_ref());
            if let Some(warning) = warning {
                let _ = writeln!(out, "\n> warning: {warning}");
            }
        }
        CpuOutcome::Unavailable { reason, hint } => {
            let _ = writeln!(out, "CPU profile not available: {reason} (hint: {hint})");
        }
    }
    let summary = &report.resources.summary;
    let _ = writeln!(
        out,
        "\nCPU {:.1}% of a core on average, RSS {} at most, {} threads at most",
        summary.cpu_user_percent.avg + summary.cpu_system_percent.avg,
        bytes(summary.rss_bytes.max),
        summary.threads.max
    );
    for note in &report.notes {
        let _ = writeln!(out, "\n> {note}");
    }
    out
}

/// Runtime lines and hints as quotes, then the Python table when there is one.
fn markdown_runtimes(out: &mut String, report: &ProfileReport, top: usize) {
    for runtime in &report.runtimes {
        let _ = writeln!(out, "> runtime: {}", runtime_name(runtime.kind));
        if let Some(hint) = &runtime.hint {
            let _ = writeln!(out, "> hint: {hint}");
        }
        out.push('\n');
    }
    if let Some(python) = &report.python {
        let _ = writeln!(
            out,
            "{} Python samples ({}, frames read from its memory)\n",
            python.profile.samples, python.interpreter
        );
        markdown_ranking(out, &python.profile, top);
        out.push('\n');
    }
}

/// The hot functions as a Markdown table.
fn markdown_ranking(out: &mut String, cpu: &CpuProfile, top: usize) {
    let _ = writeln!(
        out,
        "| Rank | Self % | Total % | Function |\n|---:|---:|---:|---|"
    );
    for (rank, f) in cpu.hot_functions.iter().take(top).enumerate() {
        let name = shorten(&f.name).replace('|', "\\|");
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | `{name}` |",
            rank + 1,
            f.self_percent,
            f.total_percent
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_schema::profile::{
        HotFunction, ProfileTarget, ResourceTimeline, PROFILE_SCHEMA_VERSION,
    };

    fn function(name: &str, self_samples: u64, total_samples: u64) -> HotFunction {
        HotFunction {
            name: name.into(),
            self_samples,
            total_samples,
            self_percent: self_samples as f64,
            total_percent: total_samples as f64,
        }
    }

    fn report(cpu: CpuOutcome) -> ProfileReport {
        let summary = ResourceSummary {
            points: 3,
            rss_bytes: MinAvgMax {
                min: 1048576.0,
                avg: 2097152.0,
                max: 3145728.0,
            },
            threads: MinAvgMax {
                min: 1.0,
                avg: 1.0,
                max: 1.0,
            },
            voluntary_ctx_switches: 4,
            involuntary_ctx_switches: 2,
            rss_growth_bytes_per_sec: 1048576.0,
            ..Default::default()
        };
        ProfileReport {
            schema_version: PROFILE_SCHEMA_VERSION,
            target: ProfileTarget {
                pid: 7,
                command: None,
                exit_code: None,
            },
            duration_secs: 2.0,
            cpu,
            resources: ResourceTimeline {
                interval_ms: 100,
                points: Vec::new(),
                summary,
                unreadable: vec!["io (/proc/PID/io)".into()],
                processes: None,
            },
            notes: vec!["possible leak: example".into()],
            plumb_version: "test".into(),
            interrupted: false,
            waiting: None,
            memory: None,
            runtimes: Vec::new(),
            stack_quality: None,
            python: None,
        }
    }

    #[test]
    fn callers_whose_time_is_in_their_callees_are_named_by_total() {
        let cpu = CpuProfile {
            frequency_hz: 99,
            unwinding: "dwarf".into(),
            samples: 100,
            lost_samples: 0,
            hot_functions: vec![
                function("_PyEval_EvalFrameDefault", 60, 99),
                function("pymalloc_alloc", 30, 30),
                function("main", 0, 100),
                function("py::hot_compute (app.py)", 0, 82),
                function("py::render (app.py)", 0, 12),
            ],
            cover_80_percent: vec!["_PyEval_EvalFrameDefault".into()],
            folded: Vec::new(),
        };
        let text = render_profile(&report(CpuOutcome::Sampled(cpu)), 2);
        assert!(
            text.contains("  by total, with their time in what they call: py::hot_compute (app.py) 82.0%, py::render (app.py) 12.0%\n"),
            "{text}"
        );
    }

    #[test]
    fn sampled_report_ranks_and_names_the_cover_set() {
        let cpu = CpuProfile {
            frequency_hz: 99,
            unwinding: "frame-pointers".into(),
            samples: 100,
            lost_samples: 0,
            hot_functions: vec![
                function("hot", 70, 70),
                function("warm", 20, 20),
                function("main", 0, 100),
            ],
            cover_80_percent: vec!["hot".into(), "warm".into()],
            folded: Vec::new(),
        };
        let expected = "\
CPU profile: 100 samples at 99 Hz (frame-pointers unwinding)

  rank   self%  total%  function
     1    70.0    70.0  hot
     2    20.0    20.0  warm
     3     0.0   100.0  main

  2 functions cover 90% of samples (the 80% set): hot, warm

Resources over 2.0 s (3 points):
                                min        avg        max
  CPU user (% of a core)        0.0        0.0        0.0
  CPU system (%)                0.0        0.0        0.0
  RSS                       1.0 MiB    2.0 MiB    3.0 MiB
  threads                         1          1          1
  context switches: 4 voluntary, 2 involuntary
  RSS growth: 1.0 MiB/s
  not readable: io (/proc/PID/io)
note: possible leak: example
";
        assert_eq!(
            render_profile(&report(CpuOutcome::Sampled(cpu)), 10),
            expected
        );
    }

    #[test]
    fn runtimes_python_view_and_bogus_stacks_are_rendered() {
        use plumb_schema::profile::{PythonProfile, RuntimeKind, RuntimeNote, StackQuality};
        let cpu = CpuProfile {
            frequency_hz: 99,
            unwinding: "frame-pointers".into(),
            samples: 10,
            lost_samples: 0,
            hot_functions: vec![function("_PyEval_EvalFrameDefault", 10, 10)],
            cover_80_percent: vec!["_PyEval_EvalFrameDefault".into()],
            folded: Vec::new(),
        };
        let mut python = cpu.clone();
        python.unwinding = "python-frames".into();
        python.hot_functions = vec![function("hot_a (hot.py:12)", 7, 7)];
        python.cover_80_percent = vec!["hot_a (hot.py:12)".into()];
        let mut report = report(CpuOutcome::Sampled(cpu));
        report.runtimes = vec![
            RuntimeNote {
                kind: RuntimeKind::Python,
                version: Some("3.12.1".into()),
                named_by: vec!["the interpreter's frames, read from its memory".into()],
                hint: None,
            },
            RuntimeNote {
                kind: RuntimeKind::Node,
                version: None,
                named_by: Vec::new(),
                hint: Some("Node detected: restart it with --perf-basic-prof".into()),
            },
        ];
        report.python = Some(PythonProfile {
            interpreter: "CPython 3.12.1".into(),
            profile: python,
            failed_reads: 0,
        });
        report.stack_quality = Some(StackQuality {
            unknown_percent: 60.0,
            max_depth: 127,
            at_limit_percent: 0.0,
            warning: Some("the stacks look truncated or bogus".into()),
            hint: Some("try --unwind dwarf".into()),
        });
        let text = render_profile(&report, 10);
        let expected_start = "\
runtime: Python 3.12.1, named by the interpreter's frames, read from its memory
runtime: Node, no names beyond the native symbols
hint: Node detected: restart it with --perf-basic-prof

Python profile: 10 samples at 99 Hz (CPython 3.12.1, frames read from its memory)

  rank   self%  total%  function
     1     7.0     7.0  hot_a (hot.py:12)
";
        assert!(text.starts_with(expected_start), "{text}");
        assert!(
            text.contains("_PyEval_EvalFrameDefault\n\nwarning: the stacks look truncated or bogus\nhint: try --unwind dwarf\n"),
            "{text}"
        );
    }

    #[test]
    fn markdown_has_the_runtime_hint_and_the_stack_warning() {
        use plumb_schema::profile::{RuntimeKind, RuntimeNote, StackQuality};
        let cpu = CpuProfile {
            frequency_hz: 99,
            unwinding: "frame-pointers".into(),
            samples: 10,
            lost_samples: 0,
            hot_functions: vec![function("Builtins_JSEntry", 10, 10)],
            cover_80_percent: Vec::new(),
            folded: Vec::new(),
        };
        let mut report = report(CpuOutcome::Sampled(cpu));
        report.runtimes = vec![RuntimeNote {
            kind: RuntimeKind::Node,
            version: None,
            named_by: Vec::new(),
            hint: Some("Node detected: restart it with --perf-basic-prof".into()),
        }];
        report.stack_quality = Some(StackQuality {
            unknown_percent: 60.0,
            max_depth: 127,
            at_limit_percent: 0.0,
            warning: Some("the stacks look bogus".into()),
            hint: None,
        });
        let text = markdown(&report, 5);
        assert!(
            text.contains(
                "> runtime: Node\n> hint: Node detected: restart it with --perf-basic-prof\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "| 1 | 10.0 | 10.0 | `Builtins_JSEntry` |\n\n> warning: the stacks look bogus\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn unavailable_cpu_still_shows_resources() {
        let cpu = CpuOutcome::Unavailable {
            reason: "not allowed".into(),
            hint: "allow it".into(),
        };
        let text = render_profile(&report(cpu), 10);
        assert!(
            text.starts_with("CPU profile: not available (not allowed)\n"),
            "{text}"
        );
        assert!(text.contains("Resources over 2.0 s"), "{text}");
    }

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(20.0 * 1024.0 * 1024.0), "20.0 MiB");
    }

    #[test]
    fn long_names_keep_both_ends() {
        let long = format!("start{}end", "x".repeat(200));
        let short = shorten(&long);
        assert!(
            short.starts_with("start")
                && short.ends_with("end")
                && short.chars().count() <= NAME_WIDTH
        );
    }
}
