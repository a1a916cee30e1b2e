//! A plan's scenario as the command line it stands for: each key becomes a flag of `plumb load`
//! or `plumb bench`, remembering where in the file it came from, so that the very parser and
//! resolution of those commands check it and their errors point back at the key.

use super::file::{Number, RawScenario};
use super::{Goal, PlanError, Source};
use crate::{BenchArgs, Cli, Command, LoadArgs};
use clap::Parser;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// One argument of the command line, and the key of the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The flag (`--rate`), or `""` for a positional argument.
    pub flag: &'static str,
    /// Its value, if it takes one.
    pub value: Option<String>,
    /// The key that produced it (`scenarios.normal.rate`) and its place in the file.
    pub origin: Option<(String, Range<usize>)>,
}

impl Arg {
    fn new(flag: &'static str, value: Option<String>, key: String, span: Range<usize>) -> Arg {
        Arg {
            flag,
            value,
            origin: Some((key, span)),
        }
    }

    /// An argument `plumb run` adds, from no key of the file.
    pub fn extra(flag: &'static str, value: Option<String>) -> Arg {
        Arg {
            flag,
            value,
            origin: None,
        }
    }
}

/// What a scenario runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioKind {
    /// `plumb load` of a URL or of flows.
    Load,
    /// `plumb bench` of commands.
    Bench,
}

/// A checked scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name in `[scenarios]`.
    pub name: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// Load or bench.
    pub kind: ScenarioKind,
    /// The command line after `plumb load` or `plumb bench`.
    pub args: Vec<Arg>,
    /// Requests per second of its open model, if it has one.
    pub rate: Option<f64>,
    /// Connections of its closed model (or the cap of its open model), if given.
    pub connections: Option<u32>,
    /// Whether it has `stages`.
    pub staged: bool,
    /// The file and its text, to explain a fault found later.
    pub(super) path: std::path::PathBuf,
    pub(super) text: std::sync::Arc<str>,
}

/// What a scenario is checked against.
pub(super) struct Context<'a> {
    pub source: &'a Source<'a>,
    pub base_url: Option<Spanned<String>>,
    pub goals: &'a [Goal],
    pub flows: &'a [String],
    pub threshold_window: Option<Spanned<String>>,
}

impl Scenario {
    /// Whether it is a load scenario.
    pub fn is_load(&self) -> bool {
        self.kind == ScenarioKind::Load
    }

    pub(super) fn check(
        context: &Context<'_>,
        name: &str,
        raw: &Spanned<RawScenario>,
    ) -> Result<Scenario, PlanError> {
        let key = |k: &str| format!("scenarios.{name}.{k}");
        let at = raw.span();
        let body = raw.get_ref();
        let kind = match (&body.bench, has_load_target(body)) {
            (Some(_), true) => {
                return Err(context.source.error(
                    Some(at),
                    Some(&format!("scenarios.{name}")),
                    "has both `bench` and a load target (url, flow or flows)",
                    "a scenario either loads a URL or benchmarks commands: split it in two",
                ))
            }
            (Some(_), false) => ScenarioKind::Bench,
            (None, _) => ScenarioKind::Load,
        };
        let args = match kind {
            ScenarioKind::Load => load_args(context, name, body, at.clone())?,
            ScenarioKind::Bench => bench_args(name, body)?,
        };
        let scenario = Scenario {
            name: name.to_owned(),
            description: body.description.clone(),
            kind,
            args,
            rate: body.rate.as_ref().map(|r| r.get_ref().value()),
            connections: body
                .connections
                .as_ref()
                .and_then(|c| u32::try_from(number_int(c.get_ref())?).ok()),
            staged: body.stages.is_some(),
            path: context.source.path.to_path_buf(),
            text: context.source.text.into(),
        };
        scenario.check_command_line(&scenario.args, &key("url"))?;
        Ok(scenario)
    }

    /// The command line as clap receives it: `plumb load ...` or `plumb bench ...`.
    pub fn argv(&self, args: &[Arg]) -> Vec<String> {
        let mut argv = vec![
            "plumb".to_owned(),
            match self.kind {
                ScenarioKind::Load => "load",
                ScenarioKind::Bench => "bench",
            }
            .to_owned(),
        ];
        for arg in args {
            if !arg.flag.is_empty() {
                argv.push(arg.flag.to_owned());
            }
            argv.extend(arg.value.clone());
        }
        argv
    }

    /// `plumb load`'s arguments for `args` (the scenario's, or a preset's derived from them,
    /// plus `plumb run`'s own), checked by `plumb load`'s parser and resolution.
    pub fn load_args(&self, args: &[Arg]) -> Result<LoadArgs, PlanError> {
        match self.parse(args)? {
            Command::Load(load) => Ok(*load),
            _ => unreachable!("a load scenario's command line starts with `load`"),
        }
    }

    /// `plumb bench`'s arguments for `args`.
    pub fn bench_args(&self, args: &[Arg]) -> Result<BenchArgs, PlanError> {
        match self.parse(args)? {
            Command::Bench(bench) => Ok(bench),
            _ => unreachable!("a bench scenario's command line starts with `bench`"),
        }
    }

    fn parse(&self, args: &[Arg]) -> Result<Command, PlanError> {
        let cli = Cli::try_parse_from(self.argv(args)).map_err(|e| self.clap_error(args, &e))?;
        Ok(cli.command)
    }

    /// Parse and resolve `args` as the command would, so every value is checked now.
    fn check_command_line(&self, args: &[Arg], url_key: &str) -> Result<(), PlanError> {
        match self.kind {
            ScenarioKind::Load => {
                let load = self.load_args(args)?;
                if let Err(e) = plumb_load::Endpoint::resolve(&load.url) {
                    return Err(self.fault(
                        args,
                        "",
                        &format!("invalid URL '{}': {e}", load.url),
                        "a scenario loads an http:// or https:// URL, e.g. \"http://127.0.0.1:8080/api\"",
                    ));
                }
                if let Err(e) = load.resolve() {
                    return Err(self.cli_error(args, &e, url_key));
                }
            }
            ScenarioKind::Bench => {
                let bench = self.bench_args(args)?;
                if let Err(e) = bench.resolve() {
                    return Err(self.fault(args, e.flag, &e.message, &e.hint));
                }
            }
        }
        Ok(())
    }

    fn source(&self) -> Source<'_> {
        Source {
            path: &self.path,
            text: &self.text,
        }
    }

    /// An error about the argument `flag`, placed at the key it came from.
    pub(super) fn fault(&self, args: &[Arg], flag: &str, message: &str, hint: &str) -> PlanError {
        let origin = args
            .iter()
            .filter(|a| a.flag == flag)
            .find_map(|a| a.origin.clone());
        match origin {
            Some((key, span)) => self.source().error(Some(span), Some(&key), message, hint),
            None => self.source().error(
                None,
                Some(&format!("scenarios.{}", self.name)),
                message,
                hint,
            ),
        }
    }

    fn clap_error(&self, args: &[Arg], error: &clap::Error) -> PlanError {
        use clap::error::{ContextKind, ContextValue};
        let flag = match error.get(ContextKind::InvalidArg) {
            Some(ContextValue::String(arg)) => {
                arg.split([' ', '=']).next().unwrap_or("").to_owned()
            }
            _ => String::new(),
        };
        let rendered = error.render().to_string();
        let message = rendered
            .trim_start_matches("error: ")
            .split("\n\nUsage:")
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        // clap's trailer speaks of a command line the user never typed.
        let message = message.replace("\n\nFor more information, try '--help'.", "");
        let (message, hint) = match message.split_once("\nhint: ") {
            Some((m, h)) => (m.to_owned(), h.trim().to_owned()),
            None => (
                message,
                "see docs/plan.md for the scenario keys and their values".to_owned(),
            ),
        };
        let flag = if flag.starts_with('<') {
            ""
        } else {
            flag.as_str()
        };
        self.fault(args, flag, &message, &hint)
    }

    fn cli_error(&self, args: &[Arg], error: &crate::CliError, url_key: &str) -> PlanError {
        match error {
            crate::CliError::Flag {
                flag,
                value,
                why,
                hint,
            } => self.fault(
                args,
                flag_name(flag),
                &format!("invalid value '{value}': {why}"),
                hint,
            ),
            crate::CliError::Threshold(e) => {
                let origin = args
                    .iter()
                    .find(|a| a.flag == "--threshold" && a.value.as_deref() == Some(&e.expression))
                    .and_then(|a| a.origin.clone());
                let text = e.to_string();
                let (message, hint) = text.split_once("\nhint: ").unwrap_or((&text, ""));
                match origin {
                    Some((key, span)) => self.source().error(Some(span), Some(&key), message, hint),
                    None => self.source().error(None, Some(url_key), message, hint),
                }
            }
            // The flow sections are in the plan file itself: the error is already located.
            crate::CliError::File(e) => PlanError {
                path: e.path.clone(),
                at: e.at,
                key: None,
                message: e.message.clone(),
                hint: e.hint.clone(),
            },
        }
    }
}

/// The `&'static str` spelling of a flag named in an error (only the flags a plan produces).
fn flag_name(flag: &str) -> &'static str {
    FLAGS.iter().find(|f| **f == flag).copied().unwrap_or("")
}

const FLAGS: &[&str] = &[
    "--rate",
    "--connections",
    "--duration",
    "--stages",
    "--requests",
    "--threads",
    "--method",
    "--header",
    "--body",
    "--body-file",
    "--timeout",
    "--expect-status",
    "--expect-body",
    "--threshold",
    "--threshold-window",
    "--db",
    "--watch-pid",
    "--watch-cgroup",
    "--file",
    "--flow",
    "--runs",
    "--warmup",
];

fn has_load_target(raw: &RawScenario) -> bool {
    raw.url.is_some() || raw.flow.is_some() || raw.flows.is_some()
}

fn number_int(n: &Number) -> Option<i64> {
    match n {
        Number::Int(i) => Some(*i),
        Number::Float(_) => None,
    }
}

/// `plumb load`'s command line for a load scenario.
fn load_args(
    context: &Context<'_>,
    name: &str,
    raw: &RawScenario,
    at: Range<usize>,
) -> Result<Vec<Arg>, PlanError> {
    let key = |k: &str| format!("scenarios.{name}.{k}");
    let mut args = vec![target_arg(context, name, raw, at)?];
    flows_args(context, name, raw, &mut args)?;
    let mut push = |flag: &'static str, k: &str, value: Option<(String, Range<usize>)>| {
        if let Some((value, span)) = value {
            args.push(Arg::new(flag, Some(value), key(k), span));
        }
    };
    let text = |s: &Option<Spanned<String>>| s.as_ref().map(|s| (s.get_ref().clone(), s.span()));
    let number = |n: &Option<Spanned<Number>>| n.as_ref().map(|n| (n.get_ref().text(), n.span()));
    push("--rate", "rate", number(&raw.rate));
    push("--connections", "connections", number(&raw.connections));
    push("--duration", "duration", text(&raw.duration));
    push("--stages", "stages", text(&raw.stages));
    push("--requests", "requests", number(&raw.requests));
    push("--threads", "threads", number(&raw.threads));
    push("--method", "method", text(&raw.method));
    push("--body", "body", text(&raw.body));
    push(
        "--body-file",
        "body_file",
        body_file(context.source.path, &raw.body_file),
    );
    push("--timeout", "timeout", text(&raw.timeout));
    push("--expect-status", "expect_status", text(&raw.expect_status));
    push("--expect-body", "expect_body", text(&raw.expect_body));
    push("--db", "db", text(&raw.db));
    push("--watch-cgroup", "watch_cgroup", text(&raw.watch_cgroup));
    match (&raw.threshold_window, &context.threshold_window) {
        (Some(own), _) => args.push(Arg::new(
            "--threshold-window",
            Some(own.get_ref().clone()),
            key("threshold_window"),
            own.span(),
        )),
        (None, Some(plans)) => args.push(Arg::new(
            "--threshold-window",
            Some(plans.get_ref().clone()),
            "plan.threshold_window".to_owned(),
            plans.span(),
        )),
        (None, None) => {}
    }
    for (header, value) in &raw.headers {
        let line = format!("{header}: {}", value.get_ref());
        args.push(Arg::new(
            "--header",
            Some(line),
            key(&format!("headers.{header}")),
            value.span(),
        ));
    }
    for pid in &raw.watch_pid {
        args.push(Arg::new(
            "--watch-pid",
            Some(pid.get_ref().text()),
            key("watch_pid"),
            pid.span(),
        ));
    }
    let switches = [
        (raw.http2, "--http2"),
        (raw.insecure, "--insecure"),
        (raw.abort_on_fail, "--abort-on-fail"),
        (raw.watch_tree, "--watch-tree"),
    ];
    for (on, flag) in switches {
        if on {
            args.push(Arg::new(
                flag,
                None,
                key(flag.trim_start_matches("--")),
                0..0,
            ));
        }
    }
    args.extend(goal_args(context, name, raw)?);
    Ok(args)
}

/// The URL: the scenario's, joined to `[target] url` when it is a path; for flows, the base.
fn target_arg(
    context: &Context<'_>,
    name: &str,
    raw: &RawScenario,
    at: Range<usize>,
) -> Result<Arg, PlanError> {
    let base = context.base_url.as_ref();
    let missing = || {
        context.source.error(
            Some(at.clone()),
            Some(&format!("scenarios.{name}")),
            "has no URL to load",
            "give the scenario a url = \"http://127.0.0.1:8080/path\", or [target] url = \"http://...\" with url = \"/path\"",
        )
    };
    let (url, key, span) = match (&raw.url, base) {
        (Some(url), _) if url.get_ref().starts_with('/') => {
            let base = base.ok_or_else(|| {
                context.source.error(
                    Some(url.span()),
                    Some(&format!("scenarios.{name}.url")),
                    &format!(
                        "'{}' is a path, and the plan has no [target] url to join it to",
                        url.get_ref()
                    ),
                    "add [target] url = \"http://127.0.0.1:8080\", or give the whole URL",
                )
            })?;
            let joined = format!("{}{}", base.get_ref().trim_end_matches('/'), url.get_ref());
            (joined, "url", url.span())
        }
        (Some(url), _) => (url.get_ref().clone(), "url", url.span()),
        (None, Some(base)) if raw.flow.is_some() || raw.flows.is_some() => {
            (base.get_ref().clone(), "url", base.span())
        }
        (None, Some(base)) => (base.get_ref().clone(), "url", base.span()),
        (None, None) => return Err(missing()),
    };
    Ok(Arg::new(
        "",
        Some(url),
        format!("scenarios.{name}.{key}"),
        span,
    ))
}

/// `flow = "checkout"` or `flows = [...]`: `-f PLAN --flow NAME`, each flow checked to exist.
fn flows_args(
    context: &Context<'_>,
    name: &str,
    raw: &RawScenario,
    args: &mut Vec<Arg>,
) -> Result<(), PlanError> {
    let named: Vec<&Spanned<String>> = raw.flow.iter().chain(raw.flows.iter().flatten()).collect();
    if named.is_empty() {
        return Ok(());
    }
    let key = format!(
        "scenarios.{name}.{}",
        if raw.flow.is_some() { "flow" } else { "flows" }
    );
    if raw.url.is_some() {
        return Err(context.source.error(
            raw.url.as_ref().map(Spanned::span),
            Some(&format!("scenarios.{name}.url")),
            "a scenario of flows takes its URLs from the flows' steps",
            "leave out url; a step's path joins [target] url",
        ));
    }
    let path = context.source.path.display().to_string();
    args.push(Arg::new("--file", Some(path), key.clone(), 0..0));
    for flow in named {
        if !context.flows.iter().any(|f| f == flow.get_ref()) {
            let known = if context.flows.is_empty() {
                "the plan has no [flows.NAME] sections".to_owned()
            } else {
                format!("the plan's flows are: {}", context.flows.join(", "))
            };
            return Err(context.source.error(
                Some(flow.span()),
                Some(&key),
                &format!("names a flow the plan does not have: '{}'", flow.get_ref()),
                &format!("{known}; see docs/flows.md"),
            ));
        }
        args.push(Arg::new(
            "--flow",
            Some(flow.get_ref().clone()),
            key.clone(),
            flow.span(),
        ));
    }
    Ok(())
}

/// `body_file`, relative to the plan file's directory.
fn body_file(plan: &Path, file: &Option<Spanned<String>>) -> Option<(String, Range<usize>)> {
    file.as_ref().map(|f| {
        let path = Path::new(f.get_ref());
        let resolved = if path.is_absolute() {
            path.to_path_buf()
        } else {
            plan.parent().unwrap_or(Path::new(".")).join(path)
        };
        (resolved.display().to_string(), f.span())
    })
}

/// `--threshold` for each goal the scenario is judged by (all, or those it names), then its own.
fn goal_args(context: &Context<'_>, name: &str, raw: &RawScenario) -> Result<Vec<Arg>, PlanError> {
    let mut args = Vec::new();
    match &raw.goals {
        None => {
            for goal in context.goals {
                args.push(Arg {
                    flag: "--threshold",
                    value: Some(goal.expression.clone()),
                    origin: None,
                });
            }
        }
        Some(names) => {
            for wanted in names {
                let goal = context
                    .goals
                    .iter()
                    .find(|g| &g.name == wanted.get_ref())
                    .ok_or_else(|| {
                        let known: Vec<&str> =
                            context.goals.iter().map(|g| g.name.as_str()).collect();
                        context.source.error(
                            Some(wanted.span()),
                            Some(&format!("scenarios.{name}.goals")),
                            &format!(
                                "names a goal the plan does not have: '{}'",
                                wanted.get_ref()
                            ),
                            &format!(
                                "the [goals] are: {}",
                                if known.is_empty() {
                                    "(none)".to_owned()
                                } else {
                                    known.join(", ")
                                }
                            ),
                        )
                    })?;
                args.push(Arg::new(
                    "--threshold",
                    Some(goal.expression.clone()),
                    format!("scenarios.{name}.goals"),
                    wanted.span(),
                ));
            }
        }
    }
    for threshold in &raw.thresholds {
        args.push(Arg::new(
            "--threshold",
            Some(threshold.get_ref().clone()),
            format!("scenarios.{name}.thresholds"),
            threshold.span(),
        ));
    }
    Ok(args)
}

/// `plumb bench`'s command line for a bench scenario.
fn bench_args(name: &str, raw: &RawScenario) -> Result<Vec<Arg>, PlanError> {
    let key = |k: &str| format!("scenarios.{name}.{k}");
    let mut args = Vec::new();
    for (flag, value) in [("--runs", &raw.runs), ("--warmup", &raw.warmup)] {
        if let Some(n) = value {
            args.push(Arg::new(
                flag,
                Some(n.get_ref().text()),
                key(flag.trim_start_matches("--")),
                n.span(),
            ));
        }
    }
    args.push(Arg::extra("--", None));
    for command in raw.bench.iter().flatten() {
        args.push(Arg::new(
            "",
            Some(command.get_ref().clone()),
            key("bench"),
            command.span(),
        ));
    }
    Ok(args)
}
