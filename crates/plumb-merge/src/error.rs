//! Why segment results cannot be merged: each error names the files at fault, and carries the
//! hint that says what to do ([`MergeError::hint`]), rendered after the cause by the binary.

use plumb_stats::HistogramDecodeError;

/// The segments do not make one test, or one of them cannot be read exactly.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No file was given.
    #[error("no segment results to merge")]
    Empty,
    /// A result written by `plumb load` without `--segment` (or already merged).
    #[error("{name} is not a segment result: {why}")]
    NotASegment {
        /// The file.
        name: String,
        /// What it is instead.
        why: String,
    },
    /// A result of another layout version than this plumb writes.
    #[error("{name} has schema version {found}, and this plumb merges version {expected}")]
    SchemaVersion {
        /// The file.
        name: String,
        /// Its `schema_version`.
        found: u32,
        /// [`plumb_schema::load::LOAD_SCHEMA_VERSION`].
        expected: u32,
    },
    /// Two results of different tests.
    #[error("{name} is not a segment of the same test as {first}: {what}")]
    Different {
        /// The file that differs.
        name: String,
        /// The file it was compared with (the first given).
        first: String,
        /// What differs, with both values.
        what: String,
    },
    /// One segment index given twice.
    #[error("segment {index} is given twice: {first} and {second}")]
    Duplicate {
        /// The index.
        index: u64,
        /// The first file with it.
        first: String,
        /// The second.
        second: String,
    },
    /// Segments of the test that no file holds.
    #[error("{} of {count} missing: {} (given: {})", plural(missing.len()), list(missing), given.join(", "))]
    Missing {
        /// The indices no file holds.
        missing: Vec<u64>,
        /// How many segments the test has.
        count: u64,
        /// The files given.
        given: Vec<String>,
    },
    /// A histogram that cannot be read, or not exactly.
    #[error("{name}: the {what} histogram cannot be merged exactly")]
    Histogram {
        /// The file.
        name: String,
        /// Which histogram (`latency`, `window 3 latency`, `flow login step 2`).
        what: String,
        /// Why.
        #[source]
        source: HistogramDecodeError,
    },
    /// A threshold expression a segment recorded that does not parse.
    #[error("{name}: its threshold '{expression}' does not parse: {why}")]
    Threshold {
        /// The file.
        name: String,
        /// The expression.
        expression: String,
        /// The parse error.
        why: String,
    },
}

impl MergeError {
    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            MergeError::Empty => "give every segment's --json file, e.g. plumb merge segment-*.json".into(),
            MergeError::NotASegment { .. } => "merge the results of `plumb load --segment I/N --start-at TIME` runs, one per segment".into(),
            MergeError::SchemaVersion { .. } => "run every segment and the merge with the same plumb version".into(),
            MergeError::Different { .. } => "merge only the segments of one test: the same flags, --segment I/N with the same N and one --start-at".into(),
            MergeError::Duplicate { .. } => "give each segment's result once".into(),
            MergeError::Missing { .. } => "give every segment's result; a segment that failed must be run again with the whole test".into(),
            MergeError::Histogram { .. } => "merge results written by plumb load (1 ns to 1 h at 3 significant digits); a file edited by hand or by another tool cannot be merged exactly".into(),
            MergeError::Threshold { .. } => "fix the threshold in the segment's command line, or give --threshold to plumb merge".into(),
        }
    }
}

fn plural(n: usize) -> String {
    if n == 1 {
        "segment".into()
    } else {
        format!("{n} segments")
    }
}

/// At most ten indices, then how many more.
fn list(indices: &[u64]) -> String {
    let shown: Vec<String> = indices.iter().take(10).map(u64::to_string).collect();
    match indices.len() {
        n if n > 10 => format!("{} and {} more", shown.join(", "), n - 10),
        _ => shown.join(", "),
    }
}
