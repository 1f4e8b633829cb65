//! `pipescope compact`: merges each partition's small files into files of about
//! `target_rows` rows, and the trace-facts files likewise, so that a year of receiver
//! flushes and pulls (10^5 files) plans and scans like a few hundred.
//!
//! Under the writer lock, per group of small files: the rows are read file by file
//! and written, in the order they were stored, to one new file, which replaces the
//! group through the journal (`journal`): atomically for readers, and a kill at any
//! point loses and duplicates nothing. The order is kept because it is already the
//! best for size: each file holds whole traces, their spans in time order, so ids,
//! per-trace columns and delta-encoded times compress well; sorting by ids instead
//! made the bench store 18% bigger. Memory is a batch, a row group and the group's
//! span keys (16 bytes a span: a span stored twice by an older pipescope is kept
//! once), whatever the partition's size. The rows out are counted against the rows
//! in before anything is replaced.
//!
//! A damaged file (its footer, schema or record is wrong, or a row group does not
//! decode) is never compacted: its group is left as it was and the file named, for
//! `pipescope check --repair`.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, new_null_array};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;

use super::dedupe::SpanKey;
use super::integrity::{Table, inspect};
use super::journal::{self, Replacement};
use super::layout::{Store, WriterLock, sync_dir};
use super::part::{PartFile, unique_name};
use super::{StoreError, manifest, schema};

/// Rows per output file unless `--target-rows` says otherwise: the store writer's own
/// file size, so a day of a mid-size organisation (~150k spans) is one file.
pub const DEFAULT_TARGET_ROWS: u64 = 1_000_000;

/// What one compaction did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct CompactStats {
    /// Span partitions with at least one group rewritten.
    pub partitions: u64,
    pub files_before: u64,
    pub files_after: u64,
    pub rows: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Rows stored twice (by an older pipescope) that the rewrite kept once.
    pub duplicates_removed: u64,
    /// Trace-facts files merged, and the files they became.
    pub facts_files_before: u64,
    pub facts_files_after: u64,
    /// Files left as they were because they are damaged.
    pub damaged: Vec<PathBuf>,
    /// Replacements whose old files wait for running queries to end: the next
    /// compaction (or any writer) deletes them; readers already leave them out.
    pub waiting_for_readers: usize,
}

/// One file considered for compaction.
struct Candidate {
    path: PathBuf,
    rows: u64,
    bytes: u64,
}

/// Compacts the whole store (see the module comment).
pub fn compact(store: &Store, target_rows: u64) -> Result<CompactStats, StoreError> {
    let lock = store.lock_for_writing()?;
    let target_rows = target_rows.max(1);
    let mut stats = CompactStats::default();
    for partition in store.partitions()? {
        let files = store.partition_files(&partition)?;
        let label = partition
            .file_name()
            .map(|n| n.to_string_lossy().trim_start_matches("date=").to_string())
            .unwrap_or_default();
        let before = stats.files_before;
        compact_files(
            store,
            &lock,
            &files,
            Table::Spans,
            &label,
            target_rows,
            &mut stats,
        )?;
        if stats.files_before > before {
            stats.partitions += 1;
        }
    }
    let mut facts = CompactStats::default();
    let files = store.facts_files()?;
    compact_files(
        store,
        &lock,
        &files,
        Table::TraceFacts,
        "traces",
        target_rows,
        &mut facts,
    )?;
    stats.facts_files_before = facts.files_before;
    stats.facts_files_after = facts.files_after;
    stats.damaged.extend(facts.damaged);
    stats.waiting_for_readers = store.finish_compactions(&lock)?;
    Ok(stats)
}

/// Rewrites the groups of `files` (one directory's) worth merging; counts into `stats`.
fn compact_files(
    store: &Store,
    lock: &WriterLock,
    files: &[PathBuf],
    table: Table,
    label: &str,
    target_rows: u64,
    stats: &mut CompactStats,
) -> Result<(), StoreError> {
    let mut candidates = Vec::new();
    for path in files {
        let inspection = inspect(store.root(), path, table, false)?;
        match (inspection.problem, inspection.rows) {
            (None, Some(rows)) => {
                let bytes = fs::metadata(path)
                    .map_err(|e| StoreError::io(path, e))?
                    .len();
                candidates.push(Candidate {
                    path: path.clone(),
                    rows,
                    bytes,
                });
            }
            _ => stats.damaged.push(path.clone()),
        }
    }
    for group in groups(candidates, target_rows) {
        match rewrite(store, lock, &group, table, label) {
            Ok(rewritten) => {
                stats.files_before += group.len() as u64;
                stats.files_after += 1;
                stats.rows += rewritten.rows;
                stats.duplicates_removed += rewritten.duplicates;
                stats.bytes_before += group.iter().map(|c| c.bytes).sum::<u64>();
                stats.bytes_after += rewritten.bytes;
            }
            // A row group that does not decode: the group stays, the file is named.
            Err(StoreError::Corrupt { path, message }) => {
                tracing::warn!("not compacting {}: {message}", path.display());
                stats.damaged.push(path);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Consecutive files (by name, i.e. by the time they were written) gathered until a
/// group holds `target_rows`; a file that is big enough alone, and a group of one,
/// are left as they are — compacting twice rewrites nothing.
fn groups(candidates: Vec<Candidate>, target_rows: u64) -> Vec<Vec<Candidate>> {
    let mut groups = Vec::new();
    let mut group: Vec<Candidate> = Vec::new();
    let mut rows = 0;
    for candidate in candidates {
        if candidate.rows >= target_rows {
            continue;
        }
        rows += candidate.rows;
        group.push(candidate);
        if rows >= target_rows {
            groups.push(std::mem::take(&mut group));
            rows = 0;
        }
    }
    groups.push(group);
    groups.retain(|g| g.len() > 1);
    groups
}

struct Rewritten {
    rows: u64,
    duplicates: u64,
    bytes: u64,
}

/// Writes `group` into one new file and replaces the group with it.
fn rewrite(
    store: &Store,
    _lock: &WriterLock,
    group: &[Candidate],
    table: Table,
    label: &str,
) -> Result<Rewritten, StoreError> {
    let dir = group[0].path.parent().unwrap_or(store.root()).to_path_buf();
    let schema = table.schema();
    let mut part = PartFile::create(&dir, &unique_name(label), schema.clone())?;
    let written = copy_rows(group, table, &schema, &mut part);
    let duplicates = match written {
        Ok(duplicates) => duplicates,
        Err(e) => {
            let _ = fs::remove_file(part.temp());
            return Err(e);
        }
    };
    let rows_in: u64 = group.iter().map(|c| c.rows).sum();
    let rows_out = part.rows() as u64;
    if rows_out + duplicates != rows_in {
        let _ = fs::remove_file(part.temp());
        return Err(StoreError::Write {
            path: part.temp().to_path_buf(),
            message: format!(
                "compaction wrote {rows_out} rows (+{duplicates} duplicates) of {rows_in}; nothing replaced"
            ),
        });
    }
    let sealed = part.seal()?;
    let inputs: Vec<PathBuf> = group.iter().map(|c| c.path.clone()).collect();
    let replacement = Replacement::new(store.root(), &sealed.target, &inputs)?;
    let pending = journal::write(store.root(), &replacement);
    let pending = match pending {
        Ok(pending) => pending,
        Err(e) => {
            let _ = fs::remove_file(&sealed.temp);
            return Err(e);
        }
    };
    if let Err(e) = fs::rename(&sealed.temp, &sealed.target) {
        let _ = fs::remove_file(&sealed.temp);
        journal::abandon(&pending)?;
        return Err(StoreError::io(&sealed.target, e));
    }
    sync_dir(&dir)?;
    manifest::write_or_warn(store.root(), &sealed.target, sealed.record);
    // The inputs go now if no query is reading; else at the end of the compaction
    // or the next writer's start (`Store::finish_compactions`).
    Ok(Rewritten {
        rows: rows_out,
        duplicates,
        bytes: sealed.record.bytes,
    })
}

/// Copies every row of `group` into `part`, in order; returns the number of span
/// rows left out as duplicates (a `(trace_id, span_id)` already copied).
fn copy_rows(
    group: &[Candidate],
    table: Table,
    schema: &SchemaRef,
    part: &mut PartFile,
) -> Result<u64, StoreError> {
    let mut seen: HashSet<SpanKey> = HashSet::new();
    let mut duplicates = 0;
    for candidate in group {
        let path = &candidate.path;
        let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        };
        let file = fs::File::open(path).map_err(|e| StoreError::io(path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(8192).build())
            .map_err(|e| corrupt(&e))?;
        for batch in reader {
            let batch = conform(&batch.map_err(|e| corrupt(&e))?, schema, path)?;
            let batch = match table {
                Table::Spans => {
                    let (batch, dropped) =
                        first_of_each_span(batch, &mut seen).map_err(|e| corrupt(&e))?;
                    duplicates += dropped;
                    batch
                }
                // Several rows of one trace are its facts learned at different
                // times: readers merge them (MAX per column), so all are kept.
                Table::TraceFacts => batch,
            };
            part.write(&batch)?;
        }
    }
    Ok(duplicates)
}

/// `batch` without the spans whose key is in `seen` (adding the others to it), and
/// how many were left out.
fn first_of_each_span(
    batch: RecordBatch,
    seen: &mut HashSet<SpanKey>,
) -> Result<(RecordBatch, u64), ArrowError> {
    let (Some(traces), Some(spans)) = (
        batch.column_by_name(schema::TRACE_ID),
        batch.column_by_name(schema::SPAN_ID),
    ) else {
        return Ok((batch, 0));
    };
    let (traces, spans) = (traces.as_string::<i32>(), spans.as_string::<i32>());
    let keep: Vec<bool> = (0..batch.num_rows())
        .map(|i| {
            traces.is_null(i)
                || spans.is_null(i)
                || seen.insert(SpanKey::new(traces.value(i), spans.value(i)))
        })
        .collect();
    let dropped = keep.iter().filter(|k| !**k).count() as u64;
    if dropped == 0 {
        return Ok((batch, 0));
    }
    let batch = filter_record_batch(&batch, &BooleanArray::from(keep))?;
    Ok((batch, dropped))
}

/// `batch` with exactly `schema`'s columns: a nullable column an older file lacks
/// reads as nulls (as the query layer reads it).
fn conform(
    batch: &RecordBatch,
    schema: &SchemaRef,
    path: &Path,
) -> Result<RecordBatch, StoreError> {
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|field| match batch.column_by_name(field.name()) {
            Some(column) => column.clone(),
            None => new_null_array(field.data_type(), batch.num_rows()),
        })
        .collect();
    RecordBatch::try_new(Arc::clone(schema), columns).map_err(|e| StoreError::Corrupt {
        path: path.to_path_buf(),
        message: format!("its rows do not fit the store's schema: {e}"),
    })
}

#[cfg(test)]
mod tests;
