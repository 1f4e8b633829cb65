//! Span → wire JSON, as each backend's query API answers: OTLP/JSON (Jaeger api_v3,
//! Tempo — optionally with base64 ids and enum names, as Tempo writes them), Jaeger
//! v1 JSON (µs, processes map, typed tags) and Zipkin v2 (µs, string tags, resource
//! attributes flattened into tags as OpenTelemetry's Zipkin exporter does).

use base64::Engine as _;
use pipescope::model::{Span, Status};
use serde_json::{Value, json};

/// How Tempo-style OTLP/JSON is written.
#[derive(Clone, Copy)]
pub struct OtlpStyle {
    pub base64_ids: bool,
    pub enum_names: bool,
}

fn id(hex: &str, style: OtlpStyle) -> Value {
    if !style.base64_ids {
        return json!(hex);
    }
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect();
    json!(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn kind_number(kind: &str) -> i64 {
    match kind {
        "internal" => 1,
        "server" => 2,
        "client" => 3,
        "producer" => 4,
        "consumer" => 5,
        _ => 0,
    }
}

fn kv(pairs: &[(String, String)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| json!({"key": k, "value": {"stringValue": v}}))
            .collect(),
    )
}

fn resource_of(span: &Span) -> Vec<(String, String)> {
    let mut resource = span.resource.clone();
    // A span read from Zipkin has its resource flattened into its tags; the normaliser
    // reads them as the resource too, so serve them as the resource they were.
    if span.source == Some(pipescope::model::SourceKind::Zipkin) {
        resource.extend(span.attributes.iter().cloned());
    }
    if let Some(service) = &span.service
        && !resource.iter().any(|(k, _)| k == "service.name")
    {
        resource.push(("service.name".into(), service.clone()));
    }
    resource
}

type Attrs = Vec<(String, String)>;

/// `resourceSpans` for the spans of one or more traces.
pub fn otlp_resource_spans(spans: &[&Span], style: OtlpStyle) -> Value {
    let mut groups: Vec<(Attrs, Vec<Value>)> = Vec::new();
    for span in spans {
        let resource = resource_of(span);
        let kind = kind_number(&span.kind);
        let code = match span.status {
            Status::Unset => 0,
            Status::Ok => 1,
            Status::Error => 2,
        };
        let mut s = json!({
            "traceId": id(&span.trace_id, style),
            "spanId": id(&span.span_id, style),
            "name": span.name,
            "kind": if style.enum_names {
                json!(["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
                       "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"][kind as usize])
            } else { json!(kind) },
            "startTimeUnixNano": span.start_ns.to_string(),
            "endTimeUnixNano": span.end_ns.to_string(),
            "attributes": kv(&span.attributes),
            "status": {
                "code": if style.enum_names {
                    json!(["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"][code])
                } else { json!(code) },
            },
            "links": span.links.iter().map(|l| json!({
                "traceId": id(&l.trace_id, style), "spanId": id(&l.span_id, style)
            })).collect::<Vec<_>>(),
        });
        if let Some(parent) = &span.parent_span_id {
            s["parentSpanId"] = id(parent, style);
        }
        if let Some(message) = &span.status_message {
            s["status"]["message"] = json!(message);
        }
        match groups.iter_mut().find(|(r, _)| *r == resource) {
            Some((_, list)) => list.push(s),
            None => groups.push((resource, vec![s])),
        }
    }
    Value::Array(
        groups
            .into_iter()
            .map(|(resource, spans)| {
                json!({"resource": {"attributes": kv(&resource)},
                       "scopeSpans": [{"scope": {"name": "fake"}, "spans": spans}]})
            })
            .collect(),
    )
}

/// Jaeger v1 `/api/traces` document for whole traces.
pub fn jaeger_v1(traces: &[&[Span]]) -> Value {
    let data: Vec<Value> = traces
        .iter()
        .map(|spans| {
            let mut processes = serde_json::Map::new();
            let mut out = Vec::new();
            for span in spans.iter() {
                let resource = resource_of(span);
                let pid = match processes.iter().find(|(_, p)| p["_r"] == json!(resource)) {
                    Some((k, _)) => k.clone(),
                    None => {
                        let k = format!("p{}", processes.len() + 1);
                        processes.insert(k.clone(), json!({"_r": resource}));
                        k
                    }
                };
                let mut tags: Vec<Value> = span
                    .attributes
                    .iter()
                    .map(|(k, v)| json!({"key": k, "type": "string", "value": v}))
                    .collect();
                tags.push(json!({"key": "span.kind", "type": "string", "value": span.kind}));
                match span.status {
                    Status::Error => {
                        tags.push(json!({"key": "otel.status_code", "type": "string", "value": "ERROR"}))
                    }
                    Status::Ok => {
                        tags.push(json!({"key": "otel.status_code", "type": "string", "value": "OK"}))
                    }
                    Status::Unset => {}
                }
                if let Some(m) = &span.status_message {
                    tags.push(json!({"key": "otel.status_description", "type": "string", "value": m}));
                }
                let mut refs: Vec<Value> = span
                    .parent_span_id
                    .iter()
                    .map(|p| json!({"refType": "CHILD_OF", "traceID": span.trace_id, "spanID": p}))
                    .collect();
                refs.extend(span.links.iter().map(|l| {
                    json!({"refType": "FOLLOWS_FROM", "traceID": l.trace_id, "spanID": l.span_id})
                }));
                out.push(json!({
                    "traceID": span.trace_id, "spanID": span.span_id,
                    "operationName": span.name, "references": refs,
                    "startTime": span.start_ns / 1000,
                    "duration": (span.end_ns - span.start_ns) / 1000,
                    "tags": tags, "logs": [], "processID": pid,
                }));
            }
            let processes: serde_json::Map<String, Value> = processes
                .into_iter()
                .map(|(k, p)| {
                    let resource: Vec<(String, String)> =
                        serde_json::from_value(p["_r"].clone()).unwrap_or_default();
                    let service = resource
                        .iter()
                        .find(|(k, _)| k == "service.name")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    let tags: Vec<Value> = resource
                        .iter()
                        .filter(|(k, _)| k != "service.name")
                        .map(|(k, v)| json!({"key": k, "type": "string", "value": v}))
                        .collect();
                    (k, json!({"serviceName": service, "tags": tags}))
                })
                .collect();
            json!({"traceID": spans[0].trace_id, "spans": out, "processes": processes, "warnings": null})
        })
        .collect();
    json!({"data": data, "total": 0, "limit": 0, "offset": 0, "errors": null})
}

/// Zipkin `/api/v2/traces` document (a list of traces, each a list of spans).
pub fn zipkin(traces: &[&[Span]]) -> Value {
    Value::Array(
        traces
            .iter()
            .map(|spans| {
                Value::Array(
                    spans
                        .iter()
                        .map(|span| {
                            let mut tags = serde_json::Map::new();
                            for (k, v) in span.resource.iter().chain(&span.attributes) {
                                tags.insert(k.clone(), json!(v));
                            }
                            match span.status {
                                Status::Error => {
                                    tags.insert("otel.status_code".into(), json!("ERROR"));
                                }
                                Status::Ok => {
                                    tags.insert("otel.status_code".into(), json!("OK"));
                                }
                                Status::Unset => {}
                            }
                            let mut s = json!({
                                "traceId": span.trace_id, "id": span.span_id, "name": span.name,
                                "timestamp": span.start_ns / 1000,
                                "duration": (span.end_ns - span.start_ns) / 1000,
                                "localEndpoint": {"serviceName": span.service.clone().unwrap_or_default()},
                                "tags": tags,
                            });
                            if let Some(p) = &span.parent_span_id {
                                s["parentId"] = json!(p);
                            }
                            let kind = span.kind.to_ascii_uppercase();
                            if ["SERVER", "CLIENT", "PRODUCER", "CONSUMER"].contains(&kind.as_str()) {
                                s["kind"] = json!(kind);
                            }
                            s
                        })
                        .collect(),
                )
            })
            .collect(),
    )
}
