//! The spans already stored, so that ingesting the same traces again (from another
//! file, another format, an overlapping pull) stores nothing twice.
//!
//! A span's identity is `(trace_id, span_id)`, and its partition is the day it
//! started, so a span already stored is nearly always in the partition it would be
//! written to: keys are loaded per day, when a write first touches that day, from
//! that day's files only. Nearly: the same span can come back with another start (a
//! backend that gives a trace's one span the trace's start, a corrected clock), so
//! [`TraceDays`] knows, for every stored trace, the days it has spans on, read from
//! the trace id column of every file when a writer starts, and a span is checked
//! against each of its trace's days.
//!
//! Memory therefore follows the days being written and the number of traces stored
//! (about 20 bytes a trace: a digest and a day, more only for traces on several
//! days), not the spans the store holds: past [`KEY_BUDGET`] keys, the least recently
//! used days whose spans are all in files (none in an open writer) are dropped, and
//! loaded again if a later write returns to them. Keys are 128-bit digests: 16 bytes
//! a span.
//!
//! A file whose keys cannot be read is damaged: the analyses leave it out, so the
//! writer does too — its spans, ingested again, are stored again and readable, and
//! `pipescope check --repair` sets the damaged file aside without loss.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{StoreError, schema};

/// Compact identity of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanKey(u64, u64);

impl SpanKey {
    pub fn new(trace_id: &str, span_id: &str) -> SpanKey {
        // Ids are normalised hex, so parsing is the common case; anything else still
        // gets a stable digest rather than an error.
        match (
            u128::from_str_radix(trace_id, 16),
            u64::from_str_radix(span_id, 16),
        ) {
            (Ok(t), Ok(s)) if trace_id.len() <= 32 && span_id.len() <= 16 => {
                SpanKey((t >> 64) as u64 ^ s.rotate_left(17), (t as u64) ^ s)
            }
            _ => {
                let mut h1 = DefaultHasher::new();
                (trace_id, span_id, 1u8).hash(&mut h1);
                let mut h2 = DefaultHasher::new();
                (span_id, trace_id, 2u8).hash(&mut h2);
                SpanKey(h1.finish(), h2.finish())
            }
        }
    }
}

/// Keys held in memory before whole days are dropped: ~16M keys, a few hundred MB
/// at most with the sets' overhead; a day of a mid-size organisation is ~150k.
pub const KEY_BUDGET: usize = 16 * 1024 * 1024;

/// The keys of the stored spans of the days loaded so far, per day.
#[derive(Debug)]
pub struct KnownSpans {
    days: HashMap<String, Day>,
    keys: usize,
    budget: usize,
    clock: u64,
}

#[derive(Debug, Default)]
struct Day {
    keys: HashSet<SpanKey>,
    last_used: u64,
}

impl Default for KnownSpans {
    fn default() -> KnownSpans {
        KnownSpans::with_budget(KEY_BUDGET)
    }
}

impl KnownSpans {
    pub fn with_budget(budget: usize) -> KnownSpans {
        KnownSpans {
            days: HashMap::new(),
            keys: 0,
            budget: budget.max(1),
            clock: 0,
        }
    }

    pub fn is_loaded(&self, day: &str) -> bool {
        self.days.contains_key(day)
    }

    /// Loads `day`'s keys from `files` (its stored files, and the writer's own sealed
    /// ones). A file that cannot be read is left out with a warning (module comment).
    pub fn load(&mut self, day: &str, files: &[PathBuf]) -> Result<(), StoreError> {
        let mut keys = HashSet::new();
        for path in files {
            match read_keys(path) {
                Ok(found) => keys.extend(found),
                Err(StoreError::Corrupt { path, message }) => {
                    tracing::warn!(
                        "{}: damaged ({message}); its spans are not counted as stored (analyses leave it out too; `pipescope check --repair` sets it aside)",
                        path.display()
                    );
                }
                Err(e) => return Err(e),
            }
        }
        self.keys += keys.len();
        self.clock += 1;
        let day_keys = Day {
            keys,
            last_used: self.clock,
        };
        if let Some(old) = self.days.insert(day.to_string(), day_keys) {
            self.keys -= old.keys.len();
        }
        Ok(())
    }

    /// Whether `day` (loaded) holds the span.
    pub fn contains(&self, day: &str, key: &SpanKey) -> bool {
        self.days.get(day).is_some_and(|d| d.keys.contains(key))
    }

    /// Records the key of a span of `day` (loaded); false if it was already known.
    pub fn insert(&mut self, day: &str, key: SpanKey) -> bool {
        self.clock += 1;
        let clock = self.clock;
        let day = self.days.entry(day.to_string()).or_default();
        day.last_used = clock;
        let new = day.keys.insert(key);
        self.keys += usize::from(new);
        new
    }

    /// Drops least recently used days while over the budget; `pinned` days (an open
    /// writer holds some of their spans) stay. Returns the days dropped.
    pub fn trim(&mut self, pinned: impl Fn(&str) -> bool) -> Vec<String> {
        let mut dropped = Vec::new();
        while self.keys > self.budget {
            let oldest = self
                .days
                .iter()
                .filter(|(day, _)| !pinned(day))
                .min_by_key(|(_, d)| d.last_used)
                .map(|(day, _)| day.clone());
            let Some(day) = oldest else { break };
            if let Some(gone) = self.days.remove(&day) {
                self.keys -= gone.keys.len();
            }
            dropped.push(day);
        }
        dropped
    }

    /// Keys held in memory.
    pub fn len(&self) -> usize {
        self.keys
    }

    pub fn is_empty(&self) -> bool {
        self.keys == 0
    }
}

/// The days each stored trace has spans on (see the module comment).
#[derive(Debug, Default)]
pub struct TraceDays {
    dates: Vec<String>,
    date_index: HashMap<String, u32>,
    /// Each trace's first day, inline: nearly every trace has one day only.
    first_day: HashMap<u64, u32>,
    /// The further days of the few traces that have more.
    more_days: HashMap<u64, Vec<u32>>,
}

impl TraceDays {
    /// Reads the trace ids of every span file of `store`, day by day.
    pub fn load(store: &super::Store) -> Result<TraceDays, StoreError> {
        let mut days = TraceDays::default();
        for partition in store.partitions()? {
            let Some(date) = partition
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("date="))
                .map(str::to_string)
            else {
                continue;
            };
            for file in store.partition_files(&partition)? {
                match read_columns(&file, &[schema::TRACE_ID]) {
                    Ok(batches) => {
                        for batch in batches {
                            let traces = batch.column(0).as_string::<i32>();
                            for i in (0..batch.num_rows()).filter(|&i| traces.is_valid(i)) {
                                days.add(traces.value(i), &date);
                            }
                        }
                    }
                    // Damaged: left out, as `KnownSpans::load` does.
                    Err(StoreError::Corrupt { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(days)
    }

    /// The days other than `day` the trace has spans on.
    pub fn other_days(&self, trace_id: &str, day: &str) -> Vec<String> {
        let digest = trace_digest(trace_id);
        let Some(first) = self.first_day.get(&digest) else {
            return Vec::new();
        };
        let more = self.more_days.get(&digest).map_or(&[][..], Vec::as_slice);
        std::iter::once(first)
            .chain(more)
            .map(|&i| &self.dates[i as usize])
            .filter(|d| *d != day)
            .cloned()
            .collect()
    }

    /// Records that the trace has spans on `day`.
    pub fn add(&mut self, trace_id: &str, day: &str) {
        let index = match self.date_index.get(day) {
            Some(&i) => i,
            None => {
                let i = self.dates.len() as u32;
                self.dates.push(day.to_string());
                self.date_index.insert(day.to_string(), i);
                i
            }
        };
        let digest = trace_digest(trace_id);
        match self.first_day.get(&digest) {
            None => {
                self.first_day.insert(digest, index);
            }
            Some(&first) if first == index => {}
            Some(_) => {
                let more = self.more_days.entry(digest).or_default();
                if !more.contains(&index) {
                    more.push(index);
                }
            }
        }
    }
}

/// A trace id's 64-bit digest: a collision only makes a writer read one more day.
fn trace_digest(trace_id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    trace_id.hash(&mut hasher);
    hasher.finish()
}

/// The keys in one file: its id columns only (a projection: cheap even for big files).
fn read_keys(path: &Path) -> Result<Vec<SpanKey>, StoreError> {
    let mut keys = Vec::new();
    for batch in read_columns(path, &[schema::TRACE_ID, schema::SPAN_ID])? {
        let traces = batch.column(0).as_string::<i32>();
        let spans = batch.column(1).as_string::<i32>();
        for i in 0..batch.num_rows() {
            if !traces.is_null(i) && !spans.is_null(i) {
                keys.push(SpanKey::new(traces.value(i), spans.value(i)));
            }
        }
    }
    Ok(keys)
}

/// The `columns` of one file, in that order (a projection).
fn read_columns(
    path: &Path,
    columns: &[&str],
) -> Result<Vec<datafusion::arrow::record_batch::RecordBatch>, StoreError> {
    let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| corrupt(&e))?;
    let parquet_schema = builder.parquet_schema();
    let wanted: Vec<usize> = columns
        .iter()
        .map(|name| {
            parquet_schema
                .columns()
                .iter()
                .position(|c| c.name() == *name)
                .ok_or_else(|| corrupt(&format!("no column {name}")))
        })
        .collect::<Result<_, _>>()?;
    let mask = ProjectionMask::leaves(parquet_schema, wanted);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| corrupt(&e))?;
    reader.map(|batch| batch.map_err(|e| corrupt(&e))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64) -> SpanKey {
        SpanKey::new(&format!("{n:032x}"), &format!("{n:016x}"))
    }

    #[test]
    fn days_over_the_budget_are_dropped_oldest_first_unless_pinned() {
        let mut known = KnownSpans::with_budget(4);
        for (day, n) in [("d1", 1), ("d1", 2), ("d2", 3), ("d2", 4), ("d3", 5)] {
            if !known.is_loaded(day) {
                known.load(day, &[]).unwrap();
            }
            assert!(known.insert(day, key(n)));
        }
        assert!(!known.insert("d3", key(5)), "known");
        // d1 was used least recently, but it is pinned: d2 goes.
        let dropped = known.trim(|day| day == "d1");
        assert_eq!(dropped, vec!["d2".to_string()]);
        assert_eq!(known.len(), 3);
        assert!(known.is_loaded("d1") && !known.is_loaded("d2") && known.is_loaded("d3"));
        // Nothing left to drop but pinned days: over the budget it stays.
        let mut tight = KnownSpans::with_budget(1);
        tight.insert("d1", key(1));
        tight.insert("d1", key(2));
        assert!(tight.trim(|_| true).is_empty());
        assert_eq!(tight.len(), 2);
    }
}
