//! OTLP protobuf encoding of synthetic traces, as the Collector's file exporter writes
//! it with `format: proto`: each trace one `TracesData` message behind its 4-byte
//! big-endian length. The same spans as the JSON encodings, for measuring ingest of
//! the binary format on the same data.

use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, TracesData, span, status,
};
use prost::Message as _;

use super::trace::{Kind, SpanStatus, SynthTrace, Val};

/// Appends `trace` to `out` as one length-prefixed frame.
pub(crate) fn push_frame(out: &mut Vec<u8>, trace: &SynthTrace) {
    let message = traces_data(trace).encode_to_vec();
    let len = u32::try_from(message.len()).expect("a synthetic trace is far below 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&message);
}

fn traces_data(trace: &SynthTrace) -> TracesData {
    let resource_spans = trace
        .resources
        .iter()
        .enumerate()
        .filter_map(|(ri, resource)| {
            let spans: Vec<Span> = trace
                .spans
                .iter()
                .filter(|s| s.resource == ri)
                .map(|s| Span {
                    trace_id: trace.trace_id.to_vec(),
                    span_id: s.span_id.to_vec(),
                    parent_span_id: s.parent.map(|p| p.to_vec()).unwrap_or_default(),
                    name: s.name.clone(),
                    kind: kind(s.kind) as i32,
                    start_time_unix_nano: (s.start_us * 1000) as u64,
                    end_time_unix_nano: (s.end_us * 1000) as u64,
                    attributes: key_values(&s.attrs),
                    links: s
                        .links
                        .iter()
                        .map(|(trace_id, span_id)| span::Link {
                            trace_id: trace_id.to_vec(),
                            span_id: span_id.to_vec(),
                            ..Default::default()
                        })
                        .collect(),
                    status: status_of(s.status, s.status_message.as_deref()),
                    ..Default::default()
                })
                .collect();
            (!spans.is_empty()).then(|| ResourceSpans {
                resource: Some(Resource {
                    attributes: key_values(resource),
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "pipescope-synth".into(),
                        version: "1.0.0".into(),
                        ..Default::default()
                    }),
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            })
        })
        .collect();
    TracesData { resource_spans }
}

fn key_values(attrs: &[(String, Val)]) -> Vec<KeyValue> {
    attrs
        .iter()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: Some(AnyValue {
                value: Some(match value {
                    Val::Str(s) => any_value::Value::StringValue(s.clone()),
                    Val::Int(i) => any_value::Value::IntValue(*i),
                    Val::Bool(b) => any_value::Value::BoolValue(*b),
                    Val::Float(f) => any_value::Value::DoubleValue(*f),
                }),
            }),
        })
        .collect()
}

fn kind(kind: Kind) -> span::SpanKind {
    match kind {
        Kind::Internal => span::SpanKind::Internal,
        Kind::Server => span::SpanKind::Server,
        Kind::Client => span::SpanKind::Client,
    }
}

fn status_of(status: SpanStatus, message: Option<&str>) -> Option<Status> {
    let code = match status {
        SpanStatus::Unset => return None,
        SpanStatus::Ok => status::StatusCode::Ok,
        SpanStatus::Error => status::StatusCode::Error,
    };
    Some(Status {
        code: code as i32,
        message: message.unwrap_or_default().to_string(),
    })
}
