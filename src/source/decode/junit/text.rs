//! Text taken from a report: attribute values with entities resolved, entity
//! references in element text, and the cap that keeps a hostile report's strings
//! (megabyte stack traces, test names) bounded.

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart};

/// Longest text kept from a message, a stack trace or an attribute; the rest is cut.
pub const MAX_TEXT: usize = 16 * 1024;
/// Appended to text that was cut at [`MAX_TEXT`].
pub const TRUNCATED: &str = "\n… (truncated)";

/// Every attribute (entities resolved, values cut at [`MAX_TEXT`]), and the first
/// malformed one's error.
pub fn attributes(e: &BytesStart<'_>) -> (Vec<(String, String)>, Option<String>) {
    let mut out = Vec::new();
    let mut attrs = e.attributes();
    // Duplicate attributes are ill-formed, but taking the first is more useful than
    // dropping the element.
    attrs.with_checks(false);
    for attr in attrs {
        match attr {
            Ok(a) => {
                let key = a.key.local_name().into_inner().to_owned();
                if out.iter().any(|(k, _): &(String, String)| *k == key) {
                    continue;
                }
                let value = a
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map(|v| v.into_owned())
                    .unwrap_or_else(|_| a.value.clone().into_owned());
                let mut capped = String::new();
                push_capped(&mut capped, &value);
                out.push((key, capped));
            }
            Err(err) => return (out, Some(err.to_string())),
        }
    }
    (out, None)
}

/// The text an entity or character reference stands for; unknown entities (a
/// report has no DTD to define them) keep their raw spelling.
pub fn resolve_ref(r: &BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    let name: &str = r;
    match resolve_predefined_entity(name) {
        Some(s) => s.to_owned(),
        None => format!("&{name};"),
    }
}

/// Appends up to [`MAX_TEXT`] bytes in all, cutting at a char boundary and marking the
/// cut once.
pub fn push_capped(out: &mut String, text: &str) {
    if out.len() > MAX_TEXT {
        return; // already cut and marked
    }
    let room = MAX_TEXT - out.len();
    if text.len() <= room {
        out.push_str(text);
        return;
    }
    let mut cut = room;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    out.push_str(&text[..cut]);
    out.push_str(TRUNCATED);
}
