//! Every file of the shared real-trace fixtures: detected as the right format (or as
//! not a trace format) and decoded with exact span counts and a few exact facts.

use crate::model::{SourceKind, Span, Status};
use crate::source::{Format, VecSink, decode, detect};
use std::path::PathBuf;

fn fixture(rel: &str) -> Option<Vec<u8>> {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/real"
    ));
    if !root.is_dir() {
        eprintln!(
            "note: {} is absent; real-fixture test skipped",
            root.display()
        );
        return None;
    }
    Some(std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")))
}

/// Detects and decodes a fixture, asserting the detected format and no problems.
fn load(rel: &str, format: Format) -> Option<Vec<Span>> {
    let bytes = fixture(rel)?;
    assert_eq!(
        detect(&bytes[..bytes.len().min(8192)]),
        Some(format),
        "{rel}"
    );
    let mut sink = VecSink::default();
    decode(format, &mut &bytes[..], rel, &mut sink).unwrap();
    assert!(sink.problems.is_empty(), "{rel}: {:?}", sink.problems);
    Some(sink.spans)
}

#[test]
fn opentelemetry_proto_example() {
    let Some(spans) = load("opentelemetry-proto/trace.json", Format::OtlpJson) else {
        return;
    };
    assert_eq!(spans.len(), 1);
    let s = &spans[0];
    assert_eq!(s.trace_id, "5b8efff798038103d269b633813fc60c");
    assert_eq!(s.span_id, "eee19b7ec3c1b174");
    assert_eq!(s.parent_span_id.as_deref(), Some("eee19b7ec3c1b173"));
    assert_eq!(s.kind, "server");
    assert_eq!(s.start_ns, 1_544_712_660_000_000_000);
    assert_eq!(s.service.as_deref(), Some("my.service"));
    assert_eq!(s.attr("my.span.attr"), Some("some value"));
}

#[test]
fn jaeger_ui_trace() {
    let Some(spans) = load("jaeger/ui_01.json", Format::Jaeger) else {
        return;
    };
    assert_eq!(spans.len(), 5);
    assert!(
        spans
            .iter()
            .all(|s| s.trace_id == "00000000000000000000000000000001")
    );
    let tagged = &spans[1];
    assert_eq!(tagged.status, Status::Error);
    assert_eq!(tagged.attr("peer.ipv4"), Some("23456"));
    assert_eq!(tagged.attr("temperature"), Some("72.5"));
    assert_eq!(tagged.attr("javascript_limit"), Some("9223372036854775222"));
    assert_eq!(tagged.attr("blob"), Some("AAAwOQ=="));
    assert_eq!(tagged.service.as_deref(), Some("service-x"));
    // reference-test: the CHILD_OF in another trace is a link, not the parent.
    let refs = &spans[3];
    assert_eq!(refs.parent_span_id.as_deref(), Some("0000000000000002"));
    assert_eq!(refs.service.as_deref(), Some("service-y"));
    assert_eq!(refs.links.len(), 2);
    assert_eq!(refs.links[0].trace_id, "000000000000000000000000000000ff");
    assert_eq!(spans[4].parent_span_id.as_deref(), Some("0000000000000004"));
}

#[test]
fn jaeger_api_envelope() {
    let Some(spans) = load("jaeger/otlp2jaeger-out.json", Format::Jaeger) else {
        return;
    };
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].trace_id, "83a9efd15c1c98a977e0711cc93ee28b");
    assert_eq!(spans[0].kind, "server");
    assert_eq!(spans[0].service.as_deref(), Some("telemetrygen"));
    assert_eq!(spans[0].parent_span_id.as_deref(), Some("909541b92cf05311"));
    assert_eq!(spans[0].duration_ns(), 123_000);
}

#[test]
fn jaeger_inline_process_and_string_bool() {
    let Some(spans) = load("jaeger/trace_success.json", Format::Jaeger) else {
        return;
    };
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].service.as_deref(), Some("16af988c443cff37"));
    assert_eq!(spans[0].status, Status::Unset);
    assert_eq!(spans[1].kind, "client");
    assert_eq!(spans[1].attr("error"), Some("true"));
    assert_eq!(spans[1].status, Status::Error);
    assert_eq!(spans[1].trace_id, "00000000000000002be38093ead7a083");
}

#[test]
fn jaeger_api_v3() {
    let Some(spans) = load("jaeger/FindTraces.json", Format::OtlpJson) else {
        return;
    };
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].status, Status::Error);
    assert_eq!(spans[0].name, "foobar");
    assert_eq!(spans[0].trace_id, "00000000000000000000000000000001");
    let Some(spans) = load("jaeger/FindTraceSummaries.json", Format::OtlpJson) else {
        return;
    };
    assert!(spans.is_empty());
    let Some(spans) = load("jaeger/example_trace.json", Format::OtlpJson) else {
        return;
    };
    assert_eq!(spans.len(), 5);
    assert_eq!(spans[0].service.as_deref(), Some("example-service-2"));
    assert_eq!(spans[0].duration_ns(), 100_000);
}

#[test]
fn collector_github_receiver() {
    let Some(run) = load(
        "collector-contrib/workflow-run-expected.json",
        Format::OtlpJson,
    ) else {
        return;
    };
    assert_eq!(run.len(), 1);
    let root = &run[0];
    assert_eq!(root.name, "build-and-test");
    assert_eq!(root.parent_span_id, None);
    assert_eq!(root.status, Status::Error);
    assert_eq!(root.status_message.as_deref(), Some("failure"));
    assert_eq!(root.links.len(), 1);
    assert_eq!(root.links[0].trace_id, "3ab150c94bf95169f4958bc860bddc3b");
    assert_eq!(root.links[0].span_id, "");
    assert_eq!(
        root.resource_attr("cicd.pipeline.run.id"),
        Some("14460881260")
    );
    assert_eq!(
        root.resource_attr("vcs.ref.head"),
        Some("renovate/major-tool-deps")
    );

    let Some(job) = load(
        "collector-contrib/workflow-job-expected.json",
        Format::OtlpJson,
    ) else {
        return;
    };
    assert_eq!(job.len(), 10);
    assert_eq!(job[0].name, "test (1.23)");
    assert_eq!(job[0].status, Status::Ok);
    assert_eq!(job[0].parent_span_id.as_deref(), Some("aba151af7cfbcf0f"));
    assert_eq!(
        job[0].resource_attr("cicd.pipeline.worker.labels"),
        Some(r#"["ubuntu-latest"]"#)
    );
    assert_eq!(
        job.iter()
            .filter(|s| s.parent_span_id.as_deref() == Some("d328504edfc4f5dc"))
            .count(),
        8
    );
}

#[test]
fn otel_export_trace_action() {
    let Some(suite) = load(
        "otel-export-trace-action/testsuite-trace.otlp",
        Format::OtlpJson,
    ) else {
        return;
    };
    assert_eq!(suite.len(), 6);
    assert_eq!(
        suite.iter().filter(|s| s.status == Status::Error).count(),
        4
    );
    let Some(fail) = load(
        "otel-export-trace-action/fail-test-trace.otlp",
        Format::OtlpJson,
    ) else {
        return;
    };
    assert_eq!(fail.len(), 13);
    let failing: Vec<&Span> = fail.iter().filter(|s| s.status == Status::Error).collect();
    assert_eq!(failing.len(), 11);
    let first = failing[0];
    assert_eq!(
        first.name,
        "createTracerProvider test service.name resource is workflow name"
    );
    assert_eq!(first.attr("error"), Some("true"));
    assert_eq!(first.attr("test.scope"), Some("Case"));
    assert_eq!(first.attr("test.time"), Some("0.019"));
    assert_eq!(first.kind, "internal");
    assert_eq!(first.start_ns, 1_643_762_231_000_000_000);
    assert_eq!(first.service.as_deref(), Some("Test"));
}

#[test]
fn pytest_otel() {
    let Some(spans) = load("pytest_otel/test_spans_http.json", Format::PythonSdk) else {
        return;
    };
    assert_eq!(spans.len(), 3);
    assert!(
        spans
            .iter()
            .all(|s| s.attr("tests.status") == Some("passed"))
    );
    assert_eq!(spans[0].name, "Running test_http_protocol");
    assert_eq!(spans[0].attr("tests.name"), Some("test_http_protocol"));
    assert_eq!(spans[0].trace_id, "19a86ab6bf61b5207e5d17cff06ea860");
    assert_eq!(spans[0].parent_span_id.as_deref(), Some("6fc24bab7d20b5f7"));
    assert_eq!(spans[1].name, "Test Suite");
    assert_eq!(spans[1].kind, "server");
    assert_eq!(spans[1].parent_span_id, None);
    assert_eq!(spans[1].status, Status::Ok);
    assert_eq!(spans[1].service.as_deref(), Some("Pytest_Otel_reporter"));
    assert_eq!(spans[1].source, Some(SourceKind::Otlp));
}

#[test]
fn non_trace_files_are_not_detected() {
    for rel in [
        "collector-contrib/workflow-run-expected.yaml",
        "collector-contrib/workflow-job-expected.yaml",
        "otel-cicd-action/output_failed.txt",
        "SOURCES.md",
    ] {
        let Some(bytes) = fixture(rel) else {
            return;
        };
        assert_eq!(detect(&bytes), None, "{rel}");
    }
}
