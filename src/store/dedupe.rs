//! The set of spans already stored, so that ingesting the same traces again (from
//! another file, another format, an overlapping pull) stores nothing twice.
//!
//! A span's identity is `(trace_id, span_id)`. Keys are kept as 128-bit digests to
//! hold millions of spans in little memory.

use std::collections::HashSet;
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

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

/// Keys of every stored span.
#[derive(Debug, Default)]
pub struct KnownSpans {
    keys: HashSet<SpanKey>,
}

impl KnownSpans {
    /// Reads the id columns of every file (a projection: cheap even for large stores).
    pub fn load(files: &[impl AsRef<Path>]) -> Result<KnownSpans, StoreError> {
        let mut known = KnownSpans::default();
        for path in files {
            known.load_file(path.as_ref())?;
        }
        Ok(known)
    }

    fn load_file(&mut self, path: &Path) -> Result<(), StoreError> {
        let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
        let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| corrupt(&e))?;
        let parquet_schema = builder.parquet_schema();
        let wanted: Vec<usize> = [schema::TRACE_ID, schema::SPAN_ID]
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
        for batch in reader {
            let batch = batch.map_err(|e| corrupt(&e))?;
            let traces = batch.column(0).as_string::<i32>();
            let spans = batch.column(1).as_string::<i32>();
            for i in 0..batch.num_rows() {
                if !traces.is_null(i) && !spans.is_null(i) {
                    self.keys
                        .insert(SpanKey::new(traces.value(i), spans.value(i)));
                }
            }
        }
        Ok(())
    }

    /// Records the key; returns false if it was already known.
    pub fn insert(&mut self, key: SpanKey) -> bool {
        self.keys.insert(key)
    }

    pub fn contains(&self, key: &SpanKey) -> bool {
        self.keys.contains(key)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
