//! Pull throughput against the in-process fake backends of the tests
//! (`tests/fake_backends`): a generated month of CI traces (2,000 traces over 4
//! services, uneven and bunched as in `month_of_traces`) served by a fake Jaeger
//! (api_v3), Tempo and Zipkin, and pulled with the defaults (adaptive windows, the
//! backend's default page, 8 requests in flight) into a fresh store each time.
//! Criterion reports traces/s; before measuring, each backend's requests per trace
//! and searches are printed (they do not vary between runs).
//!
//! `cargo bench --bench pull` (release build). The fakes answer from memory, so this
//! measures pipescope's side: requests, decoding, normalising, Parquet.

#[path = "../tests/fake_backends/mod.rs"]
mod fake_backends;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use fake_backends::{Fake, Kind};
use pipescope::pull::{Backend, PullOptions, Services, jaeger_backends, pull, zipkin_backends};
use pipescope::source::backend::http::{HttpClient, HttpConfig};
use pipescope::source::backend::tempo::{TempoApi, TempoQuery};
use pipescope::store::Store;
use tokio::runtime::Runtime;

/// 2025-06-01T00:00:00Z in ns.
const JUNE_NS: i64 = 1_748_736_000_000_000_000;
const MONTH_NS: i64 = 30 * 86_400 * 1_000_000_000;
const TRACES: usize = 2_000;
const SERVICES: usize = 4;

/// The backends of one pull of `fake` (Jaeger and Zipkin: one per service, as listed
/// by the server).
async fn backends(kind: Kind, url: &str) -> Vec<Backend> {
    let http = HttpClient::new(HttpConfig::default()).expect("client");
    let all = Services::Matching(regex::Regex::new(".*").expect("regex"));
    match kind {
        Kind::Tempo { .. } => vec![Backend::Tempo {
            api: TempoApi::new(url, http, false),
            query: TempoQuery::default(),
        }],
        Kind::Zipkin => zipkin_backends(url, &http, all, None, None)
            .await
            .expect("zipkin services"),
        _ => jaeger_backends(url, &http, all, None, Vec::new())
            .await
            .expect("jaeger services"),
    }
}

/// Pulls the month from `fake` into a new store in `dir`; returns (traces, searches).
fn pull_month(runtime: &Runtime, fake: &Fake, dir: &std::path::Path) -> (u64, u64) {
    runtime.block_on(async {
        let store = Store::open(dir).expect("store");
        let mut options = PullOptions::new(chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0));
        options.start_ns = Some(JUNE_NS);
        options.end_ns = JUNE_NS + MONTH_NS;
        let (mut traces, mut searches) = (0, 0);
        for backend in backends(fake.kind, &fake.url).await {
            let summary = pull(&store, &backend, &fake.url, &options, &mut |_| {})
                .await
                .expect("pull");
            assert!(!summary.incomplete(false), "{summary:?}");
            traces += summary.traces;
            searches += summary.searches;
        }
        (traces, searches)
    })
}

fn bench_pull(c: &mut Criterion) {
    let runtime = Runtime::new().expect("tokio runtime");
    let month = fake_backends::month_of_traces(JUNE_NS, TRACES, SERVICES);
    let mut group = c.benchmark_group("pull");
    group.sample_size(10);
    group.throughput(Throughput::Elements(TRACES as u64));
    for (name, kind) in [
        ("jaeger", Kind::JaegerV3),
        ("tempo", Kind::Tempo { v2: true }),
        ("zipkin", Kind::Zipkin),
    ] {
        let fake = Fake::start(kind, month.clone());
        let dir = tempfile::tempdir().expect("store dir");
        let (traces, searches) = pull_month(&runtime, &fake, dir.path());
        let requests = fake.served().len();
        // Jaeger and Zipkin hand a trace crossing two services on once per service.
        eprintln!(
            "pull/{name}: {TRACES} traces ({traces} handed on over {} services), {searches} searches, {requests} requests, {:.3} requests per trace",
            if name == "tempo" { 1 } else { SERVICES },
            requests as f64 / TRACES as f64
        );
        group.bench_function(name, |b| {
            b.iter_batched(
                || tempfile::tempdir().expect("store dir"),
                |dir| {
                    pull_month(&runtime, &fake, dir.path());
                    dir
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_pull);
criterion_main!(benches);
