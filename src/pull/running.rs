//! Still-running traces. Spans are exported when they end, so while a pipeline runs
//! a backend holds its finished jobs and steps but not the pipeline (root) span.
//! Storing such a trace would record a run without a result; `pull` holds it back
//! and lists it in the checkpoint so that the next pull searches its time again.

use crate::model::Span;

/// Whether a trace looks unfinished: it has no root span (the pipeline span has not
/// been exported yet), or a root span without an end time.
pub fn still_running(spans: &[Span]) -> bool {
    let mut roots = spans
        .iter()
        .filter(|s| s.parent_span_id.is_none())
        .peekable();
    roots.peek().is_none() || roots.any(|s| s.end_ns <= 0)
}

/// Latest start among the spans: how recently the trace was active.
pub fn last_start_ns(spans: &[Span]) -> i64 {
    spans.iter().map(|s| s.start_ns).max().unwrap_or(0)
}

/// Earliest start among the spans.
pub fn first_start_ns(spans: &[Span]) -> i64 {
    spans.iter().map(|s| s.start_ns).min().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, end_ns: i64) -> Span {
        Span {
            trace_id: "t".into(),
            span_id: id.into(),
            parent_span_id: parent.map(str::to_string),
            start_ns: 1,
            end_ns,
            ..Span::default()
        }
    }

    #[test]
    fn a_trace_without_its_root_is_running() {
        assert!(still_running(&[span("b", Some("a"), 5)]));
        assert!(!still_running(&[
            span("a", None, 9),
            span("b", Some("a"), 5)
        ]));
        assert!(still_running(&[
            span("a", None, 0),
            span("b", Some("a"), 5)
        ]));
    }
}
