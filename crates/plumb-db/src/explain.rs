//! `plumb db explain`: EXPLAIN (FORMAT JSON) one statement safely. Without `--analyze` nothing
//! runs: the plan is asked for in the session's read-only transaction, and a statement with `$n`
//! parameters (pg_stat_statements' text) is prepared and its generic plan explained. With
//! `--analyze` it runs inside a transaction that is always rolled back, under the statement
//! timeout. The extended protocol refuses a second statement, so `...; COMMIT; ...` cannot slip
//! past the rollback.

use crate::catalog::LiveCatalog;
use crate::connect::{Session, MARKER};
use crate::error::DbError;
use crate::plan;
use plumb_schema::db::{ExplainResult, DB_SCHEMA_VERSION};
use serde_json::Value;

/// What to explain.
#[derive(Debug, Clone)]
pub struct ExplainSettings {
    /// The statement.
    pub sql: String,
    /// Run it (in a rolled-back transaction) for actual rows and times.
    pub analyze: bool,
}

/// Explain `settings.sql` and read its insights.
pub fn explain(session: &Session, settings: &ExplainSettings) -> Result<ExplainResult, DbError> {
    let sql = settings.sql.trim().trim_end_matches(';').trim();
    if sql.is_empty() {
        return Err(DbError::Refusal(
            "there is no statement to explain".to_owned(),
            "pass it as the last argument: plumb db explain URL 'SELECT ...'".to_owned(),
        ));
    }
    let parameters = parameter_count(sql);
    if settings.analyze && parameters > 0 {
        return Err(DbError::Refusal(
            format!("the statement has ${parameters} parameters, which --analyze cannot run with"),
            "put values in place of the $n parameters to run it, or leave out --analyze for its generic plan".to_owned(),
        ));
    }
    let explained = if settings.analyze {
        analyzed(session, sql)?
    } else {
        planned(session, sql, parameters)?
    };
    Ok(result(
        session,
        sql,
        settings.analyze,
        parameters > 0,
        explained,
    ))
}

fn result(
    session: &Session,
    sql: &str,
    analyzed: bool,
    generic: bool,
    plan: Value,
) -> ExplainResult {
    let catalog = LiveCatalog::new(session);
    let root = plan::root(&plan);
    let number = |key: &str| plan.get(0).and_then(|p| p.get(key)).and_then(Value::as_f64);
    ExplainResult {
        schema_version: DB_SCHEMA_VERSION,
        kind: "db-explain".to_owned(),
        sql: sql.to_owned(),
        analyzed,
        generic_plan: generic,
        total_cost: root
            .and_then(|r| r.0.get("Total Cost"))
            .and_then(Value::as_f64)
            .unwrap_or(0.0),
        execution_ms: number("Execution Time"),
        planning_ms: number("Planning Time"),
        insights: plan::insights(&plan, &catalog),
        outline: root.map(plan::outline).unwrap_or_default(),
        plan,
    }
}

/// The plan of `sql` without running it; a statement with `$n` parameters is prepared and its
/// generic plan explained.
pub fn planned(session: &Session, sql: &str, parameters: usize) -> Result<Value, DbError> {
    if parameters == 0 {
        return first_plan(session, "EXPLAIN (FORMAT JSON, VERBOSE) ", sql);
    }
    let prepare = "PREPARE plumb_generic AS ";
    session
        .execute("the statement", &format!("{prepare}{sql}"))
        .map_err(|e| relative_to_statement(e, prepare))?;
    let nulls = vec!["NULL"; parameters].join(", ");
    let plan = session
        .execute(
            "choosing the generic plan",
            "SET plan_cache_mode = force_generic_plan",
        )
        .and_then(|_| {
            first_plan(
                session,
                "EXPLAIN (FORMAT JSON, VERBOSE) ",
                &format!("EXECUTE plumb_generic({nulls})"),
            )
        });
    let _ = session.execute("resetting plan_cache_mode", "RESET plan_cache_mode");
    let _ = session.execute("deallocating the statement", "DEALLOCATE plumb_generic");
    plan
}

fn analyzed(session: &Session, sql: &str) -> Result<Value, DbError> {
    // READ WRITE overrides the session's read-only default for this transaction alone, which
    // is always rolled back.
    session.execute("starting the transaction", "BEGIN READ WRITE")?;
    let plan = first_plan(
        session,
        "EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) ",
        sql,
    );
    let rolled_back = session.execute("rolling back", "ROLLBACK");
    let plan = plan?;
    rolled_back?;
    Ok(plan)
}

fn first_plan(session: &Session, explain: &str, sql: &str) -> Result<Value, DbError> {
    let rows = session
        .rows("the statement", &format!("{explain}{sql}"))
        .map_err(|e| relative_to_statement(e, explain))?;
    rows.first()
        .and_then(|r| r.try_get::<_, Value>(0).ok())
        .ok_or_else(|| DbError::Query {
            what: "the statement".to_owned(),
            message: "EXPLAIN returned no plan".to_owned(),
            code: None,
            server_hint: None,
        })
}

/// Make the server's "at character N" count from the start of the user's statement, not from
/// plumb's marker and `EXPLAIN (...)` before it.
fn relative_to_statement(error: DbError, prefix: &str) -> DbError {
    let DbError::Query {
        what,
        message,
        code,
        server_hint,
    } = error
    else {
        return error;
    };
    let shift = MARKER.chars().count() + 1 + prefix.chars().count();
    let message = match message.rsplit_once(" at character ") {
        Some((text, at)) => match at.parse::<usize>() {
            Ok(at) if at > shift => format!("{text} at character {}", at - shift),
            _ => message.clone(),
        },
        None => message,
    };
    DbError::Query {
        what,
        message,
        code,
        server_hint,
    }
}

/// The highest `$n` in `sql` outside string literals and quoted names.
pub fn parameter_count(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let mut highest = 0;
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if b == b'$' => {
                let digits: String = sql[i + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(n) = digits.parse::<usize>() {
                    highest = highest.max(n);
                }
            }
            None => {}
        }
        i += 1;
    }
    highest
}

#[cfg(test)]
mod tests {
    use super::parameter_count;

    #[test]
    fn parameters_are_counted_outside_literals() {
        assert_eq!(
            parameter_count("SELECT * FROM t WHERE a = $1 AND b = $12"),
            12
        );
        assert_eq!(parameter_count("SELECT '$3' FROM t"), 0);
        assert_eq!(parameter_count("SELECT 1"), 0);
    }
}
