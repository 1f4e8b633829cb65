//! Tests of the JUnit decoder: one per dialect (`java`, `dialects`), times and ids (`layout`),
//! malformed and hostile input (`hostile`), the CI environment (`env`), the CI
//! normaliser over decoded spans (`normalized`) and every real report of the shared
//! fixtures (`real`).

mod dialects;
mod env;
mod hostile;
mod java;
mod layout;
mod normalized;
mod real;

use super::{JunitContext, decode};
use crate::model::Span;
use crate::source::VecSink;

/// 2023-11-14T22:13:20Z: the fallback time of [`ctx`].
const T0: i64 = 1_700_000_000_000_000_000;

fn ctx() -> JunitContext {
    JunitContext {
        pipeline: Some("ci".into()),
        run_id: Some("4711".into()),
        attempt: Some(2),
        task: Some("unit-tests".into()),
        branch: Some("main".into()),
        commit: Some("0123abcd".into()),
        repo: Some("acme/shop".into()),
        time_ns: Some(T0),
    }
}

fn run_with(xml: &str, ctx: &JunitContext) -> VecSink {
    let mut sink = VecSink::default();
    decode(&mut xml.as_bytes(), "report.xml", ctx, &mut sink).unwrap();
    sink
}

fn run(xml: &str) -> VecSink {
    run_with(xml, &ctx())
}

/// Decodes well-formed input: no problems allowed.
fn clean(xml: &str) -> Vec<Span> {
    let sink = run(xml);
    assert!(sink.problems.is_empty(), "{:?}", sink.problems);
    sink.spans
}

/// Test execution spans, in report order.
fn tests(spans: &[Span]) -> Vec<&Span> {
    spans
        .iter()
        .filter(|s| s.attr("test.case.name").is_some())
        .collect()
}

/// Suite spans, in the order they closed.
fn suites(spans: &[Span]) -> Vec<&Span> {
    spans
        .iter()
        .filter(|s| s.attr("test.case.name").is_none() && s.attr("test.suite.name").is_some())
        .collect()
}

/// (test name, result) of every execution.
fn results(spans: &[Span]) -> Vec<(&str, &str)> {
    tests(spans)
        .iter()
        .map(|s| {
            (
                s.attr("test.case.name").unwrap_or_default(),
                s.attr("test.case.result.status").unwrap_or_default(),
            )
        })
        .collect()
}

fn named<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
        panic!(
            "no span {name:?} in {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    })
}

/// The run span (the only root).
fn run_span(spans: &[Span]) -> &Span {
    let roots: Vec<&Span> = spans
        .iter()
        .filter(|s| s.parent_span_id.is_none())
        .collect();
    assert_eq!(roots.len(), 1, "one run span");
    roots[0]
}
