//! Loads whole traces out of the engine into [`TraceTree`]s for the graph analyses.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, MapArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::TimestampNanosecondType;
use datafusion::common::ScalarValue;

use super::{Engine, NamedQuery, QueryError};
use crate::model::tree::{TraceTree, TreeSpan};

/// One trace (or, from [`pipeline_traces`], one pipeline run), ready to walk.
pub struct LoadedTrace {
    /// The trace id; for a pipeline run its `run_key` (`run_traces` in views.sql), which
    /// is the trace id of a run with a pipeline span.
    pub trace_id: String,
    /// The pipeline name (propagated to every span at ingest).
    pub pipeline: Option<String>,
    pub tree: TraceTree,
}

/// Every pipeline run's spans, without attributes, one tree per run: a run without a
/// pipeline span gets a synthetic one over all its traces ([`TraceTree::for_run`]).
pub async fn pipeline_traces(engine: &Engine) -> Result<Vec<LoadedTrace>, QueryError> {
    let query = NamedQuery::PipelineSpans;
    let result = engine.run(query, vec![]).await?;
    group(query, &result.batches, "run_key", TraceTree::for_run)
}

/// Every trace that holds an execution of `test` (any test when `None`), with attributes.
pub async fn test_traces(
    engine: &Engine,
    test: Option<&str>,
) -> Result<Vec<LoadedTrace>, QueryError> {
    let params = vec![
        ("role", ScalarValue::from("test")),
        ("test", ScalarValue::from(test.unwrap_or(""))),
    ];
    let query = NamedQuery::TraceSpans;
    let result = engine.run(query, params).await?;
    group(query, &result.batches, "trace_id", |spans, _| {
        TraceTree::new(spans)
    })
}

/// A column of `batch` by name, failing with the query's name and what it has instead.
fn column<'a>(
    query: NamedQuery,
    batch: &'a RecordBatch,
    name: &str,
) -> Result<&'a ArrayRef, QueryError> {
    batch.column_by_name(name).ok_or_else(|| {
        let schema = batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        QueryError::MissingColumn {
            query: query.name().to_string(),
            column: name.to_string(),
            available: names.join(", "),
        }
    })
}

fn wrong_type(
    query: NamedQuery,
    name: &str,
    expected: &'static str,
    found: &ArrayRef,
) -> QueryError {
    QueryError::ColumnType {
        query: query.name().to_string(),
        column: name.to_string(),
        expected,
        found: found.data_type().to_string(),
    }
}

/// The rows of `batches` as trees, one per distinct value of the `key` column, each
/// built by `tree` from its spans and key.
fn group(
    query: NamedQuery,
    batches: &[RecordBatch],
    key: &str,
    tree: fn(Vec<TreeSpan>, &str) -> TraceTree,
) -> Result<Vec<LoadedTrace>, QueryError> {
    let mut traces: HashMap<String, (Option<String>, Vec<TreeSpan>)> = HashMap::new();
    for batch in batches {
        let text = |name: &str| -> Result<&StringArray, QueryError> {
            let c = column(query, batch, name)?;
            c.as_string_opt::<i32>()
                .ok_or_else(|| wrong_type(query, name, "Utf8", c))
        };
        let time = |name: &str| {
            let c = column(query, batch, name)?;
            c.as_primitive_opt::<TimestampNanosecondType>()
                .ok_or_else(|| wrong_type(query, name, "Timestamp(ns)", c))
        };
        let (key, span_id, parent, name) = (
            text(key)?,
            text("span_id")?,
            text("parent_span_id")?,
            text("name")?,
        );
        let (status, role, pipeline, task, test, outcome) = (
            text("status")?,
            text("role")?,
            text("pipeline")?,
            text("task")?,
            text("test")?,
            text("outcome")?,
        );
        let (start, end) = (time("start_time")?, time("end_time")?);
        let attributes = batch
            .column_by_name("attributes")
            .and_then(|c| c.as_map_opt());
        let opt = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_string());
        for i in 0..batch.num_rows() {
            let span = TreeSpan {
                span_id: span_id.value(i).to_string(),
                parent_span_id: opt(parent, i),
                name: name.value(i).to_string(),
                start_ns: start.value(i),
                end_ns: end.value(i),
                error: status.value(i) == "error",
                role: opt(role, i),
                task: opt(task, i),
                test: opt(test, i),
                outcome: opt(outcome, i),
                attributes: attributes.map(|m| map_pairs(m, i)).unwrap_or_default(),
            };
            let entry = traces
                .entry(key.value(i).to_string())
                .or_insert_with(|| (None, Vec::new()));
            if entry.0.is_none() {
                entry.0 = opt(pipeline, i);
            }
            entry.1.push(span);
        }
    }
    let mut loaded: Vec<LoadedTrace> = traces
        .into_iter()
        .map(|(trace_id, (pipeline, spans))| LoadedTrace {
            tree: tree(spans, &trace_id),
            trace_id,
            pipeline,
        })
        .collect();
    loaded.sort_by(|a, b| a.trace_id.cmp(&b.trace_id));
    Ok(loaded)
}

fn map_pairs(map: &MapArray, i: usize) -> Vec<(String, String)> {
    if map.is_null(i) {
        return Vec::new();
    }
    let entries = map.value(i);
    let (Some(keys), Some(values)) = (
        entries.column(0).as_string_opt::<i32>(),
        entries.column(1).as_string_opt::<i32>(),
    ) else {
        return Vec::new();
    };
    (0..entries.len())
        .filter(|&j| !values.is_null(j))
        .map(|j| (keys.value(j).to_string(), values.value(j).to_string()))
        .collect()
}
