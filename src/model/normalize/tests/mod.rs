//! Tests of the normaliser: every row of CONVENTIONS.md, the value → outcome table, and
//! the trace shapes of real emitters (built by hand, mirroring the real fixtures; the
//! decoders that would read those files live elsewhere).

mod delivery_rows;
mod propagation;
mod result_rows;
mod role_rows;
mod shapes;
mod trace_rows;
mod tree_agreement;

use super::*;
use crate::model::span::{CiFields, Link, Outcome, Role, Status};

const TRACE: &str = "731ec8a47fd7450f753a812a4a8aa5a0";

fn span(id: &str, parent: Option<&str>, name: &str) -> Span {
    Span {
        trace_id: TRACE.to_string(),
        span_id: id.to_string(),
        parent_span_id: parent.map(str::to_string),
        name: name.to_string(),
        kind: "internal".to_string(),
        ..Span::default()
    }
}

fn with(mut s: Span, attrs: &[(&str, &str)]) -> Span {
    s.attributes
        .extend(attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    s
}

fn with_res(mut s: Span, res: &[(&str, &str)]) -> Span {
    s.resource
        .extend(res.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    s
}

fn at(mut s: Span, start: i64, status: Status) -> Span {
    s.start_ns = start;
    s.end_ns = start + 10;
    s.status = status;
    s
}

fn normalizer() -> Normalizer {
    Normalizer::new(Conventions::builtin())
}

fn run(spans: &mut [Span]) -> TraceFacts {
    normalizer().normalize_trace(spans, None)
}

fn one(s: Span) -> CiFields {
    let mut v = vec![s];
    run(&mut v);
    v.remove(0).ci
}

fn by_id<'a>(spans: &'a [Span], id: &str) -> &'a CiFields {
    &spans.iter().find(|s| s.span_id == id).unwrap().ci
}
