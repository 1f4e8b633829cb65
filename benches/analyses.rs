//! Each analysis on a generated store of at least 1M spans (realistic CI history from
//! `synth`: four pipeline conventions, flaky tests, a bottleneck). The store is built
//! once per run in a temporary directory.
//!
//! `cargo bench --bench analyses`

use criterion::{Criterion, criterion_group, criterion_main};
use pipescope::analysis::bottlenecks::ByTask;
use pipescope::analysis::{bottlenecks, compare, failures, flaky};
use pipescope::ingest::{IngestOptions, ingest};
use pipescope::query::{Engine, Filters};
use pipescope::source::expand_inputs;
use pipescope::store::Store;
use pipescope::synth::{SynthConfig, write_to_dir};

const SPANS: usize = 1_050_000;

fn bench_analyses(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let traces = dir.path().join("traces");
    write_to_dir(&SynthConfig::bench(SPANS), &traces).expect("generate");
    let store = Store::open(dir.path().join("store")).expect("store");
    let inputs = expand_inputs(&[traces.display().to_string()]).expect("inputs");
    let summary =
        ingest(&store, &inputs, &IngestOptions::default(), &mut |_, _| {}).expect("ingest");
    eprintln!(
        "store: {} spans in {} traces",
        summary.write.stored, summary.traces
    );
    assert!(
        summary.write.stored >= 1_000_000,
        "store too small: {}",
        summary.write.stored
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let engine = runtime
        .block_on(Engine::open(&store, &Filters::default()))
        .expect("engine");
    let worst = runtime
        .block_on(flaky::rows(&engine, false))
        .expect("flaky")
        .into_iter()
        .next()
        .map(|row| row.test)
        .expect("a flaky test");

    let mut group = c.benchmark_group("analyses_1m_spans");
    group.sample_size(10);
    group.bench_function("flaky", |b| {
        b.iter(|| runtime.block_on(flaky::rows(&engine, true)).expect("flaky"))
    });
    group.bench_function("failures_by_branch", |b| {
        b.iter(|| {
            runtime
                .block_on(failures::rows::<failures::ByBranch>(&engine, None))
                .expect("failures")
        })
    });
    group.bench_function("failures_by_test_per_day", |b| {
        b.iter(|| {
            runtime
                .block_on(failures::rows::<failures::ByTest>(
                    &engine,
                    Some(failures::Bucket::Day),
                ))
                .expect("failures")
        })
    });
    group.bench_function("bottlenecks", |b| {
        b.iter(|| {
            runtime
                .block_on(bottlenecks::rows::<ByTask>(&engine))
                .expect("bottlenecks")
        })
    });
    group.bench_function("compare_worst_flaky_test", |b| {
        b.iter(|| {
            runtime
                .block_on(compare::compare_test(&engine, &worst))
                .expect("compare")
        })
    });
    group.finish();
}

criterion_group!(benches, bench_analyses);
criterion_main!(benches);
