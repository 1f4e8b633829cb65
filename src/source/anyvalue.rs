//! Attribute values and their stringification.
//!
//! The span table stores attributes as `map<utf8,utf8>`, so every value is turned into
//! text at decode time: strings as they are, bools `true`/`false`, ints in decimal,
//! doubles with Rust's shortest round-trip formatting (`5e9` prints `5000000000`),
//! arrays and key-value lists as compact JSON, bytes as base64. This module holds the
//! one [`AnyVal`] tree that OTLP/JSON, OTLP protobuf and plain JSON values (Jaeger tags,
//! Python SDK attributes) are converted into before being stringified.

use super::flex::{Flex, Key};
use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1 as pb;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
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

/// Converts one typed OTLP/JSON value field into an [`AnyVal`], accepting the
/// type quirks of real emitters (ints and doubles as strings, bools as strings).
fn typed(kind: &str, v: Flex) -> AnyVal {
    match kind {
        "stringValue" | "string_value" => match v {
            Flex::Str(s) => AnyVal::Str(s),
            other => flex_to_anyval(other),
        },
        "boolValue" | "bool_value" => v.as_bool().map_or_else(|| flex_to_anyval(v), AnyVal::Bool),
        "intValue" | "int_value" => match v.as_i64() {
            Some(i) => AnyVal::Int(i),
            None => flex_to_anyval(v),
        },
        "doubleValue" | "double_value" => match &v {
            // Protobuf JSON spells non-finite doubles as strings.
            Flex::Str(s) if s == "NaN" => AnyVal::Double(f64::NAN),
            Flex::Str(s) if s == "Infinity" => AnyVal::Double(f64::INFINITY),
            Flex::Str(s) if s == "-Infinity" => AnyVal::Double(f64::NEG_INFINITY),
            _ => v.as_f64().map_or_else(|| flex_to_anyval(v), AnyVal::Double),
        },
        "bytesValue" | "bytes_value" => match v {
            Flex::Str(s) => AnyVal::Bytes(s),
            other => flex_to_anyval(other),
        },
        _ => AnyVal::Empty,
    }
}

fn flex_to_anyval(v: Flex) -> AnyVal {
    match v {
        Flex::Null | Flex::Nested => AnyVal::Empty,
        Flex::Str(s) => AnyVal::Str(s),
        Flex::Bool(b) => AnyVal::Bool(b),
        Flex::Int(i) => AnyVal::Int(i),
        Flex::UInt(u) => AnyVal::Str(u.to_string()),
        Flex::Float(f) => AnyVal::Double(f),
    }
}

/// OTLP/JSON `AnyValue`: `{"stringValue": …}` and friends.
impl<'de> Deserialize<'de> for AnyVal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyValVisitor)
    }
}

struct AnyValVisitor;

impl<'de> Visitor<'de> for AnyValVisitor {
    type Value = AnyVal;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OTLP AnyValue object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyVal, A::Error> {
        let mut out = AnyVal::Empty;
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match key.as_str() {
                k @ ("stringValue" | "string_value" | "boolValue" | "bool_value" | "intValue"
                | "int_value" | "doubleValue" | "double_value" | "bytesValue"
                | "bytes_value") => {
                    let kind = k.to_owned();
                    out = typed(&kind, map.next_value::<Flex>()?);
                }
                "arrayValue" | "array_value" => {
                    out = AnyVal::Array(map.next_value::<Values<AnyVal>>()?.0);
                }
                "kvlistValue" | "kvlist_value" => {
                    out = AnyVal::KvList(
                        map.next_value::<Values<KeyValue>>()?
                            .0
                            .into_iter()
                            .map(|kv| (kv.key, kv.value))
                            .collect(),
                    );
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
    // Tolerate emitters that put a bare scalar where an AnyValue object belongs.
    fn visit_bool<E>(self, v: bool) -> Result<AnyVal, E> {
        Ok(AnyVal::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<AnyVal, E> {
        Ok(AnyVal::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<AnyVal, E> {
        Ok(flex_to_anyval(Flex::UInt(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<AnyVal, E> {
        Ok(AnyVal::Double(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<AnyVal, E> {
        Ok(AnyVal::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<AnyVal, E> {
        Ok(AnyVal::Str(v))
    }
    fn visit_unit<E>(self) -> Result<AnyVal, E> {
        Ok(AnyVal::Empty)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnyVal, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(AnyVal::Empty)
    }
}

/// `{"values": [...]}` of ArrayValue / KeyValueList.
struct Values<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Values<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Values<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object with `values`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Values<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(Key(key)) = map.next_key::<Key>()? {
                    if key.as_str() == "values" {
                        out = map.next_value::<Lenient<Vec<T>>>()?.0.unwrap_or_default();
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Values(out))
            }
            super::flex::ignore_non_objects!(Values(Vec::new()));
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A list whose wrong-typed form (null, a string…) counts as absent instead of an error.
pub struct Lenient<T>(pub Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<Vec<T>> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Lenient<Vec<T>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<T>()? {
                    out.push(item);
                }
                Ok(Lenient(Some(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Lenient(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// One OTLP/JSON `KeyValue`. Elements that are not objects decode to an empty key
/// and are dropped by [`Attributes`].
#[derive(Debug, Default)]
pub struct KeyValue {
    pub key: String,
    pub value: AnyVal,
}

impl<'de> Deserialize<'de> for KeyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a KeyValue object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyValue, A::Error> {
                let mut kv = KeyValue::default();
                while let Some(Key(key)) = map.next_key::<Key>()? {
                    match key.as_str() {
                        "key" => {
                            kv.key = map.next_value::<Flex>()?.into_string().unwrap_or_default()
                        }
                        "value" => kv.value = map.next_value::<AnyVal>()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(kv)
            }
            super::flex::ignore_non_objects!(KeyValue::default());
        }
        d.deserialize_any(V)
    }
}

/// A stringified OTLP/JSON attribute list.
#[derive(Debug, Default)]
pub struct Attributes(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Lenient::<Vec<KeyValue>>::deserialize(d)?
            .0
            .unwrap_or_default();
        Ok(Attributes(
            list.into_iter()
                .filter(|kv| !kv.key.is_empty())
                .map(|kv| (kv.key, kv.value.into_text()))
                .collect(),
        ))
    }
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

    fn text(json: &str) -> String {
        serde_json::from_str::<AnyVal>(json).unwrap().into_text()
    }

    #[test]
    fn scalars() {
        assert_eq!(text(r#"{"stringValue":"x"}"#), "x");
        assert_eq!(text(r#"{"boolValue":true}"#), "true");
        assert_eq!(text(r#"{"boolValue":"false"}"#), "false");
        assert_eq!(text(r#"{"intValue":"14460881260"}"#), "14460881260");
        assert_eq!(text(r#"{"intValue":346}"#), "346");
        assert_eq!(text(r#"{"doubleValue":0.019}"#), "0.019");
        assert_eq!(text(r#"{"doubleValue":"5e+09"}"#), "5000000000");
        assert_eq!(text(r#"{"doubleValue":5e9}"#), "5000000000");
        assert_eq!(text(r#"{"doubleValue":"NaN"}"#), "NaN");
        assert_eq!(text(r#"{"bytesValue":"AAAwOQ=="}"#), "AAAwOQ==");
        assert_eq!(text(r#"{}"#), "");
        assert_eq!(text(r#"{"unknown":1,"stringValue":"y"}"#), "y");
    }

    #[test]
    fn nested_values_are_compact_json() {
        assert_eq!(
            text(
                r#"{"arrayValue":{"values":[{"stringValue":"ubuntu-latest"},{"intValue":"3"},{"doubleValue":1.5},{"boolValue":false}]}}"#
            ),
            r#"["ubuntu-latest",3,1.5,false]"#
        );
        assert_eq!(
            text(
                r#"{"kvlistValue":{"values":[{"key":"a","value":{"stringValue":"q\"x"}},{"key":"b","value":{"arrayValue":{}}}]}}"#
            ),
            r#"{"a":"q\"x","b":[]}"#
        );
    }

    #[test]
    fn attribute_lists_tolerate_junk() {
        let attrs: Attributes = serde_json::from_str(
            r#"[{"key":"a","value":{"intValue":1}}, 5, {"value":{"stringValue":"nokey"}}, {"key":"b"}]"#,
        )
        .unwrap();
        assert_eq!(
            attrs.0,
            vec![("a".into(), "1".into()), ("b".into(), "".into())]
        );
        let attrs: Attributes = serde_json::from_str(r#"{"a": 1}"#).unwrap();
        assert!(attrs.0.is_empty());
    }

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
