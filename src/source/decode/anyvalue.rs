//! Attribute values and their stringification (OTLP/JSON parsing of values lives in
//! `otlp_attributes`).
//!
//! The span table stores attributes as `map<utf8,utf8>`, so every value is turned into
//! text at decode time: strings as they are, bools `true`/`false`, ints in decimal,
//! doubles with Rust's shortest round-trip formatting (`5e9` prints `5000000000`),
//! arrays and key-value lists as compact JSON, bytes as base64. This module holds the
//! one [`AnyVal`] tree that OTLP/JSON, OTLP protobuf and plain JSON values (Jaeger tags,
//! Python SDK attributes) are converted into before being stringified.

use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1 as pb;
use std::fmt::Write as _;

/// An attribute value of any OTLP type.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AnyVal {
    #[default]
    Empty,
    Str(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    /// Already base64-encoded (that is how OTLP/JSON carries bytes).
    Bytes(String),
    Array(Vec<AnyVal>),
    KvList(Vec<(String, AnyVal)>),
}

impl AnyVal {
    /// The stored text of this value.
    pub fn into_text(self) -> String {
        match self {
            AnyVal::Empty => String::new(),
            AnyVal::Str(s) | AnyVal::Bytes(s) => s,
            AnyVal::Bool(b) => b.to_string(),
            AnyVal::Int(i) => i.to_string(),
            AnyVal::Double(f) => format_double(f),
            nested => {
                let mut out = String::new();
                nested.write_json(&mut out);
                out
            }
        }
    }

    fn write_json(&self, out: &mut String) {
        match self {
            AnyVal::Empty => out.push_str("null"),
            AnyVal::Str(s) | AnyVal::Bytes(s) => write_json_str(out, s),
            AnyVal::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            AnyVal::Int(i) => {
                let _ = write!(out, "{i}");
            }
            // JSON has no NaN or infinity: those become strings.
            AnyVal::Double(f) if f.is_finite() => out.push_str(&format_double(*f)),
            AnyVal::Double(f) => write_json_str(out, &format_double(*f)),
            AnyVal::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            AnyVal::KvList(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_str(out, k);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }

    /// Converts a protobuf AnyValue.
    pub fn from_proto(value: Option<pb::AnyValue>) -> AnyVal {
        use pb::any_value::Value;
        match value.and_then(|v| v.value) {
            None => AnyVal::Empty,
            Some(Value::StringValue(s)) => AnyVal::Str(s),
            Some(Value::BoolValue(b)) => AnyVal::Bool(b),
            Some(Value::IntValue(i)) => AnyVal::Int(i),
            Some(Value::DoubleValue(f)) => AnyVal::Double(f),
            Some(Value::BytesValue(b)) => {
                AnyVal::Bytes(base64::engine::general_purpose::STANDARD.encode(b))
            }
            Some(Value::ArrayValue(a)) => AnyVal::Array(
                a.values
                    .into_iter()
                    .map(|v| AnyVal::from_proto(Some(v)))
                    .collect(),
            ),
            Some(Value::KvlistValue(kv)) => AnyVal::KvList(
                kv.values
                    .into_iter()
                    .map(|kv| (kv.key, AnyVal::from_proto(kv.value)))
                    .collect(),
            ),
        }
    }

    /// Converts a plain JSON value (Jaeger tag values, Python SDK attributes).
    pub fn from_json(value: serde_json::Value) -> AnyVal {
        use serde_json::Value;
        match value {
            Value::Null => AnyVal::Empty,
            Value::Bool(b) => AnyVal::Bool(b),
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => AnyVal::Int(i),
                // u64 beyond i64: keep the exact digits rather than a rounded double.
                _ if n.is_u64() => AnyVal::Str(n.to_string()),
                (None, Some(f)) => AnyVal::Double(f),
                (None, None) => AnyVal::Str(n.to_string()),
            },
            Value::String(s) => AnyVal::Str(s),
            Value::Array(items) => {
                AnyVal::Array(items.into_iter().map(AnyVal::from_json).collect())
            }
            Value::Object(map) => AnyVal::KvList(
                map.into_iter()
                    .map(|(k, v)| (k, AnyVal::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// Rust's shortest round-trip formatting; integral doubles print without `.0`.
pub fn format_double(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        format!("{f}")
    }
}

fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Stringified protobuf attributes.
pub fn proto_attributes(list: Vec<pb::KeyValue>) -> Vec<(String, String)> {
    list.into_iter()
        .map(|kv| (kv.key, AnyVal::from_proto(kv.value).into_text()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_values() {
        use pb::any_value::Value;
        let v = pb::AnyValue {
            value: Some(Value::BytesValue(vec![0, 0, 48, 57])),
        };
        assert_eq!(AnyVal::from_proto(Some(v)).into_text(), "AAAwOQ==");
        let v = pb::AnyValue {
            value: Some(Value::DoubleValue(72.0)),
        };
        assert_eq!(AnyVal::from_proto(Some(v)).into_text(), "72");
    }

    #[test]
    fn plain_json_values() {
        let v: serde_json::Value = serde_json::json!({"a": [1, 2.5, "x", null], "b": true});
        assert_eq!(
            AnyVal::from_json(v).into_text(),
            r#"{"a":[1,2.5,"x",null],"b":true}"#
        );
        assert_eq!(
            AnyVal::from_json(serde_json::json!(18446744073709551615u64)).into_text(),
            "18446744073709551615"
        );
    }
}
