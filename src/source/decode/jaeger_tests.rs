use crate::model::{SourceKind, Status};
use crate::source::{Format, VecSink, decode};

fn run(json: &str) -> VecSink {
    let mut sink = VecSink::default();
    decode(Format::Jaeger, &mut json.as_bytes(), "j.json", &mut sink).unwrap();
    sink
}

const TRACE: &str = r#"{"traceID":"2BE38093EAD7A083","spans":[
  {"spanID":"0000000000000002","operationName":"root","startTime":1485467191639875,"duration":5,
   "references":[],"processID":"p1",
   "tags":[{"key":"span.kind","type":"string","value":"server"},
           {"key":"error","type":"bool","value":"true"},
           {"key":"n","type":"int64","value":"9223372036854775222"},
           {"key":"f","type":"float64","value":72.5}]},
  {"traceID":"2be38093ead7a083","spanID":"0000000000000003","operationName":"child","startTime":"1485467191639876","duration":1,
   "references":[{"refType":"FOLLOWS_FROM","traceID":"2be38093ead7a083","spanID":"0000000000000009"},
                 {"refType":"CHILD_OF","traceID":"2be38093ead7a083","spanID":"0000000000000002"}],
   "processID":"p2",
   "tags":[{"key":"otel.status_code","type":"string","value":"OK"},{"key":"error","type":"bool","value":true}]},
  {"traceID":"2be38093ead7a083","spanID":"0000000000000004","operationName":"follower","startTime":1,"duration":1,
   "references":[{"refType":"FOLLOWS_FROM","traceID":"2be38093ead7a083","spanID":"0000000000000003"}],
   "process":{"serviceName":"inline","tags":[{"key":"host","type":"string","value":"h1"}]},
   "tags":[{"key":"otel.status_code","type":"string","value":"ERROR"},{"key":"otel.status_description","type":"string","value":"bad"}]},
  {"traceID":"2be38093ead7a083","spanID":"0000000000000005","parentSpanID":"0000000000000004","operationName":"legacy","processID":"p1"}
 ],
 "processes":{"p1":{"serviceName":"svc-1","tags":[{"key":"ip","type":"string","value":"1.2.3.4"}]},"p2":{"serviceName":"svc-2"}}}"#;

#[test]
fn bare_trace_with_processes_map_and_inline_process() {
    let sink = run(TRACE);
    assert!(sink.problems.is_empty(), "{:?}", sink.problems);
    assert_eq!(sink.spans.len(), 4);
    let [root, child, follower, legacy] = &sink.spans[..] else {
        panic!("4 spans")
    };
    assert_eq!(root.trace_id, "00000000000000002be38093ead7a083");
    assert_eq!(root.kind, "server");
    assert_eq!(
        root.status,
        Status::Error,
        "error tag given as the string \"true\""
    );
    assert_eq!(root.attr("n"), Some("9223372036854775222"));
    assert_eq!(root.attr("f"), Some("72.5"));
    assert_eq!(root.start_ns, 1_485_467_191_639_875_000);
    assert_eq!(root.end_ns, 1_485_467_191_639_880_000);
    assert_eq!(root.service.as_deref(), Some("svc-1"));
    assert_eq!(root.resource_attr("service.name"), Some("svc-1"));
    assert_eq!(root.resource_attr("ip"), Some("1.2.3.4"));
    assert_eq!(root.parent_span_id, None);
    assert_eq!(root.source, Some(SourceKind::Jaeger));

    assert_eq!(child.parent_span_id.as_deref(), Some("0000000000000002"));
    assert_eq!(child.status, Status::Ok, "otel.status_code wins over error");
    assert_eq!(child.kind, "unspecified");
    assert_eq!(child.start_ns, 1_485_467_191_639_876_000);
    assert_eq!(child.links.len(), 1);
    assert_eq!(child.links[0].span_id, "0000000000000009");

    assert_eq!(follower.parent_span_id.as_deref(), Some("0000000000000003"));
    assert_eq!(follower.links.len(), 1, "FOLLOWS_FROM is also a link");
    assert_eq!(follower.service.as_deref(), Some("inline"));
    assert_eq!(follower.resource_attr("host"), Some("h1"));
    assert_eq!(follower.status, Status::Error);
    assert_eq!(follower.status_message.as_deref(), Some("bad"));

    assert_eq!(legacy.parent_span_id.as_deref(), Some("0000000000000004"));
}

#[test]
fn envelope_and_ui_list() {
    let envelope =
        format!(r#"{{"data":[{TRACE},{TRACE}],"total":0,"limit":0,"offset":0,"errors":null}}"#);
    assert_eq!(run(&envelope).spans.len(), 8);
    let list = format!("[{TRACE}]");
    assert_eq!(run(&list).spans.len(), 4);
    let errors = run(r#"{"data":null,"errors":[{"code":500,"msg":"boom"}]}"#);
    assert!(errors.spans.is_empty());
    assert_eq!(errors.problems.len(), 1);
    assert!(errors.problems[0].message.contains("boom"));
}

#[test]
fn malformed_span_in_the_middle_is_skipped() {
    let json = r#"{"data":[{"traceID":"1","spans":[
        {"spanID":"1","operationName":"a"},
        {"spanID":"xyz!","operationName":"b"},
        {"spanID":"3","startTime":"soon"},
        {"spanID":"4","startTime":9223372036854775807},
        {"spanID":"5","operationName":"e"}]}]}"#;
    let sink = run(json);
    let names: Vec<_> = sink.spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["a", "e"]);
    assert_eq!(sink.problems.len(), 3);
    assert_eq!(sink.problems[0].location, "j.json: $.data[0].spans[1]");
    assert!(
        sink.problems[2].message.contains("overflows"),
        "{}",
        sink.problems[2]
    );
}
