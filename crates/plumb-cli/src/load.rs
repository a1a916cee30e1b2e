//! Flags of `plumb load`, and their resolution into [`plumb_load::LoadSettings`].

use crate::http::{parse_header, parse_method};
use crate::limits::{
    MAX_CONNECTIONS, MAX_REQUESTS, MAX_RUN, MAX_STREAMS, MAX_THREADS, MAX_THRESHOLD_WINDOW,
};
use crate::parse::{
    check_rate, describe_limit, parse_duration, parse_duration_at_most, parse_rate,
    parse_run_duration, parse_size_list, parse_whole, CliError,
};
use clap::{Args, ValueEnum};
use plumb_load::{Checks, HttpVersion, LoadModel, LoadSettings, Stage, StatusRange, TlsSettings};
use plumb_stats::{NoData, Threshold};
use std::path::PathBuf;
use std::time::Duration;

/// Default connection cap of the open model.
const OPEN_MODEL_DEFAULT_CAP: u32 = 1_000;
/// Default connections of the closed model.
const CLOSED_MODEL_DEFAULT_CONNECTIONS: u32 = 50;

/// Arguments of `plumb load`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  plumb load http://127.0.0.1:8080/ -c 50 -d 30s                 closed model: 50 connections
  plumb load http://127.0.0.1:8080/api --rate 500 -d 1m \\
      --threshold 'http_req_duration: p(95)<200ms' \\
      --threshold 'http_req_failed: rate<0.01'                   open model with goals
  plumb load URL --rate 100 --stages 30s:100,1m:500,30s:0       ramp the rate up and down
  plumb load URL --rate 200 --watch-pid $(pgrep -o myserver)     the server's CPU and memory too
  plumb load URL --rate 200 --per-second --json run.json         every second, and the result file
  plumb report latest --html report.html                         the run as an HTML report

Exit codes: 0 all thresholds passed, 1 a threshold failed, 2 plumb could not run.")]
#[command(group(clap::ArgGroup::new("watched_pids").args(["watch_pid", "profile_pid"]).multiple(true)))]
pub struct LoadArgs {
    /// The URL to load (http:// or https://); with -f, the base URL the steps' relative URLs join
    pub url: String,

    /// Run the flows of this TOML file (its [data], [requests] and [flows] sections) instead of
    /// one request; -n then counts sessions (see docs/flows.md)
    #[arg(short = 'f', long = "file", value_name = "FILE",
          conflicts_with_all = ["body", "body_file", "expect_body", "expect_status", "headers"])]
    pub file: Option<PathBuf>,

    /// With -f: run this flow of the file (repeatable) [default: the weighted mix of all flows]
    #[arg(long = "flow", value_name = "NAME", requires = "file")]
    pub flow: Vec<String>,

    /// With -f: run one session of each selected flow, print every request, capture and check,
    /// and stop (exit 1 when a check failed, 2 when a capture matched nothing)
    #[arg(long, requires = "file")]
    pub dry_run: bool,

    /// Connections: sending back to back (closed model), or the cap of the open model
    /// [default: 50, or 1000 with --rate]
    #[arg(short = 'c', long, value_name = "N", allow_negative_numbers = true,
          value_parser = parse_connections)]
    pub connections: Option<u32>,

    /// Requests per second on a precise schedule (open model); latency counts from the intended send time
    #[arg(short = 'r', long, value_name = "R", allow_negative_numbers = true,
          value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Duration of the test, e.g. 30s, 2m [default: 10s, or the stages' total]
    #[arg(short = 'd', long, value_name = "DURATION", allow_hyphen_values = true)]
    pub duration: Option<String>,

    /// Stop after this many requests
    #[arg(short = 'n', long, value_name = "N", allow_negative_numbers = true,
          value_parser = parse_requests)]
    pub requests: Option<u64>,

    /// Worker threads, one event loop each [default: one per core]
    #[arg(short = 't', long, value_name = "N", allow_negative_numbers = true,
          value_parser = parse_threads)]
    pub threads: Option<usize>,

    /// Ramping stages DURATION:TARGET,... (rate with --rate, else connections), e.g. 10s:100,30s:100,5s:0
    #[arg(long, value_name = "STAGES")]
    pub stages: Option<String>,

    /// HTTP method
    #[arg(short = 'm', long, default_value = "GET")]
    pub method: String,

    /// Request header 'Name: value' (repeatable)
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,

    /// Request body
    #[arg(short = 'b', long, conflicts_with = "body_file")]
    pub body: Option<String>,

    /// Read the request body from a file
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,

    /// Per-request timeout (connect, and the exchange)
    #[arg(
        long,
        default_value = "10s",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub timeout: String,

    /// Speak HTTP/2 (h2 by ALPN over TLS, h2c with prior knowledge over plain TCP)
    #[arg(long)]
    pub http2: bool,

    /// HTTP/2: concurrent streams per connection, like h2load -m and oha -p (with --http2); the
    /// closed model keeps -c x -p requests in flight, the open model's cap becomes -c x -p
    #[arg(short = 'p', long, value_name = "N", requires = "http2",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_STREAMS)))]
    pub streams: Option<u32>,

    /// Accept any TLS certificate
    #[arg(short = 'k', long)]
    pub insecure: bool,

    /// Trust the CA certificates in this PEM file
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,

    /// Threshold in k6 syntax, e.g. 'http_req_duration: p(95)<200ms' (repeatable)
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,

    /// Evaluate thresholds every second and stop at the first failure
    #[arg(long)]
    pub abort_on_fail: bool,

    /// Also judge every threshold over each rolling window of this length (sliding by 1 s), so
    /// that a failure late in the run is not diluted by earlier success, e.g. 10s
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub threshold_window: Option<String>,

    /// Let a threshold whose metric has no data pass (by default it fails: a load against a dead
    /// server measures no latency, and must not pass a CI job)
    #[arg(long)]
    pub allow_no_data: bool,

    /// Accepted status codes, e.g. 200,201-204 [default: any 2xx or 3xx]
    #[arg(long, value_name = "CODES")]
    pub expect_status: Option<String>,

    /// Text every response body must contain
    #[arg(long, value_name = "TEXT")]
    pub expect_body: Option<String>,

    /// Output format on stdout
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Also write the JSON result to this file
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// No live progress on stderr
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// After the summary, print a table of every second: requests, errors, p50, p95, p99, max
    #[arg(long)]
    pub per_second: bool,

    /// Run only segment INDEX of COUNT of this test, for a test split over several processes or
    /// machines: together the segments send exactly what one process would (docs/segments.md);
    /// auto/COUNT reads the index from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)
    #[arg(long, value_name = "INDEX/COUNT")]
    pub segment: Option<String>,

    /// Begin the load at this absolute time, so every segment starts together: RFC 3339
    /// (2026-12-01T17:00:00Z), @UNIX_SECONDS, or +DELAY from now
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub start_at: Option<String>,

    /// Join the coordinator at HOST:PORT (`plumb coordinate`): it gives the start, measures this
    /// host's clock offset, judges thresholds over the whole fleet and may abort it; a segment
    /// that loses its coordinator stops (needs --segment)
    #[arg(
        long,
        value_name = "HOST:PORT",
        requires = "segment",
        conflicts_with = "start_at",
        value_parser = crate::segment::parse_address
    )]
    pub coordinator: Option<String>,

    /// Read this PostgreSQL database's pg_stat_statements before and after the load: queries and
    /// database time per request, top statements, N+1 suspects, connections (see docs/db.md)
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,

    /// After the run, push its per-second figures (requests, errors, p50, p99, max) to this
    /// Prometheus remote-write endpoint, e.g. http://127.0.0.1:9090/api/v1/write
    #[arg(long, value_name = "URL", value_parser = parse_remote_write)]
    pub prometheus_rw: Option<String>,

    /// Sample this server process's CPU, memory, threads and I/O during the load, and its CPU
    /// ms per request (repeat for several processes; their figures are summed)
    #[arg(long, value_name = "PID", allow_negative_numbers = true,
          value_parser = |s: &str| parse_pid("--watch-pid", s))]
    pub watch_pid: Vec<u32>,

    /// Watch this process too, and sample the CPU stacks of every watched process during the
    /// load (repeatable)
    #[arg(long, value_name = "PID", allow_negative_numbers = true,
          value_parser = |s: &str| parse_pid("--profile-pid", s))]
    pub profile_pid: Vec<u32>,

    /// With --watch-pid/--profile-pid: watch those processes and all their descendants,
    /// including those started during the load (gunicorn or uwsgi workers, a Node cluster,
    /// PostgreSQL backends)
    #[arg(long, requires = "watched_pids")]
    pub watch_tree: bool,

    /// Watch every process of this cgroup (and of the cgroups below it) during the load
    /// (absolute, or relative to the cgroup v2 mount)
    #[arg(long, value_name = "PATH")]
    pub watch_cgroup: Option<PathBuf>,

    /// Saving the run to the ledger.
    #[command(flatten)]
    pub save: crate::LedgerArgs,
}

/// The server processes to watch during a load test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerWatch {
    /// Which processes: PIDs, with their trees (`--watch-tree`), and a cgroup.
    pub selection: plumb_profile::ProcessSelection,
    /// Sample CPU stacks too.
    pub profile: bool,
}

/// Output formats of a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A summary for people.
    Text,
    /// The versioned JSON result.
    Json,
    /// A Markdown summary (for pull requests and wikis).
    Markdown,
}

/// `plumb load` resolved: engine settings plus what the binary does around the engine.
#[derive(Debug)]
pub struct LoadPlan {
    /// The engine's settings.
    pub settings: LoadSettings,
    /// Parsed thresholds.
    pub thresholds: Vec<Threshold>,
    /// Stop at the first failed threshold.
    pub abort_on_fail: bool,
    /// Judge thresholds over every rolling window of this length too (whole seconds).
    pub threshold_window: Option<Duration>,
    /// What a threshold with no data counts as (`--allow-no-data`).
    pub no_data: NoData,
    /// stdout format.
    pub output: OutputFormat,
    /// JSON result file.
    pub json: Option<PathBuf>,
    /// Hide progress.
    pub quiet: bool,
    /// The server process to watch.
    pub watch: Option<ServerWatch>,
    /// `--dry-run`: one session per flow, printed, instead of a load test.
    pub dry_run: bool,
    /// `--coordinator HOST:PORT`: the coordinator this segment joins.
    pub coordinator: Option<String>,
}

impl LoadArgs {
    /// Check every flag and build the plan; the error names the flag at fault.
    pub fn resolve(self) -> Result<LoadPlan, CliError> {
        let stages = self.stage_plan()?;
        let model = self.model(!stages.is_empty())?;
        let mut settings = LoadSettings::new(self.url.clone());
        settings.method = parse_method(&self.method)?;
        settings.headers = self
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<_, _>>()?;
        settings.body = self.body_bytes()?;
        settings.model = model;
        settings.stages = stages;
        settings.duration = self
            .duration
            .as_deref()
            .map(|d| parse_run_duration("--duration", d))
            .transpose()?;
        settings.requests = self.requests;
        if let Some(threads) = self.threads {
            settings.threads = threads;
        }
        settings.timeout = parse_timeout(&self.timeout)?;
        settings.http_version = if self.http2 {
            HttpVersion::Http2
        } else {
            HttpVersion::Http1
        };
        settings.streams = self.streams.unwrap_or(1);
        settings.tls = TlsSettings {
            insecure: self.insecure,
            cacert: self.cacert.clone(),
        };
        settings.checks = self.checks()?;
        (settings.segment, settings.start_at) =
            crate::segment::resolve(self.segment.as_deref(), self.start_at.as_deref())?;
        settings.flows = self.flow_plan(&settings)?;
        let thresholds = crate::parse_thresholds(&self.thresholds)?;
        Ok(LoadPlan {
            settings,
            thresholds,
            abort_on_fail: self.abort_on_fail,
            threshold_window: self.threshold_window()?,
            no_data: crate::no_data_policy(self.allow_no_data),
            output: self.output,
            json: self.json.clone(),
            quiet: self.quiet,
            watch: self.server_watch()?,
            dry_run: self.dry_run,
            coordinator: self.coordinator.clone(),
        })
    }

    /// `--threshold-window`: whole seconds, 1 s to [`MAX_THRESHOLD_WINDOW`].
    fn threshold_window(&self) -> Result<Option<Duration>, CliError> {
        let Some(text) = self.threshold_window.as_deref() else {
            return Ok(None);
        };
        let window = parse_duration_at_most("--threshold-window", text, MAX_THRESHOLD_WINDOW)?;
        if window < Duration::from_secs(1) || window.subsec_nanos() != 0 {
            return Err(CliError::flag(
                "--threshold-window",
                text,
                "must be a whole number of seconds, at least 1s",
                "windows are made of the run's seconds, e.g. --threshold-window 10s",
            ));
        }
        Ok(Some(window))
    }

    /// `-f FILE` and `--flow NAME`: the file read, checked and prepared for the run's threads.
    fn flow_plan(
        &self,
        settings: &LoadSettings,
    ) -> Result<Option<std::sync::Arc<plumb_flow::FlowPlan>>, CliError> {
        let Some(path) = &self.file else {
            return Ok(None);
        };
        let file = plumb_flow::read_flow_file(path).map_err(CliError::flow_file)?;
        let segment = settings.segment.unwrap_or(plumb_load::Segment::WHOLE);
        let split = plumb_flow::data::DataSplit {
            workers: plumb_load::effective_threads(settings),
            segment: segment.index as usize,
            segments: segment.count as usize,
        };
        let plan = file
            .prepare(&self.url, &self.flow, split)
            .map_err(CliError::flow_file)?;
        Ok(Some(std::sync::Arc::new(plan)))
    }

    /// `--stages`, whose targets are rates with `--rate` and connections without.
    fn stage_plan(&self) -> Result<Vec<Stage>, CliError> {
        let targets = if self.rate.is_some() {
            StageTargets::Rate
        } else {
            StageTargets::Connections
        };
        match &self.stages {
            Some(text) => parse_stages(text, targets),
            None => Ok(Vec::new()),
        }
    }

    fn checks(&self) -> Result<Checks, CliError> {
        Ok(Checks {
            expect_status: self
                .expect_status
                .as_deref()
                .map(parse_status_list)
                .transpose()?
                .unwrap_or_default(),
            expect_body: self.expect_body.clone(),
        })
    }

    /// `--watch-pid`, `--profile-pid` (watched too), `--watch-tree` and `--watch-cgroup`.
    fn server_watch(&self) -> Result<Option<ServerWatch>, CliError> {
        let mut pids = self.watch_pid.clone();
        for pid in &self.profile_pid {
            if !pids.contains(pid) {
                pids.push(*pid);
            }
        }
        if pids.is_empty() && self.watch_cgroup.is_none() {
            return Ok(None);
        }
        Ok(Some(ServerWatch {
            selection: plumb_profile::ProcessSelection {
                pids,
                tree: self.watch_tree,
                cgroup: self.watch_cgroup.clone(),
            },
            profile: !self.profile_pid.is_empty(),
        }))
    }

    fn model(&self, staged: bool) -> Result<LoadModel, CliError> {
        match self.rate {
            Some(rate) => {
                let rate = check_rate(rate).map_err(|why| rate_error(rate, &why))?;
                if rate == 0.0 && !staged {
                    return Err(rate_error(rate, "must be positive without --stages"));
                }
                Ok(LoadModel::Open {
                    rate,
                    max_connections: self.connections.unwrap_or(OPEN_MODEL_DEFAULT_CAP),
                })
            }
            None => {
                let connections = self.connections.unwrap_or(if staged {
                    0
                } else {
                    CLOSED_MODEL_DEFAULT_CONNECTIONS
                });
                if connections == 0 && !staged {
                    return Err(CliError::flag(
                        "--connections",
                        "0",
                        "must be at least 1",
                        "e.g. -c 50",
                    ));
                }
                Ok(LoadModel::Closed { connections })
            }
        }
    }

    fn body_bytes(&self) -> Result<Vec<u8>, CliError> {
        if let Some(path) = &self.body_file {
            return read_body_file(path);
        }
        Ok(self.body.clone().unwrap_or_default().into_bytes())
    }
}

/// The largest request body plumb sends: it is held in memory once and written per request.
pub const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// Read `--body-file`, at most [`MAX_BODY_BYTES`] (checked while reading: `/dev/zero` and pipes
/// have no size to check first).
fn read_body_file(path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let cannot = |e: std::io::Error| {
        CliError::flag(
            "--body-file",
            &shown,
            &format!("cannot be read: {e}"),
            "give the path of a readable file",
        )
    };
    let mut body = Vec::new();
    std::fs::File::open(path)
        .map_err(cannot)?
        .take(MAX_BODY_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(cannot)?;
    if body.len() as u64 > MAX_BODY_BYTES {
        return Err(CliError::flag(
            "--body-file",
            &shown,
            "is larger than the limit of 64 MiB",
            "send a smaller body; plumb keeps the body in memory and sends it with every request",
        ));
    }
    Ok(body)
}

fn rate_error(rate: f64, why: &str) -> CliError {
    CliError::flag(
        "--rate",
        &rate.to_string(),
        why,
        "e.g. --rate 1000; to ramp up from zero use --rate 0 --stages 30s:1000",
    )
}

fn parse_connections(text: &str) -> Result<u32, String> {
    parse_whole(
        "-c",
        text,
        1..=MAX_CONNECTIONS,
        "e.g. -c 50 (with --stages, omit -c to ramp up from 0)",
    )
}

fn parse_pid(flag: &str, text: &str) -> Result<u32, String> {
    let example = format!("e.g. {flag} $(pgrep -o nginx)");
    parse_whole(flag, text, 1..=u64::from(u32::MAX), &example)
}

fn parse_requests(text: &str) -> Result<u64, String> {
    parse_whole(
        "-n",
        text,
        1..=MAX_REQUESTS,
        "e.g. -n 100000, or omit -n to run for -d",
    )
}

fn parse_threads(text: &str) -> Result<usize, String> {
    parse_whole(
        "-t",
        text,
        1..=MAX_THREADS,
        "e.g. -t 4, or omit -t for one thread per core",
    )
}

/// `--timeout`: longer than zero, at most 24h.
fn parse_timeout(text: &str) -> Result<Duration, CliError> {
    let timeout = parse_duration("--timeout", text)?;
    if timeout.is_zero() {
        return Err(CliError::flag(
            "--timeout",
            text.trim(),
            "must be longer than zero",
            "e.g. --timeout 5s",
        ));
    }
    Ok(timeout)
}

/// What the targets of `--stages` are: they have different limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageTargets {
    /// Requests per second (with `--rate`).
    Rate,
    /// Open connections (without `--rate`).
    Connections,
}

const STAGES_HINT: &str =
    "write stages as DURATION:TARGET separated by commas, e.g. 10s:100,30s:100,5s:0";

/// Parse `DURATION:TARGET,...`: each target within its limit, and a total length above zero and
/// at most 7 days (the limit of `-d`).
pub fn parse_stages(text: &str, targets: StageTargets) -> Result<Vec<Stage>, CliError> {
    let stages = text
        .split(',')
        .map(|part| parse_stage(part, targets))
        .collect::<Result<Vec<_>, _>>()?;
    let total = stages
        .iter()
        .try_fold(Duration::ZERO, |sum, s| sum.checked_add(s.duration))
        .filter(|total| *total <= MAX_RUN);
    match total {
        Some(total) if total.is_zero() => Err(CliError::flag(
            "--stages",
            text,
            "lasts 0 s in all, so nothing would run",
            "give the stages a positive total length, e.g. 10s:100,30s:100,5s:0",
        )),
        Some(_) => Ok(stages),
        None => Err(CliError::flag(
            "--stages",
            text,
            &format!("lasts longer than the limit of {}", describe_limit(MAX_RUN)),
            "the stages of one run add up to at most 7d; split a longer soak into several runs",
        )),
    }
}

fn parse_stage(part: &str, targets: StageTargets) -> Result<Stage, CliError> {
    let bad = |why: &str| CliError::flag("--stages", part.trim(), why, STAGES_HINT);
    let (duration, target) = part.split_once(':').ok_or_else(|| bad("is missing ':'"))?;
    let duration = parse_duration_at_most("--stages", duration, MAX_RUN)?;
    let target: f64 = target
        .trim()
        .parse()
        .map_err(|_| bad("has a target that is not a number"))?;
    match targets {
        _ if target.is_nan() => Err(bad("has a target that is not a number")),
        _ if target < 0.0 => Err(bad("has a negative target")),
        StageTargets::Rate => {
            check_rate(target).map_err(|why| bad(&format!("has a rate target that {why}")))?;
            Ok(Stage { duration, target })
        }
        StageTargets::Connections if target > MAX_CONNECTIONS as f64 => Err(bad(&format!(
            "has a target above the limit of {MAX_CONNECTIONS} connections"
        ))),
        StageTargets::Connections => Ok(Stage { duration, target }),
    }
}

fn parse_status_list(text: &str) -> Result<Vec<StatusRange>, CliError> {
    parse_size_list(text)
        .map(|ranges| {
            ranges
                .into_iter()
                .map(|(from, to)| StatusRange { from, to })
                .collect()
        })
        .map_err(|part| {
            CliError::flag(
                "--expect-status",
                &part,
                "is not a status code or range",
                "e.g. --expect-status 200,201-204",
            )
        })
}

impl LoadPlan {
    /// The planned duration, for progress display.
    pub fn planned(&self) -> Option<Duration> {
        self.settings.planned_duration()
    }

    /// A warning for each threshold that had no data (`statuses` in the thresholds' order).
    pub fn no_data_warnings(
        &self,
        statuses: impl IntoIterator<Item = plumb_stats::ThresholdStatus>,
    ) -> Vec<String> {
        crate::no_data_warnings(&self.thresholds, statuses, self.no_data)
    }
}

/// A remote-write endpoint: an http:// or https:// URL.
fn parse_remote_write(text: &str) -> Result<String, String> {
    if text.starts_with("http://") || text.starts_with("https://") {
        Ok(text.to_string())
    } else {
        Err("is not an http:// or https:// URL\n\
             hint: e.g. --prometheus-rw http://127.0.0.1:9090/api/v1/write (Prometheus started \
             with --web.enable-remote-write-receiver)"
            .into())
    }
}

#[cfg(test)]
mod watch_tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: LoadArgs,
    }

    fn watch(argv: &[&str]) -> Option<ServerWatch> {
        let argv = ["load", "http://127.0.0.1:1/"]
            .into_iter()
            .chain(argv.iter().copied());
        let args = Wrapper::try_parse_from(argv).unwrap().args;
        args.server_watch().unwrap()
    }

    #[test]
    fn watched_pids_repeat_and_take_their_trees_and_a_cgroup() {
        assert_eq!(watch(&[]), None);
        let tree = watch(&[
            "--watch-pid",
            "7",
            "--watch-pid",
            "8",
            "--profile-pid",
            "9",
            "--watch-tree",
        ])
        .unwrap();
        assert_eq!(tree.selection.pids, vec![7, 8, 9]);
        assert!(tree.selection.tree && tree.profile);
        let cgroup = watch(&["--watch-cgroup", "app"]).unwrap();
        assert_eq!(cgroup.selection.cgroup, Some(PathBuf::from("app")));
        assert!(!cgroup.profile && cgroup.selection.pids.is_empty());
        let argv = [
            "load",
            "http://127.0.0.1:1/",
            "--watch-tree",
            "--watch-cgroup",
            "app",
        ];
        assert!(
            Wrapper::try_parse_from(argv).is_err(),
            "--watch-tree needs a PID"
        );
    }
}
