//! Turns Arrow record batches into rows of JSON values — the one representation every
//! renderer starts from, so a number or a timestamp reads the same in a table, in
//! CSV and in JSON.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, MapArray};
use datafusion::arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Value};

/// Column names and rows of a result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    /// Converts batches; `schema` names the columns even when there are no rows.
    pub fn from_batches(
        schema: &datafusion::arrow::datatypes::Schema,
        batches: &[RecordBatch],
    ) -> Rows {
        let columns = schema.fields().iter().map(|f| f.name().clone()).collect();
        let mut rows = Vec::new();
        for batch in batches {
            let converted: Vec<Vec<Value>> = batch.columns().iter().map(column_values).collect();
            for i in 0..batch.num_rows() {
                rows.push(converted.iter().map(|c| c[i].clone()).collect());
            }
        }
        Rows { columns, rows }
    }

    /// Rows as JSON objects keyed by column name.
    pub fn objects(&self) -> Vec<Value> {
        self.rows
            .iter()
            .map(|row| {
                let map: Map<String, Value> = self
                    .columns
                    .iter()
                    .cloned()
                    .zip(row.iter().cloned())
                    .collect();
                Value::Object(map)
            })
            .collect()
    }

    /// Drops a column (e.g. `bucket` when no bucketing was asked for).
    pub fn without_column(mut self, name: &str) -> Rows {
        if let Some(i) = self.columns.iter().position(|c| c == name) {
            self.columns.remove(i);
            for row in &mut self.rows {
                row.remove(i);
            }
        }
        self
    }
}

/// Text for people: strings as they are, floats to at most 4 decimals (tiny ones in
/// scientific notation), null empty.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => format_float(f),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn format_float(f: f64) -> String {
    // p-values and other small magnitudes would all read "0" at 4 decimals.
    if f != 0.0 && f.abs() < 1e-4 {
        return format!("{f:.1e}");
    }
    let s = format!("{f:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

fn column_values(array: &ArrayRef) -> Vec<Value> {
    let n = array.len();
    let nullable = |i: usize, v: Value| if array.is_null(i) { Value::Null } else { v };
    macro_rules! ints {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            (0..n)
                .map(|i| nullable(i, Value::from(a.value(i))))
                .collect()
        }};
    }
    match array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let formatter = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default());
            match formatter {
                Ok(f) => (0..n)
                    .map(|i| nullable(i, Value::String(f.value(i).to_string())))
                    .collect(),
                Err(_) => vec![Value::Null; n],
            }
        }
        DataType::Boolean => {
            let a = array.as_boolean();
            (0..n)
                .map(|i| nullable(i, Value::Bool(a.value(i))))
                .collect()
        }
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
        DataType::Float32 => {
            let a = array.as_primitive::<Float32Type>();
            (0..n)
                .map(|i| nullable(i, float(a.value(i) as f64)))
                .collect()
        }
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            (0..n).map(|i| nullable(i, float(a.value(i)))).collect()
        }
        DataType::Timestamp(unit, _) => {
            let ns_per = match unit {
                TimeUnit::Second => 1_000_000_000,
                TimeUnit::Millisecond => 1_000_000,
                TimeUnit::Microsecond => 1_000,
                TimeUnit::Nanosecond => 1,
            };
            let values = timestamp_values(array, ns_per);
            (0..n).map(|i| nullable(i, values[i].clone())).collect()
        }
        DataType::Map(_, _) => {
            let map = array.as_map();
            (0..n).map(|i| nullable(i, map_value(map, i))).collect()
        }
        DataType::Null => vec![Value::Null; n],
        _ => match ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default()) {
            Ok(f) => (0..n)
                .map(|i| nullable(i, Value::String(f.value(i).to_string())))
                .collect(),
            Err(_) => vec![Value::Null; n],
        },
    }
}

fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn timestamp_values(array: &ArrayRef, ns_per: i64) -> Vec<Value> {
    use datafusion::arrow::array::PrimitiveArray;
    use datafusion::arrow::datatypes::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    fn raw<T: datafusion::arrow::datatypes::ArrowPrimitiveType<Native = i64>>(
        a: &PrimitiveArray<T>,
    ) -> Vec<i64> {
        a.values().iter().copied().collect()
    }
    let values: Vec<i64> = match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            raw(array.as_primitive::<TimestampSecondType>())
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            raw(array.as_primitive::<TimestampMillisecondType>())
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            raw(array.as_primitive::<TimestampMicrosecondType>())
        }
        _ => raw(array.as_primitive::<TimestampNanosecondType>()),
    };
    values
        .into_iter()
        .map(|v| Value::String(rfc3339(v.saturating_mul(ns_per))))
        .collect()
}

/// `2026-11-21T08:31:00.123Z` for a nanosecond timestamp.
pub fn rfc3339(ns: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_nanos(ns)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn map_value(map: &MapArray, i: usize) -> Value {
    let entries = map.value(i);
    let keys = ArrayFormatter::try_new(entries.column(0).as_ref(), &FormatOptions::default());
    let values = ArrayFormatter::try_new(entries.column(1).as_ref(), &FormatOptions::default());
    let (Ok(keys), Ok(values)) = (keys, values) else {
        return Value::Null;
    };
    let mut object = Map::new();
    for j in 0..entries.len() {
        object.insert(
            keys.value(j).to_string(),
            Value::String(values.value(j).to_string()),
        );
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::text;
    use serde_json::json;

    #[test]
    fn numbers_read_well() {
        assert_eq!(text(&json!(0.123456)), "0.1235");
        assert_eq!(text(&json!(2.0)), "2");
        assert_eq!(text(&json!(1.5e-12)), "1.5e-12");
        assert_eq!(text(&json!(0.0)), "0");
        assert_eq!(text(&json!(null)), "");
        assert_eq!(text(&json!(42)), "42");
    }
}
