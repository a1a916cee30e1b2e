//! Flags of `plumb db` (the PostgreSQL report), `plumb db explain` and `plumb db reset-stats`,
//! resolved into plumb-db's connection options and settings.

use crate::load::OutputFormat;
use crate::parse::{parse_duration_at_most, parse_whole, CliError};
use plumb_db::{Access, ConnectOptions, ExplainSettings, ReportSettings};
use std::path::PathBuf;
use std::time::Duration;

/// Longest connect or statement timeout.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// Arguments of `plumb db`.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Without a URL, libpq's variables say where to connect: PGHOST, PGPORT, PGUSER, \
    PGPASSWORD, PGDATABASE, PGSSLMODE. plumb only reads: every transaction of its session is \
    read-only."
)]
pub struct DbArgs {
    /// `plumb db explain` or `plumb db reset-stats`; none for the report.
    #[command(subcommand)]
    pub action: Option<DbAction>,

    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable|prefer|require|verify-full
    #[arg(value_name = "URL")]
    pub url: Option<String>,

    /// Statements listed by total and by mean time
    #[arg(long, default_value = "10", value_name = "N",
          value_parser = |s: &str| parse_whole::<usize>("--top", s, 1..=1000, "--top 20"))]
    pub top: usize,

    /// List queries and transactions running longer than this
    #[arg(long, default_value = "60s", value_name = "DURATION",
          value_parser = |s: &str| parse_timeout("--long-running", s))]
    pub long_running: Duration,

    /// Output format on stdout
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Also write the JSON result to this file
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// How to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `plumb db`'s subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DbAction {
    /// EXPLAIN (FORMAT JSON) a statement, with insights; runs it only with --analyze, rolled back.
    Explain(ExplainArgs),
    /// Reset pg_stat_statements (writes: needs --yes).
    ResetStats(ResetStatsArgs),
}

/// Connection flags shared by the `db` commands.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// Give up connecting after this long
    #[arg(long, default_value = "10s", value_name = "DURATION",
          value_parser = |s: &str| parse_timeout("--connect-timeout", s))]
    pub connect_timeout: Duration,

    /// statement_timeout of every statement plumb sends
    #[arg(long, default_value = "30s", value_name = "DURATION",
          value_parser = |s: &str| parse_timeout("--statement-timeout", s))]
    pub statement_timeout: Duration,
}

/// Arguments of `plumb db explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// [URL] SQL: the statement, after the URL when one is given
    #[arg(value_name = "URL_AND_SQL", num_args = 1..=2, required = true)]
    pub args: Vec<String>,

    /// Run the statement (EXPLAIN ANALYZE, BUFFERS) inside a transaction that is rolled back
    #[arg(long)]
    pub analyze: bool,

    /// Output format on stdout
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Also write the JSON result to this file
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// How to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Arguments of `plumb db reset-stats`.
#[derive(Debug, clap::Args)]
pub struct ResetStatsArgs {
    /// The database (libpq's variables when left out)
    #[arg(value_name = "URL")]
    pub url: Option<String>,

    /// Yes, reset pg_stat_statements for the whole server (its history is lost)
    #[arg(long)]
    pub yes: bool,

    /// How to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

fn parse_timeout(flag: &str, text: &str) -> Result<Duration, String> {
    let duration = parse_duration_at_most(flag, text, MAX_TIMEOUT).map_err(CliError::for_clap)?;
    if duration < Duration::from_millis(1) {
        let error = CliError::flag(
            flag,
            text,
            "it must be at least 1ms",
            &format!("{flag} 10s"),
        );
        return Err(error.for_clap());
    }
    Ok(duration)
}

impl ConnectionArgs {
    /// The connection options for `url`.
    pub fn options(&self, url: Option<String>, access: Access) -> ConnectOptions {
        ConnectOptions {
            url,
            connect_timeout: self.connect_timeout,
            statement_timeout: self.statement_timeout,
            access,
        }
    }
}

impl DbArgs {
    /// The report's settings.
    pub fn report_settings(&self) -> ReportSettings {
        ReportSettings {
            top: self.top,
            long_running: self.long_running,
        }
    }
}

impl ExplainArgs {
    /// The URL (if given) and the statement's settings.
    pub fn resolve(&self) -> (Option<String>, ExplainSettings) {
        let (url, sql) = match self.args.as_slice() {
            [url, sql] => (Some(url.clone()), sql.clone()),
            [sql] => (None, sql.clone()),
            _ => (None, String::new()),
        };
        let settings = ExplainSettings {
            sql,
            analyze: self.analyze,
        };
        (url, settings)
    }
}

impl ResetStatsArgs {
    /// Refuse without `--yes`.
    pub fn confirmed(&self) -> Result<(), String> {
        if self.yes {
            return Ok(());
        }
        Err("plumb db reset-stats writes to the database: it empties pg_stat_statements for the whole server\nhint: add --yes to reset it; plumb load --db measures a run without a reset (it diffs snapshots)".to_owned())
    }
}
