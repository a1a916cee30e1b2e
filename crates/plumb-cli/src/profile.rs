//! Flags of `plumb profile`, and their resolution into `plumb_profile::ProfileSettings`.

use crate::limits::{MAX_FREQUENCY, MAX_TOP, MAX_WAIT};
use crate::parse::{parse_duration_at_most, parse_run_duration, parse_whole};
use clap::ValueEnum;
use plumb_profile::{ProcessSelection, ProfileSettings, SamplingSettings, Target, Unwinding};
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `plumb profile`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  plumb profile -- ./target/release/myapp --input big.json\n  plumb profile --pid 4242 -d 30s --flamegraph cpu.svg\n  plumb profile --pid \"$(pgrep -o gunicorn)\" --tree -d 30s\n  plumb profile --cgroup system.slice/postgresql.service -d 30s\n\nA launched command is measured with all its children; --pid measures the process alone\nunless --tree is given."
)]
pub struct ProfileArgs {
    /// Attach to this running process instead of launching a command (repeat for several).
    #[arg(long, value_name = "PID", conflicts_with = "command", allow_negative_numbers = true,
          value_parser = parse_pid)]
    pub pid: Vec<u32>,

    /// With --pid: the processes and all their descendants, including those started while
    /// profiling (the workers of gunicorn, uwsgi, a Node cluster, PostgreSQL backends).
    #[arg(long, conflicts_with = "command", requires = "pid")]
    pub tree: bool,

    /// Attach to every process of this cgroup and of the cgroups below it, including those
    /// that join it while profiling (absolute, or relative to the cgroup v2 mount).
    #[arg(long, value_name = "PATH", conflicts_with = "command")]
    pub cgroup: Option<PathBuf>,

    /// How long to watch attached processes, at most 7d (default: until they exit or Ctrl-C).
    #[arg(short = 'd', long, value_name = "DURATION", value_parser = parse_duration,
          allow_hyphen_values = true)]
    pub duration: Option<Duration>,

    /// CPU samples per second, per thread (software CPU clock).
    #[arg(long, short = 'F', value_name = "HZ", default_value_t = plumb_profile::DEFAULT_FREQUENCY_HZ,
          allow_negative_numbers = true, value_parser = parse_frequency)]
    pub frequency: u32,

    /// How to unwind stacks: frame pointers (cheap) or DWARF call-frame information (works
    /// without frame pointers, costs more per sample); `auto` picks DWARF when the program's code
    /// lacks frame pointers (CPython, most -O2 C) and -F is at most 250 Hz.
    #[arg(long, value_enum, default_value_t = UnwindArg::Auto)]
    pub unwind: UnwindArg,

    /// Interval of the resource timeline (CPU, RSS, threads, I/O) read from /proc, 10ms to 24h.
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_interval,
          allow_hyphen_values = true)]
    pub interval: Duration,

    /// Write a flamegraph SVG here.
    #[arg(long, value_name = "FILE")]
    pub flamegraph: Option<PathBuf>,

    /// Write a wall-clock flamegraph SVG here: CPU samples and waits (ending in a `[waiting]`
    /// frame) on one time axis, in microseconds; waits need the context-switch event (see
    /// docs/profile.md)
    #[arg(long, value_name = "FILE")]
    pub wall_flamegraph: Option<PathBuf>,

    /// Write folded stacks (`root;..;leaf count` lines) here.
    #[arg(long, value_name = "FILE")]
    pub folded: Option<PathBuf>,

    /// Write the full result as JSON (versioned schema) here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Rows of the hot-function table.
    #[arg(long, value_name = "N", default_value_t = 15, allow_negative_numbers = true,
          value_parser = parse_top)]
    pub top: usize,

    /// Saving the profile to the ledger.
    #[command(flatten)]
    pub save: crate::LedgerArgs,

    /// The command to launch and its arguments (after `--`).
    #[arg(trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Stack unwinding method as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnwindArg {
    /// DWARF where the code lacks frame pointers and the rate keeps it affordable, else `fp`.
    Auto,
    /// Frame pointers, walked by the kernel.
    Fp,
    /// DWARF call-frame information over a copy of the stack.
    Dwarf,
}

/// A flag combination that clap cannot reject by itself.
#[derive(Debug, thiserror::Error)]
pub enum ProfileArgsError {
    /// Neither a command nor `--pid`/`--cgroup`.
    #[error("nothing to profile\nhint: give a command after `--` (`plumb profile -- ./myapp`), a running process with `--pid PID` (`--tree` for its children too) or a cgroup with `--cgroup PATH`")]
    NoTarget,
    /// `--duration` with a launched command.
    #[error("-d/--duration applies only with --pid or --cgroup: a launched command is profiled until it exits\nhint: drop -d, or attach to a running process with `--pid PID -d 30s`")]
    DurationWithoutPid,
}

impl ProfileArgs {
    /// Resolve the flags into the profiler's settings.
    pub fn resolve(&self) -> Result<ProfileSettings, ProfileArgsError> {
        let attached = !self.pid.is_empty() || self.cgroup.is_some();
        if !attached && self.duration.is_some() {
            return Err(ProfileArgsError::DurationWithoutPid);
        }
        let target = match (attached, self.command.split_first()) {
            (true, _) => Target::Processes {
                selection: ProcessSelection {
                    pids: self.pid.clone(),
                    tree: self.tree,
                    cgroup: self.cgroup.clone(),
                },
                duration: self.duration,
            },
            (false, Some((program, args))) => Target::Command {
                program: program.clone(),
                args: args.to_vec(),
            },
            (false, None) => return Err(ProfileArgsError::NoTarget),
        };
        let unwinding = match self.unwind {
            UnwindArg::Auto => plumb_profile::auto_unwinding(&target, self.frequency),
            UnwindArg::Fp => Unwinding::FramePointers,
            UnwindArg::Dwarf => Unwinding::Dwarf,
        };
        Ok(ProfileSettings {
            target,
            sampling: SamplingSettings {
                frequency_hz: self.frequency,
                unwinding,
            },
            interval: self.interval,
            flamegraph: self.flamegraph.clone(),
            wall_flamegraph: self.wall_flamegraph.clone(),
            folded: self.folded.clone(),
            json: self.json.clone(),
        })
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    parse_run_duration("--duration", text).map_err(crate::CliError::for_clap)
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let interval =
        parse_duration_at_most("--interval", text, MAX_WAIT).map_err(crate::CliError::for_clap)?;
    if interval < Duration::from_millis(10) {
        return Err(
            "must be at least 10ms (/proc reads are not precise below that)\n\
                    hint: e.g. --interval 100ms"
                .into(),
        );
    }
    Ok(interval)
}

fn parse_pid(text: &str) -> Result<u32, String> {
    parse_whole(
        "--pid",
        text,
        1..=u64::from(u32::MAX),
        "e.g. --pid 4242 (see `pgrep NAME`)",
    )
}

fn parse_frequency(text: &str) -> Result<u32, String> {
    parse_whole(
        "-F",
        text,
        1..=MAX_FREQUENCY,
        "e.g. -F 999 (samples per second per thread)",
    )
}

fn parse_top(text: &str) -> Result<usize, String> {
    parse_whole("--top", text, 0..=MAX_TOP, "e.g. --top 15")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: ProfileArgs,
    }

    fn parse(argv: &[&str]) -> Result<ProfileArgs, clap::Error> {
        Wrapper::try_parse_from(std::iter::once("profile").chain(argv.iter().copied()))
            .map(|w| w.args)
    }

    #[test]
    fn command_after_double_dash_keeps_its_own_flags() {
        let settings = parse(&["--frequency", "499", "--", "ls", "-l", "--pid"])
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(
            settings.target,
            Target::Command {
                program: "ls".into(),
                args: vec!["-l".into(), "--pid".into()]
            }
        );
        assert_eq!(settings.sampling.frequency_hz, 499);
    }

    #[test]
    fn pid_with_duration() {
        let settings = parse(&["--pid", "42", "-d", "30s"])
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(
            settings.target,
            Target::Processes {
                selection: ProcessSelection::pid(42),
                duration: Some(Duration::from_secs(30))
            }
        );
    }

    #[test]
    fn pids_repeat_and_take_their_trees_or_a_cgroup() {
        let settings = parse(&["--pid", "42", "--pid", "43", "--tree", "--cgroup", "app"])
            .unwrap()
            .resolve()
            .unwrap();
        let Target::Processes { selection, .. } = settings.target else {
            panic!("{:?}", settings.target);
        };
        assert_eq!(selection.pids, vec![42, 43]);
        assert!(selection.tree);
        assert_eq!(selection.cgroup, Some(PathBuf::from("app")));
        let cgroup = parse(&["--cgroup", "/sys/fs/cgroup/app", "-d", "5s"]).unwrap();
        assert!(cgroup.resolve().is_ok());
        // --tree needs a PID, and a launched command is a tree already.
        assert!(parse(&["--tree", "--cgroup", "app"]).is_err());
        assert!(parse(&["--tree", "--", "ls"]).is_err());
        assert!(parse(&["--cgroup", "app", "--", "ls"]).is_err());
    }

    #[test]
    fn bad_flags_are_refused_with_the_flag_named() {
        assert!(parse(&["--pid", "42", "--", "ls"]).is_err());
        assert!(matches!(
            parse(&["-d", "5s", "--", "ls"]).unwrap().resolve(),
            Err(ProfileArgsError::DurationWithoutPid)
        ));
        let err = parse(&["--interval", "1ms", "--", "ls"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--interval"), "{err}");
        assert!(parse(&["--frequency", "0", "--", "ls"]).is_err());
        assert!(matches!(
            parse(&[]).unwrap().resolve(),
            Err(ProfileArgsError::NoTarget)
        ));
    }
}
