use crate::model::{SourceKind, Status};
use crate::source::{Format, VecSink, decode, decode_otlp_json_body};

fn run(json: &str) -> VecSink {
    let mut sink = VecSink::default();
    decode(Format::OtlpJson, &mut json.as_bytes(), "t.json", &mut sink).unwrap();
    sink
}

const BASIC: &str = r#"{"resourceSpans":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"svc"}},
  {"key":"n","value":{"intValue":"7"}}]},
 "scopeSpans":[{"scope":{"name":"lib"},"spans":[
  {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
   "parentSpanId":"EEE19B7EC3C1B173","name":"a","kind":2,
   "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
   "attributes":[{"key":"d","value":{"doubleValue":"5e+09"}},{"key":"b","value":{"boolValue":true}}],
   "status":{"code":"STATUS_CODE_ERROR","message":"boom"},
   "links":[{"traceId":"AB","spanId":""}],
   "unknownField":{"x":[1,2,3]}}
 ]}]}]}"#;

#[test]
fn decodes_every_field() {
    let sink = run(BASIC);
    assert!(sink.problems.is_empty(), "{:?}", sink.problems);
    assert_eq!(sink.spans.len(), 1);
    let s = &sink.spans[0];
    assert_eq!(s.trace_id, "5b8efff798038103d269b633813fc60c");
    assert_eq!(s.span_id, "eee19b7ec3c1b174");
    assert_eq!(s.parent_span_id.as_deref(), Some("eee19b7ec3c1b173"));
    assert_eq!(s.name, "a");
    assert_eq!(s.kind, "server");
    assert_eq!(s.start_ns, 1_544_712_660_000_000_000);
    assert_eq!(s.end_ns, 1_544_712_661_000_000_000);
    assert_eq!(s.status, Status::Error);
    assert_eq!(s.status_message.as_deref(), Some("boom"));
    assert_eq!(s.attr("d"), Some("5000000000"));
    assert_eq!(s.attr("b"), Some("true"));
    assert_eq!(s.service.as_deref(), Some("svc"));
    assert_eq!(s.resource_attr("n"), Some("7"));
    assert_eq!(s.links.len(), 1);
    assert_eq!(s.links[0].trace_id, "000000000000000000000000000000ab");
    assert_eq!(s.links[0].span_id, "");
    assert_eq!(s.source, Some(SourceKind::Otlp));
}

#[test]
fn enum_names_and_ints() {
    let json = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
      {"traceId":"01","spanId":"01","kind":"SPAN_KIND_CLIENT","status":{"code":1}},
      {"traceId":"01","spanId":"02","kind":5,"status":{"code":"STATUS_CODE_UNSET"}},
      {"traceId":"01","spanId":"03","kind":"SPAN_KIND_PRODUCER","status":{"code":"2"}}]}]}]}"#;
    let sink = run(json);
    let kinds: Vec<_> = sink
        .spans
        .iter()
        .map(|s| (s.kind.as_str(), s.status))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("client", Status::Ok),
            ("consumer", Status::Unset),
            ("producer", Status::Error)
        ]
    );
}

#[test]
fn legacy_field_names_and_snake_case() {
    let json = r#"{"resource_spans":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"old"}}]},
      "instrumentationLibrarySpans":[{"instrumentationLibrary":{"name":"x"},"spans":[
        {"trace_id":"0a0c78a4853d905d00f6a51ff89e82fa","span_id":"cc7164fa6edfe6ae","start_time_unix_nano":5}]}]}]}"#;
    let sink = run(json);
    assert_eq!(sink.spans.len(), 1);
    assert_eq!(sink.spans[0].service.as_deref(), Some("old"));
    assert_eq!(sink.spans[0].start_ns, 5);
}

#[test]
fn wrappers_and_base64_ids() {
    // Tempo /api/traces/{id}: base64 ids, `batches`.
    let tempo = r#"{"batches":[{"resource":{},"scopeSpans":[{"spans":[
        {"traceId":"AQIDBAUGBwgJCgsMDQ4PEA==","spanId":"AQIDBAUGBwg=","parentSpanId":"AAAAAAAAAAA="}]}]}]}"#;
    let sink = run(tempo);
    assert_eq!(sink.spans[0].trace_id, "0102030405060708090a0b0c0d0e0f10");
    assert_eq!(sink.spans[0].span_id, "0102030405060708");
    assert_eq!(sink.spans[0].parent_span_id, None);
    assert_eq!(sink.spans[0].source, Some(SourceKind::Tempo));

    let v2 = r#"{"trace":{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"1","spanId":"2"}]}]}]}}"#;
    let sink = run(v2);
    assert_eq!(sink.spans[0].source, Some(SourceKind::Tempo));
    assert_eq!(sink.spans[0].trace_id, "00000000000000000000000000000001");

    let api_v3 = r#"{"result":{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"1","spanId":"2"}]}]}]}}"#;
    let sink = run(api_v3);
    assert_eq!(sink.spans[0].source, Some(SourceKind::Otlp));

    // An explicit source wins over the Tempo default.
    let mut sink = VecSink::default();
    decode_otlp_json_body(tempo.as_bytes(), "http", SourceKind::OtlpHttp, &mut sink).unwrap();
    assert_eq!(sink.spans[0].source, Some(SourceKind::OtlpHttp));
}

#[test]
fn resource_after_spans_is_applied() {
    let json = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"1","spanId":"2"}]}],
        "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"late"}}]}}]}"#;
    let sink = run(json);
    assert_eq!(sink.spans[0].service.as_deref(), Some("late"));
}

#[test]
fn malformed_span_in_the_middle_is_skipped() {
    let json = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
      {"traceId":"1","spanId":"1","name":"ok1"},
      {"traceId":"not hex!","spanId":"2"},
      {"traceId":"1","spanId":"3","startTimeUnixNano":"18446744073709551615"},
      "junk",
      {"traceId":"1","spanId":"4","name":{"weird":true},"attributes":"nope","status":7}]}]}]}"#;
    let sink = run(json);
    let names: Vec<_> = sink.spans.iter().map(|s| s.span_id.as_str()).collect();
    assert_eq!(names, vec!["0000000000000001", "0000000000000004"]);
    assert_eq!(sink.problems.len(), 3, "{:?}", sink.problems);
    assert_eq!(
        sink.problems[0].location,
        "t.json: $.resourceSpans[0].scopeSpans[0].spans[1]"
    );
    assert!(sink.problems[0].message.contains("trace id"));
    assert!(sink.problems[1].message.contains("startTimeUnixNano"));
    assert_eq!(
        sink.problems[2].location,
        "t.json: $.resourceSpans[0].scopeSpans[0].spans[3]"
    );
}

#[test]
fn json_lines_with_a_broken_line() {
    let line = |id: u8| {
        format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"1","spanId":"{id}"}}]}}]}}]}}"#
        )
    };
    let input = format!(
        "{}\n{{\"resourceSpans\":[{{\"scopeSpans\n{}\n\n{}\n",
        line(1),
        line(2),
        line(3)
    );
    let sink = run(&input);
    assert_eq!(sink.spans.len(), 3);
    assert_eq!(sink.problems.len(), 1, "{:?}", sink.problems);
    assert_eq!(
        sink.problems[0].location, "t.json:2",
        "{}",
        sink.problems[0]
    );
    // A span problem on a later line carries that line.
    let input = format!("{}\n{}", line(1), line(0).replace("\"0\"", "\"zz\""));
    let sink = run(&input);
    assert_eq!(
        sink.problems[0].location,
        "t.json:2: $.resourceSpans[0].scopeSpans[0].spans[0]"
    );
}

#[test]
fn syntax_error_in_a_big_object_keeps_earlier_spans() {
    let json = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[\n{\"traceId\":\"1\",\"spanId\":\"1\"},\n{\"traceId\":\"1\" \"spanId\":\"2\"}]}]}]}";
    let sink = run(json);
    assert_eq!(sink.spans.len(), 1);
    assert_eq!(sink.problems.len(), 1);
    assert!(
        sink.problems[0].location.starts_with("t.json:3:"),
        "{}",
        sink.problems[0]
    );
}

#[test]
fn anyvalue_kinds() {
    let json = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"1","spanId":"1","attributes":[
      {"key":"arr","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":1}]}}},
      {"key":"kv","value":{"kvlistValue":{"values":[{"key":"k","value":{"boolValue":false}}]}}},
      {"key":"bytes","value":{"bytesValue":"AAAwOQ=="}},
      {"key":"i","value":{"intValue":-3}}]}]}]}]}"#;
    let sink = run(json);
    let s = &sink.spans[0];
    assert_eq!(s.attr("arr"), Some(r#"["a",1]"#));
    assert_eq!(s.attr("kv"), Some(r#"{"k":false}"#));
    assert_eq!(s.attr("bytes"), Some("AAAwOQ=="));
    assert_eq!(s.attr("i"), Some("-3"));
}

#[test]
fn top_level_shapes() {
    // Concatenated objects, an array of objects, a trace-summaries response, scalars.
    let one = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"1","spanId":"1"}]}]}]}"#;
    assert_eq!(run(&format!("{one}{one}")).spans.len(), 2);
    assert_eq!(run(&format!("[{one},{one}]")).spans.len(), 2);
    let summaries = run(r#"{"summaries":[{"traceId":"1","spanCount":2}]}"#);
    assert!(summaries.spans.is_empty() && summaries.problems.is_empty());
    let scalar = run("42\n");
    assert_eq!(scalar.problems.len(), 1);
    assert!(
        scalar.problems[0].message.contains("OTLP/JSON object"),
        "{}",
        scalar.problems[0]
    );
}

#[test]
fn sink_errors_are_fatal() {
    struct Failing;
    impl crate::source::SpanSink for Failing {
        fn span(&mut self, _: crate::model::Span) -> Result<(), crate::source::SinkError> {
            Err("disk full".into())
        }
        fn skipped(&mut self, _: crate::source::Problem) -> Result<(), crate::source::SinkError> {
            Ok(())
        }
    }
    let err = decode(Format::OtlpJson, &mut BASIC.as_bytes(), "t", &mut Failing).unwrap_err();
    assert_eq!(err.to_string(), "disk full");
}
