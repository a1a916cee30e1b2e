//! The SQLite store: open (create, WAL, busy timeout, migrate), save a run in one transaction, list
//! runs, resolve what a user types into a run, and name baselines.

use crate::context::{GitInfo, HostFingerprint};
use crate::migrate::{migrate, Migrated, SCHEMA_VERSION};
use crate::run::{Labels, NewRun, ReadResult, RunKind, RunRecord, RunResult, RunSummary};
use crate::LedgerError;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a writer waits for another one before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// `PRAGMA journal_mode = WAL`, retried while another process holds the file: SQLite answers a
/// journal-mode change with "database is locked" at once, without its busy handler, when two
/// processes open a new ledger together.
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            done => return done,
        }
    }
}

/// Separates `key=value` pairs in the label column of a history query (ASCII unit separator).
const LABEL_SEPARATOR: char = '\u{1f}';

/// An open ledger.
#[derive(Debug)]
pub struct Ledger {
    pub(crate) conn: Connection,
    path: PathBuf,
}

/// Which runs `plumb history` lists.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// Only runs with this `--name`.
    pub name: Option<String>,
    /// Only runs carrying every one of these labels.
    pub labels: Labels,
    /// At most this many runs (newest first); `None` for all.
    pub limit: Option<u64>,
}

/// A named baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The baseline's name.
    pub name: String,
    /// The run it points to.
    pub run_id: String,
    /// When it was set, RFC 3339 UTC.
    pub set_at: String,
    /// The run's one-line summary.
    pub headline: String,
}

const SUMMARY_COLUMNS: &str = "id, kind, name, started_at, git_commit, git_dirty, interrupted, \
     headline, (SELECT group_concat(key || '=' || value, char(31)) FROM labels WHERE run_id = runs.id)";

const RECORD_COLUMNS: &str = "id, name, started_at, ended_at, command_line, plumb_version, \
     git_commit, git_dirty, host, result";

impl Ledger {
    /// Open the ledger at `path`, creating its directory and database on first use and migrating
    /// an older schema.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| LedgerError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let sqlite = |action| {
            let path = path.to_path_buf();
            move |source| LedgerError::Sqlite {
                path,
                action,
                source,
            }
        };
        let mut conn = Connection::open(path).map_err(sqlite("open"))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite("open"))?;
        switch_to_wal(&conn).map_err(sqlite("switch to WAL mode"))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite("open"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sqlite("open"))?;
        match migrate(&mut conn).map_err(sqlite("migrate the schema"))? {
            Migrated::TooNew(found) => Err(LedgerError::TooNew {
                path: path.to_path_buf(),
                found,
                supported: SCHEMA_VERSION,
            }),
            Migrated::Current | Migrated::From(_) => Ok(Ledger {
                conn,
                path: path.to_path_buf(),
            }),
        }
    }

    /// Open the ledger at `path` for reading only: nothing is created, the journal mode is left
    /// as it is, and a read-only file or directory is fine. [`LedgerError::Missing`] when there
    /// is no ledger there yet; an older schema is migrated (which needs write access).
    pub fn open_read_only(path: &Path) -> Result<Ledger, LedgerError> {
        if !path.exists() {
            return Err(LedgerError::Missing {
                path: path.to_path_buf(),
            });
        }
        let sqlite = |action| {
            let path = path.to_path_buf();
            move |source| LedgerError::Sqlite {
                path,
                action,
                source,
            }
        };
        let conn = open_for_reading(path).map_err(sqlite("open"))?;
        let ledger = Ledger {
            conn,
            path: path.to_path_buf(),
        };
        let found = ledger.schema_version()?;
        if found > SCHEMA_VERSION {
            return Err(LedgerError::TooNew {
                path: path.to_path_buf(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            drop(ledger);
            return Ledger::open(path);
        }
        Ok(ledger)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, LedgerError> {
        self.conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(self.sqlite("read the schema version"))
    }

    pub(crate) fn sqlite(
        &self,
        action: &'static str,
    ) -> impl FnOnce(rusqlite::Error) -> LedgerError + '_ {
        move |source| LedgerError::Sqlite {
            path: self.path.clone(),
            action,
            source,
        }
    }

    /// Save a run in one transaction and return its new id.
    pub fn save(&mut self, run: &NewRun) -> Result<String, LedgerError> {
        let host = serde_json::to_string(&run.host).expect("a fingerprint serializes");
        self.insert(run, &host)
    }

    /// Store the result read from `file` (`plumb baseline set NAME FILE`) and return its id; a
    /// result stored before (saved when it ran, or imported already) is not stored twice. It is
    /// dated by the result's own start time, else the file's modification time, so that it does
    /// not become `latest`; its host is unknown.
    pub fn import(&mut self, file: &Path, result: RunResult) -> Result<String, LedgerError> {
        if let Some(id) = self.find_result(&result)? {
            return Ok(id);
        }
        let modified = std::fs::metadata(file).and_then(|m| m.modified()).ok();
        let started_at = match &result {
            RunResult::Load(r) => humantime::parse_rfc3339_weak(&r.started_at).ok(),
            RunResult::Capacity(r) => humantime::parse_rfc3339_weak(&r.started_at).ok(),
            RunResult::Page(r) => humantime::parse_rfc3339_weak(&r.started_at).ok(),
            RunResult::Bench(_) | RunResult::Profile(_) => None,
        }
        .or(modified)
        .unwrap_or_else(SystemTime::now);
        let plumb_version = match &result {
            RunResult::Load(r) => r.plumb_version.clone(),
            RunResult::Bench(r) => r.plumb_version.clone(),
            RunResult::Profile(r) => r.plumb_version.clone(),
            RunResult::Capacity(r) => r.plumb_version.clone(),
            RunResult::Page(r) => r.plumb_version.clone(),
        };
        let run = NewRun {
            name: None,
            labels: Labels::new(),
            started_at,
            ended_at: modified.unwrap_or(started_at),
            command_line: format!("imported from {}", file.display()),
            plumb_version,
            git: None,
            host: HostFingerprint::default(),
            result,
        };
        self.insert(&run, "null")
    }

    fn insert(&mut self, run: &NewRun, host: &str) -> Result<String, LedgerError> {
        let id = new_id(run.started_at);
        let path = self.path.clone();
        let fail = |source| LedgerError::Sqlite {
            path: path.clone(),
            action: "save a run",
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        tx.execute(
            "INSERT INTO runs (id, kind, name, started_at, ended_at, command_line, settings,
                plumb_version, git_commit, git_dirty, host, interrupted, headline, result)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                id,
                run.result.kind().as_str(),
                run.name,
                rfc3339(run.started_at),
                rfc3339(run.ended_at),
                run.command_line,
                run.result.settings_json(),
                run.plumb_version,
                run.git.as_ref().map(|g| g.commit.clone()),
                run.git.as_ref().map(|g| g.dirty),
                host,
                run.result.interrupted(),
                run.result.headline(),
                run.result.to_json(),
            ],
        )
        .map_err(fail)?;
        for (key, value) in &run.labels {
            tx.execute(
                "INSERT INTO labels (run_id, key, value) VALUES (?1, ?2, ?3)",
                params![id, key, value],
            )
            .map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
        Ok(id)
    }

    /// Runs matching `filter`, newest first.
    pub fn history(&self, filter: &HistoryFilter) -> Result<Vec<RunSummary>, LedgerError> {
        let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM runs WHERE (?1 IS NULL OR name = ?1)");
        let mut values: Vec<String> = Vec::new();
        for (key, value) in &filter.labels {
            let k = values.len() + 2;
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM labels WHERE run_id = runs.id AND key = ?{k} AND value = ?{})",
                k + 1
            ));
            values.push(key.clone());
            values.push(value.clone());
        }
        sql.push_str(" ORDER BY id DESC");
        if let Some(limit) = filter.limit {
            // SQLite's LIMIT is a signed 64-bit integer; more than that is every run anyway.
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut params: Vec<&dyn rusqlite::ToSql> = vec![&filter.name];
        params.extend(values.iter().map(|v| v as &dyn rusqlite::ToSql));
        let mut stmt = self.conn.prepare(&sql).map_err(self.sqlite("list runs"))?;
        let rows = stmt
            .query_map(params.as_slice(), summary_of)
            .map_err(self.sqlite("list runs"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.sqlite("list runs"))
    }

    /// The number of runs stored.
    pub fn count(&self) -> Result<u64, LedgerError> {
        self.conn
            .query_row("SELECT count(*) FROM runs", [], |row| row.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(self.sqlite("count runs"))
    }

    /// The id of a stored run whose result is `result` (a result file saved before). Numbers are
    /// compared to 1e-12 relative: a float read back from JSON may differ in its last bit.
    pub fn find_result(&self, result: &RunResult) -> Result<Option<String>, LedgerError> {
        let wanted: serde_json::Value =
            serde_json::from_str(&result.to_json()).expect("a result's JSON parses");
        let mut stmt = self
            .conn
            .prepare("SELECT id, result FROM runs WHERE kind = ?1 AND headline = ?2 ORDER BY id")
            .map_err(self.sqlite("find a run"))?;
        let rows = stmt
            .query_map([result.kind().as_str(), &result.headline()], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(self.sqlite("find a run"))?;
        for row in rows {
            let (id, stored) = row.map_err(self.sqlite("find a run"))?;
            let stored = serde_json::from_str(&stored).unwrap_or(serde_json::Value::Null);
            if same_json(&stored, &wanted) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// Resolve `latest`, `latest~N`, `baseline:NAME` or an id prefix into a stored run.
    pub fn resolve(&self, reference: &str) -> Result<RunRecord, LedgerError> {
        let id = self.resolve_id(reference)?;
        self.get(&id)
    }

    /// Like [`Ledger::resolve`], but only the id.
    pub fn resolve_id(&self, reference: &str) -> Result<String, LedgerError> {
        let unknown = || LedgerError::UnknownRun {
            reference: reference.to_owned(),
        };
        if let Some(name) = reference.strip_prefix("baseline:") {
            return self.baseline_run(name);
        }
        let back = match reference.strip_prefix("latest") {
            Some("") => Some(0),
            Some(rest) => Some(
                rest.strip_prefix('~')
                    .and_then(|n| n.parse::<u64>().ok())
                    .ok_or_else(unknown)?,
            ),
            None => None,
        };
        if let Some(back) = back {
            return self
                .conn
                .query_row(
                    "SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?1",
                    [i64::try_from(back).unwrap_or(i64::MAX)],
                    |row| row.get(0),
                )
                .optional()
                .map_err(self.sqlite("find a run"))?
                .ok_or_else(unknown);
        }
        self.by_prefix(reference)
    }

    fn by_prefix(&self, prefix: &str) -> Result<String, LedgerError> {
        let unknown = || LedgerError::UnknownRun {
            reference: prefix.to_owned(),
        };
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(unknown());
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id FROM runs WHERE id >= ?1 AND substr(id, 1, ?2) = ?1 ORDER BY id LIMIT 4",
            )
            .map_err(self.sqlite("find a run"))?;
        let ids: Vec<String> = stmt
            .query_map(
                params![prefix.to_ascii_lowercase(), prefix.len() as i64],
                |row| row.get(0),
            )
            .map_err(self.sqlite("find a run"))?
            .collect::<Result<_, _>>()
            .map_err(self.sqlite("find a run"))?;
        match ids.as_slice() {
            [] => Err(unknown()),
            [one] => Ok(one.clone()),
            many => Err(LedgerError::AmbiguousRun {
                reference: prefix.to_owned(),
                candidates: many.join(", "),
            }),
        }
    }

    /// The run with exactly this id.
    pub fn get(&self, id: &str) -> Result<RunRecord, LedgerError> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM runs WHERE id = ?1");
        let raw = self
            .conn
            .query_row(&sql, [id], raw_record)
            .optional()
            .map_err(self.sqlite("read a run"))?
            .ok_or_else(|| LedgerError::UnknownRun {
                reference: id.to_owned(),
            })?;
        let labels = self.labels(id)?;
        raw.into_record(labels)
    }

    fn labels(&self, id: &str) -> Result<Labels, LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM labels WHERE run_id = ?1")
            .map_err(self.sqlite("read labels"))?;
        let rows = stmt
            .query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(self.sqlite("read labels"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.sqlite("read labels"))
    }

    /// Point baseline `name` at the run `reference` resolves to (replacing an earlier one).
    pub fn set_baseline(&mut self, name: &str, reference: &str) -> Result<String, LedgerError> {
        let id = self.resolve_id(reference)?;
        self.conn
            .execute(
                "INSERT INTO baselines (name, run_id, set_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET run_id = excluded.run_id, set_at = excluded.set_at",
                params![name, id, rfc3339(SystemTime::now())],
            )
            .map_err(self.sqlite("set a baseline"))?;
        Ok(id)
    }

    /// Every baseline, by name.
    pub fn baselines(&self) -> Result<Vec<Baseline>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT b.name, b.run_id, b.set_at, r.headline FROM baselines b
                 JOIN runs r ON r.id = b.run_id ORDER BY b.name",
            )
            .map_err(self.sqlite("list baselines"))?;
        let rows = stmt
            .query_map([], |row| {
                Ok(Baseline {
                    name: row.get(0)?,
                    run_id: row.get(1)?,
                    set_at: row.get(2)?,
                    headline: row.get(3)?,
                })
            })
            .map_err(self.sqlite("list baselines"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.sqlite("list baselines"))
    }

    fn baseline_run(&self, name: &str) -> Result<String, LedgerError> {
        self.conn
            .query_row(
                "SELECT run_id FROM baselines WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()
            .map_err(self.sqlite("read a baseline"))?
            .ok_or_else(|| LedgerError::UnknownBaseline {
                name: name.to_owned(),
            })
    }
}

/// Equal JSON, numbers to 1e-12 relative.
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// A read-only connection. A WAL ledger in a directory plumb may not write (so SQLite cannot
/// create its `-shm` file) is opened as immutable instead: nobody can be writing to it there.
fn open_for_reading(path: &Path) -> rusqlite::Result<Connection> {
    let read_only = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, read_only)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    match conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0)) {
        Ok(_) => Ok(conn),
        Err(error) if is_cannot_open(&error) => {
            drop(conn);
            let uri = format!("file:{}?immutable=1", uri_path(path));
            Connection::open_with_flags(uri, read_only | OpenFlags::SQLITE_OPEN_URI)
        }
        Err(error) => Err(error),
    }
}

fn is_cannot_open(error: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode as Code;
    matches!(
        error.sqlite_error_code(),
        Some(Code::CannotOpen) | Some(Code::ReadOnly)
    )
}

/// `path` as the path of a `file:` URI (`%`, `?` and `#` escaped; made absolute).
fn uri_path(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for byte in absolute.as_os_str().as_encoded_bytes() {
        match byte {
            b'%' | b'?' | b'#' => out.push_str(&format!("%{byte:02X}")),
            _ if byte.is_ascii() => out.push(char::from(*byte)),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn summary_of(row: &Row<'_>) -> rusqlite::Result<RunSummary> {
    let kind: String = row.get(1)?;
    let labels: Option<String> = row.get(8)?;
    Ok(RunSummary {
        id: row.get(0)?,
        kind: RunKind::parse(&kind).unwrap_or(RunKind::Load),
        name: row.get(2)?,
        started_at: row.get(3)?,
        git: git_of(row.get(4)?, row.get(5)?),
        interrupted: row.get(6)?,
        headline: row.get(7)?,
        labels: labels.map(|l| parse_labels(&l)).unwrap_or_default(),
    })
}

fn parse_labels(text: &str) -> Labels {
    text.split(LABEL_SEPARATOR)
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn git_of(commit: Option<String>, dirty: Option<bool>) -> Option<GitInfo> {
    commit.map(|commit| GitInfo {
        commit,
        dirty: dirty.unwrap_or(false),
    })
}

/// The columns of a run before its JSON is parsed.
struct RawRecord {
    id: String,
    name: Option<String>,
    started_at: String,
    ended_at: String,
    command_line: String,
    plumb_version: String,
    git: Option<GitInfo>,
    host: String,
    result: String,
}

fn raw_record(row: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok(RawRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        started_at: row.get(2)?,
        ended_at: row.get(3)?,
        command_line: row.get(4)?,
        plumb_version: row.get(5)?,
        git: git_of(row.get(6)?, row.get(7)?),
        host: row.get(8)?,
        result: row.get(9)?,
    })
}

impl RawRecord {
    fn into_record(self, labels: Labels) -> Result<RunRecord, LedgerError> {
        let result = RunResult::from_json(&self.id, &self.result)?;
        let host: Option<HostFingerprint> = serde_json::from_str(&self.host).ok();
        Ok(RunRecord {
            id: self.id,
            name: self.name,
            labels,
            started_at: self.started_at,
            ended_at: self.ended_at,
            command_line: self.command_line,
            plumb_version: self.plumb_version,
            git: self.git,
            host,
            result,
        })
    }
}

/// RFC 3339 UTC with milliseconds.
fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// A new run id: 12 hex digits of Unix milliseconds (so ids sort by time) and 8 random ones.
fn new_id(started_at: SystemTime) -> String {
    let millis = started_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    format!("{millis:012x}{:08x}", random_u32())
}

fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    let from_os = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if from_os {
        return u32::from_le_bytes(bytes);
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    nanos ^ std::process::id().rotate_left(16)
}
