//! Property test: any span survives the trip through the store's Parquet files
//! unchanged — hostile strings, huge values, empty maps, extreme times included.

use std::fs::File;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{Int32Type, Int64Type, TimestampNanosecondType};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use proptest::prelude::*;

use super::{Store, StoreWriter, schema};
use crate::model::{CiFields, Outcome, Role, SourceKind, Span, Status};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z/._-]{0,12}",
        "\\PC{0,24}",
        Just("fix/../../etc/passwd".to_string()),
        Just("x'; DROP TABLE spans; --\n\t\"".to_string()),
        Just("a".repeat(100_000)),
    ]
}

fn span() -> impl Strategy<Value = Span> {
    (
        (
            any::<u128>(),
            any::<u64>(),
            proptest::option::of(any::<u64>()),
        ),
        (
            text(),
            proptest::option::of(text()),
            any::<i64>(),
            0i64..1_000_000_000_000,
        ),
        (
            proptest::collection::vec((text(), text()), 0..4),
            proptest::collection::vec((text(), text()), 0..3),
        ),
        (
            proptest::option::of(text()),
            proptest::option::of(1i32..20),
            prop::sample::select(vec![None, Some(Role::Test), Some(Role::Pipeline)]),
        ),
        prop::sample::select(vec![Status::Ok, Status::Error, Status::Unset]),
    )
        .prop_map(
            |(
                (t, s, p),
                (name, branch, start, dur),
                (attributes, resource),
                (commit, attempt, role),
                status,
            )| {
                let start = start / 2; // keep start + duration inside i64
                Span {
                    trace_id: format!("{t:032x}"),
                    span_id: format!("{s:016x}"),
                    parent_span_id: p.map(|p| format!("{p:016x}")),
                    name,
                    kind: "internal".into(),
                    service: branch.clone(),
                    start_ns: start,
                    end_ns: start + dur,
                    status,
                    status_message: commit.clone(),
                    attributes,
                    resource,
                    links: Vec::new(),
                    source: Some(SourceKind::Jaeger),
                    ci: CiFields {
                        role,
                        outcome: role.map(|_| Outcome::Fail),
                        branch,
                        commit,
                        attempt,
                        ..CiFields::default()
                    },
                }
            },
        )
}

/// Reads the columns this test compares back into spans.
fn read_back(batch: &RecordBatch) -> Vec<Span> {
    let s = |name: &str| -> &StringArray { batch.column_by_name(name).unwrap().as_string::<i32>() };
    let opt = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_string());
    let start = batch
        .column_by_name(schema::START_TIME)
        .unwrap()
        .as_primitive::<TimestampNanosecondType>();
    let end = batch
        .column_by_name(schema::END_TIME)
        .unwrap()
        .as_primitive::<TimestampNanosecondType>();
    let duration = batch
        .column_by_name(schema::DURATION_NS)
        .unwrap()
        .as_primitive::<Int64Type>();
    let attempt = batch
        .column_by_name(schema::ATTEMPT)
        .unwrap()
        .as_primitive::<Int32Type>();
    let map = |name: &str, i: usize| -> Vec<(String, String)> {
        let entries = batch.column_by_name(name).unwrap().as_map().value(i);
        let (k, v) = (
            entries.column(0).as_string::<i32>(),
            entries.column(1).as_string::<i32>(),
        );
        (0..entries.len())
            .map(|j| (k.value(j).to_string(), v.value(j).to_string()))
            .collect()
    };
    (0..batch.num_rows())
        .map(|i| {
            assert_eq!(duration.value(i), end.value(i) - start.value(i));
            Span {
                trace_id: s(schema::TRACE_ID).value(i).to_string(),
                span_id: s(schema::SPAN_ID).value(i).to_string(),
                parent_span_id: opt(s(schema::PARENT_SPAN_ID), i),
                name: s(schema::NAME).value(i).to_string(),
                kind: s(schema::KIND).value(i).to_string(),
                service: opt(s(schema::SERVICE), i),
                start_ns: start.value(i),
                end_ns: end.value(i),
                status: match s(schema::STATUS).value(i) {
                    "ok" => Status::Ok,
                    "error" => Status::Error,
                    _ => Status::Unset,
                },
                status_message: opt(s(schema::STATUS_MESSAGE), i),
                attributes: map(schema::ATTRIBUTES, i),
                resource: map(schema::RESOURCE, i),
                links: Vec::new(),
                source: (s(schema::SOURCE).value(i) == "jaeger").then_some(SourceKind::Jaeger),
                ci: CiFields {
                    role: match opt(s(schema::ROLE), i).as_deref() {
                        Some("test") => Some(Role::Test),
                        Some("pipeline") => Some(Role::Pipeline),
                        _ => None,
                    },
                    outcome: (opt(s(schema::OUTCOME), i).as_deref() == Some("fail"))
                        .then_some(Outcome::Fail),
                    branch: opt(s(schema::BRANCH), i),
                    commit: opt(s(schema::COMMIT), i),
                    attempt: (!attempt.is_null(i)).then(|| attempt.value(i)),
                    ..CiFields::default()
                },
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn spans_round_trip_through_parquet(spans in proptest::collection::vec(span(), 1..20)) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut writer = StoreWriter::new(&store).unwrap();
        writer.write(spans.clone()).unwrap();
        writer.finish().unwrap();

        let mut back = Vec::new();
        for file in store.parquet_files().unwrap() {
            let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(file).unwrap()).unwrap().build().unwrap();
            for batch in reader {
                back.extend(read_back(&batch.unwrap()));
            }
        }
        // Duplicated ids are stored once (the first one wins).
        let mut expected: Vec<Span> = Vec::new();
        for span in spans {
            if !expected.iter().any(|e| e.trace_id == span.trace_id && e.span_id == span.span_id) {
                expected.push(span);
            }
        }
        let key = |s: &Span| (s.trace_id.clone(), s.span_id.clone());
        expected.sort_by_key(key);
        back.sort_by_key(key);
        prop_assert_eq!(back, expected);
    }
}
