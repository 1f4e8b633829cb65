use std::collections::BTreeMap;
use std::fs;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::TimestampNanosecondType;

use super::*;
use crate::model::{Span, TraceFacts};
use crate::store::StoreWriter;

const DAY_NS: i64 = 86_400_000_000_000;
const START: i64 = 1_750_000_000_000_000_000;

fn span(trace: u64, id: u64, day: i64) -> Span {
    let start = START + day * DAY_NS + id as i64 * 1_000;
    Span {
        trace_id: format!("{trace:032x}"),
        span_id: format!("{id:016x}"),
        name: format!("test {id} \u{1F525}'; --"),
        kind: "internal".into(),
        start_ns: start,
        end_ns: start + 5,
        attributes: vec![("k".into(), "v".repeat(id as usize % 50))],
        ..Span::default()
    }
}

/// A store written by `writes` separate ingests of `per_write` spans each, spread
/// over two days, with a trace-facts file per write.
fn small_files_store(writes: u64, per_write: u64) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for w in 0..writes {
        let mut writer = StoreWriter::new(&store).unwrap();
        let spans: Vec<Span> = (0..per_write)
            .map(|i| span(w, w * 1_000 + i, (i % 2) as i64))
            .collect();
        writer.write(spans.clone()).unwrap();
        let facts = TraceFacts {
            branch: Some(format!("branch-{w}")),
            ..TraceFacts::default()
        };
        writer.set_trace_facts(&spans[0].trace_id, &facts);
        writer.finish().unwrap();
    }
    (dir, store)
}

/// Every stored row as (trace, span) → (name, start), as a reader of the listed
/// files sees it; panics on a span seen twice.
fn contents(store: &Store) -> BTreeMap<(String, String), (String, i64)> {
    let mut rows = BTreeMap::new();
    for path in store.parquet_files().unwrap() {
        let file = fs::File::open(&path).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let column = |name| batch.column_by_name(name).unwrap().as_string::<i32>();
            let (traces, spans, names) = (
                column(schema::TRACE_ID),
                column(schema::SPAN_ID),
                column(schema::NAME),
            );
            let starts = batch
                .column_by_name(schema::START_TIME)
                .unwrap()
                .as_primitive::<TimestampNanosecondType>();
            for i in 0..batch.num_rows() {
                let key = (traces.value(i).to_string(), spans.value(i).to_string());
                let value = (names.value(i).to_string(), starts.value(i));
                assert!(rows.insert(key.clone(), value).is_none(), "{key:?} twice");
            }
        }
    }
    rows
}

fn facts_rows(store: &Store) -> usize {
    store
        .facts_files()
        .unwrap()
        .iter()
        .map(|p| {
            let file = fs::File::open(p).unwrap();
            let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
            builder.metadata().file_metadata().num_rows() as usize
        })
        .sum()
}

fn journals(store: &Store) -> usize {
    journal::pending(store.root()).unwrap().len()
}

#[test]
fn small_files_become_one_per_partition_with_every_span_once() {
    let (_dir, store) = small_files_store(12, 40);
    let before = contents(&store);
    assert_eq!(before.len(), 480);
    assert_eq!(store.parquet_files().unwrap().len(), 24);
    assert_eq!(store.facts_files().unwrap().len(), 12);

    let stats = compact(&store, DEFAULT_TARGET_ROWS).unwrap();
    assert_eq!(
        (
            stats.partitions,
            stats.files_before,
            stats.files_after,
            stats.rows
        ),
        (2, 24, 2, 480)
    );
    assert_eq!((stats.facts_files_before, stats.facts_files_after), (12, 1));
    assert_eq!(stats.duplicates_removed, 0);
    assert_eq!(stats.waiting_for_readers, 0);
    assert_eq!(contents(&store), before, "same spans, same values");
    assert_eq!(facts_rows(&store), 12);
    assert_eq!(journals(&store), 0);

    // Each output is recorded, and the records of the files it replaced are gone.
    let records = manifest::all_records(store.root()).unwrap();
    assert_eq!(records.len(), 3, "{records:?}");
    for file in store.parquet_files().unwrap() {
        let record = manifest::read(store.root(), &file)
            .unwrap()
            .expect("record");
        let bytes = fs::read(&file).unwrap();
        assert_eq!(record.crc32, Some(crc32fast::hash(&bytes)));
    }
    let again = compact(&store, DEFAULT_TARGET_ROWS).unwrap();
    assert_eq!(
        (again.files_before, again.facts_files_before),
        (0, 0),
        "nothing to do twice"
    );
}

#[test]
fn files_are_grouped_up_to_the_target_and_big_files_left_alone() {
    let (_dir, store) = small_files_store(10, 20);
    // 10 files of 10 rows per partition; groups of 30 rows: 3 + 3 + 3 + the last one alone.
    let stats = compact(&store, 30).unwrap();
    assert_eq!((stats.files_before, stats.files_after), (18, 6));
    assert_eq!(store.parquet_files().unwrap().len(), 8);
    let again = compact(&store, 30).unwrap();
    assert_eq!(
        again.files_before, 0,
        "full files and a lone small one stay"
    );
}

#[test]
fn while_a_reader_holds_the_lock_replaced_files_stay_but_are_not_listed() {
    let (_dir, store) = small_files_store(6, 10);
    let before = contents(&store);
    let files_before = {
        let mut files = store.parquet_files().unwrap();
        files.extend(store.facts_files().unwrap());
        files
    };
    let reader = store.lock_for_reading().unwrap();
    let stats = compact(&store, DEFAULT_TARGET_ROWS).unwrap();
    assert_eq!(stats.waiting_for_readers, 3, "two partitions and the facts");
    assert!(
        files_before.iter().all(|f| f.exists()),
        "a query may read them"
    );
    assert_eq!(store.parquet_files().unwrap().len(), 2);
    assert_eq!(store.facts_files().unwrap().len(), 1);
    assert_eq!(contents(&store), before);
    drop(reader);
    // The next writer deletes them.
    drop(StoreWriter::new(&store).unwrap());
    assert!(files_before.iter().all(|f| !f.exists()));
    assert_eq!(journals(&store), 0);
    assert_eq!(contents(&store), before);
    assert_eq!(manifest::all_records(store.root()).unwrap().len(), 3);
}

#[test]
fn a_crash_before_the_output_is_visible_leaves_the_store_as_it_was() {
    let (_dir, store) = small_files_store(4, 10);
    let before = contents(&store);
    let partition = store.partitions().unwrap()[0].clone();
    let inputs = store.partition_files(&partition).unwrap();
    // What a kill between the journal and the rename leaves: a journal, a temp file.
    let output = partition.join("part-crashed.parquet");
    fs::write(partition.join(".part-crashed.parquet.tmp"), b"sealed bytes").unwrap();
    journal::write(
        store.root(),
        &Replacement::new(store.root(), &output, &inputs).unwrap(),
    )
    .unwrap();
    assert_eq!(contents(&store), before, "readers see the inputs");
    drop(StoreWriter::new(&store).unwrap());
    assert_eq!(journals(&store), 0);
    assert!(!partition.join(".part-crashed.parquet.tmp").exists());
    assert_eq!(contents(&store), before);
    assert!(inputs.iter().all(|f| f.exists()));
}

#[test]
fn a_crash_after_the_output_is_visible_is_finished_by_the_next_writer() {
    let (_dir, store) = small_files_store(4, 10);
    let before = contents(&store);
    let partition = store.partitions().unwrap()[0].clone();
    let inputs = store.partition_files(&partition).unwrap();
    // A kill after the rename: output and inputs both there, the journal says which.
    // (The output here is a copy of the first input: what readers see is the output.)
    let output = partition.join("part-merged.parquet");
    fs::copy(&inputs[0], &output).unwrap();
    let first_only: BTreeMap<_, _> = {
        let (_other, copy) = small_files_store(0, 0);
        let dir = copy.partition_dir(START);
        fs::create_dir_all(&dir).unwrap();
        fs::copy(&inputs[0], dir.join("a.parquet")).unwrap();
        contents(&copy)
    };
    journal::write(
        store.root(),
        &Replacement::new(store.root(), &output, &inputs).unwrap(),
    )
    .unwrap();
    let listed = store.partition_files(&partition).unwrap();
    assert_eq!(listed, vec![output.clone()], "the inputs are left out");
    assert!(contents(&store).len() < before.len());
    drop(StoreWriter::new(&store).unwrap());
    assert!(inputs.iter().all(|f| !f.exists()));
    assert_eq!(journals(&store), 0);
    let other_partition: BTreeMap<_, _> = before
        .into_iter()
        .filter(|(_, (_, start))| (start - START) / DAY_NS == 1)
        .collect();
    let mut want = first_only;
    want.extend(other_partition);
    assert_eq!(contents(&store), want);
}

#[test]
fn spans_stored_twice_by_an_older_pipescope_are_kept_once() {
    let (_dir, store) = small_files_store(3, 10);
    let before = contents(&store);
    let partition = store.partitions().unwrap()[0].clone();
    let first = store.partition_files(&partition).unwrap()[0].clone();
    fs::copy(&first, partition.join("part-0-copy.parquet")).unwrap();
    let stats = compact(&store, DEFAULT_TARGET_ROWS).unwrap();
    assert_eq!(stats.duplicates_removed, 5);
    assert_eq!(contents(&store), before);
}

#[test]
fn a_damaged_file_is_named_and_not_compacted() {
    let (_dir, store) = small_files_store(4, 10);
    let partition = store.partitions().unwrap()[0].clone();
    let files = store.partition_files(&partition).unwrap();
    let damaged = files[1].clone();
    let bytes = fs::read(&damaged).unwrap();
    fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let stats = compact(&store, DEFAULT_TARGET_ROWS).unwrap();
    assert_eq!(stats.damaged, vec![damaged.clone()]);
    assert!(damaged.exists(), "left for check --repair");
    let left = store.partition_files(&partition).unwrap();
    assert_eq!(
        left.len(),
        2,
        "the damaged file and the merge of the others"
    );
    assert!(left.contains(&damaged));
}

#[test]
fn an_older_file_without_a_newer_column_reads_as_nulls_in_the_merge() {
    let (_dir, store) = small_files_store(2, 10);
    let partition = store.partitions().unwrap()[0].clone();
    let first = store.partition_files(&partition).unwrap()[0].clone();
    // Rewrite the first file without a nullable column (as an older writer did).
    let file = fs::File::open(&first).unwrap();
    let batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let dropped = schema::BASE_BRANCH;
    let older: Vec<RecordBatch> = batches
        .iter()
        .map(|b| {
            let keep: Vec<usize> = (0..b.num_columns())
                .filter(|i| b.schema().field(*i).name() != dropped)
                .collect();
            b.project(&keep).unwrap()
        })
        .collect();
    let out = fs::File::create(&first).unwrap();
    let mut writer =
        datafusion::parquet::arrow::ArrowWriter::try_new(out, older[0].schema(), None).unwrap();
    for batch in &older {
        writer.write(batch).unwrap();
    }
    writer.close().unwrap();
    manifest::remove(store.root(), &first).unwrap();
    let before = contents(&store);
    let stats = compact(&store, DEFAULT_TARGET_ROWS).unwrap();
    assert!(stats.damaged.is_empty(), "{:?}", stats.damaged);
    assert_eq!(contents(&store), before);
}
