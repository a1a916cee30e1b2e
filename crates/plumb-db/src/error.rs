//! Errors of `plumb db`: each names the thing at fault (the server, the role, the statement) and
//! carries a hint saying what to do, as data, so the binary prints it after the cause.

use std::time::Duration;

/// Why plumb could not talk to the database or get an answer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL (or a libpq variable) cannot be read.
    #[error("bad database URL {url}: {reason}")]
    BadUrl {
        /// The URL, its password hidden.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing answered at the address.
    #[error("cannot reach PostgreSQL at {target}: {reason}")]
    Unreachable {
        /// host:port/database.
        target: String,
        /// The operating system's or driver's words.
        reason: String,
    },
    /// The server did not answer in time.
    #[error("{what} at {target} did not finish within {}s", .after.as_secs_f64())]
    Timeout {
        /// host:port/database.
        target: String,
        /// What timed out (connecting, a query).
        what: String,
        /// The limit.
        after: Duration,
    },
    /// The server refused the role's credentials.
    #[error("PostgreSQL at {target} refused role {user}: {message}")]
    Auth {
        /// host:port/database.
        target: String,
        /// The role.
        user: String,
        /// The server's message.
        message: String,
    },
    /// The server refused the connection for another reason (no database, too many clients).
    #[error("PostgreSQL at {target} refused the connection: {message}")]
    Refused {
        /// host:port/database.
        target: String,
        /// The server's message.
        message: String,
        /// The SQLSTATE code.
        code: String,
    },
    /// TLS could not be set up as `sslmode` asks.
    #[error("TLS to {target} failed: {reason}")]
    Tls {
        /// host:port/database.
        target: String,
        /// Why.
        reason: String,
    },
    /// A statement failed.
    #[error("{what} failed: {message}")]
    Query {
        /// What plumb was doing, or the user's statement.
        what: String,
        /// The server's message (with the position in the statement, when it gave one).
        message: String,
        /// The SQLSTATE code, when the server sent one.
        code: Option<String>,
        /// The server's own hint, if any.
        server_hint: Option<String>,
    },
    /// The connection broke.
    #[error("the connection to {target} broke: {reason}")]
    Connection {
        /// host:port/database.
        target: String,
        /// Why.
        reason: String,
    },
    /// The request itself cannot be honoured (an empty statement, a refused flag combination).
    #[error("{0}")]
    Refusal(String, String),
}

impl DbError {
    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            DbError::BadUrl { .. } => "write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable|prefer|require, or leave it out and set PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE".to_owned(),
            DbError::Unreachable { .. } => "is PostgreSQL running there? Check the host and port (or PGHOST/PGPORT), listen_addresses in postgresql.conf, and any firewall".to_owned(),
            DbError::Timeout { what, .. } if what.starts_with("connecting") => "the server or the network is slow or dropping packets; raise --connect-timeout, or check the host and port".to_owned(),
            DbError::Timeout { .. } => "raise --statement-timeout, or run it when the database is less busy".to_owned(),
            DbError::Auth { user, .. } => format!("check the password for role {user} (in the URL or PGPASSWORD) and that pg_hba.conf lets it connect from here"),
            DbError::Refused { code, .. } => refused_hint(code),
            DbError::Tls { .. } => "use sslmode=disable for a server without TLS, or sslmode=require to encrypt without checking the certificate".to_owned(),
            DbError::Query { code, server_hint, .. } => query_hint(code.as_deref(), server_hint.as_deref()),
            DbError::Connection { .. } => "the server may have restarted or ended the session (idle_session_timeout, pg_terminate_backend); run plumb again".to_owned(),
            DbError::Refusal(_, hint) => hint.clone(),
        }
    }
}

fn refused_hint(code: &str) -> String {
    match code {
        "3D000" => {
            "check the database name at the end of the URL (or PGDATABASE); `psql -l` lists them"
                .to_owned()
        }
        "53300" => {
            "the server is at max_connections: close idle sessions or use a pooler, then retry"
                .to_owned()
        }
        "57P03" => {
            "the server is starting up, shutting down or in recovery; retry in a moment".to_owned()
        }
        _ => "check pg_hba.conf on the server: it decides who may connect from where".to_owned(),
    }
}

fn query_hint(code: Option<&str>, server_hint: Option<&str>) -> String {
    match code {
        Some("42501") => "connect as a role that may read the statistics: GRANT pg_read_all_stats TO your_role (or pg_monitor)".to_owned(),
        Some("57014") => "it hit the statement timeout: raise --statement-timeout, or explain it without --analyze".to_owned(),
        Some("25006") => "plumb reads only, unless a command says otherwise: this statement needs to write".to_owned(),
        Some(code) if code.starts_with("42") => server_hint.map_or_else(
            || "check the statement's syntax and the names of its tables and columns".to_owned(),
            str::to_owned,
        ),
        _ => server_hint.map_or_else(
            || "see the server's message above; the server log may say more".to_owned(),
            str::to_owned,
        ),
    }
}
