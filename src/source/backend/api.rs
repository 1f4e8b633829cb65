//! What every backend query API gives `pull`: a search over a time [`Window`] (full
//! traces or trace ids to fetch) and, where needed, a fetch by trace id. The
//! per-backend clients (`jaeger`, `tempo`, `zipkin`) implement this; `pull` splits
//! windows, deduplicates and stores.

use std::collections::HashMap;

use super::http::BodyError;
use crate::model::{SourceKind, Span};
use crate::source::{self, BodyKind, VecSink};

/// A half-open time range `[start_ns, end_ns)` in ns since the Unix epoch: what one
/// search of a backend covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub start_ns: i64,
    pub end_ns: i64,
}

impl Window {
    /// The window's width in ns.
    pub fn width_ns(&self) -> i64 {
        self.end_ns - self.start_ns
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = |ns: i64| {
            chrono::DateTime::<chrono::Utc>::from_timestamp_nanos(ns)
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
        };
        write!(f, "[{}, {})", t(self.start_ns), t(self.end_ns))
    }
}

/// One trace a search found.
#[derive(Debug, Clone)]
pub enum Found {
    /// The search returned the trace's spans (Jaeger, Zipkin).
    Spans(Vec<Span>),
    /// The search returned a summary; the trace must be fetched by id (Tempo).
    Id(String),
}

impl Found {
    /// The id of the trace found.
    pub fn trace_id(&self) -> &str {
        match self {
            Found::Spans(spans) => spans.first().map(|s| s.trace_id.as_str()).unwrap_or(""),
            Found::Id(id) => id,
        }
    }
}

/// A search's answer: the traces found; `hits` counts them against the limit.
#[derive(Debug, Clone, Default)]
pub struct SearchResult {
    pub hits: usize,
    pub found: Vec<Found>,
}

/// Groups spans by trace id, traces in order of first appearance.
pub fn group_by_trace(spans: Vec<Span>) -> Vec<Vec<Span>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Vec<Span>> = Vec::new();
    for span in spans {
        match index.get(&span.trace_id) {
            Some(&i) => groups[i].push(span),
            None => {
                index.insert(span.trace_id.clone(), groups.len());
                groups.push(vec![span]);
            }
        }
    }
    groups
}

/// Decodes a whole body strictly: any skipped item makes the body malformed (a cut-off
/// or corrupted body must be retried, not half stored).
pub fn decode_strict(
    kind: BodyKind,
    bytes: &[u8],
    origin: &str,
    source_kind: SourceKind,
) -> Result<Vec<Span>, BodyError> {
    let mut sink = VecSink::default();
    source::decode_body(kind, bytes, origin, source_kind, &mut sink)?;
    match sink.problems.into_iter().next() {
        Some(problem) => Err(BodyError::Skipped(problem)),
        None => Ok(sink.spans),
    }
}

/// Pads a hex trace id to 32 digits (Tempo strips leading zeros) and lowercases it.
pub fn pad_trace_id(id: &str) -> String {
    let id = id.trim().to_ascii_lowercase();
    if id.len() >= 32 {
        id
    } else {
        format!("{id:0>32}")
    }
}

/// Unix seconds, rounded down / up, for APIs with second granularity.
pub fn secs_floor(ns: i64) -> i64 {
    ns.div_euclid(1_000_000_000)
}
/// See [`secs_floor`].
pub fn secs_ceil(ns: i64) -> i64 {
    -(-ns).div_euclid(1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripped_ids_are_padded() {
        assert_eq!(pad_trace_id("2F3E"), format!("{}2f3e", "0".repeat(28)));
        let full = "0123456789abcdef0123456789abcdef";
        assert_eq!(pad_trace_id(full), full);
    }

    #[test]
    fn seconds_round_outwards() {
        assert_eq!(secs_floor(1_500_000_000), 1);
        assert_eq!(secs_ceil(1_500_000_000), 2);
        assert_eq!(secs_ceil(2_000_000_000), 2);
    }

    #[test]
    fn html_is_malformed_not_empty() {
        let err = decode_strict(
            BodyKind::Jaeger,
            b"<html>502</html>",
            "u",
            SourceKind::Jaeger,
        );
        assert!(err.is_err());
    }
}
