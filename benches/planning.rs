//! Query planning over a store of many small files, before and after `compact`.
//!
//! The receiver flushes every few seconds and `pull` runs every few minutes, so a
//! year of history arrives as ~10^5 small files. Every command pays for them before
//! it reads a row: the engine lists them and reads each footer to prune. This measures
//! opening the engine and planning `flaky` (physical plan, no execution) on such a
//! store, then on the same store after `pipescope compact`.
//!
//! `cargo bench --bench planning` (`PIPESCOPE_BENCH_FILES` sets the number of small
//! files, 100,000; each holds 10 spans).

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::scalar::ScalarValue;
use pipescope::ingest::{Batcher, IngestOptions};
use pipescope::query::{Engine, Filters, NamedQuery};
use pipescope::source::{self, Format, expand_inputs};
use pipescope::store::{Store, StoreWriter, compact};
use pipescope::synth::{SynthConfig, write_to_dir};

const SPANS_PER_FILE: usize = 10;

fn bench_planning(c: &mut Criterion) {
    let files: usize = std::env::var("PIPESCOPE_BENCH_FILES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let traces = dir.path().join("traces");
    write_to_dir(&SynthConfig::bench(files * SPANS_PER_FILE), &traces).expect("generate");
    let store = Store::open(dir.path().join("store")).expect("store");
    fragmented_ingest(&store, &traces);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");

    let mut group = c.benchmark_group("planning");
    group.sample_size(10);
    let stored = store.parquet_files().expect("list").len();
    eprintln!("store of {stored} span files");
    group.bench_function(format!("open_and_plan_flaky/{stored}_files"), |b| {
        b.iter(|| runtime.block_on(open_and_plan(&store)))
    });

    let stats = compact::compact(&store, compact::DEFAULT_TARGET_ROWS).expect("compact");
    let compacted = store.parquet_files().expect("list").len();
    eprintln!("compacted: {stats:?}, {compacted} span files");
    group.bench_function(
        format!("open_and_plan_flaky/{compacted}_files_compacted"),
        |b| b.iter(|| runtime.block_on(open_and_plan(&store))),
    );
    group.finish();
}

/// Ingests the generated traces the way a year of small flushes stores them: every
/// file of the store holds `SPANS_PER_FILE` spans.
fn fragmented_ingest(store: &Store, traces: &std::path::Path) {
    let writer = StoreWriter::new(store)
        .expect("writer")
        .with_max_rows_per_file(SPANS_PER_FILE);
    let mut batcher = Batcher::new(writer, &IngestOptions::default());
    for input in expand_inputs(&[traces.display().to_string()]).expect("inputs") {
        let mut opened = input.open().expect("open");
        source::decode(
            Format::OtlpJson,
            &mut opened.reader,
            &opened.name,
            &mut batcher,
        )
        .expect("decode");
    }
    batcher.finish().expect("commit");
}

async fn open_and_plan(store: &Store) {
    let engine = Engine::open(store, &Filters::default())
        .await
        .expect("engine");
    let frame = engine
        .context()
        .sql(NamedQuery::Flaky.sql())
        .await
        .expect("flaky parses")
        .with_param_values(vec![("all", ScalarValue::Boolean(Some(true)))])
        .expect("parameters");
    std::hint::black_box(frame.create_physical_plan().await.expect("plan"));
}

criterion_group!(benches, bench_planning);
criterion_main!(benches);
