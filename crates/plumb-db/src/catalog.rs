//! What plan insights need to know about tables: their estimated rows, their columns, and
//! whether an index starts with a column. Behind a trait, so the insight rules are tested on
//! fixed plans without a server; [`LiveCatalog`] asks the server and remembers the answers.

use crate::connect::Session;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

/// A table named by its schema and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Table {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// Facts about tables.
pub trait Catalog {
    /// The planner's row estimate (`reltuples`), if the table is known.
    fn rows(&self, table: &Table) -> Option<f64>;
    /// The table's column names.
    fn columns(&self, table: &Table) -> Vec<String>;
    /// Whether a valid index of the table has `column` as its first key.
    fn leads_an_index(&self, table: &Table, column: &str) -> bool;
}

/// A [`Catalog`] read from the server; a failed read counts as "unknown".
pub struct LiveCatalog<'a> {
    session: &'a Session,
    facts: RefCell<HashMap<Table, Facts>>,
}

#[derive(Clone, Default)]
struct Facts {
    rows: Option<f64>,
    columns: Vec<String>,
    leading: Vec<String>,
}

impl<'a> LiveCatalog<'a> {
    /// A catalog over `session`.
    pub fn new(session: &'a Session) -> LiveCatalog<'a> {
        LiveCatalog {
            session,
            facts: RefCell::new(HashMap::new()),
        }
    }

    fn facts(&self, table: &Table) -> Facts {
        if let Some(facts) = self.facts.borrow().get(table) {
            return facts.clone();
        }
        let facts = self.read(table).unwrap_or_default();
        self.facts.borrow_mut().insert(table.clone(), facts.clone());
        facts
    }

    fn read(&self, table: &Table) -> Option<Facts> {
        let rows = self
            .session
            .rows_with(
                "reading a table's catalog entry",
                "SELECT c.reltuples::float8, \
                 ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 \
                       AND NOT attisdropped ORDER BY attnum), \
                 ARRAY(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a \
                       ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
                       WHERE i.indrelid = c.oid AND i.indisvalid AND i.indpred IS NULL) \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relname = $2",
                &[&table.schema, &table.name],
            )
            .ok()?;
        let row = rows.first()?;
        let reltuples: f64 = row.get(0);
        Some(Facts {
            rows: (reltuples >= 0.0).then_some(reltuples),
            columns: row.get(1),
            leading: row.get(2),
        })
    }
}

impl Catalog for LiveCatalog<'_> {
    fn rows(&self, table: &Table) -> Option<f64> {
        self.facts(table).rows
    }

    fn columns(&self, table: &Table) -> Vec<String> {
        self.facts(table).columns
    }

    fn leads_an_index(&self, table: &Table, column: &str) -> bool {
        self.facts(table).leading.iter().any(|c| c == column)
    }
}
