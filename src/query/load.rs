//! Loads whole traces out of the engine into [`TraceTree`]s for the graph analyses.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, MapArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::TimestampNanosecondType;
use datafusion::common::ScalarValue;

use super::{Engine, NamedQuery, QueryError};
use crate::model::tree::{TraceTree, TreeSpan};

/// One trace (or, from [`fold_pipeline_traces`], one pipeline run), ready to walk.
pub struct LoadedTrace {
    /// The trace id; for a pipeline run its `run_key` (`run_traces` in views.sql), which
    /// is the trace id of a run with a pipeline span.
    pub trace_id: String,
    /// The pipeline name (propagated to every span at ingest).
    pub pipeline: Option<String>,
    pub tree: TraceTree,
}

/// Every pipeline run's spans, without attributes, one tree per run (a run without
/// a pipeline span gets a synthetic one over all its traces, [`TraceTree::for_run`]),
/// handed to `each` one run at a time, in `run_key` order: memory is one run and
/// the state, whatever the store holds (see [`Engine::fold`]).
pub async fn fold_pipeline_traces<S>(
    engine: &Engine,
    start: impl Fn() -> S,
    each: impl Fn(&mut S, LoadedTrace),
) -> Result<S, QueryError> {
    let query = NamedQuery::PipelineSpans;
    fold_trees(
        engine,
        query,
        vec![],
        "run_key",
        TraceTree::for_run,
        start,
        each,
    )
    .await
}

/// Every trace that holds an execution of `test`, with attributes, handed to `each`
/// one trace at a time in trace id order (see [`fold_pipeline_traces`]).
pub async fn fold_test_traces<S>(
    engine: &Engine,
    test: &str,
    start: impl Fn() -> S,
    each: impl Fn(&mut S, LoadedTrace),
) -> Result<S, QueryError> {
    let params = vec![
        ("role", ScalarValue::from("test")),
        ("test", ScalarValue::from(test)),
    ];
    let tree = |spans: Vec<TreeSpan>, _: &str| TraceTree::new(spans);
    fold_trees(
        engine,
        NamedQuery::TraceSpans,
        params,
        "trace_id",
        tree,
        start,
        each,
    )
    .await
}

/// The rows of `query`, sorted by `key`, as one tree per key built by `tree`.
async fn fold_trees<S>(
    engine: &Engine,
    query: NamedQuery,
    params: Vec<(&str, ScalarValue)>,
    key: &str,
    tree: fn(Vec<TreeSpan>, &str) -> TraceTree,
    start: impl Fn() -> S,
    each: impl Fn(&mut S, LoadedTrace),
) -> Result<S, QueryError> {
    let grouped = engine
        .fold(
            query,
            params,
            || Grouping {
                current: None,
                tree,
                state: start(),
            },
            |grouping, batch| {
                for (key, pipeline, span) in tree_spans(query, &batch, key)? {
                    grouping.push(key, pipeline, span, &each);
                }
                Ok(())
            },
        )
        .await?;
    Ok(grouped.finish(&each))
}

/// Rows sorted by their key, gathered into one trace per key.
struct Grouping<S> {
    current: Option<(String, Option<String>, Vec<TreeSpan>)>,
    tree: fn(Vec<TreeSpan>, &str) -> TraceTree,
    state: S,
}

impl<S> Grouping<S> {
    fn push(
        &mut self,
        key: String,
        pipeline: Option<String>,
        span: TreeSpan,
        each: &impl Fn(&mut S, LoadedTrace),
    ) {
        match &mut self.current {
            Some((current, first_pipeline, spans)) if *current == key => {
                if first_pipeline.is_none() {
                    *first_pipeline = pipeline;
                }
                spans.push(span);
            }
            _ => {
                self.emit(each);
                self.current = Some((key, pipeline, vec![span]));
            }
        }
    }

    fn emit(&mut self, each: &impl Fn(&mut S, LoadedTrace)) {
        if let Some((trace_id, pipeline, spans)) = self.current.take() {
            let tree = (self.tree)(spans, &trace_id);
            each(
                &mut self.state,
                LoadedTrace {
                    trace_id,
                    pipeline,
                    tree,
                },
            );
        }
    }

    fn finish(mut self, each: &impl Fn(&mut S, LoadedTrace)) -> S {
        self.emit(each);
        self.state
    }
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

/// Each row of `batch` as (its `key` column, its pipeline, the span).
fn tree_spans(
    query: NamedQuery,
    batch: &RecordBatch,
    key: &str,
) -> Result<Vec<(String, Option<String>, TreeSpan)>, QueryError> {
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
    Ok((0..batch.num_rows())
        .map(|i| {
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
            (key.value(i).to_string(), opt(pipeline, i), span)
        })
        .collect())
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
