//! Trace and span id normalisation shared by every decoder.
//!
//! The span table keys spans by lowercase hex ids: trace ids are 32 digits, span ids
//! 16. Emitters disagree on the spelling: OTLP/JSON examples use upper case, Jaeger
//! writes 16-digit trace ids, Tempo strips leading zeros or sends base64, the Python
//! SDK prefixes `0x`. Everything funnels through [`trace_id`], [`span_id`] and
//! [`parent_id`] here so that the rules live in one place.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// Hex digits of a trace id.
pub const TRACE_HEX_LEN: usize = 32;
/// Hex digits of a span id.
pub const SPAN_HEX_LEN: usize = 16;

/// Normalises a trace id to 32 lowercase hex digits.
pub fn trace_id(raw: &str) -> Result<String, String> {
    normalise(raw, TRACE_HEX_LEN, "trace id")
}

/// Normalises a span id to 16 lowercase hex digits.
pub fn span_id(raw: &str) -> Result<String, String> {
    normalise(raw, SPAN_HEX_LEN, "span id")
}

/// Normalises a parent span id; empty and all-zero ids mean "no parent".
pub fn parent_id(raw: &str) -> Result<Option<String>, String> {
    let trimmed = strip_0x(raw.trim());
    if trimmed.is_empty() || trimmed.bytes().all(|b| b == b'0') {
        return Ok(None);
    }
    let id = to_canonical(raw, SPAN_HEX_LEN, "parent span id")?;
    Ok((!is_zero(&id)).then_some(id))
}

/// Normalises the trace id of a link; links keep whatever the emitter gave,
/// including an empty id (the Collector GitHub receiver links with an empty span id).
pub fn link_id(raw: &str, hex_len: usize) -> Result<String, String> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    normalise(raw, hex_len, "link id")
}

/// Hex-encodes id bytes from protobuf, where the length is fixed by the spec.
pub fn from_bytes(bytes: &[u8], hex_len: usize, what: &str) -> Result<String, String> {
    if bytes.len() * 2 != hex_len {
        return Err(format!(
            "{what} has {} bytes, expected {}",
            bytes.len(),
            hex_len / 2
        ));
    }
    let hex = to_hex(bytes);
    if is_zero(&hex) {
        return Err(format!("{what} is all zeros"));
    }
    Ok(hex)
}

/// Lowercase hex of arbitrary bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

fn strip_0x(s: &str) -> &str {
    s.strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s)
}

fn is_zero(hex: &str) -> bool {
    hex.bytes().all(|b| b == b'0')
}

fn normalise(raw: &str, hex_len: usize, what: &str) -> Result<String, String> {
    let id = to_canonical(raw, hex_len, what)?;
    if is_zero(&id) {
        return Err(format!("{what} is all zeros"));
    }
    Ok(id)
}

/// Lowercase hex of the right length, zeros allowed.
fn to_canonical(raw: &str, hex_len: usize, what: &str) -> Result<String, String> {
    let s = strip_0x(raw.trim());
    if s.is_empty() {
        return Err(format!("{what} is empty"));
    }
    // Hex of a plausible length wins over base64: a short all-hex string is far more
    // likely a zero-stripped hex id than base64 of the wrong length.
    let id = if s.len() <= hex_len && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut out = String::with_capacity(hex_len);
        out.extend(std::iter::repeat_n('0', hex_len - s.len()));
        out.extend(s.chars().map(|c| c.to_ascii_lowercase()));
        out
    } else if let Some(bytes) =
        // Base64 ids start with "0x" one time in 4096: then the prefix is data.
        base64_bytes(s, hex_len / 2).or_else(|| base64_bytes(raw.trim(), hex_len / 2))
    {
        to_hex(&bytes)
    } else {
        return Err(format!(
            "{what} {raw:?} is neither hex of at most {hex_len} digits nor base64 of {} bytes",
            hex_len / 2
        ));
    };
    Ok(id)
}

fn base64_bytes(s: &str, want: usize) -> Option<Vec<u8>> {
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .iter()
        .filter_map(|engine| engine.decode(s).ok())
        .find(|bytes| bytes.len() == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_any_case_is_lowercased() {
        assert_eq!(
            trace_id("5B8EFFF798038103D269B633813FC60C").unwrap(),
            "5b8efff798038103d269b633813fc60c"
        );
        assert_eq!(span_id("EEE19B7EC3C1B174").unwrap(), "eee19b7ec3c1b174");
    }

    #[test]
    fn short_ids_are_left_padded() {
        assert_eq!(
            trace_id("2be38093ead7a083").unwrap(),
            "00000000000000002be38093ead7a083"
        );
        assert_eq!(trace_id("11").unwrap(), "00000000000000000000000000000011");
        assert_eq!(span_id("2").unwrap(), "0000000000000002");
    }

    #[test]
    fn prefixed_0x_ids() {
        assert_eq!(
            trace_id("0x19a86ab6bf61b5207e5d17cff06ea860").unwrap(),
            "19a86ab6bf61b5207e5d17cff06ea860"
        );
        assert_eq!(span_id("0x0fdee24d13b761ed").unwrap(), "0fdee24d13b761ed");
    }

    #[test]
    fn base64_ids() {
        // Tempo: 16 bytes 0x01..0x10 and 8 bytes 0x01..0x08.
        assert_eq!(
            trace_id("AQIDBAUGBwgJCgsMDQ4PEA==").unwrap(),
            "0102030405060708090a0b0c0d0e0f10"
        );
        assert_eq!(span_id("AQIDBAUGBwg=").unwrap(), "0102030405060708");
        assert_eq!(span_id("AQIDBAUGBwg").unwrap(), "0102030405060708");
    }

    #[test]
    fn base64_ids_that_start_like_a_hex_prefix() {
        // 8 bytes whose base64 begins with "0x" (Tempo writes such ids).
        assert_eq!(span_id("0x+iWFlrPp4=").unwrap(), "d31fa258596b3e9e");
    }

    #[test]
    fn unusable_ids_are_errors() {
        assert!(trace_id("").is_err());
        assert!(trace_id("00000000000000000000000000000000").is_err());
        assert!(span_id("0123456789abcdef0").is_err());
        assert!(span_id("not an id!").is_err());
        let msg = trace_id("zz").unwrap_err();
        assert!(msg.contains("trace id \"zz\""), "{msg}");
    }

    #[test]
    fn parents() {
        assert_eq!(parent_id("").unwrap(), None);
        assert_eq!(parent_id("0000000000000000").unwrap(), None);
        assert_eq!(parent_id("0x").unwrap(), None);
        assert_eq!(
            parent_id("EEE19B7EC3C1B173").unwrap().as_deref(),
            Some("eee19b7ec3c1b173")
        );
        assert!(parent_id("xyz").is_err());
        assert_eq!(parent_id("AAAAAAAAAAA=").unwrap(), None);
    }

    #[test]
    fn links_keep_empty_ids() {
        assert_eq!(link_id("", 16).unwrap(), "");
        assert_eq!(link_id("AB", 16).unwrap(), "00000000000000ab");
    }

    #[test]
    fn proto_bytes() {
        assert_eq!(
            from_bytes(&[0xab; 8], 16, "span id").unwrap(),
            "abababababababab"
        );
        assert!(from_bytes(&[1; 7], 16, "span id").is_err());
        assert!(from_bytes(&[0; 8], 16, "span id").is_err());
    }
}
