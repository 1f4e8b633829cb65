//! The decoding pool changes nothing but speed: the same store, the same summary and
//! the same problems, in the same order, with one thread or many.

use std::path::Path;

use super::*;
use crate::query::{Engine, Filters, Rows};
use crate::source::expand_inputs;
use crate::synth::{SynthConfig, write_to_dir};

fn ingest_with(
    threads: usize,
    inputs: &[InputSpec],
    strict: bool,
) -> (tempfile::TempDir, Result<IngestSummary, IngestError>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let options = IngestOptions {
        threads,
        strict,
        // Small batches, so that batch boundaries fall inside inputs and across them.
        batch_spans: 700,
        ..IngestOptions::default()
    };
    let result = ingest(&store, inputs, &options, &mut |_, _| {});
    (dir, result)
}

fn stored(dir: &Path) -> Vec<serde_json::Value> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Store::open(dir).unwrap();
        let engine = Engine::open(&store, &Filters::default()).await.unwrap();
        let result = engine
            .sql(r#"SELECT trace_id, span_id, date, name, role, outcome, branch, "commit", test_id, attributes FROM spans ORDER BY trace_id, span_id"#)
            .await
            .unwrap();
        Rows::from_result(&result).objects()
    })
}

/// Generated CI data in many files, with unreadable and malformed inputs among them.
fn messy_inputs(dir: &Path) -> Vec<InputSpec> {
    write_to_dir(&SynthConfig::small_test(3), &dir.join("synth")).unwrap();
    std::fs::write(dir.join("synth/000-not-a-trace.txt"), "hello").unwrap();
    std::fs::write(dir.join("synth/zzz-empty.json"), "").unwrap();
    let mut inputs = expand_inputs(&[dir.join("synth").display().to_string()]).unwrap();
    // A file that disappeared between listing and reading is a problem, not an error.
    inputs.insert(inputs.len() / 2, InputSpec::Path(dir.join("gone.json")));
    inputs
}

#[test]
fn many_threads_store_and_report_exactly_what_one_thread_does() {
    let input_dir = tempfile::tempdir().unwrap();
    let inputs = messy_inputs(input_dir.path());
    assert!(inputs.len() > 8, "{} inputs", inputs.len());

    let (one_dir, one) = ingest_with(1, &inputs, false);
    let (many_dir, many) = ingest_with(4, &inputs, false);
    let (one, many) = (one.unwrap(), many.unwrap());

    assert!(one.write.stored > 1000, "{one:?}");
    assert_eq!(one.skipped, 3, "{:?}", one.problems);
    assert_eq!(
        (
            one.files,
            one.bytes,
            one.traces,
            one.spans_read,
            one.write,
            one.skipped
        ),
        (
            many.files,
            many.bytes,
            many.traces,
            many.spans_read,
            many.write,
            many.skipped
        )
    );
    assert_eq!(one.problems, many.problems);
    assert_eq!(stored(one_dir.path()), stored(many_dir.path()));
}

#[test]
fn strict_reports_the_first_problem_in_input_order_whichever_thread_finds_it_first() {
    let dir = tempfile::tempdir().unwrap();
    // The first input is long and bad only at its end; the second is bad at once, so
    // a second thread finds its problem long before the first thread finds its own.
    let mut long = crate::synth::otlp_json_lines(1, 20_000);
    long.extend_from_slice(b"{ not json\n");
    std::fs::write(dir.path().join("a.jsonl"), long).unwrap();
    std::fs::write(dir.path().join("b.jsonl"), "also { not json\n").unwrap();
    let inputs = expand_inputs(&[dir.path().display().to_string()]).unwrap();

    for threads in [1, 2] {
        let (store_dir, result) = ingest_with(threads, &inputs, true);
        match result {
            Err(IngestError::Strict { problem }) => {
                assert!(
                    problem.location.contains("a.jsonl"),
                    "{threads} threads: {problem}"
                )
            }
            other => panic!("{threads} threads: {other:?}"),
        }
        assert!(
            stored(store_dir.path()).is_empty(),
            "{threads} threads stored spans"
        );
    }
}
