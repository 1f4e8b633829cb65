//! Ingest throughput on the bench corpus (`synth --preset bench`: many files of
//! realistic CI runs), in each format, beside its anchors measured in the same run:
//!
//! - `anchor/parse_only_otlp_json`: a typed serde parse of the same OTLP/JSON bytes
//!   (ids, names, times and attributes borrowed, nothing built) on one core — the
//!   speed no decoder of this format can beat;
//! - `decode_only/<format>`: pipescope's decoder into a sink that drops the spans, on
//!   one core — what decoding costs before normalising, deduplicating and Parquet;
//! - `ingest/<format>`: the whole ingest into a fresh store with one decoding thread
//!   per core, and `ingest/otlp_one_thread` with one, the same as the CLI runs it.
//!
//! Each reports spans/s (criterion's "elements"); MB/s is spans/s times the corpus's
//! bytes per span, printed first.
//!
//! `cargo bench --bench ingest` (`PIPESCOPE_BENCH_SPANS` sets the corpus size, 200k).

use std::io::BufReader;
use std::path::Path;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pipescope::ingest::{IngestOptions, default_threads, ingest};
use pipescope::model::Span;
use pipescope::source::{self, Format, InputSpec, Problem, SinkError, SpanSink, expand_inputs};
use pipescope::store::Store;
use pipescope::synth::{FormatMix, SynthConfig, write_to_dir};

const FORMATS: [(&str, FormatMix, Format); 4] = [
    ("otlp_json", FormatMix::OtlpOnly, Format::OtlpJson),
    ("otlp_proto", FormatMix::OtlpProtoOnly, Format::OtlpProto),
    ("jaeger", FormatMix::JaegerOnly, Format::Jaeger),
    ("zipkin", FormatMix::ZipkinOnly, Format::Zipkin),
];

/// One generated corpus: its files, in memory for the decode-only runs.
struct Corpus {
    inputs: Vec<InputSpec>,
    files: Vec<Vec<u8>>,
    spans: u64,
}

impl Corpus {
    fn generate(dir: &Path, mix: FormatMix, target_spans: usize) -> Corpus {
        let config = SynthConfig {
            formats: mix,
            ..SynthConfig::bench(target_spans)
        };
        let truth = write_to_dir(&config, dir).expect("generate the corpus");
        let inputs = expand_inputs(&[dir.display().to_string()]).expect("inputs");
        let files = inputs
            .iter()
            .map(|input| match input {
                InputSpec::Path(path) => std::fs::read(path).expect("read corpus file"),
                InputSpec::Stdin => unreachable!("a directory lists files only"),
            })
            .collect();
        Corpus {
            inputs,
            files,
            spans: truth.spans,
        }
    }

    fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.len() as u64).sum()
    }
}

/// Counts what a decoder gives and keeps nothing.
#[derive(Default)]
struct Counting {
    spans: u64,
}

impl SpanSink for Counting {
    fn span(&mut self, span: Span) -> Result<(), SinkError> {
        std::hint::black_box(&span);
        self.spans += 1;
        Ok(())
    }
    fn skipped(&mut self, problem: Problem) -> Result<(), SinkError> {
        panic!("the bench corpus is clean: {problem}")
    }
}

fn bench_ingest(c: &mut Criterion) {
    let target_spans = std::env::var("PIPESCOPE_BENCH_SPANS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);

    for (name, mix, format) in FORMATS {
        let corpus = Corpus::generate(&dir.path().join(name), mix, target_spans);
        eprintln!(
            "{name}: {} spans in {} files, {:.1} MB, {:.0} bytes/span",
            corpus.spans,
            corpus.files.len(),
            corpus.bytes() as f64 / 1e6,
            corpus.bytes() as f64 / corpus.spans as f64
        );
        group.throughput(Throughput::Elements(corpus.spans));

        if format == Format::OtlpJson {
            group.bench_function("anchor/parse_only_otlp_json", |b| {
                b.iter(|| {
                    let spans: u64 = corpus.files.iter().map(|f| anchor::parse_only(f)).sum();
                    assert_eq!(spans, corpus.spans);
                })
            });
        }
        group.bench_function(format!("decode_only/{name}"), |b| {
            b.iter(|| {
                let mut sink = Counting::default();
                for (file, input) in corpus.files.iter().zip(&corpus.inputs) {
                    let mut reader = BufReader::new(file.as_slice());
                    source::decode(format, &mut reader, &input.name(), &mut sink).expect("decode");
                }
                assert_eq!(sink.spans, corpus.spans);
            })
        });
        let mut ingest_with = |label: String, threads: usize| {
            let options = IngestOptions {
                threads,
                ..IngestOptions::default()
            };
            group.bench_function(label, |b| {
                b.iter_batched(
                    || tempfile::tempdir().expect("store dir"),
                    |store_dir| {
                        let store = Store::open(store_dir.path()).expect("store");
                        let summary = ingest(&store, &corpus.inputs, &options, &mut |_, _| {})
                            .expect("ingest");
                        assert_eq!(summary.write.stored, corpus.spans);
                        store_dir
                    },
                    BatchSize::PerIteration,
                )
            });
        };
        ingest_with(format!("ingest/{name}"), default_threads());
        if format == Format::OtlpJson {
            ingest_with("ingest/otlp_json_one_thread".to_string(), 1);
        }
    }
    group.finish();
}

/// The anchor's parse: the fields it reads are only parsed to be measured.
#[allow(dead_code)]
mod anchor {
    use std::borrow::Cow;

    use serde::Deserialize;

    /// The anchor: OTLP/JSON lines parsed into borrowed typed structs, spans counted.
    pub fn parse_only(file: &[u8]) -> u64 {
        file.split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| {
                let doc: Doc = serde_json::from_slice(line).expect("bench corpus line");
                doc.resource_spans
                    .iter()
                    .flat_map(|r| &r.scope_spans)
                    .map(|s| s.spans.len() as u64)
                    .sum::<u64>()
            })
            .sum()
    }

    #[derive(Deserialize)]
    struct Doc<'a> {
        #[serde(borrow, rename = "resourceSpans")]
        resource_spans: Vec<ResourceSpans<'a>>,
    }

    #[derive(Deserialize)]
    struct ResourceSpans<'a> {
        #[serde(borrow)]
        resource: Attributed<'a>,
        #[serde(borrow, rename = "scopeSpans")]
        scope_spans: Vec<ScopeSpans<'a>>,
    }

    #[derive(Deserialize)]
    struct ScopeSpans<'a> {
        #[serde(borrow)]
        spans: Vec<RawSpan<'a>>,
    }

    #[derive(Deserialize)]
    struct RawSpan<'a> {
        #[serde(rename = "traceId")]
        trace_id: &'a str,
        #[serde(rename = "spanId")]
        span_id: &'a str,
        #[serde(rename = "parentSpanId", default)]
        parent_span_id: &'a str,
        #[serde(borrow)]
        name: Cow<'a, str>,
        #[serde(rename = "startTimeUnixNano")]
        start: &'a str,
        #[serde(rename = "endTimeUnixNano")]
        end: &'a str,
        #[serde(borrow, default)]
        attributes: Vec<KeyValue<'a>>,
    }

    #[derive(Deserialize)]
    struct Attributed<'a> {
        #[serde(borrow, default)]
        attributes: Vec<KeyValue<'a>>,
    }

    #[derive(Deserialize)]
    struct KeyValue<'a> {
        key: &'a str,
        #[serde(borrow)]
        value: AnyValue<'a>,
    }

    #[derive(Deserialize)]
    struct AnyValue<'a> {
        #[serde(rename = "stringValue", borrow, default)]
        string: Option<Cow<'a, str>>,
        #[serde(rename = "intValue", borrow, default)]
        int: Option<&'a str>,
        #[serde(rename = "boolValue", default)]
        boolean: Option<bool>,
        #[serde(rename = "doubleValue", default)]
        double: Option<f64>,
    }
}

criterion_group!(benches, bench_ingest);
criterion_main!(benches);
