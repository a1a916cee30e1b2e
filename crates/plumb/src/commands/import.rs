//! `plumb import har FILE | curl 'CMD'`: a flow file a person can read and edit, on stdout or
//! written atomically to `-o FILE`.

use crate::exit::Outcome;
use crate::output::{self, Destination};
use plumb_cli::{ImportArgs, ImportSource};

/// The largest HAR file read.
const MAX_HAR_BYTES: u64 = 256 * 1024 * 1024;

/// Run `plumb import`.
pub fn run(args: ImportArgs) -> anyhow::Result<Outcome> {
    let destination = args
        .output
        .as_deref()
        .map(|path| Destination::check("--output", path, true))
        .transpose()?;
    let imported = match &args.source {
        ImportSource::Har { file, origin, flow } => {
            let size = std::fs::metadata(file)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot read {}: {e}\nhint: give the path of a .har file",
                        file.display()
                    )
                })?
                .len();
            if size > MAX_HAR_BYTES {
                anyhow::bail!("{} is {size} bytes, above the limit of 256 MiB\nhint: record a shorter session", file.display());
            }
            let text = std::fs::read_to_string(file).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read {}: {e}\nhint: a HAR file is UTF-8 JSON",
                    file.display()
                )
            })?;
            let options = plumb_flow::import::HarOptions {
                origin: origin.clone(),
                flow: Some(flow.clone()),
            };
            plumb_flow::import::har(&text, &options)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
        }
        ImportSource::Curl { command } => plumb_flow::import::curl(command)?,
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
