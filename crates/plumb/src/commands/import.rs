//! `plumb import har FILE | openapi FILE | curl 'CMD'`: a flow file a person can read and edit, on stdout or
//! written atomically to `-o FILE`.

use crate::exit::Outcome;
use crate::output::{self, Destination};
use plumb_cli::{ImportArgs, ImportSource};

/// The largest HAR or OpenAPI file read.
const MAX_HAR_BYTES: u64 = 256 * 1024 * 1024;

/// Read a recording or document, at most [`MAX_HAR_BYTES`].
fn read_text(file: &std::path::Path) -> anyhow::Result<String> {
    let cannot = |e: std::io::Error| {
        anyhow::anyhow!(
            "cannot read {}: {e}\nhint: give the path of a UTF-8 JSON (or YAML) file",
            file.display()
        )
    };
    let size = std::fs::metadata(file).map_err(cannot)?.len();
    if size > MAX_HAR_BYTES {
        anyhow::bail!(
            "{} is {size} bytes, above the limit of 256 MiB\nhint: import a smaller file",
            file.display()
        );
    }
    std::fs::read_to_string(file).map_err(cannot)
}

/// Run `plumb import`.
pub fn run(args: ImportArgs) -> anyhow::Result<Outcome> {
    let destination = args
        .output
        .as_deref()
        .map(|path| Destination::check("--output", path, true))
        .transpose()?;
    let imported = match &args.source {
        ImportSource::Har { file, origin, flow } => {
            let text = read_text(file)?;
            let options = plumb_flow::import::HarOptions {
                origin: origin.clone(),
                flow: Some(flow.clone()),
            };
            plumb_flow::import::har(&text, &options)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
        }
        ImportSource::Openapi { file } => {
            let text = read_text(file)?;
            let format = plumb_flow::import::DocFormat::detect(file, &text);
            plumb_flow::import::openapi(&text, format)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
        }
        ImportSource::Curl { command } => {
            plumb_flow::import::curl(command, std::path::Path::new("."))?
        }
    };
    let text = plumb_flow::import::write_toml(&imported);
    match destination {
        Some(d) if !d.is_stdout() => {
            d.write(text.as_bytes())?;
            output::log(&format!(
                "wrote the flow file; check it with: plumb load -f FILE {} --dry-run",
                imported.base_url
            ));
        }
        _ => output::stdout(text.as_bytes())?,
    }
    Ok(Outcome::Passed)
}
