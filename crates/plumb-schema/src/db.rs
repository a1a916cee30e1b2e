//! Results of `plumb db` (a PostgreSQL report), `plumb db explain` (a plan with its insights) and
//! the database part of `plumb load --db` (what the load cost the database).
//!
//! Times are in milliseconds, ratios are fractions in 0..=1, sizes are bytes. Every finding carries
//! its evidence (the figures it rests on) and the fix it suggests, as SQL where there is one.
//! Versioned by [`DB_SCHEMA_VERSION`]: a field is only ever added, a change of meaning bumps it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the [`DbReport`], [`ExplainResult`] and [`LoadDbStats`] layouts.
pub const DB_SCHEMA_VERSION: u32 = 1;

/// Everything one `plumb db` run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DbReport {
    /// Layout version, [`DB_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always `"db"`.
    pub kind: String,
    /// The server and the session plumb had.
    pub server: ServerInfo,
    /// What plumb needs, whether it has it, and how to turn it on.
    pub capabilities: Vec<Capability>,
    /// Statements from pg_stat_statements; absent when it cannot be read (see `skipped`).
    pub statements: Option<StatementStats>,
    /// Statements that look like one query run in a loop (N+1).
    pub n_plus_one: Vec<NPlusOneSuspect>,
    /// Large tables read by sequential scans, with the index that would serve them.
    pub missing_indexes: Vec<MissingIndex>,
    /// Indexes never scanned since the statistics were reset.
    pub unused_indexes: Vec<UnusedIndex>,
    /// Indexes whose columns another index already covers.
    pub duplicate_indexes: Vec<DuplicateIndex>,
    /// Indexes left invalid (a failed `CREATE INDEX CONCURRENTLY`).
    pub invalid_indexes: Vec<InvalidIndex>,
    /// Foreign keys with no index on the referencing columns.
    pub unindexed_foreign_keys: Vec<UnindexedForeignKey>,
    /// Share of table and index block reads served by shared buffers.
    pub cache: CacheHitRatios,
    /// Client connections by state, against `max_connections`.
    pub connections: Connections,
    /// Queries and transactions running longer than the threshold.
    pub long_running: Vec<Backend>,
    /// Queries waiting on a lock, with the sessions that hold it.
    pub blocked: Vec<BlockedQuery>,
    /// Tables with many dead rows (an estimate of the space they waste).
    pub bloat: Vec<TableBloat>,
    /// Tables that autovacuum should have vacuumed or analyzed by now.
    pub maintenance: Vec<StaleMaintenance>,
    /// Sections that could not run, why, and what would let them.
    pub skipped: Vec<Skipped>,
}

/// The server and the session plumb connected with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerInfo {
    /// `server_version`, for example `15.8 (Debian 15.8-0+deb12u1)`.
    pub version: String,
    /// `server_version_num`, for example 150008.
    pub version_num: i32,
    /// The database analysed.
    pub database: String,
    /// The role plumb connected as.
    pub user: String,
    /// When this database's statistics were last reset (they start then), if known.
    pub stats_since: Option<String>,
    /// Seconds since `stats_since`: how long the unused-index figures have been watched.
    pub stats_age_secs: Option<f64>,
}

/// Whether a capability plumb uses is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CapabilityStatus {
    /// Available.
    Ok,
    /// Available with less detail than it could have.
    Limited,
    /// Not available: the sections that need it are skipped.
    Missing,
}

/// One thing plumb checks before it reads the statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Capability {
    /// What is checked, for example `pg_stat_statements`.
    pub name: String,
    /// Whether it is there.
    pub status: CapabilityStatus,
    /// What plumb found.
    pub detail: String,
    /// How to turn it on, when it is not fully there.
    pub hint: Option<String>,
}

/// pg_stat_statements, read once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StatementStats {
    /// Planning and execution time of all top-level statements of this database.
    pub total_ms: f64,
    /// Calls of all top-level statements of this database.
    pub total_calls: i64,
    /// The statements that took the most time in all.
    pub by_total_time: Vec<Statement>,
    /// The statements slowest per call (among those called at least twice).
    pub by_mean_time: Vec<Statement>,
}

/// One normalized statement of pg_stat_statements (or its change during a load).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Statement {
    /// pg_stat_statements' `queryid`.
    pub queryid: i64,
    /// Normalized text (constants replaced by `$1`, `$2`, ...), whitespace folded.
    pub query: String,
    /// Times it ran.
    pub calls: i64,
    /// Planning and execution time in all.
    pub total_ms: f64,
    /// `total_ms / calls`.
    pub mean_ms: f64,
    /// Rows returned or affected in all.
    pub rows: i64,
    /// Shared blocks found in the buffer cache.
    pub shared_blks_hit: i64,
    /// Shared blocks read from the OS (a cache miss).
    pub shared_blks_read: i64,
    /// Temporary blocks read (sorts and hashes that spilled to disk).
    pub temp_blks_read: i64,
    /// Temporary blocks written.
    pub temp_blks_written: i64,
    /// Share of all statements' time, 0..=1.
    pub time_share: f64,
}

/// A statement that looks like an N+1: many calls, few rows per call, one table looked up by a
/// parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NPlusOneSuspect {
    /// The repeated statement.
    pub statement: Statement,
    /// Rows per call.
    pub rows_per_call: f64,
    /// Calls per request of the load (only in `plumb load --db`).
    pub calls_per_request: Option<f64>,
    /// The figures behind the suspicion, in words.
    pub evidence: String,
    /// What to do about it.
    pub fix: String,
}

/// A large table read by sequential scans, and the index that would serve them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MissingIndex {
    /// `schema.table`.
    pub table: String,
    /// Live rows (pg_stat_user_tables' `n_live_tup`).
    pub live_rows: i64,
    /// Sequential scans since the statistics were reset.
    pub seq_scans: i64,
    /// Rows those scans read.
    pub seq_rows_read: i64,
    /// Index scans since the statistics were reset.
    pub idx_scans: i64,
    /// The filtered columns of the statement whose plan scans the table, most selective first.
    pub columns: Vec<String>,
    /// The statement whose plan filters the table during a sequential scan.
    pub statement: Option<String>,
    /// The index to create, when the columns are known.
    pub suggested_index: Option<String>,
    /// The statement's plan cost with and without the index, when HypoPG is installed.
    pub hypothetical: Option<HypotheticalCost>,
    /// The figures behind the suggestion, in words.
    pub evidence: String,
    /// What to do about it.
    pub fix: String,
}

/// A plan's cost with and without a hypothetical index (HypoPG, session-local, nothing written).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HypotheticalCost {
    /// Total cost of the plan as it is.
    pub cost_before: f64,
    /// Total cost of the plan with the hypothetical index.
    pub cost_after: f64,
    /// Whether the planner chose the hypothetical index.
    pub index_used: bool,
}

/// An index that no scan has used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnusedIndex {
    /// `schema.table`.
    pub table: String,
    /// The index name (schema-qualified when outside the search path).
    pub index: String,
    /// Its size.
    pub size_bytes: i64,
    /// Index scans since the statistics were reset.
    pub scans: i64,
    /// Writes to the table since then (each also writes the index).
    pub table_writes: i64,
    /// The figures behind the finding, in words.
    pub evidence: String,
    /// What to do about it.
    pub fix: String,
}

/// An index whose leading columns another index already has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DuplicateIndex {
    /// `schema.table`.
    pub table: String,
    /// The redundant index.
    pub index: String,
    /// The index that covers it.
    pub covered_by: String,
    /// The redundant index's definition.
    pub definition: String,
    /// The covering index's definition.
    pub covering_definition: String,
    /// Size of the redundant index (what dropping it saves).
    pub size_bytes: i64,
    /// What to do about it.
    pub fix: String,
}

/// An index that is not valid (so it is maintained on writes but never used).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InvalidIndex {
    /// `schema.table`.
    pub table: String,
    /// The index.
    pub index: String,
    /// Its definition.
    pub definition: String,
    /// What to do about it.
    pub fix: String,
}

/// A foreign key whose referencing columns lead no index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnindexedForeignKey {
    /// The referencing table, `schema.table`.
    pub table: String,
    /// The constraint's name.
    pub constraint: String,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub references: String,
    /// Size of the referencing table (what a delete on the referenced table scans).
    pub table_bytes: i64,
    /// What to do about it.
    pub fix: String,
}

/// Buffer cache hit ratios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CacheHitRatios {
    /// Heap blocks hit / (hit + read) over the user tables; absent with no reads yet.
    pub table: Option<f64>,
    /// Index blocks hit / (hit + read) over the user indexes; absent with no reads yet.
    pub index: Option<f64>,
}

/// Client connections by state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Connections {
    /// Client backends (plumb's own included).
    pub total: i64,
    /// The server's `max_connections`.
    pub max_connections: i64,
    /// Running a query.
    pub active: i64,
    /// Waiting for the client.
    pub idle: i64,
    /// Inside a transaction, waiting for the client (holding its locks and snapshot).
    pub idle_in_transaction: i64,
    /// Of those, idle in a transaction for over 5 minutes.
    pub idle_in_transaction_over_5m: i64,
    /// Waiting on a lock.
    pub waiting_on_lock: i64,
}

/// One server process serving a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Backend {
    /// Its process id (`pg_stat_activity.pid`).
    pub pid: i32,
    /// The role.
    pub user: Option<String>,
    /// The client's `application_name`.
    pub application: Option<String>,
    /// `active`, `idle in transaction`, ...
    pub state: Option<String>,
    /// Seconds since its current (or last) query started.
    pub query_secs: Option<f64>,
    /// Seconds since its transaction started.
    pub transaction_secs: Option<f64>,
    /// What it waits for (`Lock: transactionid`), if anything.
    pub wait: Option<String>,
    /// Its current (or, when idle, last) query.
    pub query: Option<String>,
}

/// A query waiting on a lock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BlockedQuery {
    /// The waiting session.
    pub waiting: Backend,
    /// The pids holding what it waits for (`pg_blocking_pids`).
    pub blocked_by: Vec<i32>,
    /// Those sessions.
    pub blockers: Vec<Backend>,
    /// What to do about it.
    pub fix: String,
}

/// A table with many dead rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TableBloat {
    /// `schema.table`.
    pub table: String,
    /// Live rows.
    pub live_rows: i64,
    /// Dead rows not yet vacuumed.
    pub dead_rows: i64,
    /// The table's size with its TOAST.
    pub table_bytes: i64,
    /// Estimated wasted bytes: the table's size times its dead share.
    pub estimated_bloat_bytes: i64,
    /// What to do about it.
    pub fix: String,
}

/// What maintenance is overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceKind {
    /// Dead rows past autovacuum's threshold.
    Vacuum,
    /// Changed rows past autoanalyze's threshold (the planner's statistics are stale).
    Analyze,
}

/// A table whose vacuum or analyze is overdue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StaleMaintenance {
    /// `schema.table`.
    pub table: String,
    /// Vacuum or analyze.
    pub kind: MaintenanceKind,
    /// Dead rows (vacuum) or rows changed since the last analyze.
    pub rows: i64,
    /// Autovacuum's threshold for this table.
    pub threshold: i64,
    /// When it last ran (manually or by autovacuum), if ever.
    pub last_run: Option<String>,
    /// What to do about it.
    pub fix: String,
}

/// A section that did not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Skipped {
    /// The section.
    pub section: String,
    /// Why.
    pub reason: String,
    /// What would let it run.
    pub hint: Option<String>,
}

/// The result of `plumb db explain`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExplainResult {
    /// Layout version, [`DB_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always `"db-explain"`.
    pub kind: String,
    /// The statement explained.
    pub sql: String,
    /// True when it ran (`--analyze`, in a transaction that was rolled back).
    pub analyzed: bool,
    /// True when it had `$n` parameters and the generic plan was explained.
    pub generic_plan: bool,
    /// The plan's total cost (planner units).
    pub total_cost: f64,
    /// Execution time, when analyzed.
    pub execution_ms: Option<f64>,
    /// Planning time, when analyzed.
    pub planning_ms: Option<f64>,
    /// What the plan shows, costliest first.
    pub insights: Vec<Insight>,
    /// The plan's nodes as an indented outline, one line per node.
    pub outline: Vec<String>,
    /// The plan exactly as `EXPLAIN (FORMAT JSON)` returned it.
    pub plan: serde_json::Value,
}

/// The kind of a plan insight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InsightKind {
    /// A sequential scan whose filter removes most of the rows it reads.
    SeqScanFilter,
    /// The planner's row estimate is off by 10x or more.
    MisEstimate,
    /// A sort that spilled to disk.
    DiskSort,
    /// A hash that needed more than one batch (spilled to disk).
    HashSpill,
    /// A nested loop whose inner side runs many times.
    NestedLoop,
    /// A join key with no index on its column.
    UnindexedJoinKey,
}

/// One thing a plan shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Insight {
    /// What kind of problem.
    pub kind: InsightKind,
    /// The plan node, for example `Seq Scan on public.orders`.
    pub node: String,
    /// The node's share of the plan: its time (analyzed) or cost (not) over the whole, 0..=1.
    pub cost_share: f64,
    /// The figures, in words.
    pub detail: String,
    /// What to do about it.
    pub fix: String,
}

/// What a load cost the database: `plumb load --db`, from pg_stat_statements and the database's
/// statistics read before and after the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadDbStats {
    /// Layout version, [`DB_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The database (URL without its password).
    pub target: String,
    /// Requests of the load the figures are divided by.
    pub requests: u64,
    /// Statements the database ran during the load: plumb's own, and transaction and session
    /// control (`transaction_statements`), left out.
    pub queries: i64,
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, SET, SHOW, DISCARD, DEALLOCATE: run, not counted as
    /// queries (their time is in `db_time_ms`).
    pub transaction_statements: i64,
    /// `queries / requests`.
    pub queries_per_request: Option<f64>,
    /// Planning and execution time of those statements.
    pub db_time_ms: f64,
    /// `db_time_ms / requests`.
    pub db_time_per_request_ms: Option<f64>,
    /// Database time per request over the mean request latency (0..=1 for a serial app).
    pub latency_share: Option<f64>,
    /// The statements that took the most time during the load.
    pub top_statements: Vec<Statement>,
    /// Statements of this load that look like N+1.
    pub n_plus_one: Vec<NPlusOneSuspect>,
    /// Shared blocks hit / (hit + read) of the load's statements.
    pub cache_hit_ratio: Option<f64>,
    /// Client connections seen during the load (sampled from pg_stat_activity).
    pub connections: ConnectionsUsed,
    /// Things the reader should know (statistics reset during the run, missing capabilities).
    pub notes: Vec<String>,
}

/// Client connections during a load: the most seen at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConnectionsUsed {
    /// Most client backends at once (plumb's own two left out).
    pub max_total: i64,
    /// Most running a query at once.
    pub max_active: i64,
    /// Most idle in a transaction at once.
    pub max_idle_in_transaction: i64,
    /// The server's `max_connections`.
    pub max_connections: i64,
    /// How many samples were taken.
    pub samples: u32,
}
