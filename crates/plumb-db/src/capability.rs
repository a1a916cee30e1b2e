//! What plumb needs from the server, checked first: pg_stat_statements preloaded and created,
//! the role's right to see every session's statistics, track_io_timing, HypoPG. Each missing
//! piece is reported with how to turn it on, and the report works with whatever is there.

use crate::connect::Session;
use crate::error::DbError;
use plumb_schema::db::{Capability, CapabilityStatus, ServerInfo};

/// The checks' results, and what the report may use.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// The server and session.
    pub server: ServerInfo,
    /// Each check, for the report.
    pub list: Vec<Capability>,
    /// pg_stat_statements can be read.
    pub statements: bool,
    /// HypoPG's functions are there.
    pub hypopg: bool,
}

/// Run every check.
pub fn check(session: &Session) -> Result<Capabilities, DbError> {
    let server = server_info(session)?;
    let (statements, mut list) = statements_checks(session, server.version_num)?;
    list.push(privilege_check(session, &server.user)?);
    list.push(io_timing_check(session)?);
    let hypo = hypopg_check(session, server.version_num)?;
    let hypopg = hypo.status == CapabilityStatus::Ok;
    list.push(hypo);
    Ok(Capabilities {
        server,
        list,
        statements,
        hypopg,
    })
}

fn server_info(session: &Session) -> Result<ServerInfo, DbError> {
    let rows = session.rows(
        "reading the server's version",
        "SELECT current_setting('server_version'), current_setting('server_version_num')::int4, \
         current_database()::text, current_user::text, \
         (SELECT stats_reset::text FROM pg_stat_database WHERE datname = current_database()), \
         (SELECT extract(epoch FROM now() - stats_reset)::float8 FROM pg_stat_database \
          WHERE datname = current_database())",
    )?;
    let row = &rows[0];
    Ok(ServerInfo {
        version: row.get(0),
        version_num: row.get(1),
        database: row.get(2),
        user: row.get(3),
        stats_since: row.get(4),
        stats_age_secs: row.get(5),
    })
}

fn ok(name: &str, detail: String) -> Capability {
    Capability {
        name: name.to_owned(),
        status: CapabilityStatus::Ok,
        detail,
        hint: None,
    }
}

fn lacking(name: &str, status: CapabilityStatus, detail: String, hint: String) -> Capability {
    Capability {
        name: name.to_owned(),
        status,
        detail,
        hint: Some(hint),
    }
}

fn statements_checks(session: &Session, version: i32) -> Result<(bool, Vec<Capability>), DbError> {
    let rows = session.rows(
        "checking pg_stat_statements",
        "SELECT (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'), \
         (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements')",
    )?;
    // Hidden from roles without pg_read_all_settings: then reading the view tells.
    let preload: Option<String> = rows[0].get(0);
    let version_created: Option<String> = rows[0].get(1);
    let loaded = preload
        .as_deref()
        .is_none_or(|p| p.split(',').any(|l| l.trim() == "pg_stat_statements"));
    let preload = preload.unwrap_or_default();
    let name = "pg_stat_statements";
    if version < 130000 {
        return Ok((false, vec![lacking(name, CapabilityStatus::Missing,
            format!("server version {version} is older than 13, whose pg_stat_statements plumb reads"),
            "upgrade to PostgreSQL 13 or newer for the statement sections".to_owned())]));
    }
    let check = match (loaded, version_created) {
        (false, _) => lacking(name, CapabilityStatus::Missing,
            format!("not in shared_preload_libraries ('{preload}')"),
            "add it in postgresql.conf: shared_preload_libraries = 'pg_stat_statements' (a restart is needed), then CREATE EXTENSION pg_stat_statements;".to_owned()),
        (true, None) => lacking(name, CapabilityStatus::Missing,
            "loaded, but the extension is not created in this database".to_owned(),
            "CREATE EXTENSION pg_stat_statements; (as a superuser, in this database)".to_owned()),
        (true, Some(v)) => match session.rows("reading pg_stat_statements", "SELECT count(*) FROM pg_stat_statements") {
            Ok(_) => ok(name, format!("version {v}, loaded and readable")),
            Err(e) => lacking(name, CapabilityStatus::Missing, format!("created, but cannot be read: {e}"), e.hint()),
        },
    };
    let readable = check.status == CapabilityStatus::Ok;
    Ok((readable, vec![check]))
}

fn privilege_check(session: &Session, user: &str) -> Result<Capability, DbError> {
    let rows = session.rows(
        "checking the role's privileges",
        "SELECT rolsuper, pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') \
         FROM pg_roles WHERE rolname = current_user",
    )?;
    let (superuser, all_stats): (bool, bool) = rows
        .first()
        .map_or((false, false), |r| (r.get(0), r.get(1)));
    let name = "statistics privileges";
    Ok(match (superuser, all_stats) {
        (true, _) => ok(name, format!("{user} is a superuser: every session and statement is visible")),
        (false, true) => ok(name, format!("{user} is a member of pg_read_all_stats")),
        _ => lacking(name, CapabilityStatus::Limited,
            format!("{user} is neither a superuser nor a member of pg_read_all_stats: other roles' statement texts and queries show as <insufficient privilege>"),
            format!("GRANT pg_read_all_stats TO {user}; (or pg_monitor)")),
    })
}

fn io_timing_check(session: &Session) -> Result<Capability, DbError> {
    let rows = session.rows(
        "reading track_io_timing",
        "SELECT current_setting('track_io_timing')",
    )?;
    let value: String = rows[0].get(0);
    let name = "track_io_timing";
    Ok(if value == "on" {
        ok(
            name,
            "on: block read and write times are recorded".to_owned(),
        )
    } else {
        lacking(name, CapabilityStatus::Limited,
            "off: statements show blocks read, not the time spent reading them".to_owned(),
            "ALTER SYSTEM SET track_io_timing = on; SELECT pg_reload_conf(); (check its cost first with pg_test_timing)".to_owned())
    })
}

fn hypopg_check(session: &Session, version: i32) -> Result<Capability, DbError> {
    let rows = session.rows(
        "checking HypoPG",
        "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'hypopg'), \
         EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg')",
    )?;
    let created: Option<String> = rows[0].get(0);
    let available: bool = rows[0].get(1);
    let name = "hypopg";
    let major = version / 10000;
    Ok(match (created, available) {
        (Some(v), _) => ok(name, format!("version {v}: suggested indexes are costed as hypothetical indexes (session-local, nothing written)")),
        (None, true) => lacking(name, CapabilityStatus::Missing,
            "installed on the server but not created in this database: suggested indexes are not costed".to_owned(),
            "CREATE EXTENSION hypopg; (its hypothetical indexes live in one session's memory; nothing is written)".to_owned()),
        (None, false) => lacking(name, CapabilityStatus::Missing,
            "not installed: suggested indexes are not costed".to_owned(),
            format!("install it on the server (Debian: apt-get install postgresql-{major}-hypopg), then CREATE EXTENSION hypopg;")),
    })
}
