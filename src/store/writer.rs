//! Writes spans into the store: deduplicated, partitioned by start date, atomically.
//!
//! Each partition being written has one open temporary file. A file is sealed
//! (closed and fsynced, still under its temporary name) once it holds
//! `max_rows_per_file` rows, which bounds memory and file size, and at the commit;
//! only the commit renames the sealed files into place and fsyncs their directories.
//! So until `commit` nothing is visible: a crash leaves the store exactly as it was
//! (the temp files are removed by the next writer), and an error — a full disk — too,
//! because the writer removes its temp files, and a commit whose rename fails removes
//! what it had already renamed. A writer that returned an error must be dropped (its
//! set of known spans counts spans that were not stored); a new one starts afresh.
//!
//! Trace-level facts handed in with [`StoreWriter::set_trace_facts`] are written at
//! commit into one small `traces/` file, before the span files are renamed, for the
//! traces that got new spans: a later ingest that learns a trace's branch (its pipeline
//! span arrived last) thereby completes the spans stored earlier, at query time.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::dedupe::{KnownSpans, SpanKey, TraceDays};
use super::layout::{Store, WriterLock, partition_date, sync_dir};
use super::part::{PartFile, SealedPart, unique_name};
use super::{StoreError, manifest, schema};
use crate::model::{Span, TraceFacts};

/// What a writer did, for the ingest summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// Spans written to finished files.
    pub stored: u64,
    /// Spans skipped because the store (or this write) already had them.
    pub duplicates: u64,
    /// Parquet files finished.
    pub files: u64,
}

/// The sum of two writers' work (the receiver replaces a writer that failed).
impl std::ops::Add for WriteStats {
    type Output = WriteStats;

    fn add(self, other: WriteStats) -> WriteStats {
        WriteStats {
            stored: self.stored + other.stored,
            duplicates: self.duplicates + other.duplicates,
            files: self.files + other.files,
        }
    }
}

/// A sealed file waiting for the commit.
struct Sealed {
    part: SealedPart,
    /// A span file (else the trace-facts file, whose rows are not spans).
    spans: bool,
}

/// Partition files open for writing at once: a write spanning more days seals the
/// least recently written one, so that memory (a row group buffered per open file)
/// does not grow with the days an ingest of a year's history touches.
const MAX_OPEN_FILES: usize = 8;

/// Appends spans to a store. Holds the writer lock for its lifetime.
pub struct StoreWriter {
    store: Store,
    _lock: WriterLock,
    known: KnownSpans,
    trace_days: TraceDays,
    open: HashMap<String, PartFile>,
    /// When each open file was last written to (a counter), to seal the oldest.
    open_used: HashMap<String, u64>,
    writes: u64,
    /// In commit order: the trace-facts file first (see the module comment).
    sealed: Vec<Sealed>,
    /// Traces with spans written since the last commit.
    new_traces: HashSet<String>,
    facts: HashMap<String, TraceFacts>,
    pending_rows: u64,
    max_rows_per_file: usize,
    stats: WriteStats,
}

impl StoreWriter {
    /// Locks the store and reads which days each stored trace is on; the keys of
    /// stored spans are loaded day by day as writes reach each day (see `dedupe`).
    pub fn new(store: &Store) -> Result<StoreWriter, StoreError> {
        let lock = store.lock_for_writing()?;
        let trace_days = TraceDays::load(store)?;
        Ok(StoreWriter {
            store: store.clone(),
            _lock: lock,
            known: KnownSpans::default(),
            trace_days,
            open: HashMap::new(),
            open_used: HashMap::new(),
            writes: 0,
            sealed: Vec::new(),
            new_traces: HashSet::new(),
            facts: HashMap::new(),
            pending_rows: 0,
            max_rows_per_file: 1_000_000,
            stats: WriteStats::default(),
        })
    }

    pub fn with_max_rows_per_file(mut self, rows: usize) -> Self {
        self.max_rows_per_file = rows.max(1);
        self
    }

    /// A writer that holds at most `keys` span keys in memory (tests of the budget).
    pub fn with_key_budget(mut self, keys: usize) -> Self {
        self.known = KnownSpans::with_budget(keys);
        self
    }

    /// Buffers spans for writing, dropping those already stored. The spans are durable
    /// only after [`StoreWriter::finish`] (or [`StoreWriter::commit`]) returns.
    pub fn write(&mut self, spans: Vec<Span>) -> Result<(), StoreError> {
        let mut by_date: HashMap<String, Vec<Span>> = HashMap::new();
        for span in spans {
            let date = partition_date(span.start_ns);
            let other_days = self.trace_days.other_days(&span.trace_id, &date);
            for day in std::iter::once(&date).chain(&other_days) {
                if !self.known.is_loaded(day) {
                    let files = self.files_of_day(day)?;
                    self.known.load(day, &files)?;
                }
            }
            let key = SpanKey::new(&span.trace_id, &span.span_id);
            let elsewhere = other_days.iter().any(|day| self.known.contains(day, &key));
            if !elsewhere && self.known.insert(&date, key) {
                self.trace_days.add(&span.trace_id, &date);
                if !self.new_traces.contains(&span.trace_id) {
                    self.new_traces.insert(span.trace_id.clone());
                }
                by_date.entry(date).or_default().push(span);
            } else {
                self.stats.duplicates += 1;
            }
        }
        let mut dates: Vec<_> = by_date.into_iter().collect();
        dates.sort_by(|a, b| a.0.cmp(&b.0));
        for (date, spans) in dates {
            let mut rest: &[Span] = &spans;
            while !rest.is_empty() {
                let room = self.room_in(&date);
                let (now, later) = rest.split_at(room.min(rest.len()));
                self.append(&date, now)?;
                rest = later;
            }
        }
        let open = &self.open;
        self.known.trim(|day| open.contains_key(day));
        Ok(())
    }

    /// The files holding `date`'s spans: the stored ones and this writer's sealed ones.
    fn files_of_day(&self, date: &str) -> Result<Vec<PathBuf>, StoreError> {
        let dir = self.store.day_dir(date);
        let mut files = self.store.partition_files(&dir)?;
        files.extend(
            self.sealed
                .iter()
                .filter(|s| s.spans && s.part.target.parent() == Some(dir.as_path()))
                .map(|s| s.part.temp.clone()),
        );
        Ok(files)
    }

    /// Rows the open file of `date` can still take before it is finished.
    fn room_in(&self, date: &str) -> usize {
        let used = self.open.get(date).map_or(0, PartFile::rows);
        self.max_rows_per_file.saturating_sub(used).max(1)
    }

    fn append(&mut self, date: &str, spans: &[Span]) -> Result<(), StoreError> {
        if !self.open.contains_key(date) {
            if self.open.len() >= MAX_OPEN_FILES {
                self.seal_least_recent()?;
            }
            let dir = self.store.day_dir(date);
            let file = PartFile::create(&dir, &unique_name(date), schema::span_schema())?;
            self.open.insert(date.to_string(), file);
        }
        self.writes += 1;
        self.open_used.insert(date.to_string(), self.writes);
        let Some(open) = self.open.get_mut(date) else {
            return Ok(());
        };
        let batch = schema::to_record_batch(spans).map_err(|e| StoreError::Write {
            path: open.temp().to_path_buf(),
            message: e.to_string(),
        })?;
        open.write(&batch)?;
        self.pending_rows += spans.len() as u64;
        if open.rows() >= self.max_rows_per_file {
            self.seal_open(date)?;
        }
        Ok(())
    }

    /// Seals the open file of `date`; it waits for the commit with the others.
    fn seal_open(&mut self, date: &str) -> Result<(), StoreError> {
        self.open_used.remove(date);
        if let Some(open) = self.open.remove(date) {
            self.sealed.push(Sealed {
                part: open.seal()?,
                spans: true,
            });
        }
        Ok(())
    }

    fn seal_least_recent(&mut self) -> Result<(), StoreError> {
        let oldest = self
            .open_used
            .iter()
            .min_by_key(|(_, used)| **used)
            .map(|(date, _)| date.clone());
        match oldest {
            Some(date) => self.seal_open(&date),
            None => Ok(()),
        }
    }

    /// Renames every sealed file into place, all or none, then records them.
    fn publish(&mut self) -> Result<(), StoreError> {
        let sealed = std::mem::take(&mut self.sealed);
        for (i, file) in sealed.iter().enumerate() {
            if let Err(e) = fs::rename(&file.part.temp, &file.part.target) {
                // Undo this commit: what it made visible was never reported stored.
                for done in &sealed[..i] {
                    let _ = fs::remove_file(&done.part.target);
                }
                for left in &sealed[i..] {
                    let _ = fs::remove_file(&left.part.temp);
                }
                return Err(StoreError::io(&file.part.target, e));
            }
        }
        let dirs: BTreeSet<&Path> = sealed
            .iter()
            .filter_map(|f| f.part.target.parent())
            .collect();
        for dir in dirs {
            sync_dir(dir)?;
        }
        for file in &sealed {
            // Recorded only once the file is durable: a record never vouches for a
            // file that is not there. The files are stored by now, so a record that
            // cannot be written leaves a file without one (as older stores have),
            // not a failed commit.
            manifest::write_or_warn(self.store.root(), &file.part.target, file.part.record);
            if file.spans {
                self.stats.stored += file.part.rows as u64;
                self.pending_rows -= file.part.rows as u64;
            }
            self.stats.files += 1;
        }
        Ok(())
    }

    /// Records what the normaliser learned about a trace (the latest call wins).
    pub fn set_trace_facts(&mut self, trace_id: &str, facts: &TraceFacts) {
        if *facts != TraceFacts::default() {
            self.facts.insert(trace_id.to_string(), facts.clone());
        }
    }

    fn write_facts(&mut self) -> Result<(), StoreError> {
        let mut rows: Vec<(&str, &TraceFacts)> = self
            .facts
            .iter()
            .filter(|(id, _)| self.new_traces.contains(*id))
            .map(|(id, f)| (id.as_str(), f))
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        rows.sort_by(|a, b| a.0.cmp(b.0));
        let dir = self.store.facts_dir();
        let mut part =
            PartFile::create(&dir, &unique_name("traces"), schema::trace_facts_schema())?;
        let batch = schema::facts_to_record_batch(&rows).map_err(|e| StoreError::Write {
            path: part.temp().to_path_buf(),
            message: e.to_string(),
        });
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                let _ = fs::remove_file(part.temp());
                return Err(e);
            }
        };
        part.write(&batch)?;
        let sealed = Sealed {
            part: part.seal()?,
            spans: false,
        };
        self.sealed.insert(0, sealed);
        Ok(())
    }

    /// Makes everything written so far durable and visible to readers.
    pub fn commit(&mut self) -> Result<WriteStats, StoreError> {
        self.write_facts()?;
        self.facts.clear();
        self.new_traces.clear();
        let mut dates: Vec<String> = self.open.keys().cloned().collect();
        dates.sort();
        for date in dates {
            self.seal_open(&date)?;
        }
        self.publish()?;
        Ok(self.stats)
    }

    /// Commits and releases the lock.
    pub fn finish(mut self) -> Result<WriteStats, StoreError> {
        self.commit()
    }

    /// Spans buffered but not yet durable.
    pub fn pending(&self) -> u64 {
        self.pending_rows
    }

    pub fn stats(&self) -> WriteStats {
        self.stats
    }
}

impl Drop for StoreWriter {
    fn drop(&mut self) {
        // Uncommitted temp files are not data anyone was told about: remove them so an
        // interrupted ingest leaves the store as it was.
        for (_, open) in self.open.drain() {
            let _ = fs::remove_file(open.temp());
        }
        for sealed in self.sealed.drain(..) {
            let _ = fs::remove_file(&sealed.part.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Span;

    fn span(day: i64, id: u64) -> Span {
        Span {
            trace_id: format!("{:032x}", 7),
            span_id: format!("{id:016x}"),
            name: "s".into(),
            kind: "internal".into(),
            start_ns: 1_750_000_000_000_000_000 + day * 86_400_000_000_000,
            end_ns: 1_750_000_000_000_000_000 + day * 86_400_000_000_000 + 5,
            ..Span::default()
        }
    }

    #[test]
    fn nothing_is_visible_until_commit_and_an_abandoned_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut writer = StoreWriter::new(&store).unwrap();
        writer.write(vec![span(0, 1), span(1, 2)]).unwrap();
        assert_eq!(
            store.parquet_files().unwrap().len(),
            0,
            "readers see no half-written file"
        );
        assert_eq!(writer.pending(), 2);
        drop(writer); // as if the ingest failed or was interrupted
        assert!(store.parquet_files().unwrap().is_empty());
        let leftovers: Vec<_> = walk(dir.path())
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");

        // A crashed writer's temp file is removed by the next writer, which stores all.
        let partition = store.partition_dir(span(0, 1).start_ns);
        std::fs::write(partition.join(".crashed.parquet.tmp"), b"half a file").unwrap();
        let mut writer = StoreWriter::new(&store).unwrap();
        assert!(!partition.join(".crashed.parquet.tmp").exists());
        writer
            .write(vec![span(0, 1), span(1, 2), span(1, 2)])
            .unwrap();
        let stats = writer.finish().unwrap();
        assert_eq!((stats.stored, stats.duplicates, stats.files), (2, 1, 2));
        let names: Vec<String> = store
            .parquet_files()
            .unwrap()
            .iter()
            .map(|p| {
                p.parent()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, vec!["date=2025-06-15", "date=2025-06-16"]);
    }

    #[test]
    fn large_writes_are_split_into_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut writer = StoreWriter::new(&store).unwrap().with_max_rows_per_file(3);
        let spans: Vec<Span> = (0..7).map(|i| span(0, i)).collect();
        writer.write(spans.clone()).unwrap();
        let sealed = walk(dir.path())
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
            .count();
        assert_eq!(sealed, 3, "full files are sealed early, one is open");
        assert!(
            store.parquet_files().unwrap().is_empty(),
            "sealed files wait for the commit"
        );
        let stats = writer.finish().unwrap();
        assert_eq!((stats.stored, stats.files), (7, 3));
        assert_eq!(store.parquet_files().unwrap().len(), 3);
    }

    #[test]
    fn a_commit_that_cannot_rename_every_file_makes_none_visible() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut writer = StoreWriter::new(&store).unwrap().with_max_rows_per_file(2);
        let spans: Vec<Span> = (0..5).map(|i| span(i % 2, i as u64)).collect();
        writer.write(spans.clone()).unwrap();
        writer.set_trace_facts(&spans[0].trace_id, &on_main());
        // Seal everything, then put a non-empty directory where the last file goes.
        writer.write_facts().unwrap();
        for date in writer.open.keys().cloned().collect::<Vec<_>>() {
            let open = writer.open.remove(&date).unwrap();
            writer.sealed.push(Sealed {
                part: open.seal().unwrap(),
                spans: true,
            });
        }
        let last = writer.sealed.last().unwrap().part.target.clone();
        std::fs::create_dir_all(last.join("in-the-way")).unwrap();
        let error = writer.commit().unwrap_err();
        assert!(
            error.to_string().contains(&last.display().to_string()),
            "{error}"
        );
        let visible: Vec<_> = store.parquet_files().unwrap();
        assert_eq!(visible, vec![last], "only the obstacle is there");
        assert!(store.facts_files().unwrap().is_empty());
        drop(writer);
        let leftovers: Vec<_> = walk(dir.path())
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn every_finished_file_is_recorded_with_its_rows_size_and_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut writer = StoreWriter::new(&store).unwrap().with_max_rows_per_file(3);
        let spans: Vec<Span> = (0..7).map(|i| span(0, i)).collect();
        writer.write(spans.clone()).unwrap();
        writer.set_trace_facts(&spans[0].trace_id, &on_main());
        writer.finish().unwrap();
        let mut files = store.parquet_files().unwrap();
        files.extend(store.facts_files().unwrap());
        let mut rows = Vec::new();
        for file in &files {
            let record = manifest::read(store.root(), file)
                .unwrap()
                .expect("recorded");
            let bytes = fs::read(file).unwrap();
            assert_eq!(record.bytes, bytes.len() as u64);
            assert_eq!(record.crc32, Some(crc32fast::hash(&bytes)));
            rows.push(record.rows);
        }
        assert_eq!(
            rows,
            vec![3, 3, 1, 1],
            "three span files, then the facts file"
        );
    }

    #[test]
    fn a_writer_over_its_key_budget_still_finds_every_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // 20 days of 10 spans; keys for about 2 days fit in memory.
        let spans: Vec<Span> = (0..200).map(|i| span(i % 20, i as u64)).collect();
        let mut writer = StoreWriter::new(&store).unwrap().with_key_budget(25);
        writer.write(spans[..100].to_vec()).unwrap();
        writer.write(spans.clone()).unwrap();
        assert!(writer.open.len() <= MAX_OPEN_FILES, "{}", writer.open.len());
        assert!(writer.known.len() <= 25 + 10 * MAX_OPEN_FILES);
        // The same spans again in the same writer: days dropped from memory are read
        // back from the writer's own sealed files.
        writer.write(spans.clone()).unwrap();
        let stats = writer.finish().unwrap();
        assert_eq!((stats.stored, stats.duplicates), (200, 300));
        // And by the next writer, from the stored files.
        let mut again = StoreWriter::new(&store).unwrap().with_key_budget(25);
        again.write(spans.clone()).unwrap();
        let stats = again.finish().unwrap();
        assert_eq!((stats.stored, stats.duplicates), (0, 200));
    }

    #[test]
    fn a_writer_loads_the_keys_of_the_days_it_writes_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // A trace a day: a trace's other days are read too (see the next test).
        let span = |day: i64, id: u64| Span {
            trace_id: format!("{:032x}", 100 + day),
            ..span(day, id)
        };
        let spans: Vec<Span> = (0..200).map(|i| span(i % 20, i as u64)).collect();
        let mut writer = StoreWriter::new(&store).unwrap();
        writer.write(spans.clone()).unwrap();
        writer.finish().unwrap();
        // A store of 20 days; a write to one of them reads that day's 10 keys.
        let mut writer = StoreWriter::new(&store).unwrap();
        assert_eq!(writer.known.len(), 0, "nothing loaded up front");
        writer.write(vec![span(3, 3), span(3, 1_000)]).unwrap();
        assert_eq!(writer.known.len(), 11);
        let stats = writer.finish().unwrap();
        assert_eq!((stats.stored, stats.duplicates), (1, 1));
    }

    #[test]
    fn a_span_stored_again_with_another_start_day_is_a_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut writer = StoreWriter::new(&store).unwrap();
        writer.write(vec![span(0, 1), span(0, 2)]).unwrap();
        // The same span 2 a day later, in the same writer and in the next one.
        writer.write(vec![span(1, 2)]).unwrap();
        let stats = writer.finish().unwrap();
        assert_eq!((stats.stored, stats.duplicates), (2, 1));
        let mut writer = StoreWriter::new(&store).unwrap();
        writer.write(vec![span(5, 1), span(5, 3)]).unwrap();
        let stats = writer.finish().unwrap();
        assert_eq!((stats.stored, stats.duplicates), (1, 1));
    }

    #[test]
    fn a_damaged_file_does_not_stop_the_writer_and_its_spans_are_stored_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let spans: Vec<Span> = (0..6).map(|i| span(0, i)).collect();
        let mut writer = StoreWriter::new(&store).unwrap();
        writer.write(spans[..3].to_vec()).unwrap();
        writer.finish().unwrap();
        let damaged = store.parquet_files().unwrap()[0].clone();
        fs::write(&damaged, b"not parquet").unwrap();
        let mut writer = StoreWriter::new(&store).unwrap();
        writer.write(spans.clone()).unwrap();
        let stats = writer.finish().unwrap();
        assert_eq!((stats.stored, stats.duplicates), (6, 0));
    }

    /// Facts that make the writer write a trace-facts file.
    fn on_main() -> TraceFacts {
        TraceFacts {
            branch: Some("main".into()),
            ..TraceFacts::default()
        }
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
