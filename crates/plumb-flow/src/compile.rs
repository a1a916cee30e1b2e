//! From the file as written to what a worker runs: every template split, every JSON path,
//! regex and status range parsed, every variable resolved to a slot, a column or a built-in, and
//! every URL joined to the base, once before the run. An error names the line and the key.

use crate::capture::{json_path, status_ranges, Check, Source};
use crate::error::{FlowFileError, Locator};
use crate::spec::{FlowSpec, StepSpec};
use crate::template::{Escape, Name, Template, TemplateError, VarRef};
use crate::think::Think;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// The largest body file read.
pub const MAX_BODY_FILE: u64 = 64 * 1024 * 1024;

/// A step's body template with its escaping, and the `Content-Type` it implies.
type BodyPlan = (Option<(Template, Escape)>, Option<&'static str>);

/// A flow ready to run.
#[derive(Debug, Clone)]
pub struct Flow {
    /// Its name (`[flows.NAME]`).
    pub name: String,
    /// Its weight in the mix.
    pub weight: u32,
    /// Its steps, in order.
    pub steps: Vec<Step>,
    /// How many variable slots a session of it has.
    pub slots: usize,
    /// Constant variables, by slot.
    pub vars: Vec<(u16, Vec<u8>)>,
    /// The data sets (by index in the plan) a session takes a row of.
    pub data_used: Vec<u16>,
    /// Line of `[flows.NAME]`.
    pub line: usize,
}

/// One step ready to run.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its name: metrics are keyed by it.
    pub name: String,
    /// HTTP method.
    pub method: String,
    /// Line of the step in the file.
    pub line: usize,
    /// The request target (joined to the base URL's path once the plan is prepared).
    pub url: Template,
    /// The URL as written, for `--dry-run`.
    pub url_text: String,
    /// Header names and value templates.
    pub headers: Vec<(String, Template)>,
    /// The body template, and how values are escaped in it.
    pub body: Option<(Template, Escape)>,
    /// `Content-Type` sent when the headers give none.
    pub content_type: Option<&'static str>,
    /// Captures, in order.
    pub captures: Vec<Capture>,
    /// Checks given in the file.
    pub checks: Vec<Check>,
    /// Pause after the step.
    pub think: Think,
    /// Whether a capture or check reads the body (else it is counted, not kept).
    pub reads_body: bool,
    /// Whether a capture reads a response header (else only `Set-Cookie` is kept).
    pub reads_headers: bool,
}

/// One capture of a step.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The variable it sets.
    pub name: String,
    /// The variable's slot.
    pub slot: u16,
    /// Where the value comes from.
    pub source: Source,
    /// The source as written.
    pub source_text: String,
    /// Line of the capture in the file.
    pub line: usize,
}

/// What templates may read: the data sets, by name, with their columns when known.
pub struct DataCatalog<'a> {
    /// (name, columns): columns are `None` before the files are opened (any column passes).
    pub sets: Vec<(&'a str, Option<&'a [String]>)>,
}

/// Compile every flow of `flows`.
pub fn compile_flows(
    flows: &BTreeMap<String, Spanned<FlowSpec>>,
    requests: &BTreeMap<String, Spanned<StepSpec>>,
    catalog: &DataCatalog<'_>,
    locate: &Locator<'_>,
    dir: &Path,
) -> Result<Vec<Flow>, FlowFileError> {
    flows
        .iter()
        .map(|(name, spec)| {
            let ctx = Context {
                catalog,
                locate,
                requests,
                dir,
                flow: name,
            };
            ctx.flow(name, spec)
        })
        .collect()
}

struct Context<'a> {
    catalog: &'a DataCatalog<'a>,
    locate: &'a Locator<'a>,
    requests: &'a BTreeMap<String, Spanned<StepSpec>>,
    dir: &'a Path,
    flow: &'a str,
}

/// The variables defined so far in a flow, by name.
#[derive(Default)]
struct Scope {
    slots: BTreeMap<String, u16>,
    data_used: Vec<u16>,
}

impl Scope {
    fn slot(&mut self, name: &str) -> u16 {
        let next = self.slots.len() as u16;
        *self.slots.entry(name.to_string()).or_insert(next)
    }
}

const VARIABLE_HINT: &str = "define it in [flows.NAME.vars], capture it in an earlier step \
     (capture = { NAME = \"json:$.path\" }), or read a data file's column as {{DATA.column}}";

impl Context<'_> {
    fn flow(&self, name: &str, spec: &Spanned<FlowSpec>) -> Result<Flow, FlowFileError> {
        let span = spec.span();
        let spec = spec.get_ref();
        let mut scope = Scope::default();
        let mut vars = Vec::new();
        for (var, value) in &spec.vars {
            let slot = scope.slot(var);
            vars.push((slot, value.get_ref().as_bytes().to_vec()));
        }
        if spec.steps.is_empty() {
            return Err(self.locate.span(
                &span,
                format!("flow '{name}' has no steps"),
                format!("add steps as [[flows.{name}.steps]] with at least a url"),
            ));
        }
        let default_think = self.think(spec.think.as_ref(), "think")?;
        let mut steps: Vec<Step> = Vec::with_capacity(spec.steps.len());
        for (i, step) in spec.steps.iter().enumerate() {
            let compiled = self.step(i, step, &mut scope, default_think)?;
            if let Some(twin) = steps.iter().find(|s| s.name == compiled.name) {
                return Err(self.locate.at(
                    step.span().start,
                    format!(
                        "flow '{name}': step name '{}' is used twice (also line {})",
                        compiled.name, twin.line
                    ),
                    "give each step its own `name`: metrics are keyed by it",
                ));
            }
            steps.push(compiled);
        }
        Ok(Flow {
            name: name.to_string(),
            weight: spec.weight.as_ref().map_or(1, |w| *w.get_ref()),
            steps,
            slots: scope.slots.len(),
            vars,
            data_used: scope.data_used,
            line: self.locate.line_col(span.start).0,
        })
    }

    fn step(
        &self,
        index: usize,
        spanned: &Spanned<StepSpec>,
        scope: &mut Scope,
        default_think: Think,
    ) -> Result<Step, FlowFileError> {
        let step_span = spanned.span();
        let spec = self.merged(spanned)?;
        let field = |key: &str| format!("flows.{}.steps[{index}].{key}", self.flow);
        let Some(url) = spec.url.as_ref() else {
            return Err(self.locate.span(
                &step_span,
                format!("{} is missing", field("url")),
                "every step needs a url, e.g. url = \"/login\" (relative to the base URL)",
            ));
        };
        let method = spec
            .method
            .as_ref()
            .map_or("GET".to_string(), |m| m.get_ref().clone());
        if method.is_empty() || !method.bytes().all(is_token) {
            let span = spec
                .method
                .as_ref()
                .map_or(step_span.clone(), Spanned::span);
            return Err(self.locate.span(
                &span,
                format!("{}: '{method}' is not an HTTP method", field("method")),
                "e.g. method = \"POST\"",
            ));
        }
        let url_template = self.template(url, scope, &field("url"))?;
        let first = url.get_ref().trim_start();
        if !(first.starts_with('/')
            || first.starts_with("http://")
            || first.starts_with("https://"))
        {
            return Err(self.locate.span(
                &url.span(),
                format!("{}: '{}' is neither a path nor an http(s) URL", field("url"), url.get_ref()),
                "write a path such as \"/orders/{{id}}\" (joined to the base URL) or a full URL on the base URL's host",
            ));
        }
        let mut headers = Vec::new();
        for (name, value) in &spec.headers {
            if name.is_empty() || !name.bytes().all(is_token) {
                return Err(self.locate.span(
                    &value.span(),
                    format!("{}: '{name}' is not a header name", field("headers")),
                    "header names are tokens such as X-Request-Id",
                ));
            }
            let t = self.template(value, scope, &field(&format!("headers.{name}")))?;
            headers.push((name.clone(), t));
        }
        let (body, content_type) = self.body(&spec, scope, &field)?;
        let checks = self.checks(&spec, &field)?;
        let think = match spec.think.as_ref() {
            Some(t) => self.think(Some(t), &field("think"))?,
            None => default_think,
        };
        let name = spec.name.as_ref().map_or_else(
            || format!("{method} {}", url.get_ref()),
            |n| n.get_ref().clone(),
        );
        // Captures are defined for the steps after this one.
        let captures = self.captures(&spec, scope, &field)?;
        let reads_headers = captures
            .iter()
            .any(|c| matches!(c.source, Source::Header(_)));
        let reads_body = captures.iter().any(|c| c.source.reads_body())
            || checks.iter().any(|c| !matches!(c, Check::Status(_)));
        Ok(Step {
            name,
            method,
            line: self.locate.line_col(step_span.start).0,
            url: url_template,
            url_text: url.get_ref().clone(),
            headers,
            body,
            content_type,
            captures,
            checks,
            think,
            reads_body,
            reads_headers,
        })
    }

    /// The step's keys over those of the named request it starts from.
    fn merged(&self, step: &Spanned<StepSpec>) -> Result<StepSpec, FlowFileError> {
        let own = step.get_ref().clone();
        let Some(name) = own.request.as_ref() else {
            return Ok(own);
        };
        let Some(base) = self.requests.get(name.get_ref()) else {
            let known: Vec<&str> = self.requests.keys().map(String::as_str).collect();
            return Err(self.locate.span(
                &name.span(),
                format!(
                    "request = '{}': there is no [requests.{}]",
                    name.get_ref(),
                    name.get_ref()
                ),
                if known.is_empty() {
                    "define it as [requests.NAME] with a url".to_string()
                } else {
                    format!("defined requests: {}", known.join(", "))
                },
            ));
        };
        let base = base.get_ref().clone();
        let mut headers = base.headers;
        headers.extend(own.headers);
        let mut capture = base.capture;
        capture.extend(own.capture);
        let own_body = own.json.is_some()
            || own.form.is_some()
            || own.body.is_some()
            || own.body_file.is_some();
        Ok(StepSpec {
            name: own.name.or(base.name),
            request: None,
            method: own.method.or(base.method),
            url: own.url.or(base.url),
            headers,
            json: if own_body { own.json } else { base.json },
            form: if own_body { own.form } else { base.form },
            body: if own_body { own.body } else { base.body },
            body_file: if own_body {
                own.body_file
            } else {
                base.body_file
            },
            capture,
            check: own.check.or(base.check),
            think: own.think.or(base.think),
        })
    }

    fn body(
        &self,
        spec: &StepSpec,
        scope: &mut Scope,
        field: &dyn Fn(&str) -> String,
    ) -> Result<BodyPlan, FlowFileError> {
        let given = [
            spec.json.as_ref().map(|v| ("json", v.span())),
            spec.form.as_ref().map(|v| ("form", v.span())),
            spec.body.as_ref().map(|v| ("body", v.span())),
            spec.body_file.as_ref().map(|v| ("body_file", v.span())),
        ];
        let given: Vec<(&str, Range<usize>)> = given.into_iter().flatten().collect();
        if given.len() > 1 {
            let names: Vec<&str> = given.iter().map(|(n, _)| *n).collect();
            return Err(self.locate.span(
                &given[1].1,
                format!(
                    "{}: a step has one body, but gives {}",
                    field(given[1].0),
                    names.join(" and ")
                ),
                "keep one of json, form, body and body_file",
            ));
        }
        if let Some(json) = &spec.json {
            let value = serde_json::to_value(json.get_ref()).map_err(|e| {
                self.locate.span(
                    &json.span(),
                    format!("{}: {e}", field("json")),
                    "write the body as a TOML table or array",
                )
            })?;
            let text = value.to_string();
            let t = self.template_at(&text, json.span().start, scope, &field("json"))?;
            return Ok((Some((t, Escape::Json)), Some("application/json")));
        }
        if let Some(form) = &spec.form {
            let mut parts = Vec::new();
            for (key, value) in form.get_ref() {
                let mut encoded = Vec::new();
                crate::template::form_encode(key.as_bytes(), &mut encoded);
                encoded.push(b'=');
                let t = self.template(value, scope, &field(&format!("form.{key}")))?;
                parts.push((encoded, t));
            }
            return Ok((
                Some((join_form(parts), Escape::Form)),
                Some("application/x-www-form-urlencoded"),
            ));
        }
        if let Some(body) = &spec.body {
            let t = self.template(body, scope, &field("body"))?;
            return Ok((Some((t, Escape::Raw)), None));
        }
        if let Some(file) = &spec.body_file {
            let path = self.dir.join(file.get_ref());
            let text = read_body_file(&path).map_err(|message| {
                self.locate.span(
                    &file.span(),
                    format!("{}: {message}", field("body_file")),
                    "the path is relative to the flow file's directory",
                )
            })?;
            let t = self.template_at(&text, file.span().start, scope, &field("body_file"))?;
            return Ok((Some((t, Escape::Raw)), None));
        }
        Ok((None, None))
    }

    fn captures(
        &self,
        spec: &StepSpec,
        scope: &mut Scope,
        field: &dyn Fn(&str) -> String,
    ) -> Result<Vec<Capture>, FlowFileError> {
        let mut captures = Vec::new();
        for (name, source) in &spec.capture {
            if name.is_empty() || name.contains('.') || name.starts_with('$') {
                return Err(self.locate.span(
                    &source.span(),
                    format!("{}: '{name}' cannot name a variable", field("capture")),
                    "variable names hold no '.' and do not start with '$'",
                ));
            }
            let parsed = Source::parse(source.get_ref()).map_err(|message| {
                self.locate.span(
                    &source.span(),
                    format!("{}: {message}", field(&format!("capture.{name}"))),
                    "captures are \"json:$.path\" (RFC 9535), \"regex:RE\", \"header:NAME\" or \"cookie:NAME\"",
                )
            })?;
            captures.push(Capture {
                name: name.clone(),
                slot: 0,
                source: parsed,
                source_text: source.get_ref().clone(),
                line: self.locate.line_col(source.span().start).0,
            });
        }
        for capture in &mut captures {
            capture.slot = scope.slot(&capture.name);
        }
        Ok(captures)
    }

    fn checks(
        &self,
        spec: &StepSpec,
        field: &dyn Fn(&str) -> String,
    ) -> Result<Vec<Check>, FlowFileError> {
        let Some(check) = spec.check.as_ref() else {
            return Ok(Vec::new());
        };
        let check = check.get_ref();
        let mut checks = Vec::new();
        if let Some(status) = &check.status {
            let ranges = status_ranges(status.get_ref()).map_err(|message| {
                self.locate.span(
                    &status.span(),
                    format!("{}: {message}", field("check.status")),
                    "e.g. status = 200, status = [200, 201] or status = \"200-299\"",
                )
            })?;
            checks.push(Check::Status(ranges));
        }
        if let Some(text) = &check.body_contains {
            if text.get_ref().contains("{{") {
                return Err(self.locate.span(
                    &text.span(),
                    format!("{}: checks compare with literal text, not templates", field("check.body_contains")),
                    "check for a fixed part of the body, or capture the value and compare it in a later step's URL or body",
                ));
            }
            checks.push(Check::BodyContains(text.get_ref().as_bytes().to_vec()));
        }
        for (path, expected) in &check.json {
            let parsed = json_path(path).map_err(|message| {
                self.locate.span(
                    &expected.span(),
                    format!("{}: {message}", field("check.json")),
                    "JSON paths follow RFC 9535, e.g. \"$.user.id\" or \"$.items[0].name\"",
                )
            })?;
            let expected_json = serde_json::to_value(expected.get_ref()).map_err(|e| {
                self.locate.span(
                    &expected.span(),
                    format!("{}: {e}", field("check.json")),
                    "compare with a string, number, boolean, array or table",
                )
            })?;
            checks.push(Check::JsonEquals {
                path_text: path.clone(),
                path: parsed,
                expected: expected_json,
            });
        }
        Ok(checks)
    }

    fn think(&self, think: Option<&Spanned<String>>, key: &str) -> Result<Think, FlowFileError> {
        let Some(think) = think else {
            return Ok(Think::None);
        };
        Think::parse(think.get_ref()).map_err(|message| {
            self.locate.span(
                &think.span(),
                format!("{key}: {message}"),
                "think is \"1s\", \"uniform(1s, 3s)\" or \"exp(mean=2s, max=10s)\"",
            )
        })
    }

    fn template(
        &self,
        text: &Spanned<String>,
        scope: &mut Scope,
        key: &str,
    ) -> Result<Template, FlowFileError> {
        // +1: past the opening quote of a one-line string.
        self.template_at(text.get_ref(), text.span().start + 1, scope, key)
    }

    fn template_at(
        &self,
        text: &str,
        offset: usize,
        scope: &mut Scope,
        key: &str,
    ) -> Result<Template, FlowFileError> {
        Template::parse(text, |name| self.resolve(name, scope)).map_err(|e| match e {
            TemplateError::Syntax(s) => self.locate.at(
                offset + s.offset,
                format!("{key}: {}", s.message),
                "variables are written {{name}}",
            ),
            TemplateError::Resolve(name, (message, hint)) => {
                self.locate
                    .at(offset + name.offset, format!("{key}: {message}"), hint)
            }
        })
    }

    fn resolve(&self, name: &Name, scope: &mut Scope) -> Result<VarRef, (String, String)> {
        let text = name.text.as_str();
        if text == "$session" {
            return Ok(VarRef::Session);
        }
        if let Some(slot) = scope.slots.get(text) {
            return Ok(VarRef::Slot(*slot));
        }
        if let Some((data, column)) = text.split_once('.') {
            let found = self.catalog.sets.iter().position(|(n, _)| *n == data);
            if let Some(index) = found {
                let column_index = match self.catalog.sets[index].1 {
                    None => 0,
                    Some(columns) => columns.iter().position(|c| c == column).ok_or_else(|| {
                        (
                            format!("data '{data}' has no column '{column}'"),
                            format!("its columns are: {}", columns.join(", ")),
                        )
                    })?,
                };
                let index = index as u16;
                if !scope.data_used.contains(&index) {
                    scope.data_used.push(index);
                }
                return Ok(VarRef::Column {
                    data: index,
                    column: column_index as u16,
                });
            }
        }
        Err((
            format!("undefined variable '{text}'"),
            VARIABLE_HINT.to_string(),
        ))
    }
}

fn join_form(parts: Vec<(Vec<u8>, Template)>) -> Template {
    let mut joined = Template::default();
    for (i, (key, value)) in parts.into_iter().enumerate() {
        let mut lead = Vec::new();
        if i > 0 {
            lead.push(b'&');
        }
        lead.extend_from_slice(&key);
        joined = joined.then(Template::literal(&lead)).then(value);
    }
    joined
}

fn read_body_file(path: &Path) -> Result<String, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if size > MAX_BODY_FILE {
        return Err(format!(
            "{} is {size} bytes, above the limit of 64 MiB",
            path.display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))
}

/// A byte of an HTTP token (method, header name).
pub(crate) fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
