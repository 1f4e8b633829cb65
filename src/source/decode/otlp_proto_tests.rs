use crate::model::{SourceKind, Status};
use crate::source::{Format, VecSink, decode, decode_otlp_proto_message, detect};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status as PbStatus, span,
};
use prost::Message as _;

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
    }
}

fn request(span_ids: &[[u8; 8]]) -> ExportTraceServiceRequest {
    let spans = span_ids
        .iter()
        .map(|id| Span {
            trace_id: (1..=16).collect(),
            span_id: id.to_vec(),
            parent_span_id: vec![0xAB; 8],
            name: "job".to_owned(),
            kind: 3,
            start_time_unix_nano: 1_700_000_000_000_000_000,
            end_time_unix_nano: 1_700_000_001_000_000_000,
            attributes: vec![
                kv("i", Value::IntValue(-5)),
                kv("d", Value::DoubleValue(5e9)),
                kv(
                    "a",
                    Value::ArrayValue(ArrayValue {
                        values: vec![AnyValue {
                            value: Some(Value::StringValue("x".into())),
                        }],
                    }),
                ),
            ],
            links: vec![span::Link {
                trace_id: vec![0xCD; 16],
                span_id: vec![],
                ..Default::default()
            }],
            status: Some(PbStatus {
                message: "failed".into(),
                code: 2,
            }),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", Value::StringValue("ci".into()))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn frame(msg: &ExportTraceServiceRequest) -> Vec<u8> {
    let body = msg.encode_to_vec();
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend(body);
    out
}

#[test]
fn framed_round_trip() {
    let mut file = frame(&request(&[[1; 8], [2; 8]]));
    file.extend(frame(&request(&[[3; 8]])));
    assert_eq!(detect(&file), Some(Format::OtlpProto));
    for format in [Format::OtlpProto, Format::OtlpJson] {
        let mut sink = VecSink::default();
        decode(format, &mut &file[..], "f.pb", &mut sink).unwrap();
        assert!(sink.problems.is_empty(), "{:?}", sink.problems);
        assert_eq!(sink.spans.len(), 3);
        let s = &sink.spans[2];
        assert_eq!(s.trace_id, "0102030405060708090a0b0c0d0e0f10");
        assert_eq!(s.span_id, "0303030303030303");
        assert_eq!(s.parent_span_id.as_deref(), Some("abababababababab"));
        assert_eq!(s.name, "job");
        assert_eq!(s.kind, "client");
        assert_eq!(s.start_ns, 1_700_000_000_000_000_000);
        assert_eq!(s.end_ns, 1_700_000_001_000_000_000);
        assert_eq!(s.status, Status::Error);
        assert_eq!(s.status_message.as_deref(), Some("failed"));
        assert_eq!(s.attr("i"), Some("-5"));
        assert_eq!(s.attr("d"), Some("5000000000"));
        assert_eq!(s.attr("a"), Some(r#"["x"]"#));
        assert_eq!(s.service.as_deref(), Some("ci"));
        assert_eq!(s.links[0].trace_id, "cd".repeat(16));
        assert_eq!(s.links[0].span_id, "");
        assert_eq!(s.source, Some(SourceKind::Otlp));
    }
}

/// A saved OTLP/HTTP request body: one message, no frame (what the Python SDK's
/// exporter posts), read by detection and by `--format otlp-proto` alike.
#[test]
fn an_unframed_message_file_is_read_whole() {
    let body = request(&[[1; 8], [2; 8]]).encode_to_vec();
    assert_eq!(detect(&body), Some(Format::OtlpProto));
    let mut sink = VecSink::default();
    decode(Format::OtlpProto, &mut &body[..], "body.pb", &mut sink).unwrap();
    assert!(sink.problems.is_empty(), "{:?}", sink.problems);
    assert_eq!(sink.spans.len(), 2);
    // Cut short, it is reported, not misread as frames.
    let mut sink = VecSink::default();
    decode(
        Format::OtlpProto,
        &mut &body[..body.len() - 3],
        "body.pb",
        &mut sink,
    )
    .unwrap();
    assert!(sink.spans.is_empty());
    assert!(
        sink.problems[0]
            .message
            .contains("not a valid OTLP protobuf"),
        "{:?}",
        sink.problems
    );
}

#[test]
fn bad_frames_are_reported_with_offsets() {
    let good = frame(&request(&[[1; 8]]));
    // A frame whose body is garbage, then a good frame, then a truncated frame.
    let mut file = vec![0, 0, 0, 3, 0xFF, 0xFF, 0xFF];
    file.extend(&good);
    file.extend(&good[..good.len() - 2]);
    let mut sink = VecSink::default();
    decode(Format::OtlpProto, &mut &file[..], "f.pb", &mut sink).unwrap();
    assert_eq!(sink.spans.len(), 1);
    assert_eq!(sink.problems.len(), 2, "{:?}", sink.problems);
    assert_eq!(sink.problems[0].location, "f.pb: byte 0");
    assert!(
        sink.problems[0]
            .message
            .contains("not a valid OTLP protobuf")
    );
    assert_eq!(
        sink.problems[1].location,
        format!("f.pb: byte {}", 7 + good.len())
    );
    assert!(sink.problems[1].message.contains("truncated"));
}

#[test]
fn single_message_and_bad_ids() {
    let mut req = request(&[[1; 8], [0; 8]]);
    req.resource_spans[0].scope_spans[0].spans[0].trace_id = vec![1, 2, 3];
    let mut sink = VecSink::default();
    decode_otlp_proto_message(
        &req.encode_to_vec(),
        "POST /v1/traces",
        SourceKind::OtlpHttp,
        &mut sink,
    )
    .unwrap();
    assert!(sink.spans.is_empty());
    assert_eq!(sink.problems.len(), 2);
    assert_eq!(
        sink.problems[0].location,
        "POST /v1/traces resourceSpans[0].scopeSpans[0].spans[0]"
    );
    assert!(sink.problems[0].message.contains("3 bytes"));
    assert!(sink.problems[1].message.contains("all zeros"));
}
