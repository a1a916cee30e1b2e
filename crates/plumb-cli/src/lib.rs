//! clap definitions of plumb's command line, and their resolution into the engines' settings.
//!
//! clap types stay in this crate: engines take plain typed settings (`plumb_load::LoadSettings`, ...),
//! which are also what a plan file deserializes into, so flags and files cannot drift apart.

mod bench;
mod capacity;
mod compare;
mod coordinate;
mod db;
mod demo;
mod http;
mod import;
mod k8s;
mod ledger;
pub mod limits;
mod load;
mod merge;
mod monitor;
mod page;
mod parse;
pub mod plan;
mod profile;
mod report;
mod run;
pub mod segment;
mod target;
mod thresholds;

pub use bench::{BenchArgs, BenchArgsError};
pub use capacity::CapacityArgs;
pub use compare::{parse_tolerance, CalibrateArgs, CompareArgs, CompareFormat, GateArgs};
pub use coordinate::CoordinateArgs;
pub use db::{ConnectionArgs, DbAction, DbArgs, ExplainArgs, ResetStatsArgs};
pub use demo::DemoArgs;
pub use http::{parse_header, parse_method};
pub use import::{ImportArgs, ImportSource};
pub use k8s::{K8sAction, K8sArgs, RenderArgs, RenderPlan, MAX_START_IN};
pub use ledger::{
    parse_label, BaselineAction, BaselineArgs, HistoryArgs, LedgerArgs, LedgerPath, LogArgs,
    NoteArgs, ShowArgs,
};
pub use load::{parse_stages, LoadArgs, LoadPlan, OutputFormat, ServerWatch, StageTargets};
pub use merge::MergeArgs;
pub use monitor::{MonitorArgs, MonitorPlan};
pub use page::{PageArgs, PageFormat, ThrottleArg, MAX_PAGE_RUNS};
pub use parse::{
    check_rate, describe_limit, parse_bytes, parse_duration, parse_duration_at_most, parse_rate,
    parse_run_duration, parse_whole, CliError,
};
pub use plumb_stats::NoData;
pub use profile::ProfileArgs;
pub use report::ReportArgs;
pub use run::{InitArgs, RunArgs};
pub use target::{parse_latency, parse_stall, TargetArgs};
pub use thresholds::{no_data_policy, no_data_warning, no_data_warnings, parse_thresholds};

use clap::{Parser, Subcommand};

/// plumb: measure first, optimize second.
#[derive(Debug, Parser)]
#[command(
    name = "plumb",
    version,
    about = "Measure first, optimize second: HTTP load tests, command benchmarks, profiles and their history in one tool",
    propagate_version = true
)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// plumb's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// HTTP load test (closed model with -c, open model with --rate).
    Load(Box<LoadArgs>),
    /// Serve plumb's embedded HTTP target on loopback, with knobs.
    Target(TargetArgs),
    /// The whole loop on the embedded target: goals, a baseline, a planted fix, the before/after table.
    Demo(DemoArgs),
    /// Benchmark commands.
    Bench(BenchArgs),
    /// Profile a command or a process.
    Profile(ProfileArgs),
    /// List the runs saved in the ledger, newest first.
    History(HistoryArgs),
    /// Show a saved run (or a JSON result file) again, in any output format.
    Show(ShowArgs),
    /// Note what changed on a run: the optimization log (`plumb log`).
    Note(NoteArgs),
    /// The optimization log: every note with its change's measured impact against the run before.
    Log(LogArgs),
    /// Name runs as baselines, and list them.
    Baseline(BaselineArgs),
    /// Compare two runs metric by metric, with a verdict against a tolerance.
    Compare(CompareArgs),
    /// CI gate: compare a run with a baseline and exit non-zero on a regression.
    Gate(GateArgs),
    /// Measure this machine's noise: A/A runs of one command, and the tolerance they suggest.
    Calibrate(CalibrateArgs),
    /// Write reports of runs: self-contained HTML with charts, Markdown, CSV, JSON.
    Report(ReportArgs),
    /// Where does it break? Search the open model's rate for the highest the goal holds at.
    Capacity(Box<CapacityArgs>),
    /// Page load in headless Chromium: TTFB, FCP, LCP, CLS, TBT at median and p75, audits.
    Page(Box<PageArgs>),
    /// Run a scenario or preset of the plan file (plumb.toml): goals, the before/after table.
    Run(Box<RunArgs>),
    /// Write a commented starter plan file (plumb.toml) for a URL or a command.
    Init(InitArgs),
    /// Write a flow file (plumb load -f) from a HAR recording or a curl command.
    Import(ImportArgs),
    /// Find the PostgreSQL bottleneck: slow statements, N+1, indexes, locks (`db explain` for a plan).
    Db(Box<DbArgs>),
    /// Merge the segment results of one load test split over machines (`plumb load --segment`).
    Merge(Box<MergeArgs>),
    /// Run a load test split over a Kubernetes cluster: `plumb k8s render` writes the Indexed Job.
    K8s(K8sArgs),
    /// Synthetic probes with SLOs, error budgets and burn-rate alerts; /metrics, rules, dashboard.
    Monitor(Box<MonitorArgs>),
    /// The live coordinator of a test split into segments (plumb load --segment I/N
    /// --coordinator ADDR): one start, thresholds over the whole fleet, one abort.
    Coordinate(CoordinateArgs),
}
