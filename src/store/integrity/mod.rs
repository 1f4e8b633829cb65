//! Is a store file what the writer wrote? One file is inspected at two depths: its
//! footer (cheap: the Parquet metadata, the schema against `schema.rs`, the row count
//! and size against the writer's record in `manifest/`), or fully (every row group
//! decoded). Analyses use the footer check before every query ([`reading`]);
//! `pipescope check` uses both over the whole store ([`check`]) and `--repair` moves
//! what is damaged into `<data>/quarantine/` ([`repair`]).

pub mod check;
pub mod reading;
pub mod repair;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use serde::Serialize;

use super::manifest::{self, FileRecord};
use super::{Store, StoreError, schema};

/// What is wrong with a file, in a word (for JSON and tests) and in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Not a readable Parquet file: empty, truncated, no footer, not Parquet at all.
    Footer,
    /// Parquet, but not the columns the store's schema has.
    Schema,
    /// The footer's row count differs from the writer's record.
    RowCount,
    /// The file's size differs from the writer's record.
    Size,
    /// A row group does not decode (found by a full check or by a failing query).
    Data,
    /// The bytes differ from what the writer wrote (CRC-32), though they may decode.
    Checksum,
    /// The writer recorded this file, but it is gone.
    Missing,
}

impl Problem {
    fn new(kind: ProblemKind, message: impl Into<String>) -> Problem {
        Problem {
            kind,
            message: message.into(),
        }
    }
}

/// Which table a file belongs to, by the directory it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Spans,
    TraceFacts,
}

impl Table {
    pub fn schema(self) -> SchemaRef {
        match self {
            Table::Spans => schema::span_schema(),
            Table::TraceFacts => schema::trace_facts_schema(),
        }
    }

    /// The table of a file of `store`, by the directory it is in.
    pub fn of(store: &Store, path: &Path) -> Table {
        if path.starts_with(store.facts_dir()) {
            Table::TraceFacts
        } else {
            Table::Spans
        }
    }
}

/// What inspecting one file found.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// Rows by the footer, when it is readable.
    pub rows: Option<u64>,
    /// The writer's record, when there is one.
    pub recorded: Option<FileRecord>,
    pub problem: Option<Problem>,
}

/// Inspects `path` (a file of `table` in the store at `root`): the footer, schema and
/// record always; every row group too when `decode` is set. I/O errors other than
/// the file's own content (permissions, a vanished directory) are errors, not damage.
pub fn inspect(
    root: &Path,
    path: &Path,
    table: Table,
    decode: bool,
) -> Result<Inspection, StoreError> {
    let recorded = match manifest::read(root, path) {
        Ok(recorded) => recorded,
        // An unreadable record cannot vouch for the file, but is no damage of the data.
        Err(StoreError::Corrupt { path, message }) => {
            tracing::warn!("ignoring {}: {message}", path.display());
            None
        }
        Err(e) => return Err(e),
    };
    let mut file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    let size = file.metadata().map_err(|e| StoreError::io(path, e))?.len();
    let mut inspection = Inspection {
        rows: None,
        recorded,
        problem: None,
    };
    if let Some(problem) = footer_magic(&mut file, size, recorded) {
        inspection.problem = Some(problem);
        return Ok(inspection);
    }
    let metadata = match ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()) {
        Ok(metadata) => metadata,
        Err(e) => {
            inspection.problem = Some(Problem::new(
                ProblemKind::Footer,
                format!("unreadable Parquet footer: {e}"),
            ));
            return Ok(inspection);
        }
    };
    let rows = metadata.metadata().file_metadata().num_rows().max(0) as u64;
    inspection.rows = Some(rows);
    inspection.problem = schema_problem(&metadata.schema().clone(), &table.schema())
        .or_else(|| record_problem(rows, size, recorded));
    if inspection.problem.is_none() && decode {
        let io = |e| StoreError::io(path, e);
        inspection.problem = decode_problem(&file, &metadata, rows).map_err(io)?;
        if inspection.problem.is_none() {
            inspection.problem = checksum_problem(&mut file, recorded).map_err(io)?;
        }
    }
    Ok(inspection)
}

/// A file that cannot hold a footer: empty, shorter than the magic, or not ending in
/// `PAR1` (cut short, or not Parquet at all). The record, if any, tells which.
fn footer_magic(file: &mut File, size: u64, recorded: Option<FileRecord>) -> Option<Problem> {
    let truncated = recorded
        .filter(|r| r.bytes > size)
        .map(|r| format!(" (truncated: {size} of the {} bytes written)", r.bytes))
        .unwrap_or_default();
    if size == 0 {
        return Some(Problem::new(
            ProblemKind::Footer,
            format!("empty file (0 bytes){truncated}"),
        ));
    }
    let mut tail = [0u8; 4];
    let read =
        size >= 12 && file.seek(SeekFrom::End(-4)).is_ok() && file.read_exact(&mut tail).is_ok();
    if !read || &tail != b"PAR1" {
        return Some(Problem::new(
            ProblemKind::Footer,
            format!(
                "no Parquet footer: the file ({size} bytes) does not end in the Parquet magic PAR1, so it is cut short or not Parquet{truncated}"
            ),
        ));
    }
    None
}

/// Whether the file's columns are the table's: every column the table needs is there
/// (a nullable column added later may be missing from older files: it reads as null)
/// with the table's type.
fn schema_problem(file: &SchemaRef, table: &SchemaRef) -> Option<Problem> {
    let mut wrong = Vec::new();
    for field in table.fields() {
        match file.field_with_name(field.name()) {
            Ok(found) if found.data_type().equals_datatype(field.data_type()) => {}
            Ok(found) => wrong.push(format!(
                "column {} is {}, not {}",
                field.name(),
                found.data_type(),
                field.data_type()
            )),
            Err(_) if field.is_nullable() => {}
            Err(_) => wrong.push(format!("no column {}", field.name())),
        }
    }
    (!wrong.is_empty()).then(|| {
        Problem::new(
            ProblemKind::Schema,
            format!("not the store's schema: {}", wrong.join("; ")),
        )
    })
}

fn record_problem(rows: u64, size: u64, recorded: Option<FileRecord>) -> Option<Problem> {
    let recorded = recorded?;
    if rows != recorded.rows {
        return Some(Problem::new(
            ProblemKind::RowCount,
            format!(
                "holds {rows} rows, but the writer recorded {}",
                recorded.rows
            ),
        ));
    }
    (size != recorded.bytes).then(|| {
        Problem::new(
            ProblemKind::Size,
            format!(
                "is {size} bytes, but the writer recorded {}",
                recorded.bytes
            ),
        )
    })
}

/// The whole file's CRC-32 against the record's (records from before checksums have
/// none: nothing to compare).
fn checksum_problem(
    file: &mut File,
    recorded: Option<FileRecord>,
) -> std::io::Result<Option<Problem>> {
    let Some(expected) = recorded.and_then(|r| r.crc32) else {
        return Ok(None);
    };
    file.seek(SeekFrom::Start(0))?;
    let mut crc = crc32fast::Hasher::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        crc.update(&buffer[..n]);
    }
    let found = crc.finalize();
    Ok((found != expected).then(|| {
        Problem::new(
            ProblemKind::Checksum,
            format!(
                "its bytes are not what the writer wrote (CRC-32 {found:08x}, recorded {expected:08x}), though they decode"
            ),
        )
    }))
}

/// Decodes every row group, one at a time so that the message says which failed.
fn decode_problem(
    file: &File,
    metadata: &ArrowReaderMetadata,
    rows: u64,
) -> std::io::Result<Option<Problem>> {
    let groups = metadata.metadata().num_row_groups();
    let mut decoded = 0u64;
    for group in 0..groups {
        let builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file.try_clone()?, metadata.clone())
                .with_row_groups(vec![group]);
        let failed = |e: &dyn std::fmt::Display| {
            Some(Problem::new(
                ProblemKind::Data,
                format!("row group {} of {groups} does not decode: {e}", group + 1),
            ))
        };
        let reader = match builder.build() {
            Ok(reader) => reader,
            Err(e) => return Ok(failed(&e)),
        };
        for batch in reader {
            match batch {
                Ok(batch) => decoded += batch.num_rows() as u64,
                Err(e) => return Ok(failed(&e)),
            }
        }
    }
    Ok((decoded != rows).then(|| {
        Problem::new(
            ProblemKind::Data,
            format!("decodes to {decoded} rows, but its footer says {rows}"),
        )
    }))
}

/// The distinct trace ids of a file, when its `trace_id` column decodes.
pub fn trace_ids(path: &Path) -> Option<Vec<String>> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::parquet::arrow::ProjectionMask;

    let file = File::open(path).ok()?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).ok()?;
    let position = builder
        .parquet_schema()
        .columns()
        .iter()
        .position(|c| c.name() == schema::TRACE_ID)?;
    let mask = ProjectionMask::leaves(builder.parquet_schema(), [position]);
    let mut ids = std::collections::BTreeSet::new();
    for batch in builder.with_projection(mask).build().ok()? {
        let batch = batch.ok()?;
        let column = batch.column(0).as_string_opt::<i32>()?;
        ids.extend(
            (0..column.len())
                .filter(|&i| !column.is_null(i))
                .map(|i| column.value(i).to_string()),
        );
    }
    Some(ids.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Span;

    fn span(id: u64) -> Span {
        Span {
            trace_id: format!("{:032x}", 7),
            span_id: format!("{id:016x}"),
            name: "s".into(),
            kind: "internal".into(),
            start_ns: 1_750_000_000_000_000_000,
            end_ns: 1_750_000_000_000_000_005,
            ..Span::default()
        }
    }

    fn write(path: &Path, batch: &datafusion::arrow::array::RecordBatch) {
        let file = File::create(path).unwrap();
        let mut writer =
            datafusion::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        writer.write(batch).unwrap();
        writer.close().unwrap();
    }

    /// A file from before a nullable column was added (test_id came later) is read as
    /// null there by DataFusion: it must not count as damaged, or every old store would.
    #[test]
    fn a_file_without_a_later_nullable_column_is_no_damage() {
        let dir = tempfile::tempdir().unwrap();
        let batch = schema::to_record_batch(&[span(1), span(2)]).unwrap();
        let keep: Vec<usize> = (0..batch.num_columns())
            .filter(|&i| batch.schema().field(i).name() != schema::TEST_ID)
            .collect();
        let old = dir.path().join("old.parquet");
        write(&old, &batch.project(&keep).unwrap());
        let inspection = inspect(dir.path(), &old, Table::Spans, true).unwrap();
        assert_eq!(inspection.problem, None);
        assert_eq!(inspection.rows, Some(2));
        assert_eq!(inspection.recorded, None);

        // Without a column every span has, it is another schema.
        let keep: Vec<usize> = (0..batch.num_columns())
            .filter(|&i| batch.schema().field(i).name() != schema::SPAN_ID)
            .collect();
        let other = dir.path().join("other.parquet");
        write(&other, &batch.project(&keep).unwrap());
        let problem = inspect(dir.path(), &other, Table::Spans, false)
            .unwrap()
            .problem
            .unwrap();
        assert_eq!(problem.kind, ProblemKind::Schema);
        assert_eq!(problem.message, "not the store's schema: no column span_id");
    }
}
