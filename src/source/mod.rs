//! Inputs: decoders for every trace wire format pipescope reads, format detection,
//! and the expansion of command-line paths (files, directories, globs, stdin, `.gz`)
//! into readers. Every decoder streams spans into a [`SpanSink`]; nothing here
//! normalises CI conventions or touches the store.

use crate::model::Span;

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
    fn span(&mut self, span: Span) -> anyhow::Result<()>;
    /// Reports an item that was skipped. Returning an error stops decoding
    /// (that is how `--strict` works).
    fn skipped(&mut self, problem: Problem) -> anyhow::Result<()>;
}

/// Collects everything in memory; for tests and small inputs.
#[derive(Debug, Default)]
pub struct VecSink {
    pub spans: Vec<Span>,
    pub problems: Vec<Problem>,
}

impl SpanSink for VecSink {
    fn span(&mut self, span: Span) -> anyhow::Result<()> {
        self.spans.push(span);
        Ok(())
    }
    fn skipped(&mut self, problem: Problem) -> anyhow::Result<()> {
        self.problems.push(problem);
        Ok(())
    }
}
