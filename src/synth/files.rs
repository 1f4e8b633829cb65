//! Which trace goes into which file, in which format and with which quirks.
//!
//! Every trace is written once in its primary format; with `messy`, a few OTLP traces
//! are written a second time as Jaeger or Zipkin (the same ids and µs times), which the
//! store must deduplicate. Traces with links (GitHub re-runs) never go to Zipkin only,
//! because Zipkin has no links and the attempt would be lost.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::FormatMix;
use super::encode_legacy::{jaeger_document, zipkin_document, zipkin_spans};
use super::encode_otlp::{IdStyle, OtlpStyle, document, resource_spans, tempo_document};
use super::trace::{SynthTrace, hex};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fmt {
    OtlpLines,
    OtlpPretty,
    Jaeger,
    Zipkin,
    Tempo,
}

/// Output files plus the number of traces written twice.
pub(crate) fn write_files(
    traces: &[&SynthTrace],
    mix: FormatMix,
    messy: bool,
    seed: u64,
) -> (Vec<(String, Vec<u8>)>, u64) {
    // A separate stream so that file layout choices never shift the scenario's rng.
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed_f11e_5eed_f11e);
    let mut by_fmt: [Vec<&SynthTrace>; 5] = Default::default();
    let mut dup_jaeger = Vec::new();
    let mut dup_zipkin = Vec::new();
    for &t in traces {
        let linked = t.spans.iter().any(|s| !s.links.is_empty());
        let fmt = match mix {
            FormatMix::OtlpOnly => Fmt::OtlpLines,
            FormatMix::All => {
                let r: f64 = rng.random();
                match r {
                    _ if r < 0.58 => Fmt::OtlpLines,
                    _ if r < 0.70 => Fmt::OtlpPretty,
                    _ if r < 0.84 => Fmt::Jaeger,
                    _ if r < 0.96 && !linked => Fmt::Zipkin,
                    _ if r < 0.96 => Fmt::Jaeger,
                    _ if messy => Fmt::Tempo,
                    _ => Fmt::OtlpLines,
                }
            }
        };
        if fmt == Fmt::OtlpLines && messy && mix == FormatMix::All && rng.random_bool(0.08) {
            if linked || rng.random_bool(0.5) {
                dup_jaeger.push(t);
            } else {
                dup_zipkin.push(t);
            }
        }
        by_fmt[fmt as usize].push(t);
    }
    let mut files = Vec::new();
    for (k, chunk) in by_fmt[Fmt::OtlpLines as usize].chunks(40).enumerate() {
        let style = if messy {
            quirky_style(k)
        } else {
            OtlpStyle::STANDARD
        };
        let mut buf = Vec::new();
        for t in chunk {
            let line = serde_json::json!({ "resourceSpans": resource_spans(t, &style) });
            push_json(&mut buf, &line, false);
            buf.push(b'\n');
        }
        files.push((format!("otlp-lines-{k:03}.jsonl"), buf));
    }
    for (k, chunk) in by_fmt[Fmt::OtlpPretty as usize].chunks(25).enumerate() {
        let style = if messy {
            quirky_style(k + 1)
        } else {
            OtlpStyle::STANDARD
        };
        files.push((
            format!("otlp-{k:03}.json"),
            to_bytes(&document(chunk, &style), true),
        ));
    }
    for (k, chunk) in by_fmt[Fmt::Jaeger as usize].chunks(20).enumerate() {
        files.push((
            format!("jaeger-{k:03}.json"),
            to_bytes(&jaeger_document(chunk), true),
        ));
    }
    for (k, chunk) in by_fmt[Fmt::Zipkin as usize].chunks(30).enumerate() {
        files.push((
            format!("zipkin-{k:03}.json"),
            to_bytes(&zipkin_document(chunk), false),
        ));
    }
    for t in &by_fmt[Fmt::Tempo as usize] {
        let name = format!("tempo-{}.json", hex(&t.trace_id));
        files.push((name, to_bytes(&tempo_document(t), false)));
    }
    if !dup_jaeger.is_empty() {
        files.push((
            "dup-jaeger-000.json".into(),
            to_bytes(&jaeger_document(&dup_jaeger), true),
        ));
    }
    if !dup_zipkin.is_empty() {
        // A flat list of spans, the `/api/v2/trace/{id}` shape, for variety.
        let flat: Vec<Value> = dup_zipkin.iter().flat_map(|t| zipkin_spans(t)).collect();
        files.push((
            "dup-zipkin-000.json".into(),
            to_bytes(&Value::Array(flat), false),
        ));
    }
    (files, (dup_jaeger.len() + dup_zipkin.len()) as u64)
}

/// Quirks of the k-th OTLP file on messy data.
fn quirky_style(k: usize) -> OtlpStyle {
    match k % 4 {
        0 => OtlpStyle::STANDARD,
        1 => OtlpStyle {
            ids: IdStyle::Upper,
            int64_as_string: false,
            ..OtlpStyle::STANDARD
        },
        2 => OtlpStyle {
            enum_names: true,
            legacy: true,
            ..OtlpStyle::STANDARD
        },
        _ => OtlpStyle {
            int64_as_string: false,
            enum_names: true,
            ..OtlpStyle::STANDARD
        },
    }
}

fn push_json(buf: &mut Vec<u8>, v: &Value, pretty: bool) {
    // Serialising a `Value` into a Vec cannot fail: every key is a string and there is
    // no I/O; an empty output would be caught by the parse tests.
    let r = if pretty {
        serde_json::to_writer_pretty(&mut *buf, v)
    } else {
        serde_json::to_writer(&mut *buf, v)
    };
    debug_assert!(r.is_ok());
}

fn to_bytes(v: &Value, pretty: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    push_json(&mut buf, v, pretty);
    buf
}
