#![no_main]
//! Fuzzes what the receiver does with a request body before acknowledging it: gzip
//! inflation under its limit, the strict check of each kind (the first byte picks the
//! kind and whether the body is gzipped), then the decoding the compactor does, which
//! must decode every span the check counted.

use libfuzzer_sys::fuzz_target;
use pipescope::receive::body::{check, decode, gunzip};
use pipescope::source::{BodyKind, VecSink};

/// The inflation limit: small, so that a gzip bomb is refused quickly.
const LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, raw)) = data.split_first() else {
        return;
    };
    let kind = match pick % 4 {
        0 => BodyKind::OtlpProto,
        1 => BodyKind::OtlpJson,
        2 => BodyKind::Jaeger,
        _ => BodyKind::Zipkin,
    };
    let body = if pick & 0x80 != 0 {
        match gunzip(raw, LIMIT) {
            Ok(body) => {
                assert!(body.len() <= LIMIT, "inflated past the limit");
                body
            }
            Err(_) => return,
        }
    } else {
        raw.to_vec()
    };
    if let Ok(checked) = check(kind, &body) {
        let mut sink = VecSink::default();
        decode(kind, &body, "fuzz", &mut sink).expect("a body the check accepted decodes");
        assert_eq!(
            sink.spans.len() as u64,
            checked.accepted,
            "the compactor decodes every span the check counted"
        );
        pipescope_fuzz::normalize(sink.spans);
    }
});
