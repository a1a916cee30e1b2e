//! Data files (CSV with a header line, or JSON lines) shared by every worker thread and session
//! without a copy: the file is memory-mapped once, and a session copies only the one row it takes.
//!
//! Sequential order needs no index: a cursor walks the mapped bytes (one per worker when the file
//! is partitioned, each over its own contiguous part). Random and shuffled orders keep one index
//! of row starts, 4 bytes a row for files under 4 GiB. A shuffle is a fresh seeded permutation of
//! the rows per pass (an affine map modulo the row count), so it costs no memory either.

#![allow(unsafe_code)]

use crate::spec::{DataFormat, OnEof, Order, Partition};
use csv::ByteRecord;
use memmap2::Mmap;
use rand::Rng;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One data file, opened and indexed, shared by all workers (`Arc<DataSet>`).
#[derive(Debug)]
pub struct DataSet {
    /// The name in `[data.NAME]`.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Column names, in file order.
    pub columns: Vec<String>,
    bytes: Bytes,
    format: DataFormat,
    /// The rows' part of the file (after a CSV header line).
    body: Range<usize>,
    order: Order,
    on_eof: OnEof,
    /// Row starts (random and shuffled orders only).
    index: Vec<u32>,
    /// One cursor, or one per worker when partitioned.
    cursors: Vec<Mutex<Cursor>>,
    /// Per cursor, the part of the file (sequential) or the rows (indexed) it reads.
    parts: Vec<Range<usize>>,
}

#[derive(Debug)]
enum Bytes {
    Mapped(Mmap),
    Empty,
}

impl Bytes {
    fn get(&self) -> &[u8] {
        match self {
            Bytes::Mapped(map) => map,
            Bytes::Empty => &[],
        }
    }
}

#[derive(Debug, Default)]
struct Cursor {
    /// Byte offset (sequential) or position in the pass (indexed).
    next: usize,
    /// Completed passes, for the shuffle's seed.
    pass: u64,
    exhausted: bool,
}

/// How a data file is shared out: over this process's worker threads, and, when the test is split
/// into segments (`plumb load --segment I/N`), to this segment first: segment `i` of `n` keeps the
/// `i`-th of `n` contiguous parts of the rows, so no row goes to two segments and none to none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSplit {
    /// Worker threads of this process (for `partition = "worker"`).
    pub workers: usize,
    /// This segment's index.
    pub segment: usize,
    /// How many segments the test has (1: the whole file).
    pub segments: usize,
}

impl From<usize> for DataSplit {
    /// The whole file, over `workers` threads.
    fn from(workers: usize) -> DataSplit {
        DataSplit {
            workers,
            segment: 0,
            segments: 1,
        }
    }
}

/// Why a data file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// The largest file indexed with 4-byte row starts.
const MAX_INDEXED: usize = u32::MAX as usize;

impl DataSet {
    /// Open and map `path`; `split` gives the worker threads (for partitioning) and the segment.
    pub fn open(
        name: &str,
        path: &Path,
        format: Option<DataFormat>,
        order: Order,
        on_eof: OnEof,
        partition: Partition,
        split: impl Into<DataSplit>,
    ) -> Result<DataSet, DataError> {
        let split = split.into();
        let workers = split.workers;
        let format = format.unwrap_or_else(|| match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl" | "ndjson") => DataFormat::Jsonl,
            _ => DataFormat::Csv,
        });
        let bytes = map(path)?;
        let all = bytes.get();
        let (columns, body_start) = match format {
            DataFormat::Csv => csv_header(all, path)?,
            DataFormat::Jsonl => jsonl_columns(all, path)?,
        };
        let body = body_start..all.len();
        if next_row(all, body.clone()).is_none() {
            return Err(DataError {
                message: format!("data file {} has no rows", path.display()),
                hint: "add rows below the header line, or point `file` at another file".into(),
            });
        }
        let indexed = order != Order::Sequential;
        if indexed && all.len() > MAX_INDEXED {
            return Err(DataError {
                message: format!(
                    "data file {} is larger than 4 GiB, the limit for order = \"{order:?}\"",
                    path.display()
                ),
                hint: "use order = \"sequential\" (no index, any size)".into(),
            });
        }
        let index = if indexed {
            row_starts(all, body.clone())
        } else {
            Vec::new()
        };
        let (body, index) = segment_share(all, body, index, split);
        let empty_share = if indexed {
            index.is_empty()
        } else {
            !has_rows(all, body.clone())
        };
        if empty_share {
            return Err(DataError {
                message: format!(
                    "data file {} has no rows for segment {} of {}",
                    path.display(),
                    split.segment,
                    split.segments
                ),
                hint: "give the file at least as many rows as the test has segments".into(),
            });
        }
        let workers = workers.max(1);
        let parts = match (partition, indexed) {
            (Partition::None, false) => vec![body.clone()],
            (Partition::None, true) => std::iter::once(0..index.len()).collect(),
            (Partition::ByWorker, false) => byte_parts(all, body.clone(), workers),
            (Partition::ByWorker, true) => (0..workers).map(|w| w..index.len()).collect(),
        };
        let cursors = parts
            .iter()
            .map(|_| Mutex::new(Cursor::default()))
            .collect();
        Ok(DataSet {
            name: name.to_string(),
            path: path.to_path_buf(),
            columns,
            bytes,
            format,
            body,
            order,
            on_eof,
            index,
            cursors,
            parts,
        })
    }

    /// The index of a column by name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Rows, counted (indexed orders know it; sequential counts by scanning).
    pub fn rows(&self) -> usize {
        if self.order == Order::Sequential {
            let all = self.bytes.get();
            let mut count = 0;
            let mut at = self.body.start;
            while let Some((row, next)) = next_row(all, at..self.body.end) {
                if !row.is_empty() {
                    count += 1;
                }
                at = next;
            }
            count
        } else {
            self.index.len()
        }
    }

    /// The row worker `worker`'s next session takes, or `None` when the data ran out
    /// (`on_eof = "stop"`).
    pub fn take(&self, worker: usize, rng: &mut impl Rng) -> Option<ByteRecord> {
        let slot = worker % self.cursors.len();
        let bytes = match self.order {
            Order::Sequential => self.take_sequential(slot)?,
            Order::Random => self.take_random(slot, rng)?,
            Order::Shuffle => self.take_shuffled(slot)?,
        };
        Some(self.parse_row(bytes))
    }

    fn take_sequential(&self, slot: usize) -> Option<&[u8]> {
        let all = self.bytes.get();
        let part = self.parts[slot].clone();
        let mut cursor = self.cursors[slot].lock().unwrap_or_else(|p| p.into_inner());
        if cursor.next < part.start {
            cursor.next = part.start;
        }
        // Bounded: at most one wrap to the start per call.
        for _ in 0..2 {
            if cursor.exhausted {
                return None;
            }
            while let Some((row, next)) = next_row(all, cursor.next..part.end) {
                cursor.next = next;
                if !row.is_empty() {
                    return Some(row);
                }
            }
            match self.on_eof {
                OnEof::Stop => cursor.exhausted = true,
                OnEof::Recycle => {
                    cursor.next = part.start;
                    cursor.pass += 1;
                }
            }
        }
        None
    }

    /// Rows of cursor `slot` among the index: all of them, or every `W`-th from `w`.
    fn slot_rows(&self, slot: usize) -> (usize, usize, usize) {
        let part = &self.parts[slot];
        let step = self.cursors.len();
        let count = part.end.saturating_sub(part.start).div_ceil(step);
        (part.start, step, count)
    }

    fn take_random(&self, slot: usize, rng: &mut impl Rng) -> Option<&[u8]> {
        let (first, step, count) = self.slot_rows(slot);
        if count == 0 {
            return None;
        }
        let row = first + step * rng.random_range(0..count);
        Some(self.indexed_row(row))
    }

    fn take_shuffled(&self, slot: usize) -> Option<&[u8]> {
        let (first, step, count) = self.slot_rows(slot);
        let mut cursor = self.cursors[slot].lock().unwrap_or_else(|p| p.into_inner());
        if count == 0 || cursor.exhausted {
            return None;
        }
        if cursor.next >= count {
            if self.on_eof == OnEof::Stop {
                cursor.exhausted = true;
                return None;
            }
            cursor.next = 0;
            cursor.pass += 1;
        }
        let position = permute(cursor.next, count, cursor.pass);
        cursor.next += 1;
        drop(cursor);
        Some(self.indexed_row(first + step * position))
    }

    fn indexed_row(&self, row: usize) -> &[u8] {
        let all = self.bytes.get();
        let start = self.index[row] as usize;
        next_row(all, start..self.body.end).map_or(&[][..], |(r, _)| r)
    }

    fn parse_row(&self, row: &[u8]) -> ByteRecord {
        match self.format {
            DataFormat::Csv => csv_row(row),
            DataFormat::Jsonl => jsonl_row(row, &self.columns),
        }
    }
}

/// The position of the `i`-th row of a pass: a bijection of `0..n` that changes with each pass.
fn permute(i: usize, n: usize, pass: u64) -> usize {
    if n <= 1 {
        return 0;
    }
    let n64 = n as u64;
    let seed = pass
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(0xD1B5_4A32_D192_ED03);
    let mut a = (seed >> 17) % n64;
    // `a` must be coprime with `n` for the map to be a bijection.
    while gcd(a.max(1), n64) != 1 {
        a = (a + 1) % n64;
    }
    let a = a.max(1);
    let b = seed % n64;
    ((u128::from(a) * i as u128 + u128::from(b)) % u128::from(n64)) as usize
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn map(path: &Path) -> Result<Bytes, DataError> {
    let unreadable = |e: std::io::Error| DataError {
        message: format!("cannot read data file {}: {e}", path.display()),
        hint: "the path is relative to the flow file's directory".into(),
    };
    let file = File::open(path).map_err(unreadable)?;
    if file.metadata().map_err(unreadable)?.len() == 0 {
        return Ok(Bytes::Empty);
    }
    // SAFETY: the map is read-only and lives as long as the data set. Like every reader of a
    // mapped file (ripgrep's mmap searcher), plumb assumes the file is not truncated during
    // the run; docs/flows.md says so.
    let map = unsafe { Mmap::map(&file) }.map_err(unreadable)?;
    Ok(Bytes::Mapped(map))
}

/// The next row in `range` (quote-aware for CSV: a quoted field may hold a newline), without its
/// line ending, and where the one after it starts.
fn next_row(all: &[u8], range: Range<usize>) -> Option<(&[u8], usize)> {
    if range.start >= range.end {
        return None;
    }
    let bytes = &all[range.clone()];
    let mut in_quotes = false;
    let mut at = 0;
    let end = loop {
        match memchr::memchr2(b'"', b'\n', &bytes[at..]) {
            None => break bytes.len(),
            Some(found) => {
                let i = at + found;
                if bytes[i] == b'"' {
                    in_quotes = !in_quotes;
                } else if !in_quotes {
                    break i;
                }
                at = i + 1;
            }
        }
    };
    let next = (end + 1).min(bytes.len());
    let mut row = &bytes[..end];
    if let Some(stripped) = row.strip_suffix(b"\r") {
        row = stripped;
    }
    Some((row, range.start + next))
}

fn row_starts(all: &[u8], body: Range<usize>) -> Vec<u32> {
    let mut starts = Vec::new();
    let mut at = body.start;
    while let Some((row, next)) = next_row(all, at..body.end) {
        if !row.is_empty() {
            starts.push(at as u32);
        }
        at = next;
    }
    starts
}

/// `workers` contiguous parts of the body, each starting at a row start.
/// Whether `part` holds a row that is not empty.
fn has_rows(all: &[u8], part: Range<usize>) -> bool {
    let mut at = part.start;
    while let Some((row, next)) = next_row(all, at..part.end) {
        if !row.is_empty() {
            return true;
        }
        at = next;
    }
    false
}

/// This segment's contiguous part of the rows: of the bytes (sequential) or of the index.
fn segment_share(
    all: &[u8],
    body: Range<usize>,
    index: Vec<u32>,
    split: DataSplit,
) -> (Range<usize>, Vec<u32>) {
    let (segment, segments) = (split.segment, split.segments.max(1));
    if segments == 1 {
        return (body, index);
    }
    if index.is_empty() {
        let part = byte_parts(all, body.clone(), segments)
            .get(segment)
            .cloned()
            .unwrap_or(body.end..body.end);
        return (part, index);
    }
    let rows = index.len();
    let (from, to) = (rows * segment / segments, rows * (segment + 1) / segments);
    (body, index[from..to].to_vec())
}

fn byte_parts(all: &[u8], body: Range<usize>, workers: usize) -> Vec<Range<usize>> {
    let len = body.end - body.start;
    let mut bounds = vec![body.start];
    for w in 1..workers {
        let guess = body.start + len / workers * w;
        let prev = *bounds.last().unwrap_or(&body.start);
        let start = if guess <= prev {
            prev
        } else {
            // The row holding byte `guess - 1` ends where the next part starts.
            memchr::memchr(b'\n', &all[guess - 1..body.end]).map_or(body.end, |i| guess + i)
        };
        bounds.push(start.max(prev));
    }
    bounds.push(body.end);
    bounds.windows(2).map(|w| w[0]..w[1]).collect()
}

fn csv_header(all: &[u8], path: &Path) -> Result<(Vec<String>, usize), DataError> {
    let Some((line, next)) = next_row(all, 0..all.len()) else {
        return Err(DataError {
            message: format!("data file {} is empty", path.display()),
            hint: "a CSV data file starts with a line naming its columns, e.g. email,password"
                .into(),
        });
    };
    let record = csv_row(line);
    let columns: Vec<String> = record
        .iter()
        .map(|c| String::from_utf8_lossy(c).trim().to_string())
        .collect();
    Ok((columns, next))
}

fn jsonl_columns(all: &[u8], path: &Path) -> Result<(Vec<String>, usize), DataError> {
    let first = next_row(all, 0..all.len())
        .map(|(r, _)| r)
        .unwrap_or_default();
    let value: serde_json::Value = serde_json::from_slice(first).map_err(|e| DataError {
        message: format!(
            "the first line of {} is not a JSON object: {e}",
            path.display()
        ),
        hint: "a JSON lines data file holds one object per line, e.g. {\"email\": \"a@b\"}".into(),
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err(DataError {
            message: format!("the first line of {} is not a JSON object", path.display()),
            hint: "each line is one object; its keys are the columns".into(),
        });
    };
    Ok((map.keys().cloned().collect(), 0))
}

fn csv_row(row: &[u8]) -> ByteRecord {
    let mut record = ByteRecord::new();
    if memchr::memchr(b'"', row).is_none() {
        for field in row.split(|b| *b == b',') {
            record.push_field(field);
        }
        return record;
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(row.len().max(64))
        .from_reader(row);
    if reader.read_byte_record(&mut record).is_err() {
        record.clear();
        record.push_field(row);
    }
    record
}

fn jsonl_row(row: &[u8], columns: &[String]) -> ByteRecord {
    let mut record = ByteRecord::new();
    let value: Option<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(row).ok();
    for column in columns {
        match value.as_ref().and_then(|m| m.get(column)) {
            Some(serde_json::Value::String(s)) => record.push_field(s.as_bytes()),
            Some(other) => record.push_field(other.to_string().as_bytes()),
            None => record.push_field(b""),
        }
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::collections::BTreeSet;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn open(
        f: &tempfile::NamedTempFile,
        order: Order,
        eof: OnEof,
        part: Partition,
        w: usize,
    ) -> DataSet {
        DataSet::open("d", f.path(), None, order, eof, part, w).unwrap()
    }

    fn first_field(r: &ByteRecord) -> String {
        String::from_utf8(r[0].to_vec()).unwrap()
    }

    /// Every segment takes its own contiguous rows; together they take each row once.
    #[test]
    fn segments_share_the_rows_without_overlap_or_gap() {
        let rows: String = (0..10).map(|i| format!("{i}\n")).collect();
        let f = file(&format!("id\n{rows}"));
        for order in [Order::Sequential, Order::Shuffle] {
            let mut all = Vec::new();
            for segment in 0..3 {
                let split = DataSplit {
                    workers: 1,
                    segment,
                    segments: 3,
                };
                let d = DataSet::open(
                    "d",
                    f.path(),
                    None,
                    order,
                    OnEof::Stop,
                    Partition::None,
                    split,
                )
                .unwrap();
                let mut rng = rand::rngs::StdRng::seed_from_u64(0);
                while let Some(r) = d.take(0, &mut rng) {
                    all.push(first_field(&r).parse::<u32>().unwrap());
                }
            }
            all.sort_unstable();
            assert_eq!(all, (0..10).collect::<Vec<_>>(), "{order:?}");
        }
        let split = DataSplit {
            workers: 1,
            segment: 0,
            segments: 11,
        };
        let error = DataSet::open(
            "d",
            f.path(),
            None,
            Order::Random,
            OnEof::Stop,
            Partition::None,
            split,
        )
        .unwrap_err();
        assert!(
            error.message.contains("no rows for segment 0 of 11"),
            "{error:?}"
        );
    }

    #[test]
    fn sequential_stop_gives_each_row_once_in_order() {
        let f = file("id,name\n1,a\n2,\"b,\nc\"\r\n\n3,d");
        let d = open(&f, Order::Sequential, OnEof::Stop, Partition::None, 1);
        assert_eq!(d.columns, vec!["id", "name"]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let rows: Vec<ByteRecord> = std::iter::from_fn(|| d.take(0, &mut rng)).collect();
        assert_eq!(
            rows.iter().map(first_field).collect::<Vec<_>>(),
            ["1", "2", "3"]
        );
        assert_eq!(&rows[1][1], b"b,\nc");
        assert_eq!(d.rows(), 3);
    }

    #[test]
    fn recycle_wraps_and_partitions_are_disjoint() {
        let text: String = std::iter::once("n\n".to_string())
            .chain((0..100).map(|i| format!("{i}\n")))
            .collect();
        let f = file(&text);
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let d = open(&f, Order::Sequential, OnEof::Recycle, Partition::None, 1);
        let firsts: Vec<String> = (0..101)
            .map(|_| first_field(&d.take(0, &mut rng).unwrap()))
            .collect();
        assert_eq!((firsts[99].as_str(), firsts[100].as_str()), ("99", "0"));
        for order in [Order::Sequential, Order::Shuffle] {
            let d = open(&f, order, OnEof::Stop, Partition::ByWorker, 3);
            let mut seen = BTreeSet::new();
            for w in 0..3 {
                while let Some(r) = d.take(w, &mut rng) {
                    assert!(seen.insert(first_field(&r)), "{order:?} repeated a row");
                }
            }
            assert_eq!(seen.len(), 100, "{order:?}");
        }
    }

    #[test]
    fn shuffle_passes_are_permutations() {
        for n in [1, 2, 7, 100, 1024] {
            for pass in 0..3 {
                let got: BTreeSet<usize> = (0..n).map(|i| permute(i, n, pass)).collect();
                assert_eq!(got.len(), n);
            }
        }
    }

    #[test]
    fn jsonl_rows_and_empty_files() {
        let mut f = tempfile::Builder::new()
            .suffix(".jsonl")
            .tempfile()
            .unwrap();
        f.write_all(b"{\"email\":\"a@x\",\"n\":1}\n{\"email\":\"b@x\"}\n")
            .unwrap();
        let d = open_jsonl(&f);
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let r = d.take(0, &mut rng).unwrap();
        assert_eq!((&r[0], &r[1]), (&b"a@x"[..], &b"1"[..]));
        let empty = file("");
        let err = DataSet::open(
            "d",
            empty.path(),
            None,
            Order::Sequential,
            OnEof::Stop,
            Partition::None,
            1,
        )
        .unwrap_err();
        assert!(err.message.contains("is empty"), "{err:?}");
        let header_only = file("a,b\n");
        let err = DataSet::open(
            "d",
            header_only.path(),
            None,
            Order::Random,
            OnEof::Stop,
            Partition::None,
            1,
        )
        .unwrap_err();
        assert!(err.message.contains("no rows"), "{err:?}");
    }

    fn open_jsonl(f: &tempfile::NamedTempFile) -> DataSet {
        DataSet::open(
            "d",
            f.path(),
            None,
            Order::Sequential,
            OnEof::Recycle,
            Partition::None,
            1,
        )
        .unwrap()
    }
}
