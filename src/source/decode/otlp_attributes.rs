//! OTLP/JSON attribute values: `{"stringValue": …}` and friends, KeyValue lists and
//! the lenient list wrapper, deserialized straight into [`AnyVal`] without building a
//! `serde_json::Value`. Wrong types never abort the stream: an int given as a string
//! is read as an int, a list that is not a list counts as absent.

use super::anyvalue::AnyVal;
use super::flex::{Flex, Key};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

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
            crate::source::decode::flex::ignore_non_objects!(Values(Vec::new()));
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
            crate::source::decode::flex::ignore_non_objects!(KeyValue::default());
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
}
