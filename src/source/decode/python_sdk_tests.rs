use crate::model::{SourceKind, Status};
use crate::source::{Format, VecSink, decode};

fn run(json: &str) -> VecSink {
    let mut sink = VecSink::default();
    decode(Format::PythonSdk, &mut json.as_bytes(), "p.json", &mut sink).unwrap();
    sink
}

/// ConsoleSpanExporter output: pretty-printed span objects one after another.
const CONSOLE: &str = r#"{
    "name": "Running test_a",
    "context": {
        "trace_id": "0x19A86AB6BF61B5207E5D17CFF06EA860",
        "span_id": "0x0fdee24d13b761ed",
        "trace_state": "[]"
    },
    "kind": "SpanKind.INTERNAL",
    "parent_id": "0x6fc24bab7d20b5f7",
    "start_time": "2026-01-02T13:42:05.864517Z",
    "end_time": "2026-01-02T13:42:05.864702Z",
    "status": {
        "status_code": "ERROR",
        "description": "AssertionError"
    },
    "attributes": {
        "tests.name": "test_a",
        "tests.status": "failed",
        "retries": 2,
        "flag": true,
        "ratio": 0.5,
        "tags": ["a", "b"]
    },
    "events": [],
    "links": [{"context": {"trace_id": "0x00000000000000000000000000000001", "span_id": "0x0000000000000002"}, "attributes": {}}],
    "resource": {
        "attributes": {"service.name": "Pytest_Otel_reporter"},
        "schema_url": ""
    }
}
{
    "name": "Test Suite",
    "context": {"trace_id": "0x19a86ab6bf61b5207e5d17cff06ea860", "span_id": "0x6fc24bab7d20b5f7"},
    "kind": "SpanKind.SERVER",
    "parent_id": null,
    "start_time": "2026-01-02T13:42:05.857418Z",
    "end_time": null,
    "status": {"status_code": "UNSET"},
    "attributes": {},
    "resource": {"attributes": {}}
}
"#;

#[test]
fn concatenated_pretty_printed_spans() {
    let sink = run(CONSOLE);
    assert!(sink.problems.is_empty(), "{:?}", sink.problems);
    let [test, suite] = &sink.spans[..] else {
        panic!("2 spans")
    };
    assert_eq!(test.trace_id, "19a86ab6bf61b5207e5d17cff06ea860");
    assert_eq!(test.span_id, "0fdee24d13b761ed");
    assert_eq!(test.parent_span_id.as_deref(), Some("6fc24bab7d20b5f7"));
    assert_eq!(test.kind, "internal");
    assert_eq!(test.start_ns, 1_767_361_325_864_517_000);
    assert_eq!(test.duration_ns(), 185_000);
    assert_eq!(test.status, Status::Error);
    assert_eq!(test.status_message.as_deref(), Some("AssertionError"));
    assert_eq!(test.attr("tests.status"), Some("failed"));
    assert_eq!(test.attr("retries"), Some("2"));
    assert_eq!(test.attr("flag"), Some("true"));
    assert_eq!(test.attr("ratio"), Some("0.5"));
    assert_eq!(test.attr("tags"), Some(r#"["a","b"]"#));
    assert_eq!(test.service.as_deref(), Some("Pytest_Otel_reporter"));
    assert_eq!(test.links[0].span_id, "0000000000000002");
    assert_eq!(test.source, Some(SourceKind::Otlp));

    assert_eq!(suite.kind, "server");
    assert_eq!(suite.parent_span_id, None);
    assert_eq!(suite.end_ns, 0);
    assert_eq!(suite.status, Status::Unset);
}

#[test]
fn array_with_a_bad_span() {
    let json = r#"[{"name":"a","context":{"trace_id":"0x1","span_id":"0x1"}},
        {"name":"b","context":{"trace_id":"0x1","span_id":"0x2"},"start_time":"yesterday"},
        {"name":"c"},
        {"name":"d","context":{"trace_id":"0x1","span_id":"0x4"}}]"#;
    let sink = run(json);
    let names: Vec<_> = sink.spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["a", "d"]);
    assert_eq!(sink.problems.len(), 2);
    assert_eq!(sink.problems[0].location, "p.json: $[1]");
    assert!(sink.problems[0].message.contains("ISO-8601"));
    assert!(sink.problems[1].message.contains("missing context"));
}
