//! Item-at-a-time JSON decoding for the formats whose unit is small and whose
//! structure needs look-ahead: a Jaeger trace (its `processes` map follows its spans),
//! a Zipkin span or trace, a Python SDK span. Each item is materialised as a
//! `serde_json::Value` and handed to the format's converter; the enclosing array is
//! streamed, so memory stays bounded by one item however large the file is.

use super::json_stream::{self, HandlerError, ValueHandler, ValuePos};
use super::{Problem, SinkError, SourceError, SpanSink};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;
use std::io::BufRead;

/// One unit handed to a format's converter.
pub enum Item {
    /// An element of a top-level array.
    Element(Value),
    /// An element of the streamed envelope array (Jaeger's `data`).
    Enveloped(Value),
    /// A top-level object, minus the streamed envelope array if there was one.
    Object(Map<String, Value>),
}

/// A format's converter from items to spans.
pub trait ItemDecoder {
    /// Converts one item; `location` names it in problems. An error is fatal.
    fn item(&mut self, item: Item, location: &str) -> Result<(), SinkError>;
    /// The sink, for reporting syntax problems.
    fn sink(&mut self) -> &mut dyn SpanSink;
}

/// Streams `input` through `decoder`. `envelope_key` names an array inside a
/// top-level object whose elements are streamed one by one (`data` for Jaeger).
pub fn decode_items(
    input: &mut dyn BufRead,
    origin: &str,
    envelope_key: Option<&'static str>,
    decoder: &mut dyn ItemDecoder,
) -> Result<(), SourceError> {
    let mut handler = Handler {
        decoder,
        origin,
        envelope_key,
        fatal: None,
    };
    json_stream::for_each_value(input, origin, &mut handler)
}

struct Handler<'d> {
    decoder: &'d mut dyn ItemDecoder,
    origin: &'d str,
    envelope_key: Option<&'static str>,
    fatal: Option<SinkError>,
}

impl ValueHandler for Handler<'_> {
    fn value<'de, R: serde_json::de::Read<'de>>(
        &mut self,
        de: &mut serde_json::Deserializer<R>,
        pos: ValuePos,
    ) -> Result<(), HandlerError> {
        let result = TopSeed {
            handler: &mut *self,
            pos,
        }
        .deserialize(de);
        result.map_err(|e| match self.fatal.take() {
            Some(fatal) => HandlerError::Fatal(fatal),
            None => HandlerError::Json(e),
        })
    }

    fn problem(&mut self, problem: Problem) -> Result<(), SinkError> {
        self.decoder.sink().skipped(problem)
    }
}

impl Handler<'_> {
    fn give<E: de::Error>(&mut self, item: Item, pos: ValuePos, path: &str) -> Result<(), E> {
        let location = pos.locate(self.origin, path);
        self.decoder.item(item, &location).map_err(|e| {
            self.fatal = Some(e);
            E::custom("stopped: the span sink failed")
        })
    }
}

struct TopSeed<'h, 'd> {
    handler: &'h mut Handler<'d>,
    pos: ValuePos,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array or object of spans or traces")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(v) = seq.next_element::<Value>()? {
            self.handler
                .give(Item::Element(v), self.pos, &format!("$[{i}]"))?;
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut rest = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if Some(key.as_str()) == self.handler.envelope_key {
                map.next_value_seed(Envelope {
                    handler: &mut *self.handler,
                    pos: self.pos,
                    key: &key,
                })?;
            } else {
                let v = map.next_value::<Value>()?;
                rest.insert(key, v);
            }
        }
        self.handler.give(Item::Object(rest), self.pos, "$")
    }
}

struct Envelope<'h, 'd, 'k> {
    handler: &'h mut Handler<'d>,
    pos: ValuePos,
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for Envelope<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Envelope<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(v) = seq.next_element::<Value>()? {
            let path = format!("$.{}[{i}]", self.key);
            self.handler.give(Item::Enveloped(v), self.pos, &path)?;
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    super::flex::ignore_scalars!(());
}

/// An integer from a JSON number or decimal string (µs times in Jaeger and Zipkin).
pub fn json_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Microseconds to nanoseconds, refusing overflow.
pub fn micros_to_nanos(us: i64, what: &str) -> Result<i64, String> {
    us.checked_mul(1000)
        .ok_or_else(|| format!("{what} {us}µs overflows i64 nanoseconds"))
}

/// `(start_ns, end_ns)` from a span's µs start (at `start_key`) and µs `duration`, as
/// Jaeger and Zipkin write them; a missing field counts as 0.
pub fn micros_interval(v: &Value, start_key: &str) -> Result<(i64, i64), String> {
    let micros = |key: &str| {
        v.get(key)
            .map_or(Some(0), json_i64)
            .ok_or_else(|| format!("{key} is not an integer of microseconds"))
    };
    let start_ns = micros_to_nanos(micros(start_key)?, start_key)?;
    let end_ns = micros_to_nanos(micros("duration")?, "duration")?
        .checked_add(start_ns)
        .ok_or_else(|| format!("{start_key} + duration overflows i64 nanoseconds"))?;
    Ok((start_ns, end_ns))
}

/// The string at `key`, if it is one.
pub fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The id string at `key`, or a message saying what is wrong with it.
pub fn id_at<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    match v.get(key) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(format!("missing {key}")),
        Some(other) => Err(format!(
            "{key} is {}, expected a hex string",
            json_type(other)
        )),
    }
}

/// The JSON type of a value, for messages (values themselves may be huge).
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
