//! A lenient JSON scalar: whatever type a field turned out to have.
//!
//! Emitters disagree on JSON types (int64 as strings or numbers, enums as names or
//! ints, `doubleValue` as a string). Decoding every scalar field through [`Flex`]
//! means a wrong type never aborts the stream; the decoder decides afterwards whether
//! the value is usable and reports a problem for that one span if not.

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Any JSON value, with objects and arrays skipped rather than built.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Flex {
    #[default]
    Null,
    Str(String),
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    /// An object or array (its content was skipped).
    Nested,
}

impl Flex {
    /// The value as a string, taking ownership; numbers and bools are not converted.
    pub fn into_string(self) -> Option<String> {
        match self {
            Flex::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An integer given as a JSON number or a decimal string (int64 in OTLP/JSON).
    /// Integral floats (`1.5e18` from JavaScript emitters) are accepted when exact.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Flex::Int(i) => Some(*i),
            Flex::UInt(u) => i64::try_from(*u).ok(),
            Flex::Float(f) => float_to_i64(*f),
            Flex::Str(s) => {
                let s = s.trim();
                s.parse::<i64>()
                    .ok()
                    .or_else(|| s.parse::<f64>().ok().and_then(float_to_i64))
            }
            _ => None,
        }
    }

    /// A float given as a JSON number or a string (`"5e+09"`, `"NaN"`).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Flex::Int(i) => Some(*i as f64),
            Flex::UInt(u) => Some(*u as f64),
            Flex::Float(f) => Some(*f),
            Flex::Str(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
    }

    /// A bool given as a JSON bool or the strings `true`/`false` (any case).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Flex::Bool(b) => Some(*b),
            Flex::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Flex::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// Short description of the JSON type, for problem messages.
    pub fn describe(&self) -> String {
        match self {
            Flex::Null => "null".into(),
            Flex::Str(s) if s.len() > 40 => format!("string {:?}…", truncate(s, 40)),
            Flex::Str(s) => format!("string {s:?}"),
            Flex::Bool(b) => format!("bool {b}"),
            Flex::Int(i) => format!("number {i}"),
            Flex::UInt(u) => format!("number {u}"),
            Flex::Float(f) => format!("number {f}"),
            Flex::Nested => "an object or array".into(),
        }
    }
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn float_to_i64(f: f64) -> Option<i64> {
    // The range check keeps `as` from saturating silently.
    if f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

impl<'de> Deserialize<'de> for Flex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FlexVisitor)
    }
}

struct FlexVisitor;

impl<'de> Visitor<'de> for FlexVisitor {
    type Value = Flex;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Flex, E> {
        Ok(Flex::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Flex, E> {
        Ok(Flex::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Flex, E> {
        Ok(Flex::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Flex, E> {
        Ok(Flex::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Flex, E> {
        Ok(Flex::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Flex, E> {
        Ok(Flex::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Flex, E> {
        Ok(Flex::Null)
    }
    fn visit_none<E>(self) -> Result<Flex, E> {
        Ok(Flex::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Flex, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Flex, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Flex::Nested)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Flex, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Flex::Nested)
    }
}

/// A map key read without allocating when it is borrowed from the input.
/// serde_json's reader-based deserializer hands keys over as transient `&str`, so the
/// key is copied into a small inline buffer only when it is one we care about.
pub struct Key(pub KeyBuf);

/// Up to 48 bytes of a key; longer keys are never field names we match.
pub struct KeyBuf {
    len: usize,
    bytes: [u8; 48],
}

impl KeyBuf {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                let mut buf = KeyBuf {
                    len: 0,
                    bytes: [0; 48],
                };
                if v.len() <= buf.bytes.len() {
                    buf.bytes[..v.len()].copy_from_slice(v.as_bytes());
                    buf.len = v.len();
                }
                Ok(Key(buf))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Visitor methods that turn every non-object JSON value into `$default`, consuming
/// arrays. Used by the lenient OTLP/JSON visitors: a wrong-typed nested item becomes
/// "absent" instead of aborting the stream.
macro_rules! ignore_non_objects {
    ($default:expr) => {
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok($default)
        }
        $crate::source::decode::flex::ignore_scalars!($default);
    };
}
pub(crate) use ignore_non_objects;

/// Visitor methods that turn every JSON scalar into `$default` (for list visitors).
macro_rules! ignore_scalars {
    ($default:expr) => {
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($default)
        }
    };
}
pub(crate) use ignore_scalars;

#[cfg(test)]
mod tests {
    use super::*;

    fn flex(json: &str) -> Flex {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn int64_as_string_or_number() {
        assert_eq!(
            flex("\"1544712660000000000\"").as_i64(),
            Some(1544712660000000000)
        );
        assert_eq!(
            flex("1643762231000000000").as_i64(),
            Some(1643762231000000000)
        );
        assert_eq!(flex("1.5e9").as_i64(), Some(1_500_000_000));
        assert_eq!(flex("\"18446744073709551615\"").as_i64(), None);
        assert_eq!(flex("18446744073709551615").as_i64(), None);
        assert_eq!(flex("{\"a\":1}"), Flex::Nested);
    }

    #[test]
    fn floats_and_bools() {
        assert_eq!(flex("\"5e+09\"").as_f64(), Some(5e9));
        assert_eq!(flex("\"TRUE\"").as_bool(), Some(true));
        assert_eq!(flex("false").as_bool(), Some(false));
        assert_eq!(flex("1").as_bool(), None);
    }
}
