//! The span table's Arrow schema — the single source of column names — and the
//! conversion of `Span`s into record batches.
//!
//! Every other layer (Parquet writer, DataFusion queries, the interop test) reads
//! these names; `queries/*.sql` use them verbatim.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    ArrayRef, Int32Builder, Int64Builder, MapBuilder, MapFieldNames, RecordBatch, StringBuilder,
    TimestampNanosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::error::ArrowError;

use crate::model::{Span, TraceFacts};

pub const TRACE_ID: &str = "trace_id";
pub const SPAN_ID: &str = "span_id";
pub const PARENT_SPAN_ID: &str = "parent_span_id";
pub const NAME: &str = "name";
pub const KIND: &str = "kind";
pub const SERVICE: &str = "service";
pub const START_TIME: &str = "start_time";
pub const END_TIME: &str = "end_time";
pub const DURATION_NS: &str = "duration_ns";
pub const STATUS: &str = "status";
pub const STATUS_MESSAGE: &str = "status_message";
pub const ATTRIBUTES: &str = "attributes";
pub const RESOURCE: &str = "resource";
pub const ROLE: &str = "role";
pub const PIPELINE: &str = "pipeline";
pub const RUN_ID: &str = "run_id";
pub const ATTEMPT: &str = "attempt";
pub const TASK: &str = "task";
pub const TEST: &str = "test";
pub const TEST_ID: &str = "test_id";
pub const SUITE: &str = "suite";
pub const OUTCOME: &str = "outcome";
pub const BRANCH: &str = "branch";
pub const COMMIT: &str = "commit";
pub const REPO: &str = "repo";
pub const ENVIRONMENT: &str = "environment";
pub const TRIGGER: &str = "trigger";
pub const CHANGE_ID: &str = "change_id";
pub const CHANGE_TITLE: &str = "change_title";
pub const BASE_BRANCH: &str = "base_branch";
pub const SOURCE: &str = "source";
/// Hive partition column, derived from the directory name, not stored in files.
pub const DATE: &str = "date";

fn utc_ns() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

/// `map<utf8, utf8>` with the field names Parquet readers expect (`key_value`,
/// `key`, `value`), so DuckDB / polars / Spark read the column as a plain map.
fn string_map() -> DataType {
    let entries = Field::new(
        "key_value",
        DataType::Struct(
            vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", DataType::Utf8, true),
            ]
            .into(),
        ),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

fn map_field_names() -> MapFieldNames {
    MapFieldNames {
        entry: "key_value".into(),
        key: "key".into(),
        value: "value".into(),
    }
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let utf8 = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        utf8(TRACE_ID, false),
        utf8(SPAN_ID, false),
        utf8(PARENT_SPAN_ID, true),
        utf8(NAME, false),
        utf8(KIND, false),
        utf8(SERVICE, true),
        Field::new(START_TIME, utc_ns(), false),
        Field::new(END_TIME, utc_ns(), false),
        Field::new(DURATION_NS, DataType::Int64, false),
        utf8(STATUS, false),
        utf8(STATUS_MESSAGE, true),
        Field::new(ATTRIBUTES, string_map(), false),
        Field::new(RESOURCE, string_map(), false),
        utf8(ROLE, true),
        utf8(PIPELINE, true),
        utf8(RUN_ID, true),
        Field::new(ATTEMPT, DataType::Int32, true),
        utf8(TASK, true),
        utf8(TEST, true),
        utf8(TEST_ID, true),
        utf8(SUITE, true),
        utf8(ENVIRONMENT, true),
        utf8(OUTCOME, true),
        utf8(BRANCH, true),
        utf8(COMMIT, true),
        utf8(REPO, true),
        utf8(TRIGGER, true),
        utf8(CHANGE_ID, true),
        utf8(CHANGE_TITLE, true),
        utf8(BASE_BRANCH, true),
        utf8(SOURCE, false),
    ]))
});

/// The schema of the span table as stored in Parquet (without the `date` partition).
pub fn span_schema() -> SchemaRef {
    SCHEMA.clone()
}

/// Converts spans into one record batch with [`span_schema`].
pub fn to_record_batch(spans: &[Span]) -> Result<RecordBatch, ArrowError> {
    let n = spans.len();
    let mut trace_id = StringBuilder::with_capacity(n, n * 32);
    let mut span_id = StringBuilder::with_capacity(n, n * 16);
    let mut parent = StringBuilder::with_capacity(n, n * 16);
    let mut name = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut service = StringBuilder::new();
    let mut start = TimestampNanosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut end = TimestampNanosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut duration = Int64Builder::with_capacity(n);
    let mut status = StringBuilder::new();
    let mut status_message = StringBuilder::new();
    let mut attributes = MapBuilder::new(
        Some(map_field_names()),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut resource = MapBuilder::new(
        Some(map_field_names()),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut role = StringBuilder::new();
    let mut pipeline = StringBuilder::new();
    let mut run_id = StringBuilder::new();
    let mut attempt = Int32Builder::with_capacity(n);
    let mut task = StringBuilder::new();
    let mut test = StringBuilder::new();
    let mut test_id = StringBuilder::new();
    let mut suite = StringBuilder::new();
    let mut environment = StringBuilder::new();
    let mut outcome = StringBuilder::new();
    let mut branch = StringBuilder::new();
    let mut commit = StringBuilder::new();
    let mut repo = StringBuilder::new();
    let mut trigger = StringBuilder::new();
    let mut change_id = StringBuilder::new();
    let mut change_title = StringBuilder::new();
    let mut base_branch = StringBuilder::new();
    let mut source = StringBuilder::new();

    for s in spans {
        trace_id.append_value(&s.trace_id);
        span_id.append_value(&s.span_id);
        parent.append_option(s.parent_span_id.as_deref());
        name.append_value(&s.name);
        kind.append_value(&s.kind);
        service.append_option(s.service.as_deref());
        start.append_value(s.start_ns);
        end.append_value(s.end_ns);
        duration.append_value(s.duration_ns());
        status.append_value(s.status.as_str());
        status_message.append_option(s.status_message.as_deref());
        for (k, v) in &s.attributes {
            attributes.keys().append_value(k);
            attributes.values().append_value(v);
        }
        attributes.append(true)?;
        for (k, v) in &s.resource {
            resource.keys().append_value(k);
            resource.values().append_value(v);
        }
        resource.append(true)?;
        let ci = &s.ci;
        role.append_option(ci.role.map(|r| r.as_str()));
        pipeline.append_option(ci.pipeline.as_deref());
        run_id.append_option(ci.run_id.as_deref());
        attempt.append_option(ci.attempt);
        task.append_option(ci.task.as_deref());
        test.append_option(ci.test.as_deref());
        test_id.append_option(ci.test_id.as_deref());
        suite.append_option(ci.suite.as_deref());
        environment.append_option(ci.environment.as_deref());
        outcome.append_option(ci.outcome.map(|o| o.as_str()));
        branch.append_option(ci.branch.as_deref());
        commit.append_option(ci.commit.as_deref());
        repo.append_option(ci.repo.as_deref());
        trigger.append_option(ci.trigger.as_deref());
        change_id.append_option(ci.change_id.as_deref());
        change_title.append_option(ci.change_title.as_deref());
        base_branch.append_option(ci.base_branch.as_deref());
        source.append_value(s.source.map_or("otlp", |k| k.as_str()));
    }

    let columns: Vec<ArrayRef> = vec![
        Arc::new(trace_id.finish()),
        Arc::new(span_id.finish()),
        Arc::new(parent.finish()),
        Arc::new(name.finish()),
        Arc::new(kind.finish()),
        Arc::new(service.finish()),
        Arc::new(start.finish()),
        Arc::new(end.finish()),
        Arc::new(duration.finish()),
        Arc::new(status.finish()),
        Arc::new(status_message.finish()),
        Arc::new(attributes.finish()),
        Arc::new(resource.finish()),
        Arc::new(role.finish()),
        Arc::new(pipeline.finish()),
        Arc::new(run_id.finish()),
        Arc::new(attempt.finish()),
        Arc::new(task.finish()),
        Arc::new(test.finish()),
        Arc::new(test_id.finish()),
        Arc::new(suite.finish()),
        Arc::new(environment.finish()),
        Arc::new(outcome.finish()),
        Arc::new(branch.finish()),
        Arc::new(commit.finish()),
        Arc::new(repo.finish()),
        Arc::new(trigger.finish()),
        Arc::new(change_id.finish()),
        Arc::new(change_title.finish()),
        Arc::new(base_branch.finish()),
        Arc::new(source.finish()),
    ];
    RecordBatch::try_new(span_schema(), columns)
}

/// Columns of the trace-facts table: the facts the normaliser propagates to every span
/// of a trace, recorded per trace so that spans stored before a fact was known (the
/// pipeline span, with the branch, is often exported last) get it at query time.
pub const TRACE_FACT_COLUMNS: [&str; 10] = [
    PIPELINE,
    RUN_ID,
    ATTEMPT,
    BRANCH,
    COMMIT,
    REPO,
    TRIGGER,
    CHANGE_ID,
    CHANGE_TITLE,
    BASE_BRANCH,
];

static FACTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let utf8 = |name: &str| Field::new(name, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        Field::new(TRACE_ID, DataType::Utf8, false),
        utf8(PIPELINE),
        utf8(RUN_ID),
        Field::new(ATTEMPT, DataType::Int32, true),
        utf8(BRANCH),
        utf8(COMMIT),
        utf8(REPO),
        utf8(TRIGGER),
        utf8(CHANGE_ID),
        utf8(CHANGE_TITLE),
        utf8(BASE_BRANCH),
    ]))
});

/// The schema of `<data>/traces/*.parquet`.
pub fn trace_facts_schema() -> SchemaRef {
    FACTS_SCHEMA.clone()
}

/// One row per trace.
pub fn facts_to_record_batch(facts: &[(&str, &TraceFacts)]) -> Result<RecordBatch, ArrowError> {
    let mut trace_id = StringBuilder::new();
    let (mut pipeline, mut run_id, mut branch, mut commit, mut repo) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let (mut trigger, mut change_id, mut change_title, mut base_branch) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut attempt = Int32Builder::new();
    for (id, f) in facts {
        trace_id.append_value(id);
        pipeline.append_option(f.pipeline.as_deref());
        run_id.append_option(f.run_id.as_deref());
        attempt.append_option(f.attempt);
        branch.append_option(f.branch.as_deref());
        commit.append_option(f.commit.as_deref());
        repo.append_option(f.repo.as_deref());
        trigger.append_option(f.trigger.as_deref());
        change_id.append_option(f.change_id.as_deref());
        change_title.append_option(f.change_title.as_deref());
        base_branch.append_option(f.base_branch.as_deref());
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(trace_id.finish()),
        Arc::new(pipeline.finish()),
        Arc::new(run_id.finish()),
        Arc::new(attempt.finish()),
        Arc::new(branch.finish()),
        Arc::new(commit.finish()),
        Arc::new(repo.finish()),
        Arc::new(trigger.finish()),
        Arc::new(change_id.finish()),
        Arc::new(change_title.finish()),
        Arc::new(base_branch.finish()),
    ];
    RecordBatch::try_new(trace_facts_schema(), columns)
}
