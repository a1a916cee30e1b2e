//! Flags of the ledger: the save flags every measuring command shares ([`LedgerArgs`]) and the
//! commands that read the history (`plumb history`, `plumb show`, `plumb baseline`).

use crate::load::OutputFormat;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where the ledger is and how a run is saved into it; flattened into `plumb load` and `plumb bench`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LedgerArgs {
    /// The ledger database [default: .plumb/ledger.db, found by walking up like .git]
    #[arg(long, value_name = "PATH", env = "PLUMB_LEDGER")]
    pub ledger: Option<PathBuf>,

    /// Do not save this run to the ledger
    #[arg(long, env = "PLUMB_NO_SAVE", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_save: bool,

    /// A name for this run in the ledger (`plumb history --name` finds it)
    #[arg(long, value_name = "NAME")]
    pub run_name: Option<String>,

    /// A label for this run in the ledger, KEY=VALUE (repeatable)
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
}

impl LedgerArgs {
    /// The labels as a map (a repeated key keeps its last value).
    pub fn label_map(&self) -> BTreeMap<String, String> {
        self.labels.iter().cloned().collect()
    }
}

/// Just the ledger's location, for commands that only read it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LedgerPath {
    /// The ledger database [default: .plumb/ledger.db, found by walking up like .git]
    #[arg(long, value_name = "PATH", env = "PLUMB_LEDGER")]
    pub ledger: Option<PathBuf>,
}

/// Parse `KEY=VALUE`.
pub fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(format!(
            "invalid label '{text}': expected KEY=VALUE, e.g. --label branch=main"
        )),
    }
}

fn parse_limit(text: &str) -> Result<u64, String> {
    crate::parse::parse_whole(
        "--limit",
        text,
        0..=crate::limits::MAX_HISTORY,
        "e.g. --limit 50, or --limit 0 for every run",
    )
}

/// Arguments of `plumb history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Only runs with this name (`--run-name` when they were saved)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Only runs with this label, KEY=VALUE (repeatable: all must match)
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,

    /// At most this many runs (newest first), up to 1000000; 0 for all
    #[arg(long, value_name = "N", default_value_t = 20, allow_negative_numbers = true,
          value_parser = parse_limit)]
    pub limit: u64,

    /// Where the ledger is.
    #[command(flatten)]
    pub ledger: LedgerPath,
}

/// Arguments of `plumb show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The run: an id prefix, `latest`, `latest~N`, `baseline:NAME`, or a JSON result file
    pub run: String,

    /// Output format on stdout
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Where the ledger is.
    #[command(flatten)]
    pub ledger: LedgerPath,
}

/// Arguments of `plumb note`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  plumb note \"add an index on orders(user_id)\"\n  plumb note --run baseline:main \"before the cache\"\n\n`plumb log` lists the notes with each change's measured impact."
)]
pub struct NoteArgs {
    /// What changed (at most 4096 bytes)
    #[arg(value_parser = parse_note)]
    pub text: String,

    /// The run the note is about [default: the latest run]
    #[arg(long, value_name = "RUN", default_value = "latest")]
    pub run: String,

    /// Where the ledger is.
    #[command(flatten)]
    pub ledger: LedgerPath,
}

/// Arguments of `plumb log`.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Output format on stdout
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Practical tolerance δ of each impact's comparison
    #[arg(long, value_name = "PERCENT", default_value = "2%", value_parser = crate::parse_tolerance)]
    pub tolerance: f64,

    /// Also write the log as an HTML page to this file
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,

    /// Where the ledger is.
    #[command(flatten)]
    pub ledger: LedgerPath,
}

/// A note: not empty, at most [`crate::limits::MAX_NOTE_BYTES`] bytes.
fn parse_note(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(
            "a note must say what changed\nhint: plumb note \"add an index on orders(user_id)\""
                .into(),
        );
    }
    if trimmed.len() > crate::limits::MAX_NOTE_BYTES {
        return Err(format!(
            "a note is at most {} bytes, this one is {}\nhint: keep the note to what changed; link to the details",
            crate::limits::MAX_NOTE_BYTES,
            trimmed.len()
        ));
    }
    Ok(trimmed.to_string())
}

/// Arguments of `plumb baseline`.
#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    /// What to do with baselines.
    #[command(subcommand)]
    pub action: BaselineAction,

    /// Where the ledger is.
    #[command(flatten)]
    pub ledger: LedgerPath,
}

/// `plumb baseline set` / `list`.
#[derive(Debug, clap::Subcommand)]
pub enum BaselineAction {
    /// Name a run as a baseline (replacing an earlier run of that name).
    Set {
        /// The baseline's name, e.g. main
        name: String,
        /// The run: an id prefix, `latest`, `latest~N` or `baseline:OTHER`
        run: String,
    },
    /// List the baselines.
    List,
}
