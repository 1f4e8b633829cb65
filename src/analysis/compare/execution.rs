//! One execution of a test as `compare` sees it: the test span, its verdict and the
//! spans below it with the per-span facts the comparison needs (depth, self time,
//! whether the span is where an error originated).

use crate::model::tree::{TraceTree, TreeSpan};

/// Whether an execution of the test passed or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Pass,
    Fail,
}

impl Verdict {
    /// Reads a test span's verdict: outcome `pass` is a pass; `fail`, `error` and
    /// `timeout` are failures; without an outcome an errored span is a failure. Anything
    /// else (skip, cancel, unknown) is `None`: it says nothing about pass vs fail.
    pub fn of(span: &TreeSpan) -> Option<Verdict> {
        match span.outcome.as_deref() {
            Some("pass") => Some(Verdict::Pass),
            Some("fail" | "error" | "timeout") => Some(Verdict::Fail),
            None if span.error => Some(Verdict::Fail),
            _ => None,
        }
    }
}

/// A span below the test span.
#[derive(Debug, Clone)]
pub struct Descendant {
    pub span: TreeSpan,
    /// 1 for a direct child of the test span.
    pub depth: u32,
    /// Duration minus the union of its children's intervals (clamped to the span).
    pub self_ns: i64,
    /// The span errored and none of its descendants did: the error started here.
    pub error_origin: bool,
}

/// One execution of a test.
#[derive(Debug, Clone)]
pub struct Execution {
    pub verdict: Verdict,
    /// The test span itself.
    pub span: TreeSpan,
    /// The test span's own time (its duration minus its children's union).
    pub self_ns: i64,
    /// Every span below the test span, depth-first.
    pub descendants: Vec<Descendant>,
}

impl Execution {
    /// Builds an execution from a test span and the spans below it (in any order; they
    /// are linked by their parent ids, and spans not connected to the test span are
    /// ignored).
    pub fn from_spans(verdict: Verdict, test: TreeSpan, below: Vec<TreeSpan>) -> Execution {
        let mut spans = Vec::with_capacity(below.len() + 1);
        spans.push(test);
        spans.extend(below);
        let tree = TraceTree::new(spans);
        build(&tree, 0, verdict)
    }
}

/// The execution rooted at `test_span` in `tree`, or `None` when the index is out of
/// range or the test span's verdict is neither pass nor fail (see [`Verdict::of`]).
pub fn executions_from_tree(tree: &TraceTree, test_span: usize) -> Option<Execution> {
    if test_span >= tree.len() {
        return None;
    }
    let verdict = Verdict::of(tree.span(test_span))?;
    Some(build(tree, test_span, verdict))
}

fn build(tree: &TraceTree, test: usize, verdict: Verdict) -> Execution {
    let order: Vec<(usize, u32)> = tree.descendants_with_depth(test).collect();
    // An errored span is an origin when nothing errored below it; computed bottom-up
    // over the pre-order list walked backwards.
    let mut errored_below = vec![false; tree.len()];
    for &(i, _) in order.iter().rev() {
        let below = tree.children(i).iter().any(|&c| errored_below[c]);
        errored_below[i] = below || tree.span(i).error;
    }
    let descendants = order
        .iter()
        .map(|&(i, depth)| {
            let below = tree.children(i).iter().any(|&c| errored_below[c]);
            Descendant {
                span: tree.span(i).clone(),
                depth,
                self_ns: self_time(tree, i),
                error_origin: tree.span(i).error && !below,
            }
        })
        .collect();
    Execution {
        verdict,
        span: tree.span(test).clone(),
        self_ns: self_time(tree, test),
        descendants,
    }
}

/// Duration of span `i` minus the union of its children's intervals clamped to it.
pub fn self_time(tree: &TraceTree, i: usize) -> i64 {
    let s = tree.span(i);
    let (lo, hi) = (s.start_ns, s.end_ns.max(s.start_ns));
    // Children are sorted by start, so one sweep merges overlapping intervals.
    let mut covered = 0i64;
    let mut reach = lo;
    for &c in tree.children(i) {
        let cs = tree.span(c);
        let (start, end) = (cs.start_ns.max(reach), cs.end_ns.min(hi));
        if end > start {
            covered = covered.saturating_add(end - start);
            reach = end;
        }
    }
    s.duration_ns().saturating_sub(covered).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, start: i64, end: i64, error: bool) -> TreeSpan {
        TreeSpan {
            error,
            ..TreeSpan::for_test(id, parent, start, end)
        }
    }

    #[test]
    fn self_time_subtracts_the_union_of_children() {
        let tree = TraceTree::new(vec![
            span("t", None, 0, 100, false),
            span("a", Some("t"), 10, 40, false),
            span("b", Some("t"), 30, 50, false),
            span("c", Some("t"), 90, 130, false),
            span("d", Some("t"), -20, 5, false),
        ]);
        // Covered: 0-5, 10-50, 90-100 = 55.
        assert_eq!(self_time(&tree, 0), 45);
        assert_eq!(self_time(&tree, 1), 30);
    }

    #[test]
    fn error_origin_is_the_deepest_errored_span() {
        let test = TreeSpan {
            outcome: Some("fail".to_string()),
            ..span("t", None, 0, 100, true)
        };
        let tree = TraceTree::new(vec![
            test,
            span("parent", Some("t"), 0, 50, true),
            span("child", Some("parent"), 10, 20, true),
            span("ok", Some("parent"), 20, 30, false),
            span("lone", Some("t"), 50, 60, true),
        ]);
        let exec = executions_from_tree(&tree, 0).expect("a failing test is an execution");
        assert_eq!(exec.verdict, Verdict::Fail);
        assert_eq!(exec.self_ns, 40);
        let facts: Vec<(&str, u32, bool)> = exec
            .descendants
            .iter()
            .map(|d| (d.span.name.as_str(), d.depth, d.error_origin))
            .collect();
        assert_eq!(
            facts,
            [
                ("parent", 1, false),
                ("child", 2, true),
                ("ok", 2, false),
                ("lone", 1, true)
            ]
        );
    }

    #[test]
    fn verdicts_from_outcome_and_status() {
        let with = |outcome: Option<&str>, error| TreeSpan {
            outcome: outcome.map(str::to_string),
            error,
            ..TreeSpan::default()
        };
        assert_eq!(Verdict::of(&with(Some("pass"), false)), Some(Verdict::Pass));
        assert_eq!(
            Verdict::of(&with(Some("timeout"), false)),
            Some(Verdict::Fail)
        );
        assert_eq!(Verdict::of(&with(None, true)), Some(Verdict::Fail));
        assert_eq!(Verdict::of(&with(None, false)), None);
        assert_eq!(Verdict::of(&with(Some("skip"), true)), None);
        let tree = TraceTree::new(vec![with(Some("skip"), false)]);
        assert!(executions_from_tree(&tree, 0).is_none());
        assert!(executions_from_tree(&tree, 5).is_none());
    }
}
