use crate::model::{SourceKind, Status};
use crate::source::{Format, VecSink, decode};

fn run(json: &str) -> VecSink {
    let mut sink = VecSink::default();
    decode(Format::Zipkin, &mut json.as_bytes(), "z.json", &mut sink).unwrap();
    sink
}

const TRACE: &str = r#"[
 {"traceId":"5AF7183FB1D4CF5F","id":"6b221d5bc9e6496c","name":"get /api","timestamp":1556604172355737,"duration":1431,
  "kind":"SERVER","localEndpoint":{"serviceName":"frontend","ipv4":"1.2.3.4"},"tags":{"http.method":"GET","otel.status_code":"ERROR","error":"timeout"}},
 {"traceId":"5af7183fb1d4cf5f","parentId":"6b221d5bc9e6496c","id":"5b4185666d50f68b","name":"work","timestamp":1556604172355800,
  "localEndpoint":{"serviceName":"backend"},"tags":{"error":""}},
 {"traceId":"5af7183fb1d4cf5f","id":"0000000000000007","name":"ok","kind":"CLIENT","tags":{"otel.status_code":"OK","error":"x"}}
]"#;

#[test]
fn list_of_spans() {
    let sink = run(TRACE);
    assert!(sink.problems.is_empty(), "{:?}", sink.problems);
    let [a, b, c] = &sink.spans[..] else {
        panic!("3 spans")
    };
    assert_eq!(a.trace_id, "00000000000000005af7183fb1d4cf5f");
    assert_eq!(a.kind, "server");
    assert_eq!(a.service.as_deref(), Some("frontend"));
    assert_eq!(a.resource_attr("service.name"), Some("frontend"));
    assert_eq!(a.start_ns, 1_556_604_172_355_737_000);
    assert_eq!(a.duration_ns(), 1_431_000);
    assert_eq!(a.status, Status::Error);
    assert_eq!(a.status_message.as_deref(), Some("timeout"));
    assert_eq!(a.attr("http.method"), Some("GET"));
    assert_eq!(a.source, Some(SourceKind::Zipkin));

    assert_eq!(b.kind, "internal", "absent kind means internal");
    assert_eq!(b.parent_span_id.as_deref(), Some("6b221d5bc9e6496c"));
    assert_eq!(
        b.status,
        Status::Error,
        "an error tag, even empty, means error"
    );
    assert_eq!(b.status_message, None);
    assert_eq!(b.duration_ns(), 0);

    assert_eq!(c.kind, "client");
    assert_eq!(c.status, Status::Ok);
}

#[test]
fn list_of_lists_and_bad_span() {
    let json = format!(
        r#"[{TRACE}, [{{"traceId":"","id":"1"}}, 5, {{"traceId":"1","id":"2","timestamp":"x"}}]]"#
    );
    let sink = run(&json);
    assert_eq!(sink.spans.len(), 3);
    assert_eq!(sink.problems.len(), 3);
    assert_eq!(sink.problems[0].location, "z.json: $[1][0]");
    assert!(
        sink.problems[0].message.contains("trace id is empty"),
        "{}",
        sink.problems[0]
    );
    assert!(sink.problems[1].message.contains("found a number"));
}
