//! Reading an `EXPLAIN (FORMAT JSON)` plan: its nodes, an outline, and the insights it shows —
//! a sequential scan whose filter removes most rows, row estimates off by 10x or more, sorts and
//! hashes that spill to disk, nested loops with many iterations, join keys with no index — each
//! with the node's share of the plan (its time when analyzed, its cost when not).

use crate::catalog::{Catalog, Table};
use plumb_schema::db::{Insight, InsightKind};
use serde_json::Value;

/// Smallest table (estimated rows) a scan or join insight is worth raising for.
pub const LARGE_TABLE: f64 = 10_000.0;

/// One node of a plan.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a>(pub &'a Value);

impl<'a> Node<'a> {
    fn text(&self, key: &str) -> Option<&'a str> {
        self.0.get(key).and_then(Value::as_str)
    }

    fn number(&self, key: &str) -> Option<f64> {
        self.0.get(key).and_then(Value::as_f64)
    }

    /// `Node Type`.
    pub fn kind(&self) -> &'a str {
        self.text("Node Type").unwrap_or("?")
    }

    /// The scanned table, when the node scans one.
    pub fn table(&self) -> Option<Table> {
        let name = self.text("Relation Name")?;
        Some(Table {
            schema: self.text("Schema").unwrap_or("public").to_owned(),
            name: name.to_owned(),
        })
    }

    /// Its children.
    pub fn children(&self) -> Vec<Node<'a>> {
        self.0
            .get("Plans")
            .and_then(Value::as_array)
            .map(|plans| plans.iter().map(Node).collect())
            .unwrap_or_default()
    }

    /// `Seq Scan on public.orders o`, or the node type alone.
    pub fn label(&self) -> String {
        match self.table() {
            Some(table) => {
                let alias = self.text("Alias").filter(|a| *a != table.name);
                let alias = alias.map_or(String::new(), |a| format!(" {a}"));
                format!("{} on {table}{alias}", self.kind())
            }
            None => self.kind().to_owned(),
        }
    }

    fn analyzed(&self) -> bool {
        self.0.get("Actual Loops").is_some()
    }

    fn loops(&self) -> f64 {
        self.number("Actual Loops").unwrap_or(1.0)
    }
}

/// The plan's root node in `EXPLAIN (FORMAT JSON)` output (`[{"Plan": ...}]`).
pub fn root(explain: &Value) -> Option<Node<'_>> {
    explain.get(0)?.get("Plan").map(Node)
}

/// Every node, depth first, with its depth.
pub fn walk<'a>(node: Node<'a>, depth: usize, out: &mut Vec<(usize, Node<'a>)>) {
    out.push((depth, node));
    for child in node.children() {
        walk(child, depth + 1, out);
    }
}

/// One line per node: `Seq Scan on public.orders  (cost 4128.00, rows 1)`.
pub fn outline(root: Node<'_>) -> Vec<String> {
    let mut nodes = Vec::new();
    walk(root, 0, &mut nodes);
    nodes
        .iter()
        .map(|(depth, node)| {
            let actual = match (node.number("Actual Rows"), node.number("Actual Total Time")) {
                (Some(rows), Some(ms)) => {
                    format!(", actual rows {rows} × {} loops, {ms:.3} ms", node.loops())
                }
                _ => String::new(),
            };
            format!(
                "{}{}  (cost {:.2}, rows {}{actual})",
                "  ".repeat(*depth),
                node.label(),
                node.number("Total Cost").unwrap_or(0.0),
                node.number("Plan Rows").unwrap_or(0.0)
            )
        })
        .collect()
}

/// The node's share of the whole plan, 0..=1.
fn share(node: Node<'_>, root: Node<'_>) -> f64 {
    let (part, whole) = if node.analyzed() {
        (
            node.number("Actual Total Time").unwrap_or(0.0) * node.loops(),
            root.number("Actual Total Time").unwrap_or(0.0) * root.loops(),
        )
    } else {
        (
            node.number("Total Cost").unwrap_or(0.0),
            root.number("Total Cost").unwrap_or(0.0),
        )
    };
    if whole > 0.0 {
        (part / whole).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Every insight of the plan, by share, largest first.
pub fn insights(explain: &Value, catalog: &dyn Catalog) -> Vec<Insight> {
    let Some(root) = root(explain) else {
        return Vec::new();
    };
    let mut nodes = Vec::new();
    walk(root, 0, &mut nodes);
    let mut found = Vec::new();
    for (_, node) in &nodes {
        let rules = [
            seq_scan_filter(*node, catalog),
            mis_estimate(*node),
            disk_sort(*node),
            hash_spill(*node),
            nested_loop(*node),
        ];
        for (kind, detail, fix) in rules.into_iter().flatten() {
            found.push(insight(kind, *node, root, detail, fix));
        }
        for (detail, fix) in unindexed_join_keys(*node, catalog) {
            found.push(insight(
                InsightKind::UnindexedJoinKey,
                *node,
                root,
                detail,
                fix,
            ));
        }
    }
    found.sort_by(|a, b| b.cost_share.total_cmp(&a.cost_share));
    found
}

fn insight(
    kind: InsightKind,
    node: Node<'_>,
    root: Node<'_>,
    detail: String,
    fix: String,
) -> Insight {
    Insight {
        kind,
        node: node.label(),
        cost_share: share(node, root),
        detail,
        fix,
    }
}

/// A filtered sequential scan of a large table that keeps few of the rows it reads: the table,
/// the rows read and kept (estimated or actual), and the filter.
pub struct FilteredScan {
    /// The scanned table.
    pub table: Table,
    /// Rows read per loop.
    pub read: f64,
    /// Rows kept per loop.
    pub kept: f64,
    /// Loops.
    pub loops: f64,
    /// The filter.
    pub filter: String,
}

/// The node as a [`FilteredScan`] when its filter removes at least 90% of a large table's rows.
pub fn filtered_scan(node: Node<'_>, catalog: &dyn Catalog) -> Option<FilteredScan> {
    if node.kind() != "Seq Scan" {
        return None;
    }
    let filter = node.text("Filter")?.to_owned();
    let table = node.table()?;
    let (read, kept) = if node.analyzed() {
        let kept = node.number("Actual Rows").unwrap_or(0.0);
        (
            kept + node.number("Rows Removed by Filter").unwrap_or(0.0),
            kept,
        )
    } else {
        (
            catalog.rows(&table)?,
            node.number("Plan Rows").unwrap_or(0.0),
        )
    };
    let loops = node.loops();
    let removes_most = read > 0.0 && kept / read <= 0.1;
    let large = read * loops >= LARGE_TABLE;
    (removes_most && large).then_some(FilteredScan {
        table,
        read,
        kept,
        loops,
        filter,
    })
}

fn seq_scan_filter(node: Node<'_>, catalog: &dyn Catalog) -> Option<(InsightKind, String, String)> {
    let scan = filtered_scan(node, catalog)?;
    let columns = filter_columns(&scan.filter, &catalog.columns(&scan.table));
    let removed = 100.0 * (1.0 - scan.kept / scan.read);
    let how = if node.analyzed() { "" } else { "an estimated " };
    let detail = format!(
        "reads {how}{:.0} rows of {} to keep {:.0} ({removed:.1}% removed by the filter {}){}",
        scan.read,
        scan.table,
        scan.kept,
        scan.filter,
        if scan.loops > 1.0 {
            format!(", {} times", scan.loops)
        } else {
            String::new()
        }
    );
    let fix = match suggested_index(&scan.table, &columns, catalog) {
        Some(index) => format!(
            "{index}; (an index on the filtered column lets it read only the matching rows)"
        ),
        None => "an index on the filtered columns, or a partial index for the filter's constant"
            .to_owned(),
    };
    Some((InsightKind::SeqScanFilter, detail, fix))
}

/// `CREATE INDEX ON schema.table (a, b)` for the columns, unless an index already starts with
/// the first of them.
pub fn suggested_index(table: &Table, columns: &[String], catalog: &dyn Catalog) -> Option<String> {
    let first = columns.first()?;
    if catalog.leads_an_index(table, first) {
        return None;
    }
    Some(format!("CREATE INDEX ON {table} ({})", columns.join(", ")))
}

fn mis_estimate(node: Node<'_>) -> Option<(InsightKind, String, String)> {
    let actual = node.number("Actual Rows")?;
    let planned = node.number("Plan Rows")?;
    let (high, low) = (planned.max(actual), planned.min(actual).max(1.0));
    let factor = high / low;
    if factor < 10.0 || high * node.loops() < 100.0 {
        return None;
    }
    let direction = if planned > actual { "over" } else { "under" };
    let detail = format!(
        "the planner expected {planned:.0} rows and got {actual:.0} ({factor:.0}x {direction}estimated){}",
        if node.loops() > 1.0 { format!(" per loop, {} loops", node.loops()) } else { String::new() }
    );
    let target = node
        .table()
        .map_or("the tables involved".to_owned(), |t| t.to_string());
    let fix = format!("ANALYZE {target}; if the estimate stays off, raise the column's statistics target (ALTER TABLE ... ALTER COLUMN ... SET STATISTICS 1000) or CREATE STATISTICS for correlated columns");
    Some((InsightKind::MisEstimate, detail, fix))
}

fn disk_sort(node: Node<'_>) -> Option<(InsightKind, String, String)> {
    if node.text("Sort Space Type") != Some("Disk") {
        return None;
    }
    let used = node.number("Sort Space Used").unwrap_or(0.0);
    let detail = format!(
        "the sort ({}) spilled {used:.0} kB to disk",
        node.text("Sort Method").unwrap_or("external")
    );
    let fix = format!("raise work_mem above {:.0} kB for this query (SET LOCAL work_mem), or add an index in the sort's order", used * 2.0);
    Some((InsightKind::DiskSort, detail, fix))
}

fn hash_spill(node: Node<'_>) -> Option<(InsightKind, String, String)> {
    let batches = node
        .number("Hash Batches")
        .or_else(|| node.number("HashAgg Batches"))?;
    if batches <= 1.0 {
        return None;
    }
    let detail = format!(
        "the hash needed {batches:.0} batches (it did not fit in work_mem and spilled to disk; peak memory {:.0} kB)",
        node.number("Peak Memory Usage").unwrap_or(0.0)
    );
    let fix =
        "raise work_mem (or hash_mem_multiplier) for this query, or filter the hashed side first"
            .to_owned();
    Some((InsightKind::HashSpill, detail, fix))
}

fn nested_loop(node: Node<'_>) -> Option<(InsightKind, String, String)> {
    if node.kind() != "Nested Loop" {
        return None;
    }
    let children = node.children();
    let inner = children.get(1)?;
    let outer = children.first()?;
    let iterations = if inner.analyzed() {
        inner.loops()
    } else {
        outer.number("Plan Rows").unwrap_or(0.0)
    };
    if iterations < 1000.0 {
        return None;
    }
    let detail = format!(
        "the inner side ({}) runs {iterations:.0} times, once per outer row",
        inner.label()
    );
    let fix = "index the inner side's join key so each iteration is a lookup, or check the outer side's row estimate (a hash join may be better)".to_owned();
    Some((InsightKind::NestedLoop, detail, fix))
}

fn unindexed_join_keys(node: Node<'_>, catalog: &dyn Catalog) -> Vec<(String, String)> {
    let Some(condition) = ["Hash Cond", "Merge Cond", "Join Filter"]
        .iter()
        .find_map(|k| node.text(k))
    else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (alias, column) in qualified_columns(condition) {
        let Some(table) = table_of_alias(node, &alias) else {
            continue;
        };
        let large = catalog.rows(&table).is_some_and(|r| r >= LARGE_TABLE);
        let is_column = catalog.columns(&table).contains(&column);
        if large && is_column && !catalog.leads_an_index(&table, &column) {
            found.push((
                format!("the join key {table}.{column} ({condition}) has no index"),
                format!("CREATE INDEX ON {table} ({column}); (lets the join look rows up instead of reading the whole table)"),
            ));
        }
    }
    found
}

/// The table a scan below `node` reads under `alias`.
fn table_of_alias(node: Node<'_>, alias: &str) -> Option<Table> {
    let mut nodes = Vec::new();
    walk(node, 0, &mut nodes);
    nodes.iter().find_map(|(_, n)| {
        let table = n.table()?;
        let named = n.text("Alias").unwrap_or(&table.name);
        (named == alias).then_some(table)
    })
}

/// `alias.column` pairs in an expression, outside string literals.
pub fn qualified_columns(expression: &str) -> Vec<(String, String)> {
    identifiers(expression)
        .into_iter()
        .filter_map(|(ident, _)| {
            let (alias, column) = ident.rsplit_once('.')?;
            let alias = alias.rsplit('.').next().unwrap_or(alias);
            Some((alias.to_owned(), column.to_owned()))
        })
        .collect()
}

/// The columns a filter compares, equality first, at most two, each one of `known`.
pub fn filter_columns(filter: &str, known: &[String]) -> Vec<String> {
    let mut compared: Vec<(bool, String)> = identifiers(filter)
        .into_iter()
        .filter_map(|(ident, op)| {
            let column = ident.rsplit('.').next()?.to_owned();
            let op = op?;
            known.contains(&column).then_some((op == "=", column))
        })
        .collect();
    compared.sort_by_key(|(equality, _)| !equality);
    let mut columns: Vec<String> = Vec::new();
    for (_, column) in compared {
        if !columns.contains(&column) && columns.len() < 2 {
            columns.push(column);
        }
    }
    columns
}

/// Identifiers (dotted names, quotes removed) outside string literals and after-`::` type
/// names, each with the comparison operator that follows it, if one does.
fn identifiers(text: &str) -> Vec<(String, Option<String>)> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            i = skip_literal(&chars, i);
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            i = skip_type(&chars, i + 2);
        } else if c.is_ascii_alphabetic() || c == '_' || c == '"' {
            let (ident, end) = read_ident(&chars, i);
            let op = operator_after(&chars, end);
            found.push((ident, op));
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

fn skip_literal(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    i
}

fn skip_type(chars: &[char], start: usize) -> usize {
    let mut i = start;
    while i < chars.len() && (chars[i].is_alphanumeric() || " _\"[]".contains(chars[i])) {
        i += 1;
    }
    i
}

fn read_ident(chars: &[char], start: usize) -> (String, usize) {
    let mut ident = String::new();
    let mut i = start;
    loop {
        if chars.get(i) == Some(&'"') {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                ident.push(chars[i]);
                i += 1;
            }
            i += 1;
        } else {
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                ident.push(chars[i]);
                i += 1;
            }
        }
        if chars.get(i) == Some(&'.')
            && chars
                .get(i + 1)
                .is_some_and(|c| c.is_alphabetic() || *c == '_' || *c == '"')
        {
            ident.push('.');
            i += 1;
            continue;
        }
        return (ident, i);
    }
}

fn operator_after(chars: &[char], start: usize) -> Option<String> {
    let mut i = start;
    // Past a closing parenthesis and a cast: `(status)::text = ...`.
    loop {
        while chars.get(i).is_some_and(|c| *c == ')' || c.is_whitespace()) {
            i += 1;
        }
        if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
            i = skip_type(chars, i + 2);
            continue;
        }
        break;
    }
    let op: String = chars[i.min(chars.len())..]
        .iter()
        .take_while(|c| "=<>!~*".contains(**c))
        .collect();
    if !op.is_empty() && op != "!" {
        return Some(op);
    }
    let rest: String = chars[i.min(chars.len())..].iter().take(3).collect();
    (rest.eq_ignore_ascii_case("is ")).then(|| "IS".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Fixed(HashMap<String, (f64, Vec<&'static str>, Vec<&'static str>)>);

    impl Catalog for Fixed {
        fn rows(&self, table: &Table) -> Option<f64> {
            self.0.get(&table.to_string()).map(|f| f.0)
        }
        fn columns(&self, table: &Table) -> Vec<String> {
            self.0
                .get(&table.to_string())
                .map(|f| f.1.iter().map(|c| c.to_string()).collect())
                .unwrap_or_default()
        }
        fn leads_an_index(&self, table: &Table, column: &str) -> bool {
            self.0
                .get(&table.to_string())
                .is_some_and(|f| f.2.contains(&column))
        }
    }

    fn shop() -> Fixed {
        let mut tables = HashMap::new();
        tables.insert(
            "public.orders".to_owned(),
            (
                200_000.0,
                vec!["id", "customer_id", "reference", "status"],
                vec!["id"],
            ),
        );
        tables.insert(
            "public.customers".to_owned(),
            (20_000.0, vec!["id", "name"], vec!["id"]),
        );
        Fixed(tables)
    }

    #[test]
    fn filter_columns_are_found_past_casts_and_literals() {
        let known: Vec<String> = ["id", "reference", "status", "total"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            filter_columns("(orders.reference = $1)", &known),
            ["reference"]
        );
        assert_eq!(
            filter_columns(
                "(((status)::text = 'id = 3'::text) AND (total > 5.0))",
                &known
            ),
            ["status", "total"]
        );
        assert_eq!(
            filter_columns("((o.total > $1) AND (o.reference = $2))", &known),
            ["reference", "total"]
        );
        assert!(filter_columns("(lower(name) = $1)", &known).is_empty());
    }

    #[test]
    fn a_seq_scan_that_removes_most_rows_suggests_an_index() {
        let plan = serde_json::json!([{"Plan": {
            "Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "public", "Alias": "orders",
            "Total Cost": 4128.0, "Plan Rows": 1.0, "Filter": "(orders.reference = $1)"}}]);
        let found = insights(&plan, &shop());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, InsightKind::SeqScanFilter);
        assert_eq!(found[0].cost_share, 1.0);
        assert!(
            found[0]
                .fix
                .starts_with("CREATE INDEX ON public.orders (reference)"),
            "{}",
            found[0].fix
        );
    }

    #[test]
    fn analyzed_plans_show_mis_estimates_spills_and_unindexed_join_keys() {
        let plan = serde_json::json!([{"Plan": {
            "Node Type": "Hash Join", "Total Cost": 9000.0, "Plan Rows": 10.0, "Actual Rows": 5000.0,
            "Actual Loops": 1.0, "Actual Total Time": 80.0, "Hash Cond": "(o.customer_id = c.id)",
            "Plans": [
                {"Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "public", "Alias": "o",
                 "Total Cost": 4000.0, "Plan Rows": 200000.0, "Actual Rows": 200000.0, "Actual Loops": 1.0,
                 "Actual Total Time": 30.0},
                {"Node Type": "Hash", "Total Cost": 500.0, "Plan Rows": 20000.0, "Actual Rows": 20000.0,
                 "Actual Loops": 1.0, "Actual Total Time": 10.0, "Hash Batches": 4.0, "Plans": [
                    {"Node Type": "Seq Scan", "Relation Name": "customers", "Schema": "public", "Alias": "c",
                     "Total Cost": 400.0, "Plan Rows": 20000.0, "Actual Rows": 20000.0, "Actual Loops": 1.0,
                     "Actual Total Time": 5.0}]}]}}]);
        let kinds: Vec<InsightKind> = insights(&plan, &shop()).iter().map(|i| i.kind).collect();
        assert_eq!(
            kinds,
            [
                InsightKind::MisEstimate,
                InsightKind::UnindexedJoinKey,
                InsightKind::HashSpill
            ]
        );
    }
}
