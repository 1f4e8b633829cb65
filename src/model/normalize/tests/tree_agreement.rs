//! The normaliser and the graph analyses read a repaired trace through the same tree
//! builder (`model::tree`): on a cyclic trace, a trace with duplicate span ids or a span
//! that is its own parent, the span the normaliser treats as the root is the root of
//! the analyses' `TraceTree`, and children hang below the same parent.

use super::*;
use crate::model::tree::{TraceTree, TreeSpan};

/// The analyses' view of the same spans (as the query layer would load them).
fn analyses_tree(spans: &[Span]) -> TraceTree {
    TraceTree::new(
        spans
            .iter()
            .map(|s| TreeSpan {
                span_id: s.span_id.clone(),
                parent_span_id: s.parent_span_id.clone(),
                name: s.name.clone(),
                start_ns: s.start_ns,
                end_ns: s.end_ns,
                ..TreeSpan::default()
            })
            .collect(),
    )
}

fn task(id: &str, parent: Option<&str>, name: &str, start: i64) -> Span {
    at(
        with(span(id, parent, name), &[("cicd.pipeline.task.name", name)]),
        start,
        Status::Ok,
    )
}

#[test]
fn a_cycle_has_the_same_root_for_the_normaliser_and_the_analyses() {
    // "late" comes first in the batch, "early" starts first: the cycle is cut at
    // "early", so it is the task and "late" is a step below it.
    let mut v = vec![
        task("late", Some("early"), "late", 20),
        task("early", Some("late"), "early", 10),
    ];
    run(&mut v);
    let tree = analyses_tree(&v);
    assert_eq!(tree.roots(), [1]);
    assert_eq!(tree.parent(0), Some(1));
    assert_eq!(by_id(&v, "early").role, Some(Role::Task));
    assert_eq!(by_id(&v, "late").role, Some(Role::Step));
    assert_eq!(by_id(&v, "late").task.as_deref(), Some("early"));
}

#[test]
fn duplicate_ids_attach_children_to_the_first_copy_in_both() {
    let mut v = vec![
        task("p", None, "first", 5),
        task("p", None, "second", 0),
        at(
            with(span("t", Some("p"), "test_x"), &[("test.name", "test_x")]),
            6,
            Status::Ok,
        ),
    ];
    run(&mut v);
    let tree = analyses_tree(&v);
    assert_eq!(tree.parent(2), Some(0));
    assert_eq!(tree.roots(), [1, 0]);
    assert_eq!(v[2].ci.role, Some(Role::Test));
    assert_eq!(v[2].ci.task.as_deref(), Some("first"));
    assert_eq!(v[1].ci.role, Some(Role::Task));
}

#[test]
fn a_self_parent_is_a_root_in_both() {
    let mut v = vec![
        at(
            with(span("t", Some("s"), "test_y"), &[("test.name", "test_y")]),
            3,
            Status::Ok,
        ),
        task("s", Some("s"), "lint", 1),
    ];
    run(&mut v);
    let tree = analyses_tree(&v);
    assert_eq!(tree.roots(), [1]);
    assert_eq!(tree.parent(0), Some(1));
    assert_eq!(v[1].ci.role, Some(Role::Task));
    assert_eq!(v[0].ci.task.as_deref(), Some("lint"));
}
