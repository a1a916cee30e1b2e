//! Reading a flow file: TOML into the spec with line-numbered errors, then every flow compiled
//! once (templates, captures, checks) so a bad file fails before anything is sent. Data files are
//! opened later, by [`FlowFile::prepare`], when the base URL and the worker count are known.

use crate::compile::{compile_flows, DataCatalog, Flow};
use crate::data::DataSet;
use crate::error::{FlowFileError, Locator};
use crate::plan::{BaseUrl, FlowPlan};
use crate::spec::FileSpec;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest flow file read.
pub const MAX_FLOW_FILE: u64 = 16 * 1024 * 1024;

/// A parsed and checked flow file.
#[derive(Debug, Clone)]
pub struct FlowFile {
    /// The file.
    pub path: PathBuf,
    text: String,
    /// The sections as written.
    pub spec: FileSpec,
    /// The flows, compiled without the data files' columns (checked again once they are read).
    pub flows: Vec<Flow>,
}

/// Parse `text`, the contents of `path`: the `[data]`, `[requests]` and `[flows]` sections, every
/// other top-level key ignored.
pub fn parse_flow_file(text: &str, path: &Path) -> Result<FlowFile, FlowFileError> {
    let locate = Locator::new(path, text);
    let spec: FileSpec = toml::from_str(text).map_err(|e| toml_error(&locate, &e))?;
    let catalog = DataCatalog {
        sets: spec.data.keys().map(|k| (k.as_str(), None)).collect(),
    };
    let flows = compile_flows(&spec.flows, &spec.requests, &catalog, &locate, dir_of(path))?;
    Ok(FlowFile {
        path: path.to_path_buf(),
        text: text.to_string(),
        spec,
        flows,
    })
}

/// Read and parse the flow file at `path`.
pub fn read_flow_file(path: &Path) -> Result<FlowFile, FlowFileError> {
    let locate = Locator::new(path, "");
    let unreadable = |e: std::io::Error| {
        locate.file(
            format!("cannot read the flow file: {e}"),
            "check the path given to -f",
        )
    };
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_FLOW_FILE {
        return Err(locate.file(
            format!("the flow file is {size} bytes, above the limit of 16 MiB"),
            "keep large data in [data.NAME] files, which are read without a copy",
        ));
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| locate.file("the flow file is not UTF-8 text", "save it as UTF-8"))?;
    parse_flow_file(&text, path)
}

fn dir_of(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

fn toml_error(locate: &Locator<'_>, error: &toml::de::Error) -> FlowFileError {
    let message = error.message().trim().to_string();
    let hint = if message.contains("unknown field") {
        "docs/flows.md lists the keys of [data.NAME], [requests.NAME], [flows.NAME] and their steps"
    } else if message.contains("unknown variant") {
        "docs/flows.md lists the values each key takes"
    } else {
        "check the TOML syntax near this place"
    };
    match error.span() {
        Some(span) => locate.span(&span, message, hint),
        None => locate.file(message, hint),
    }
}

impl FlowFile {
    /// Names of the flows, in file order.
    pub fn flow_names(&self) -> Vec<&str> {
        self.flows.iter().map(|f| f.name.as_str()).collect()
    }

    /// Open the data files (one map each, shared by the split's worker threads, and only this
    /// segment's rows of them when the test is split into segments), compile the
    /// flows again with their columns, keep the selected flows (`selection` empty: every flow of
    /// non-zero weight), and join their URLs to `base_url`.
    pub fn prepare(
        &self,
        base_url: &str,
        selection: &[String],
        split: impl Into<crate::data::DataSplit>,
    ) -> Result<FlowPlan, FlowFileError> {
        let split = split.into();
        let locate = Locator::new(&self.path, &self.text);
        let base = BaseUrl::parse(base_url).map_err(|message| {
            locate.file(
                format!("base URL '{base_url}': {message}"),
                "give the base URL as http://HOST:PORT or http://HOST:PORT/prefix",
            )
        })?;
        let mut data = Vec::new();
        for (name, spec) in &self.spec.data {
            let d = spec.get_ref();
            let path = dir_of(&self.path).join(d.file.get_ref());
            let set = DataSet::open(name, &path, d.format, d.order, d.on_eof, d.partition, split)
                .map_err(|e| {
                locate.span(
                    &d.file.span(),
                    format!("data.{name}.file: {}", e.message),
                    e.hint,
                )
            })?;
            data.push(Arc::new(set));
        }
        let catalog = DataCatalog {
            sets: data
                .iter()
                .map(|d| (d.name.as_str(), Some(d.columns.as_slice())))
                .collect(),
        };
        let flows = compile_flows(
            &self.spec.flows,
            &self.spec.requests,
            &catalog,
            &locate,
            dir_of(&self.path),
        )?;
        let selected = select(flows, selection, &locate)?;
        FlowPlan::new(self.path.clone(), base, selected, data)
            .map_err(|(line, message, hint)| locate_line(&self.path, line, message, hint))
    }
}

fn locate_line(path: &Path, line: usize, message: String, hint: String) -> FlowFileError {
    FlowFileError {
        path: path.to_path_buf(),
        at: Some((line, 1)),
        message,
        hint,
    }
}

fn select(
    flows: Vec<Flow>,
    selection: &[String],
    locate: &Locator<'_>,
) -> Result<Vec<Flow>, FlowFileError> {
    let names: Vec<String> = flows.iter().map(|f| f.name.clone()).collect();
    if flows.is_empty() {
        return Err(locate.file(
            "the file has no [flows.NAME] section",
            "add a flow: [flows.browse] with [[flows.browse.steps]] url = \"/\"",
        ));
    }
    if let Some(missing) = selection.iter().find(|s| !names.contains(s)) {
        return Err(locate.file(
            format!("--flow {missing}: the file has no flow of that name"),
            format!("its flows are: {}", names.join(", ")),
        ));
    }
    let chosen: Vec<Flow> = flows
        .into_iter()
        .filter(|f| {
            if selection.is_empty() {
                f.weight > 0
            } else {
                selection.contains(&f.name)
            }
        })
        .collect();
    if chosen.is_empty() {
        return Err(locate.file(
            "every flow has weight 0, so none would run",
            "give a flow a weight of 1 or more, or pick one with --flow NAME",
        ));
    }
    if chosen.iter().all(|f| f.weight == 0) {
        // Flows picked by name run even at weight 0, in equal shares.
        return Ok(chosen
            .into_iter()
            .map(|f| Flow { weight: 1, ..f })
            .collect());
    }
    Ok(chosen)
}
