//! Connecting: a `postgres://` URL or libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
//! PGDATABASE, PGSSLMODE) into a tokio-postgres config; TLS through rustls by `sslmode`; bounded
//! connect and statement timeouts; a session that is read-only unless a command needs to write.
//!
//! A [`Session`] owns a current-thread runtime, so callers stay synchronous: each call blocks on
//! the runtime, which also drives the connection.

use crate::error::DbError;
use crate::tls::{self, SslMode};
use std::time::Duration;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, Row};

/// Marks plumb's own statements, so pg_stat_statements figures can leave them out.
pub const MARKER: &str = "/* plumb */";

/// Whether the session may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `default_transaction_read_only = on`: every transaction is read-only.
    ReadOnly,
    /// Writes allowed (`plumb db reset-stats --yes`, `explain --analyze` in a rolled-back transaction).
    ReadWrite,
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// A `postgres://` URL or libpq key=value string; `None` reads libpq's variables alone.
    pub url: Option<String>,
    /// Limit on connecting (TCP, TLS and authentication together).
    pub connect_timeout: Duration,
    /// The server-side `statement_timeout` of every statement plumb sends.
    pub statement_timeout: Duration,
    /// Read-only or not.
    pub access: Access,
}

impl ConnectOptions {
    /// Read-only, 10 s to connect, 30 s per statement.
    pub fn new(url: Option<String>) -> ConnectOptions {
        ConnectOptions {
            url,
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(30),
            access: Access::ReadOnly,
        }
    }
}

/// A connected session.
pub struct Session {
    runtime: tokio::runtime::Runtime,
    client: Client,
    target: String,
    statement_timeout: Duration,
}

impl Session {
    /// Connect, or say why not (never hangs past the connect timeout).
    pub fn connect(options: &ConnectOptions) -> Result<Session, DbError> {
        let (mut config, mode) = resolve(options.url.as_deref())?;
        let target = describe(&config);
        config
            .connect_timeout(options.connect_timeout)
            .application_name("plumb")
            .options(session_options(options));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| DbError::Connection {
                target: target.clone(),
                reason: format!("cannot start the client runtime: {e}"),
            })?;
        let limit = options.connect_timeout + Duration::from_secs(1);
        let client = runtime.block_on(async {
            match tokio::time::timeout(limit, tls::connect(&config, mode)).await {
                Ok(result) => result.map_err(|e| connect_error(&config, &target, e)),
                Err(_) => Err(DbError::Timeout {
                    target: target.clone(),
                    what: "connecting".to_owned(),
                    after: options.connect_timeout,
                }),
            }
        })?;
        Ok(Session {
            runtime,
            client,
            target,
            statement_timeout: options.statement_timeout,
        })
    }

    /// `user@host:port/database`, no password.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Run one statement (extended protocol: a single statement only) and return its rows.
    pub fn rows(&self, what: &str, sql: &str) -> Result<Vec<Row>, DbError> {
        self.rows_with(what, sql, &[])
    }

    /// [`Session::rows`] with parameters.
    pub fn rows_with(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, DbError> {
        let text = format!("{MARKER} {sql}");
        self.bounded(what, self.client.query(&text, params))
    }

    /// Run a statement that returns no rows (SET, BEGIN, ROLLBACK, PREPARE).
    pub fn execute(&self, what: &str, sql: &str) -> Result<(), DbError> {
        let text = format!("{MARKER} {sql}");
        self.bounded(what, self.client.execute(&text, &[]))
            .map(|_| ())
    }

    fn bounded<T>(
        &self,
        what: &str,
        future: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, DbError> {
        // The server's statement_timeout ends a slow statement; this bounds a dead network.
        let limit = self.statement_timeout + Duration::from_secs(5);
        self.runtime.block_on(async {
            match tokio::time::timeout(limit, future).await {
                Ok(result) => result.map_err(|e| query_error(&self.target, what, &e)),
                Err(_) => Err(DbError::Timeout {
                    target: self.target.clone(),
                    what: what.to_owned(),
                    after: limit,
                }),
            }
        })
    }
}

fn session_options(options: &ConnectOptions) -> String {
    let read_only = match options.access {
        Access::ReadOnly => "on",
        Access::ReadWrite => "off",
    };
    format!(
        "-c default_transaction_read_only={read_only} -c statement_timeout={} -c lock_timeout=5000 -c idle_in_transaction_session_timeout=60000",
        options.statement_timeout.as_millis().max(1)
    )
}

/// The tokio-postgres config and sslmode of a URL (or key=value string), libpq's variables
/// filling what it leaves out.
pub fn resolve(url: Option<&str>) -> Result<(Config, SslMode), DbError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (rest, mode_in_url) = match url {
        Some(url) => split_sslmode(url)?,
        None => (String::new(), None),
    };
    let mut config = if rest.is_empty() {
        Config::new()
    } else {
        rest.parse::<Config>().map_err(|e| DbError::BadUrl {
            url: redact(url.unwrap_or_default()),
            reason: e.to_string(),
        })?
    };
    if config.get_hosts().is_empty() {
        let host = env("PGHOST").unwrap_or_else(default_host);
        config.host(&host);
    }
    if config.get_ports().is_empty() {
        let port = env("PGPORT").map_or(Ok(5432), |p| {
            p.parse::<u16>().map_err(|_| DbError::BadUrl {
                url: format!("PGPORT={p}"),
                reason: "the port is not a number from 1 to 65535".to_owned(),
            })
        })?;
        config.port(port);
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".to_owned());
        config.user(&user);
    }
    if config.get_password().is_none() {
        if let Some(password) = env("PGPASSWORD") {
            config.password(password);
        }
    }
    if config.get_dbname().is_none() {
        let database =
            env("PGDATABASE").unwrap_or_else(|| config.get_user().unwrap_or("postgres").to_owned());
        config.dbname(&database);
    }
    let mode = match mode_in_url.or_else(|| env("PGSSLMODE")) {
        Some(mode) => SslMode::parse(&mode).ok_or_else(|| DbError::BadUrl {
            url: redact(url.unwrap_or("PGSSLMODE")),
            reason: format!("sslmode '{mode}' is not one of disable, allow, prefer, require, verify-ca, verify-full"),
        })?,
        None => SslMode::Prefer,
    };
    Ok((config, mode))
}

/// libpq's default: the Debian socket directory when it exists, else localhost.
fn default_host() -> String {
    if std::path::Path::new("/var/run/postgresql").is_dir() {
        "/var/run/postgresql".to_owned()
    } else {
        "localhost".to_owned()
    }
}

/// Take `sslmode` out of a URL's query string or a key=value string (plumb handles it, with
/// libpq's verify-ca and verify-full that tokio-postgres does not know).
fn split_sslmode(url: &str) -> Result<(String, Option<String>), DbError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return Ok((url.to_owned(), None));
        };
        let mut mode = None;
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| match pair.strip_prefix("sslmode=") {
                Some(value) => {
                    mode = Some(value.to_owned());
                    false
                }
                None => !pair.is_empty(),
            })
            .collect();
        let rest = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok((rest, mode));
    }
    if url.contains("://") {
        return Err(DbError::BadUrl {
            url: redact(url),
            reason: "the scheme must be postgres:// or postgresql://".to_owned(),
        });
    }
    let mut mode = None;
    let kept: Vec<&str> = url
        .split_whitespace()
        .filter(|pair| match pair.strip_prefix("sslmode=") {
            Some(value) => {
                mode = Some(value.to_owned());
                false
            }
            None => true,
        })
        .collect();
    if !kept.is_empty() && !kept.iter().all(|p| p.contains('=')) {
        return Err(DbError::BadUrl {
            url: redact(url),
            reason: "it is neither a postgres:// URL nor libpq key=value pairs".to_owned(),
        });
    }
    Ok((kept.join(" "), mode))
}

/// The URL with its password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url
            .split_whitespace()
            .map(|p| {
                if p.starts_with("password=") {
                    "password=***"
                } else {
                    p
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            let hidden = if credentials.contains(':') {
                ":***"
            } else {
                ""
            };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// `user@host:port/database`.
pub fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or("?")
    )
}

fn connect_error(config: &Config, target: &str, error: tokio_postgres::Error) -> DbError {
    let user = config.get_user().unwrap_or("?").to_owned();
    if let Some(db) = error.as_db_error() {
        let code = db.code().code().to_owned();
        let message = db.message().to_owned();
        return match code.as_str() {
            "28P01" => DbError::Auth {
                target: target.to_owned(),
                user,
                message,
            },
            _ => DbError::Refused {
                target: target.to_owned(),
                message,
                code,
            },
        };
    }
    let text = full_text(&error);
    if text.contains("password missing") {
        return DbError::Auth {
            target: target.to_owned(),
            user,
            message: "the server asks for a password and none was given".to_owned(),
        };
    }
    if text.contains("TLS") || text.contains("tls") || text.contains("certificate") {
        return DbError::Tls {
            target: target.to_owned(),
            reason: text,
        };
    }
    DbError::Unreachable {
        target: target.to_owned(),
        reason: text,
    }
}

fn query_error(target: &str, what: &str, error: &tokio_postgres::Error) -> DbError {
    if let Some(db) = error.as_db_error() {
        let mut message = db.message().to_owned();
        if let Some(detail) = db.detail() {
            message.push_str(&format!(" ({detail})"));
        }
        if let Some(tokio_postgres::error::ErrorPosition::Original(at)) = db.position() {
            message.push_str(&format!(" at character {at}"));
        }
        return DbError::Query {
            what: what.to_owned(),
            message,
            code: Some(db.code().code().to_owned()),
            server_hint: db.hint().map(str::to_owned),
        };
    }
    if error.is_closed() {
        return DbError::Connection {
            target: target.to_owned(),
            reason: full_text(error),
        };
    }
    DbError::Query {
        what: what.to_owned(),
        message: full_text(error),
        code: None,
        server_hint: None,
    }
}

/// The error and its causes in one line.
fn full_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_hidden() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/shop?sslmode=require"),
            "postgres://app:***@db:5432/shop?sslmode=require"
        );
        assert_eq!(
            redact("host=db password=x user=a"),
            "host=db password=*** user=a"
        );
    }

    #[test]
    fn sslmode_is_taken_out_of_the_url() {
        let (rest, mode) =
            split_sslmode("postgres://a@h/d?sslmode=verify-full&connect_timeout=3").unwrap();
        assert_eq!(rest, "postgres://a@h/d?connect_timeout=3");
        assert_eq!(mode.as_deref(), Some("verify-full"));
    }

    #[test]
    fn other_schemes_are_refused() {
        let error = split_sslmode("mysql://a@h/d").unwrap_err();
        assert!(error.to_string().contains("postgres://"), "{error}");
    }
}
