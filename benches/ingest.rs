//! Ingest throughput: decode + normalise + deduplicate + write Parquet, on generated
//! OTLP/JSON lines (Collector file exporter style). Reports spans/s and bytes/s.
//!
//! `cargo bench --bench ingest`

use std::path::PathBuf;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pipescope::ingest::{IngestOptions, ingest};
use pipescope::source::expand_inputs;
use pipescope::store::Store;
use pipescope::synth::otlp_json_lines;

const SPANS: usize = 200_000;

fn bench_ingest(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let input: PathBuf = dir.path().join("spans.jsonl");
    let bytes = otlp_json_lines(1, SPANS);
    std::fs::write(&input, &bytes).expect("write input");
    let inputs = expand_inputs(&[input.display().to_string()]).expect("inputs");
    let options = IngestOptions::default();

    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SPANS as u64));
    group.bench_function("otlp_json_lines_spans", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("store dir"),
            |store_dir| {
                let store = Store::open(store_dir.path()).expect("store");
                let summary = ingest(&store, &inputs, &options, &mut |_, _| {}).expect("ingest");
                assert_eq!(summary.write.stored, SPANS as u64);
                store_dir
            },
            BatchSize::PerIteration,
        )
    });
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("otlp_json_lines_bytes", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("store dir"),
            |store_dir| {
                let store = Store::open(store_dir.path()).expect("store");
                ingest(&store, &inputs, &options, &mut |_, _| {}).expect("ingest");
                store_dir
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_ingest);
criterion_main!(benches);
