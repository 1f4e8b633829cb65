//! Jaeger v1 JSON and Zipkin v2 JSON encodings of synthetic traces.
//!
//! Both carry times in µs (the generator keeps µs precision, so nothing is lost) and no
//! resource: Jaeger puts resource attributes on a process, Zipkin has only string tags,
//! so resource attributes become tags on every span.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::trace::{Kind, SpanStatus, SynthTrace, Val, hex};

fn jaeger_tag(k: &str, v: &Val) -> Value {
    match v {
        Val::Str(s) => json!({ "key": k, "type": "string", "value": s }),
        Val::Int(i) => json!({ "key": k, "type": "int64", "value": i }),
        Val::Bool(b) => json!({ "key": k, "type": "bool", "value": b }),
        Val::Float(f) => json!({ "key": k, "type": "float64", "value": f }),
    }
}

fn kind_name(k: Kind) -> Option<&'static str> {
    match k {
        Kind::Internal => None,
        Kind::Server => Some("server"),
        Kind::Client => Some("client"),
    }
}

fn service(attrs: &[(String, Val)]) -> String {
    attrs
        .iter()
        .find(|(k, _)| k == "service.name")
        .map(|(_, v)| v.to_tag_string())
        .unwrap_or_else(|| "unknown_service".into())
}

/// One Jaeger trace object (`traceID`, `spans`, `processes`).
pub(crate) fn jaeger_trace(trace: &SynthTrace) -> Value {
    let tid = hex(&trace.trace_id);
    let mut processes = Map::new();
    for (i, res) in trace.resources.iter().enumerate() {
        let tags: Vec<Value> = res
            .iter()
            .filter(|(k, _)| k != "service.name")
            .map(|(k, v)| jaeger_tag(k, v))
            .collect();
        processes.insert(
            format!("p{}", i + 1),
            json!({ "serviceName": service(res), "tags": tags }),
        );
    }
    let spans: Vec<Value> = trace
        .spans
        .iter()
        .map(|s| {
            let mut refs: Vec<Value> = s
                .parent
                .iter()
                .map(|p| json!({ "refType": "CHILD_OF", "traceID": tid, "spanID": hex(p) }))
                .collect();
            refs.extend(s.links.iter().map(|(t, sp)| {
                json!({ "refType": "FOLLOWS_FROM", "traceID": hex(t), "spanID": hex(sp) })
            }));
            let mut tags: Vec<Value> = s.attrs.iter().map(|(k, v)| jaeger_tag(k, v)).collect();
            if let Some(k) = kind_name(s.kind) {
                tags.push(jaeger_tag("span.kind", &Val::Str(k.into())));
            }
            match s.status {
                SpanStatus::Unset => {}
                SpanStatus::Ok => tags.push(jaeger_tag("otel.status_code", &"OK".into())),
                SpanStatus::Error => {
                    tags.push(jaeger_tag("otel.status_code", &"ERROR".into()));
                    tags.push(jaeger_tag("error", &Val::Bool(true)));
                    if let Some(m) = &s.status_message {
                        tags.push(jaeger_tag("otel.status_description", &m.into()));
                    }
                }
            }
            json!({
                "traceID": tid,
                "spanID": hex(&s.span_id),
                "operationName": s.name,
                "references": refs,
                "startTime": s.start_us,
                "duration": s.end_us - s.start_us,
                "tags": tags,
                "logs": [],
                "processID": format!("p{}", s.resource + 1),
                "warnings": null,
            })
        })
        .collect();
    json!({ "traceID": tid, "spans": spans, "processes": processes, "warnings": null })
}

/// The `/api/traces` envelope around several traces.
pub(crate) fn jaeger_document(traces: &[&SynthTrace]) -> Value {
    let data: Vec<Value> = traces.iter().map(|t| jaeger_trace(t)).collect();
    json!({ "data": data, "total": 0, "limit": 0, "offset": 0, "errors": null })
}

/// Zipkin v2 spans of one trace.
pub(crate) fn zipkin_spans(trace: &SynthTrace) -> Vec<Value> {
    let tid = hex(&trace.trace_id);
    trace
        .spans
        .iter()
        .map(|s| {
            let res = trace
                .resources
                .get(s.resource)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let mut tags: BTreeMap<String, String> = res
                .iter()
                .filter(|(k, _)| k != "service.name")
                .map(|(k, v)| (k.clone(), v.to_tag_string()))
                .collect();
            for (k, v) in &s.attrs {
                tags.insert(k.clone(), v.to_tag_string());
            }
            match s.status {
                SpanStatus::Unset => {}
                SpanStatus::Ok => {
                    tags.insert("otel.status_code".into(), "OK".into());
                }
                SpanStatus::Error => {
                    tags.insert("otel.status_code".into(), "ERROR".into());
                    let msg = s.status_message.clone().unwrap_or_default();
                    tags.insert("error".into(), msg);
                }
            }
            let mut m = Map::new();
            m.insert("traceId".into(), Value::from(tid.as_str()));
            m.insert("id".into(), Value::from(hex(&s.span_id)));
            if let Some(p) = s.parent {
                m.insert("parentId".into(), Value::from(hex(&p)));
            }
            m.insert("name".into(), Value::from(s.name.as_str()));
            if let Some(k) = kind_name(s.kind) {
                m.insert("kind".into(), Value::from(k.to_uppercase()));
            }
            m.insert("timestamp".into(), Value::from(s.start_us));
            m.insert("duration".into(), Value::from(s.end_us - s.start_us));
            m.insert(
                "localEndpoint".into(),
                json!({ "serviceName": service(res) }),
            );
            m.insert("tags".into(), json!(tags));
            Value::Object(m)
        })
        .collect()
}

/// A Zipkin `/api/v2/traces`-style list of lists.
pub(crate) fn zipkin_document(traces: &[&SynthTrace]) -> Value {
    Value::Array(
        traces
            .iter()
            .map(|t| Value::Array(zipkin_spans(t)))
            .collect(),
    )
}
