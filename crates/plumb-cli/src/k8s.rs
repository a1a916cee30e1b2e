//! Flags of `plumb k8s render`: a load test (a plan scenario, or `plumb load`'s flags after
//! `--`) split into a Kubernetes Indexed Job, and their resolution into the segment command each
//! pod runs, checked by `plumb load`'s own parser and resolution.

use crate::parse::CliError;
use crate::segment::MAX_SEGMENTS;
use crate::{Cli, Command, LoadArgs, OutputFormat};
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `plumb k8s`.
#[derive(Debug, clap::Args)]
pub struct K8sArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: K8sAction,
}

/// `plumb k8s`'s subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum K8sAction {
    /// Write an Indexed Job running a load test in N segments, and gather.sh to merge them.
    Render(Box<RenderArgs>),
}

/// The longest `--start-in`: `plumb load --start-at`'s limit.
pub const MAX_START_IN: Duration = Duration::from_secs(24 * 3600);
/// The shortest `--start-in`: pods need time to be scheduled and to pull the image.
pub const MIN_START_IN: Duration = Duration::from_secs(10);
/// Longest job name: pods are named `NAME-INDEX-xxxxx` and their hostnames must fit 63 bytes.
pub const MAX_NAME: usize = 52;

/// Arguments of `plumb k8s render`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  plumb k8s render normal --segments 4 --image ghcr.io/acme/plumb:0.1\n  \
plumb k8s render --segments 8 --image plumb:0.1 -- http://shop.svc:8080/ --rate 20000 -d 60s\n\n\
Writes DIR/job.yaml (kubectl apply -f) and DIR/gather.sh (waits for the job, fetches each\n\
segment's result from its pod's log and runs plumb merge). See docs/k8s.md."
)]
pub struct RenderArgs {
    /// A load scenario of the plan file (plumb.toml)
    #[arg(value_name = "SCENARIO")]
    pub scenario: Option<String>,

    /// Instead of a scenario: `plumb load`'s URL and flags, after `--`
    #[arg(last = true, value_name = "LOAD ARGS")]
    pub load: Vec<String>,

    /// Split the test into this many segments, one pod each (1 to 10000)
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_segments)]
    pub segments: Option<u32>,

    /// The container image with plumb in it (built from the repository's Containerfile)
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,

    /// The plan file [default: plumb.toml here or above]
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// The Job's name [default: plumb-SCENARIO, or plumb-load]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The namespace of the Job
    #[arg(long, value_name = "NS", default_value = "default")]
    pub namespace: String,

    /// Start the load this long after rendering; the absolute time is written into the manifest
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "2m",
        allow_hyphen_values = true
    )]
    pub start_in: String,

    /// Also write coordinator.yaml: a Pod running `plumb coordinate` and its Service. The
    /// segments join it (instead of a fixed --start-in) for one start and their clock offsets;
    /// it judges the thresholds over the whole fleet every second
    #[arg(long)]
    pub coordinator: bool,

    /// With --coordinator: stop every segment at the first threshold that fails over the fleet
    #[arg(long, requires = "coordinator")]
    pub abort_on_fail: bool,

    /// Write job.yaml and gather.sh into this directory
    #[arg(
        short = 'o',
        long = "output",
        value_name = "DIR",
        default_value = "k8s"
    )]
    pub dir: PathBuf,
}

/// `plumb k8s render` resolved: what every pod runs and what the gatherer judges.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderPlan {
    /// The Job's name (a DNS label).
    pub name: String,
    /// The URL the load goes to.
    pub url: String,
    /// Its namespace (a DNS label).
    pub namespace: String,
    /// The image.
    pub image: String,
    /// Segments, one pod each.
    pub segments: u32,
    /// How long after now the load starts.
    pub start_in: Duration,
    /// `plumb load`'s arguments without `--threshold`s (the segment flags are the renderer's).
    pub load_args: Vec<String>,
    /// The thresholds, judged by `plumb merge` on the merged run instead of by each segment.
    pub thresholds: Vec<String>,
    /// The test's planned length, when it has one (`-d`, stages): the gatherer's wait.
    pub planned: Option<Duration>,
    /// Where to write the files.
    pub dir: PathBuf,
    /// Render a coordinator (`--coordinator`) the segments join.
    pub coordinator: bool,
    /// The coordinator aborts the fleet at the first failing threshold.
    pub abort_on_fail: bool,
}

fn parse_segments(text: &str) -> Result<u32, String> {
    crate::parse::parse_whole(
        "--segments",
        text,
        1..=u64::from(MAX_SEGMENTS),
        "e.g. --segments 4: one pod per segment",
    )
}

impl RenderArgs {
    /// Check every flag and the load test itself.
    pub fn resolve(&self) -> Result<RenderPlan, CliError> {
        let segments = self.segments.ok_or_else(|| {
            CliError::flag(
                "--segments",
                "",
                "is required",
                "e.g. --segments 4: one pod per segment",
            )
        })?;
        let image = self.image.clone().filter(|i| valid_image(i)).ok_or_else(|| {
            CliError::flag(
                "--image",
                self.image.as_deref().unwrap_or(""),
                "an image reference is required (no spaces or control characters)",
                "build the image with the repository's Containerfile and push it where the cluster pulls from, e.g. --image ghcr.io/acme/plumb:0.1 (docs/k8s.md)",
            )
        })?;
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| default_name(self.scenario.as_deref()));
        check_label("--name", &name, MAX_NAME)?;
        check_label("--namespace", &self.namespace, 63)?;
        let start_in =
            crate::parse::parse_duration_at_most("--start-in", &self.start_in, MAX_START_IN)?;
        if start_in < MIN_START_IN {
            return Err(CliError::flag(
                "--start-in",
                &self.start_in,
                "is shorter than 10s",
                "give the pods time to be scheduled and pull the image, e.g. --start-in 2m",
            ));
        }
        let argv = self.load_argv()?;
        let load = check_load(&argv)?;
        check_split(&load, segments)?;
        let (load_args, thresholds) = split_thresholds(&argv);
        Ok(RenderPlan {
            url: load.settings.url.clone(),
            name,
            namespace: self.namespace.clone(),
            image,
            segments,
            start_in,
            load_args,
            thresholds,
            planned: load.settings.planned_duration(),
            dir: self.dir.clone(),
            coordinator: self.coordinator,
            abort_on_fail: self.abort_on_fail,
        })
    }

    /// `plumb load`'s arguments: the scenario's, or those after `--`.
    fn load_argv(&self) -> Result<Vec<String>, CliError> {
        match (&self.scenario, self.load.is_empty()) {
            (Some(_), false) => Err(CliError::flag("SCENARIO", self.scenario.as_deref().unwrap_or(""), "is given with load arguments after --", "give either a plan scenario or `-- URL FLAGS...`, not both")),
            (None, true) => Err(CliError::flag("SCENARIO", "", "no load test given", "name a scenario of plumb.toml, or give plumb load's flags after --: plumb k8s render --segments 4 --image IMG -- http://svc:8080/ --rate 1000 -d 30s")),
            (None, false) => Ok(self.load.clone()),
            (Some(name), true) => self.scenario_argv(name),
        }
    }

    fn scenario_argv(&self, name: &str) -> Result<Vec<String>, CliError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
        let path = crate::plan::locate(self.file.as_deref(), &cwd).ok_or_else(|| {
            CliError::flag("SCENARIO", name, "there is no plumb.toml here or above", "write one with `plumb init URL`, give -f FILE, or give plumb load's flags after --")
        })?;
        let plan = crate::plan::Plan::load(&path).map_err(|e| {
            CliError::flag(
                "-f",
                &path.display().to_string(),
                &e.to_string(),
                "fix the plan file",
            )
        })?;
        let known: Vec<&str> = plan
            .scenarios
            .iter()
            .filter(|s| s.is_load())
            .map(|s| s.name.as_str())
            .collect();
        let scenario = plan.scenario(name).filter(|s| s.is_load()).ok_or_else(|| {
            CliError::flag(
                "SCENARIO",
                name,
                &format!("{} has no load scenario called '{name}'", path.display()),
                &format!(
                    "its load scenarios: {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        })?;
        Ok(scenario.argv(&scenario.args).into_iter().skip(2).collect())
    }
}

/// Every segment must have work of its own, as each pod's `plumb load` will check.
fn check_split(load: &crate::LoadPlan, segments: u32) -> Result<(), CliError> {
    let mut settings = load.settings.clone();
    settings.segment = Some(plumb_load::Segment {
        index: 0,
        count: segments,
    });
    plumb_load::validate_segment(&settings).map_err(|e| match e {
        plumb_load::LoadError::Settings { message, hint } => {
            CliError::flag("--segments", &segments.to_string(), &message, &hint)
        }
        other => CliError::flag(
            "--segments",
            &segments.to_string(),
            &other.to_string(),
            "lower --segments",
        ),
    })
}

/// Parse and resolve the load test as `plumb load` would, and refuse the flags the renderer sets
/// or that judge a segment alone.
fn check_load(argv: &[String]) -> Result<crate::LoadPlan, CliError> {
    let full = ["plumb", "load"]
        .into_iter()
        .map(String::from)
        .chain(argv.iter().cloned());
    let load: LoadArgs = match Cli::try_parse_from(full) {
        Ok(Cli {
            command: Command::Load(load),
        }) => *load,
        Ok(_) => unreachable!("the command line starts with `load`"),
        Err(e) => {
            return Err(CliError::flag(
                "LOAD ARGS",
                &argv.join(" "),
                e.render()
                    .to_string()
                    .trim_start_matches("error: ")
                    .trim_end(),
                "give plumb load's URL and flags after --, as `plumb load --help` lists them",
            ))
        }
    };
    let refused = [
        (load.segment.is_some(), "--segment", "each pod's segment is set by the renderer (auto/N)"),
        (load.start_at.is_some(), "--start-at", "the start is set by the renderer (--start-in)"),
        (load.json.is_some() || load.output != OutputFormat::Text, "--json/-o", "each pod prints its JSON result on stdout, where gather.sh reads it"),
        (load.abort_on_fail, "--abort-on-fail", "a segment would stop alone; give plumb k8s render --coordinator --abort-on-fail to stop the whole fleet"),
        (load.coordinator.is_some(), "--coordinator", "give plumb k8s render --coordinator, which renders the coordinator and points the segments at it"),
        (load.threshold_window.is_some(), "--threshold-window", "rolling windows are judged per process and plumb merge does not re-judge them"),
    ];
    if let Some((_, flag, why)) = refused.into_iter().find(|(given, ..)| *given) {
        return Err(CliError::flag(
            flag,
            "",
            &format!("cannot be given to a split test: {why}"),
            "leave it out of the load arguments",
        ));
    }
    load.resolve()
}

/// The arguments without `--threshold EXPR` / `--threshold=EXPR`, and the expressions.
fn split_thresholds(argv: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut rest, mut thresholds) = (Vec::new(), Vec::new());
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            rest.push(arg.clone());
            rest.extend(args.by_ref().cloned());
        } else if arg == "--threshold" {
            thresholds.extend(args.next().cloned());
        } else if let Some(expr) = arg.strip_prefix("--threshold=") {
            thresholds.push(expr.to_owned());
        } else {
            rest.push(arg.clone());
        }
    }
    (rest, thresholds)
}

fn default_name(scenario: Option<&str>) -> String {
    let base: String = scenario
        .unwrap_or("load")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let name = format!("plumb-{base}");
    name.chars()
        .take(MAX_NAME)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

/// A DNS-1123 label: lowercase letters, digits and '-', starting and ending alphanumeric.
fn check_label(flag: &str, text: &str, max: usize) -> Result<(), CliError> {
    let ok = !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-');
    if ok {
        return Ok(());
    }
    Err(CliError::flag(flag, text, &format!("is not a Kubernetes name (lowercase letters, digits and '-', at most {max} characters, starting and ending with a letter or digit)"), &format!("e.g. {flag} plumb-checkout")))
}

fn valid_image(image: &str) -> bool {
    !image.is_empty()
        && image.len() <= 4096
        && !image.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn thresholds_move_to_the_merge() {
        let (rest, thresholds) = split_thresholds(&strings(&[
            "http://x/",
            "--threshold",
            "http_req_failed: rate<0.01",
            "--rate",
            "10",
            "--threshold=http_req_duration: p(99)<5ms",
            "--threshold-window",
            "10s",
        ]));
        assert_eq!(
            rest,
            strings(&["http://x/", "--rate", "10", "--threshold-window", "10s"])
        );
        assert_eq!(
            thresholds,
            strings(&["http_req_failed: rate<0.01", "http_req_duration: p(99)<5ms"])
        );
    }

    #[test]
    fn names_are_dns_labels() {
        assert_eq!(default_name(Some("Normal_Load")), "plumb-normal-load");
        assert!(check_label("--name", "plumb-load", MAX_NAME).is_ok());
        for bad in ["", "-x", "x-", "Upper", "a.b", &"x".repeat(53)] {
            let err = check_label("--name", bad, MAX_NAME)
                .unwrap_err()
                .to_string();
            assert!(err.contains("hint:"), "{err}");
        }
    }
}
