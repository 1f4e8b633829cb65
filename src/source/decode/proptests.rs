//! Property tests: no decoder panics or fails on arbitrary bytes or arbitrary JSON
//! (random trees, and trees built from the field names real formats use so that the
//! decoders' typed paths see every wrong type), plus a streaming test that decodes a
//! large generated input from a reader that produces it on the fly.

use crate::model::{SourceKind, Span};
use crate::source::{
    Format, Problem, SpanSink, VecSink, decode, decode_otlp_json_body, decode_otlp_proto_message,
    detect,
};
use proptest::prelude::*;
use serde_json::Value;
use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

const FORMATS: [Format; 5] = [
    Format::OtlpJson,
    Format::OtlpProto,
    Format::Jaeger,
    Format::Zipkin,
    Format::PythonSdk,
];

/// Field names of every format, so random objects look like real ones.
const KEYS: &[&str] = &[
    "resourceSpans",
    "batches",
    "result",
    "trace",
    "resource",
    "attributes",
    "scopeSpans",
    "instrumentationLibrarySpans",
    "spans",
    "traceId",
    "spanId",
    "parentSpanId",
    "name",
    "kind",
    "startTimeUnixNano",
    "endTimeUnixNano",
    "status",
    "code",
    "message",
    "links",
    "key",
    "value",
    "stringValue",
    "intValue",
    "doubleValue",
    "boolValue",
    "bytesValue",
    "arrayValue",
    "kvlistValue",
    "values",
    "data",
    "traceID",
    "spanID",
    "operationName",
    "references",
    "refType",
    "startTime",
    "duration",
    "tags",
    "type",
    "processID",
    "processes",
    "process",
    "serviceName",
    "errors",
    "id",
    "parentId",
    "timestamp",
    "localEndpoint",
    "context",
    "trace_id",
    "span_id",
    "parent_id",
    "start_time",
    "end_time",
    "status_code",
    "description",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[0-9a-fA-F]{0,34}".prop_map(Value::String),
        "(0x)?[0-9a-f]{16}".prop_map(Value::String),
        "[A-Za-z0-9+/=_. :-]{0,24}".prop_map(Value::String),
        prop::sample::select(vec![
            "SPAN_KIND_SERVER",
            "STATUS_CODE_ERROR",
            "CHILD_OF",
            "FOLLOWS_FROM",
            "SpanKind.CLIENT",
            "true",
            "5e+09",
            "2026-01-02T13:42:05.864517Z",
            "18446744073709551615",
            "",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn shaped_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|kvs| {
                Value::Object(kvs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::hash_map(".{0,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn decode_all(bytes: &[u8]) {
    let _ = detect(bytes);
    for format in FORMATS {
        let mut sink = VecSink::default();
        let result = decode(format, &mut &bytes[..], "p", &mut sink);
        assert!(result.is_ok(), "{format}: {result:?}");
    }
    let mut sink = VecSink::default();
    assert!(decode_otlp_json_body(bytes, "p", SourceKind::Tempo, &mut sink).is_ok());
    assert!(decode_otlp_proto_message(bytes, "p", SourceKind::OtlpHttp, &mut sink).is_ok());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn shaped_json_never_panics(v in shaped_json(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_vec_pretty(&v) } else { serde_json::to_vec(&v) };
        let text = text.unwrap();
        decode_all(&text);
        // Truncated input too: the common failure of a killed exporter.
        decode_all(&text[..text.len() / 2]);
    }

    #[test]
    fn arbitrary_json_never_panics(v in any_json()) {
        decode_all(&serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn shaped_json_lines_never_panic(vs in prop::collection::vec(shaped_json(), 1..4)) {
        let mut text = Vec::new();
        for v in vs {
            text.extend(serde_json::to_vec(&v).unwrap());
            text.push(b'\n');
        }
        decode_all(&text);
    }
}

/// Produces `{"resourceSpans":[{"resource":…,"scopeSpans":[{"spans":[ span, span, … ]}]}]}`
/// on the fly, counting the bytes handed out.
struct Generated {
    spans: u64,
    next: u64,
    chunk: Vec<u8>,
    pos: usize,
    done: bool,
    produced: Rc<Cell<u64>>,
}

impl Generated {
    fn refill(&mut self) {
        self.chunk.clear();
        self.pos = 0;
        if self.next == 0 {
            self.chunk.extend_from_slice(
                br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"gen"}}]},"scopeSpans":[{"scope":{"name":"g"},"spans":["#,
            );
        }
        let end = (self.next + 256).min(self.spans);
        while self.next < end {
            if self.next > 0 {
                self.chunk.push(b',');
            }
            let i = self.next + 1;
            let span = format!(
                r#"{{"traceId":"{i:032x}","spanId":"{i:016x}","parentSpanId":"","name":"span {i}","kind":1,"startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{{"key":"k","value":{{"stringValue":"some attribute value"}}}},{{"key":"n","value":{{"intValue":"{i}"}}}}],"status":{{}}}}"#,
                1_700_000_000_000_000_000u64 + i,
                1_700_000_000_000_001_000u64 + i
            );
            self.chunk.extend_from_slice(span.as_bytes());
            self.next += 1;
        }
        if self.next == self.spans && !self.done {
            self.chunk.extend_from_slice(b"]}]}]}\n");
            self.done = true;
        }
    }
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            self.refill();
        }
        let n = out.len().min(self.chunk.len() - self.pos);
        out[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        self.produced.set(self.produced.get() + n as u64);
        Ok(n)
    }
}

struct Counting {
    spans: u64,
    produced: Rc<Cell<u64>>,
    produced_at_first_span: u64,
    problems: Vec<Problem>,
}

impl SpanSink for Counting {
    fn span(&mut self, span: Span) -> Result<(), crate::source::SinkError> {
        if self.spans == 0 {
            self.produced_at_first_span = self.produced.get();
        }
        self.spans += 1;
        if span.service.as_deref() != Some("gen") {
            return Err("resource lost".into());
        }
        Ok(())
    }
    fn skipped(&mut self, problem: Problem) -> Result<(), crate::source::SinkError> {
        self.problems.push(problem);
        Ok(())
    }
}

#[test]
fn big_single_object_is_streamed() {
    // ~370 bytes per span: 140k spans ≈ 50 MB.
    const SPANS: u64 = 140_000;
    let produced = Rc::new(Cell::new(0));
    let reader = Generated {
        spans: SPANS,
        next: 0,
        chunk: Vec::new(),
        pos: 0,
        done: false,
        produced: produced.clone(),
    };
    let mut input = std::io::BufReader::new(reader);
    let mut sink = Counting {
        spans: 0,
        produced: produced.clone(),
        produced_at_first_span: 0,
        problems: Vec::new(),
    };
    decode(Format::OtlpJson, &mut input, "generated", &mut sink).unwrap();
    assert!(
        sink.problems.is_empty(),
        "{:?}",
        &sink.problems[..sink.problems.len().min(3)]
    );
    assert_eq!(sink.spans, SPANS);
    let total = produced.get();
    assert!(total > 40_000_000, "generated only {total} bytes");
    // The first span reached the sink long before the input was read: streaming. A
    // line is first copied up to the slice limit, and no further.
    let limit = super::json_stream::MAX_SLICE as u64;
    assert!(
        total > 2 * limit,
        "the line must be longer than the slice limit"
    );
    assert!(
        sink.produced_at_first_span < limit + 1_000_000,
        "first span after {} of {total} bytes",
        sink.produced_at_first_span
    );
}
