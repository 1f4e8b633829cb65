//! Format detection from the first bytes of an input.
//!
//! JSON formats are told apart by the first distinctive object key in the prefix
//! (`resourceSpans` → OTLP, `traceID`/`operationName` → Jaeger, `localEndpoint` →
//! Zipkin, `trace_id` inside `context` → Python SDK, …): the outermost keys come first,
//! so the first hit names the envelope. Binary input is OTLP protobuf when it starts
//! like a Collector file-exporter frame. XML is a JUnit report when its root element
//! is `<testsuites>`, `<testsuite>` or `<testcase>`, after any XML declaration,
//! comments, processing instructions and doctype. Anything else (YAML, the JS console
//! dump of otel-cicd-action, other XML) is not a trace format.

use super::Format;

/// Sniffs the format from the first bytes of the (already decompressed) input;
/// `None` means "not a recognised trace format".
pub fn detect(prefix: &[u8]) -> Option<Format> {
    let body = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| (body[i], &body[i..])) {
        Some((b'{' | b'[', json)) => detect_json(json),
        Some((b'<', xml)) if is_junit(xml) => Some(Format::Junit),
        _ if is_proto_frame(prefix) || is_proto_message(prefix) => Some(Format::OtlpProto),
        _ => None,
    }
}

fn detect_json(json: &[u8]) -> Option<Format> {
    // Real JSON: after the opening brackets comes a quoted key, a value, or a close.
    // This rejects JavaScript object dumps with unquoted keys.
    let first = json.iter().skip(1).find(|b| !b.is_ascii_whitespace());
    match (json[0], first) {
        (b'{', Some(b'"' | b'}')) | (b'[', Some(b'{' | b'[' | b']')) | (_, None) => {}
        _ => return None,
    }
    let top_is_array = json[0] == b'[';
    keys(json).find_map(|key| format_of_key(key, top_is_array))
}

fn format_of_key(key: &[u8], top_is_array: bool) -> Option<Format> {
    Some(match key {
        b"resourceSpans"
        | b"resource_spans"
        | b"batches"
        | b"scopeSpans"
        | b"scope_spans"
        | b"instrumentationLibrarySpans"
        | b"startTimeUnixNano"
        | b"result"
        | b"summaries" => Format::OtlpJson,
        // Tempo v2 `{"trace":{…}}`; Zipkin and Jaeger have no `trace` key.
        b"trace" if !top_is_array => Format::OtlpJson,
        b"traceID" | b"spanID" | b"operationName" | b"processes" | b"processID" | b"references"
        | b"data" => Format::Jaeger,
        b"localEndpoint" | b"remoteEndpoint" | b"parentId" | b"annotations" => Format::Zipkin,
        // OTLP's `traceId` always follows `resourceSpans`; a bare list of spans with
        // camelCase `traceId` is Zipkin.
        b"traceId" if top_is_array => Format::Zipkin,
        b"trace_id" | b"parent_id" | b"start_time" | b"status_code" => Format::PythonSdk,
        _ => return None,
    })
}

/// Whether XML starts with a JUnit root element. Declarations, comments, processing
/// instructions and a doctype before it are stepped over; a prefix that ends inside
/// them is not a report (the prefix holds the first 64 KiB).
fn is_junit(mut xml: &[u8]) -> bool {
    loop {
        xml = xml.trim_ascii_start();
        let skip_to = |end: &[u8]| {
            xml.windows(end.len())
                .position(|w| w == end)
                .map(|i| i + end.len())
        };
        let skipped = if xml.starts_with(b"<?") {
            skip_to(b"?>")
        } else if xml.starts_with(b"<!--") {
            skip_to(b"-->")
        } else if xml.starts_with(b"<!") {
            // A doctype; an internal subset with `>` inside is rare enough in reports.
            skip_to(b">")
        } else {
            break;
        };
        match skipped {
            Some(n) => xml = &xml[n..],
            None => return false,
        }
    }
    [&b"<testsuites"[..], b"<testsuite", b"<testcase"]
        .iter()
        .any(|root| {
            xml.strip_prefix(*root).is_some_and(|rest| {
                matches!(
                    rest.first(),
                    Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
                )
            })
        })
}

/// Iterates over the object keys (strings followed by `:`) in a JSON prefix.
fn keys(json: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < json.len() {
            if json[i] != b'"' {
                i += 1;
                continue;
            }
            let start = i + 1;
            let mut j = start;
            while j < json.len() && json[j] != b'"' {
                j += if json[j] == b'\\' { 2 } else { 1 };
            }
            if j >= json.len() {
                return None;
            }
            let s = &json[start..j];
            i = j + 1;
            let after = json[i..].iter().find(|b| !b.is_ascii_whitespace());
            if after == Some(&b':') {
                return Some(s);
            }
        }
        None
    })
}

/// A Collector file-exporter frame: 4-byte big-endian length, then a TracesData
/// message whose first field is `resource_spans` (field 1, length-delimited: 0x0A)
/// with a length that fits in the frame.
fn is_proto_frame(prefix: &[u8]) -> bool {
    if prefix.len() < 6 || prefix[4] != 0x0A {
        return false;
    }
    let frame = u64::from(u32::from_be_bytes([
        prefix[0], prefix[1], prefix[2], prefix[3],
    ]));
    let mut inner: u64 = 0;
    for (n, &b) in prefix[5..].iter().take(10).enumerate() {
        inner |= u64::from(b & 0x7f) << (7 * n);
        if b & 0x80 == 0 {
            let header = 1 + n as u64 + 1;
            return frame >= 2 && inner + header <= frame;
        }
    }
    false
}

/// One unframed OTLP message (a saved OTLP/HTTP body): the `resource_spans` tag, a
/// varint length, then a `ResourceSpans` whose first field is `resource` (0x0A) or
/// `scope_spans` (0x12).
fn is_proto_message(prefix: &[u8]) -> bool {
    if prefix.first() != Some(&0x0A) {
        return false;
    }
    let varint = prefix[1..].iter().take(10).position(|b| b & 0x80 == 0);
    varint.is_some_and(|n| matches!(prefix.get(2 + n), Some(0x0A | 0x12)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_formats() {
        assert_eq!(detect(br#"{"resourceSpans":[]}"#), Some(Format::OtlpJson));
        assert_eq!(
            detect(b"\n  {\n \"result\": {\"resourceSpans\""),
            Some(Format::OtlpJson)
        );
        assert_eq!(
            detect(br#"{"batches":[{"resource":{}}]}"#),
            Some(Format::OtlpJson)
        );
        assert_eq!(
            detect(br#"{"trace":{"resourceSpans":[]}}"#),
            Some(Format::OtlpJson)
        );
        assert_eq!(
            detect(br#"{"data":[{"traceID":"1"}]}"#),
            Some(Format::Jaeger)
        );
        assert_eq!(
            detect(br#"[{"traceID":"ab","spanID":"1"}]"#),
            Some(Format::Jaeger)
        );
        assert_eq!(
            detect(br#"[[{"traceId":"ab","id":"1"}]]"#),
            Some(Format::Zipkin)
        );
        assert_eq!(
            detect(br#"[{"traceId":"ab","id":"1"}]"#),
            Some(Format::Zipkin)
        );
        assert_eq!(
            detect(br#"[{"name": "x", "context": {"trace_id": "0x1"}}]"#),
            Some(Format::PythonSdk)
        );
        assert_eq!(
            detect(br#"{"name":"a \"traceID\": x","context":{"trace_id":"0x1"}}"#),
            Some(Format::PythonSdk)
        );
    }

    #[test]
    fn not_traces() {
        assert_eq!(detect(b"resourceSpans:\n  - resource:\n"), None);
        assert_eq!(detect(b"{\n  resource: {\n    attributes: {"), None);
        assert_eq!(detect(b"[]"), None);
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"hello world"), None);
        assert_eq!(detect(br#"{"foo": 1}"#), None);
    }

    #[test]
    fn junit_reports_by_their_root_element() {
        for xml in [
            &b"<testsuites><testsuite name=\"a\"/></testsuites>"[..],
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"pytest\" tests=\"1\">",
            b"\xEF\xBB\xBF<?xml version=\"1.0\"?><testsuites>",
            b"\r\n  <!-- generated by gotestsum -->\n<!-- two comments -->\n<testsuites\n  tests=\"3\">",
            b"<?xml version='1.0'?>\n<!DOCTYPE testsuite>\n<?xml-stylesheet href=\"x.xsl\"?><testsuite/>",
            b"<testcase name=\"lonely\"/>",
            b"<testsuite\ttests=\"0\"/>",
        ] {
            assert_eq!(
                detect(xml),
                Some(Format::Junit),
                "{}",
                String::from_utf8_lossy(xml)
            );
        }
    }

    #[test]
    fn other_xml_is_not_a_report() {
        for xml in [
            &b"<?xml version=\"1.0\"?><project><testsuite/></project>"[..],
            b"<html><body>testsuite</body></html>",
            b"<testsuitesfoo>",
            b"<?xml version=\"1.0\"?>",
            b"<!-- a comment that never ends <testsuite>",
            b"<checkstyle version=\"8.0\">",
        ] {
            assert_eq!(detect(xml), None, "{}", String::from_utf8_lossy(xml));
        }
    }

    #[test]
    fn proto_frames() {
        assert_eq!(
            detect(&[0, 0, 0, 4, 0x0A, 2, 0x12, 0]),
            Some(Format::OtlpProto)
        );
        // Inner length larger than the frame.
        assert_eq!(detect(&[0, 0, 0, 4, 0x0A, 9, 0x12, 0]), None);
        assert_eq!(detect(&[0, 0, 0, 4, 0x12, 2, 0x12, 0]), None);
    }
}
