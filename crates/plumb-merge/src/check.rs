//! Whether the given results are the segments of one test: each a segment result of this
//! layout, all with equal settings, segment count, start and flows, every index once.

use crate::{MergeError, Part};
use plumb_schema::load::{LoadResult, SegmentRecord, LOAD_SCHEMA_VERSION};

/// The most segments a result may name: `plumb load --segment`'s limit.
pub const MAX_SEGMENTS: u64 = 10_000;

/// Check the parts and return them ordered by segment index.
pub fn segments(mut parts: Vec<Part>) -> Result<Vec<Part>, MergeError> {
    if parts.is_empty() {
        return Err(MergeError::Empty);
    }
    for part in &parts {
        alone(part)?;
    }
    for part in &parts[1..] {
        same_test(&parts[0], part)?;
    }
    parts.sort_by_key(|p| record(p).index);
    complete(&parts)?;
    Ok(parts)
}

/// The part's segment record ([`alone`] checked that it has one).
pub fn record(part: &Part) -> &SegmentRecord {
    part.result
        .segment
        .as_ref()
        .expect("checked by `alone` before use")
}

/// One result by itself: a load segment of this layout.
fn alone(part: &Part) -> Result<(), MergeError> {
    let r = &part.result;
    let not = |why: &str| MergeError::NotASegment {
        name: part.name.clone(),
        why: why.into(),
    };
    if r.kind != "load" {
        return Err(not(&format!("its kind is '{}', not 'load'", r.kind)));
    }
    if r.schema_version != LOAD_SCHEMA_VERSION {
        return Err(MergeError::SchemaVersion {
            name: part.name.clone(),
            found: r.schema_version,
            expected: LOAD_SCHEMA_VERSION,
        });
    }
    if r.merged_from.is_some() {
        return Err(not("it is already a merged run"));
    }
    let Some(segment) = &r.segment else {
        return Err(not("it was run without --segment"));
    };
    if segment.count == 0 || segment.count > MAX_SEGMENTS || segment.index >= segment.count {
        return Err(not(&format!(
            "its segment {}/{} is out of range",
            segment.index, segment.count
        )));
    }
    Ok(())
}

/// `part` belongs to the same test as `first`.
fn same_test(first: &Part, part: &Part) -> Result<(), MergeError> {
    let differ = |what: String| MergeError::Different {
        name: part.name.clone(),
        first: first.name.clone(),
        what,
    };
    let (a, b) = (record(first), record(part));
    if a.count != b.count {
        return Err(differ(format!(
            "it is split into {} segments, {} into {}",
            b.count, first.name, a.count
        )));
    }
    if a.start_at != b.start_at {
        return Err(differ(format!(
            "it started at {}, {} at {} (give every segment one --start-at)",
            b.start_at, first.name, a.start_at
        )));
    }
    if let Some(what) = settings_difference(&first.result, &part.result) {
        return Err(differ(what));
    }
    if let Some(what) = flows_difference(&first.result, &part.result) {
        return Err(differ(what));
    }
    Ok(())
}

/// The first setting in which the two runs differ, with both values.
fn settings_difference(a: &LoadResult, b: &LoadResult) -> Option<String> {
    let (a, b) = (to_map(&a.settings), to_map(&b.settings));
    let keys = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k)));
    for key in keys {
        let (va, vb) = (a.get(key), b.get(key));
        if va != vb {
            return Some(format!(
                "its settings differ: {key} is {}, there {}",
                shown(vb),
                shown(va)
            ));
        }
    }
    None
}

fn to_map(
    settings: &plumb_schema::load::LoadSettingsRecord,
) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(settings) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

fn shown(value: Option<&serde_json::Value>) -> String {
    value.map_or("absent".into(), serde_json::Value::to_string)
}

/// Runs of flows must run the same file's flows and steps.
fn flows_difference(a: &LoadResult, b: &LoadResult) -> Option<String> {
    (flows_shape(a) != flows_shape(b)).then(|| "its flows (file, flows or steps) differ".into())
}

/// The flow file, and each flow's name, weight and step names.
type FlowsShape<'a> = Option<(&'a str, Vec<(&'a str, u32, Vec<&'a str>)>)>;

fn flows_shape(r: &LoadResult) -> FlowsShape<'_> {
    let f = r.flows.as_ref()?;
    let flows = f.flows.iter().map(|flow| {
        let steps: Vec<&str> = flow.steps.iter().map(|s| s.name.as_str()).collect();
        (flow.name.as_str(), flow.weight, steps)
    });
    Some((f.file.as_str(), flows.collect()))
}

/// Every index from 0 to the count, once.
fn complete(sorted: &[Part]) -> Result<(), MergeError> {
    for pair in sorted.windows(2) {
        if record(&pair[0]).index == record(&pair[1]).index {
            return Err(MergeError::Duplicate {
                index: record(&pair[0]).index,
                first: pair[0].name.clone(),
                second: pair[1].name.clone(),
            });
        }
    }
    let count = record(&sorted[0]).count;
    let present: std::collections::BTreeSet<u64> = sorted.iter().map(|p| record(p).index).collect();
    let missing: Vec<u64> = (0..count).filter(|i| !present.contains(i)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(MergeError::Missing {
        missing,
        count,
        given: sorted.iter().map(|p| p.name.clone()).collect(),
    })
}
