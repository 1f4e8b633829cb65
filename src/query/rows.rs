//! Turns Arrow record batches into rows of JSON values — the one representation every
//! renderer starts from, so a number or a timestamp reads the same in a table, in
//! CSV and in JSON. Typed analysis rows reach the same shape through
//! [`Rows::from_records`].

use datafusion::arrow::array::{Array, ArrayRef, AsArray, MapArray};
use datafusion::arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{QueryError, QueryResult};

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

    /// A named or ad hoc query's result.
    pub fn from_result(result: &QueryResult) -> Rows {
        Rows::from_batches(&result.schema, &result.batches)
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

    /// Typed rows as rows to render: the columns are the row type's fields in
    /// declaration order, so the JSON contract is the row type. With no records the
    /// columns come from `T::default()`.
    pub fn from_records<T: Serialize + Default>(records: &[T]) -> Rows {
        let columns = match records.first() {
            Some(first) => field_names(first),
            None => field_names(&T::default()),
        };
        let rows = records
            .iter()
            .map(|record| {
                let mut object = match serde_json::to_value(record) {
                    Ok(Value::Object(object)) => object,
                    _ => Map::new(),
                };
                columns
                    .iter()
                    .map(|c| object.remove(c).unwrap_or(Value::Null))
                    .collect()
            })
            .collect();
        Rows { columns, rows }
    }

    /// Only the columns named in `keep`, in that order (for a summary of a wide
    /// result); names that are not columns are skipped.
    pub fn select(self, keep: &[&str]) -> Rows {
        let indexes: Vec<usize> = keep
            .iter()
            .filter_map(|k| self.columns.iter().position(|c| c == k))
            .collect();
        Rows {
            columns: indexes.iter().map(|&i| self.columns[i].clone()).collect(),
            rows: self
                .rows
                .iter()
                .map(|row| {
                    indexes
                        .iter()
                        .map(|&i| row.get(i).cloned().unwrap_or(Value::Null))
                        .collect()
                })
                .collect(),
        }
    }
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

/// Reads a named query's result as typed rows, each field from the column of the same
/// name (values as the renderers see them: timestamps as RFC 3339 strings). A field
/// with no column is an error naming the query and the column, never a silent zero.
pub fn records<T: DeserializeOwned + Serialize + Default>(
    query: &str,
    result: &QueryResult,
) -> Result<Vec<T>, QueryError> {
    let columns: Vec<String> = result
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for field in field_names(&T::default()) {
        if !columns.contains(&field) {
            return Err(QueryError::MissingColumn {
                query: query.to_string(),
                column: field,
                available: columns.join(", "),
            });
        }
    }
    Rows::from_result(result)
        .objects()
        .into_iter()
        .enumerate()
        .map(|(row, object)| {
            serde_json::from_value(object).map_err(|e| QueryError::BadRow {
                query: query.to_string(),
                row,
                message: e.to_string(),
            })
        })
        .collect()
}

/// The field names of a row type, in declaration order (its serialised keys).
fn field_names<T: Serialize>(record: &T) -> Vec<String> {
    match serde_json::to_value(record) {
        Ok(Value::Object(object)) => object.keys().cloned().collect(),
        _ => Vec::new(),
    }
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
    use super::*;
    use serde_json::json;

    #[derive(Default, Serialize)]
    struct Row {
        name: String,
        runs: u64,
        rate: Option<f64>,
    }

    #[test]
    fn records_become_rows_in_field_order() {
        let rows = Rows::from_records(&[Row {
            name: "a".into(),
            runs: 2,
            rate: None,
        }]);
        assert_eq!(rows.columns, ["name", "runs", "rate"]);
        assert_eq!(rows.rows, [vec![json!("a"), json!(2), json!(null)]]);
        assert_eq!(Rows::from_records::<Row>(&[]).columns, rows.columns);
    }

    #[test]
    fn select_keeps_the_named_columns_in_the_given_order() {
        let rows = Rows::from_records(&[Row {
            name: "a".into(),
            runs: 2,
            rate: Some(0.5),
        }]);
        let picked = rows.select(&["rate", "nope", "name"]);
        assert_eq!(picked.columns, ["rate", "name"]);
        assert_eq!(picked.rows, [vec![json!(0.5), json!("a")]]);
    }
}
