#![no_main]
//! Fuzzes the jaeger decoder and the normaliser behind it.

use libfuzzer_sys::fuzz_target;
use pipescope::source::Format;

fuzz_target!(|data: &[u8]| pipescope_fuzz::decode_as(Format::Jaeger, data));
