//! `plumb monitor`'s saved state: event counts per (monitor, series, bucket start) and each
//! alert's phase (as JSON the monitor reads back). Upserts and pruning happen in one
//! transaction, so the table holds at most one row per bucket of each series' window however
//! long a monitor runs, and a killed monitor leaves the state of its last evaluation.

use crate::{Ledger, LedgerError};
use rusqlite::{params, TransactionBehavior};

/// One bucket of one series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorBucket {
    /// The series, e.g. `slo:availability 99.9% 30d`, `errors`.
    pub series: String,
    /// Bucket start, ms since the epoch.
    pub start: u64,
    /// Good events.
    pub good: u64,
    /// All events.
    pub total: u64,
}

/// One alert's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorAlert {
    /// The alert's key (its labels).
    pub alert: String,
    /// Its phase, as the monitor wrote it (JSON).
    pub state: String,
}

impl Ledger {
    /// Everything saved of `monitor`: buckets ordered by series and start, and alerts.
    pub fn monitor_state(
        &self,
        monitor: &str,
    ) -> Result<(Vec<MonitorBucket>, Vec<MonitorAlert>), LedgerError> {
        let fail = || self.sqlite("read the monitor's state");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT series, start, good, total FROM monitor_buckets
                 WHERE monitor = ?1 ORDER BY series, start",
            )
            .map_err(fail())?;
        let buckets = stmt
            .query_map([monitor], |row| {
                Ok(MonitorBucket {
                    series: row.get(0)?,
                    start: row.get::<_, i64>(1)?.max(0) as u64,
                    good: row.get::<_, i64>(2)?.max(0) as u64,
                    total: row.get::<_, i64>(3)?.max(0) as u64,
                })
            })
            .map_err(fail())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail())?;
        let mut stmt = self
            .conn
            .prepare("SELECT alert, state FROM monitor_alerts WHERE monitor = ?1 ORDER BY alert")
            .map_err(fail())?;
        let alerts = stmt
            .query_map([monitor], |row| {
                Ok(MonitorAlert {
                    alert: row.get(0)?,
                    state: row.get(1)?,
                })
            })
            .map_err(fail())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail())?;
        Ok((buckets, alerts))
    }

    /// Upsert `buckets` and `alerts` of `monitor`, and delete each series' buckets that start
    /// before its entry in `prune` (series, ms), in one transaction.
    pub fn save_monitor_state(
        &mut self,
        monitor: &str,
        buckets: &[MonitorBucket],
        alerts: &[MonitorAlert],
        prune: &[(String, u64)],
    ) -> Result<(), LedgerError> {
        let path = self.path().to_path_buf();
        let fail = |source| LedgerError::Sqlite {
            path: path.clone(),
            action: "save the monitor's state",
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        for b in buckets {
            tx.execute(
                "INSERT OR REPLACE INTO monitor_buckets (monitor, series, start, good, total)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    monitor,
                    b.series,
                    clamp(b.start),
                    clamp(b.good),
                    clamp(b.total)
                ],
            )
            .map_err(fail)?;
        }
        for a in alerts {
            tx.execute(
                "INSERT OR REPLACE INTO monitor_alerts (monitor, alert, state) VALUES (?1, ?2, ?3)",
                params![monitor, a.alert, a.state],
            )
            .map_err(fail)?;
        }
        for (series, before) in prune {
            tx.execute(
                "DELETE FROM monitor_buckets WHERE monitor = ?1 AND series = ?2 AND start < ?3",
                params![monitor, series, clamp(*before)],
            )
            .map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }
}

fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
