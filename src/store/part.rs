//! One Parquet file of the store being written: created under a hidden temporary name
//! in the directory it belongs to, sealed (closed and fsynced, still hidden) with the
//! writer's record of it, and made visible by a rename that only its owner — the
//! store writer's commit, or a compaction — performs. Both write files the same way,
//! with the same Parquet settings: this is the one place those live.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, Encoding, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;

use super::{StoreError, manifest, schema};

/// Rows per Parquet row group: large enough for good scans, small enough that an open
/// writer's buffer stays at tens of MB.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// A file being written under its temporary name.
pub struct PartFile {
    temp: PathBuf,
    writer: ArrowWriter<Summed<File>>,
    rows: usize,
}

/// A closed, fsynced temporary file, and the name it gets when made visible.
pub struct SealedPart {
    pub temp: PathBuf,
    pub target: PathBuf,
    pub rows: usize,
    pub record: manifest::FileRecord,
}

impl PartFile {
    /// Creates `<dir>/.<name>.parquet.tmp`, to become `<dir>/<name>.parquet`.
    pub fn create(dir: &Path, name: &str, schema: SchemaRef) -> Result<PartFile, StoreError> {
        fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let temp = dir.join(format!(".{name}.parquet.tmp"));
        let file = File::create(&temp).map_err(|e| StoreError::io(&temp, e))?;
        let writer = ArrowWriter::try_new(Summed::new(file), schema, Some(writer_properties()))
            .map_err(|e| StoreError::Write {
                path: temp.clone(),
                message: e.to_string(),
            });
        let writer = removing_on_error(&temp, writer)?;
        Ok(PartFile {
            temp,
            writer,
            rows: 0,
        })
    }

    /// Appends rows; on error the temporary file is removed (a full disk gets its
    /// space back) and the part must be dropped.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), StoreError> {
        let written = self.writer.write(batch).map_err(|e| StoreError::Write {
            path: self.temp.clone(),
            message: e.to_string(),
        });
        removing_on_error(&self.temp, written)?;
        self.rows += batch.num_rows();
        Ok(())
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn temp(&self) -> &Path {
        &self.temp
    }

    /// Closes and fsyncs the file; it stays invisible until renamed to its target.
    pub fn seal(self) -> Result<SealedPart, StoreError> {
        let temp = self.temp.clone();
        removing_on_error(&temp, self.close())
    }

    fn close(self) -> Result<SealedPart, StoreError> {
        let PartFile { temp, writer, rows } = self;
        let write_error = |e: &dyn std::fmt::Display| StoreError::Write {
            path: temp.clone(),
            message: e.to_string(),
        };
        let summed = writer.into_inner().map_err(|e| write_error(&e))?;
        summed
            .inner
            .sync_all()
            .map_err(|e| StoreError::io(&temp, e))?;
        let record = summed.record(rows as u64);
        drop(summed);
        let name = temp
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| {
                n.trim_start_matches('.')
                    .trim_end_matches(".tmp")
                    .to_string()
            })
            .ok_or_else(|| write_error(&"temporary file has no name"))?;
        let dir = temp
            .parent()
            .ok_or_else(|| write_error(&"temporary file has no directory"))?
            .to_path_buf();
        Ok(SealedPart {
            target: dir.join(name),
            temp,
            rows,
            record,
        })
    }
}

/// `result`, after removing the temporary file it failed to write: a failed write
/// leaves nothing behind.
fn removing_on_error<T>(temp: &Path, result: Result<T, StoreError>) -> Result<T, StoreError> {
    if result.is_err() {
        let _ = fs::remove_file(temp);
    }
    result
}

/// A file being written, with the CRC-32 and length of what went through it: the
/// writer's record of the file costs no second read (see `manifest`).
struct Summed<W> {
    inner: W,
    crc: crc32fast::Hasher,
    bytes: u64,
}

impl<W> Summed<W> {
    fn new(inner: W) -> Summed<W> {
        Summed {
            inner,
            crc: crc32fast::Hasher::new(),
            bytes: 0,
        }
    }

    fn record(&self, rows: u64) -> manifest::FileRecord {
        manifest::FileRecord {
            rows,
            bytes: self.bytes,
            crc32: Some(self.crc.clone().finalize()),
        }
    }
}

impl<W: Write> Write for Summed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// How every store file is encoded. Measured on the bench corpus (`synth --preset
/// bench --spans 200000`, ingested: a file per day): 46.8 bytes/span with the
/// defaults and ZSTD 1, 42.2 with these. The levers, all read by DuckDB, polars and
/// Spark as they are:
/// - times as deltas (DELTA_BINARY_PACKED): a trace's spans are stored together, in
///   time order, so consecutive values are close; a dictionary of nanosecond times
///   never pays;
/// - no dictionary for span ids (unique in a file) and parent ids (nearly so), which
///   was built for every page and then abandoned;
/// - ZSTD 3 rather than 1: 4% smaller, still far faster than decoding the input
///   (levels 6–9 gain under 1% more).
///
/// What is left is mostly entropy: a span id is 8 random bytes stored as 16 hex
/// characters (10 bytes/span compressed), times are nanoseconds. BYTE_STREAM_SPLIT
/// times would save about 3 bytes/span more, but older readers refuse it on integers.
fn writer_properties() -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    for column in [schema::START_TIME, schema::END_TIME, schema::DURATION_NS] {
        builder = builder
            .set_column_dictionary_enabled(ColumnPath::from(column), false)
            .set_column_encoding(ColumnPath::from(column), Encoding::DELTA_BINARY_PACKED);
    }
    for column in [schema::SPAN_ID, schema::PARENT_SPAN_ID] {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(column), false);
    }
    builder.build()
}

/// A file name no other write (in this or another process) uses: `part-<label>-<time>-…`.
pub fn unique_name(label: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = chrono::Utc::now().format("%Y%m%dT%H%M%S%.9f");
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let salt: u32 = rand::random();
    format!("part-{label}-{now}-{}-{n}-{salt:08x}", std::process::id())
}
