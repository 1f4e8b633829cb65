//! Where decoders put what they read: a [`SpanSink`] takes each decoded span and each
//! skipped item ([`Problem`]). `ingest`'s batcher, `receive`'s body check and the pull
//! clients' strict body decoding are sinks; [`VecSink`] collects in memory.

use crate::model::Span;

/// The error a sink stops decoding with: the sink's own error type, boxed, so that the
/// decoders need not know the store's or the batcher's errors. Decoding returns it as
/// [`SourceError::Sink`](super::SourceError::Sink), message and causes unchanged.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Something in the input that could not be decoded and was skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Where: `file:line`, `file: $.resourceSpans[3].scopeSpans[0].spans[7]`, a span id…
    pub location: String,
    /// What was expected and what was found.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Receives decoded spans and skipped items from a decoder.
pub trait SpanSink {
    /// Takes one decoded span. An error (e.g. the store failed) stops decoding.
    fn span(&mut self, span: Span) -> Result<(), SinkError>;
    /// Reports an item that was skipped. Returning an error stops decoding
    /// (that is how `--strict` works).
    fn skipped(&mut self, problem: Problem) -> Result<(), SinkError>;
}

/// Collects everything in memory; for tests and small inputs.
#[derive(Debug, Default)]
pub struct VecSink {
    pub spans: Vec<Span>,
    pub problems: Vec<Problem>,
}

impl SpanSink for VecSink {
    fn span(&mut self, span: Span) -> Result<(), SinkError> {
        self.spans.push(span);
        Ok(())
    }
    fn skipped(&mut self, problem: Problem) -> Result<(), SinkError> {
        self.problems.push(problem);
        Ok(())
    }
}
