//! What every fuzz target does with its bytes: decode them as one format, then
//! normalise each decoded trace as `ingest` would. A panic, an arithmetic overflow
//! (the targets build with debug assertions) or a hang is the finding: malformed input
//! must only ever come out as skipped items.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use pipescope::model::{Conventions, Normalizer, Span};
use pipescope::source::{Format, VecSink, decode};

fn normalizer() -> &'static Normalizer {
    static NORMALIZER: OnceLock<Normalizer> = OnceLock::new();
    NORMALIZER.get_or_init(|| Normalizer::new(Conventions::builtin()))
}

/// Decodes `data` as `format` in memory, then normalises what came out.
pub fn decode_as(format: Format, data: &[u8]) {
    let mut sink = VecSink::default();
    // An in-memory input cannot fail to read and this sink never refuses: an error
    // here is a decoder bug too.
    decode(format, &mut &data[..], "fuzz", &mut sink).expect("in-memory decoding cannot fail");
    normalize(sink.spans);
}

/// Normalises spans trace by trace.
pub fn normalize(spans: Vec<Span>) {
    let mut traces: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    for span in spans {
        traces.entry(span.trace_id.clone()).or_default().push(span);
    }
    for spans in traces.values_mut() {
        normalizer().normalize_trace(spans, None);
    }
}
