//! Critical path of a pipeline run: the chain of spans that determined its end time.
//!
//! This feeds the `bottlenecks` analysis: the query layer loads one run's spans into a
//! [`TraceTree`], calls [`critical_path`] on the run's root, then [`rollup`] per task (or
//! step) and sums over runs. A long task that always runs in parallel with a longer one
//! gets no critical time, which is the point: shortening it would not make CI faster.
//!
//! The walk is the one of Jaeger's critical-path view. Starting at the root with a cursor
//! at the root's end, repeatedly take the child that finished last at or before the
//! cursor: the gap between its end and the cursor is the parent's own time on the path;
//! the child's interval is attributed by recursing into it; the cursor then moves to the
//! child's start. When no child is left, the time down to the parent's start is the
//! parent's own. A child that overlaps the cursor (it ends after the chosen child
//! started) ran in parallel with the path and is skipped.
//!
//! Messy data: a span's extent is its own interval widened to cover its descendants,
//! because emitters hang work under spans that ended before it (the Collector's GitHub
//! receiver puts a job's steps under the job's 5 s `queue-…` span, though they run for
//! minutes after it). Each child's extent is then clamped to its parent's (already
//! clamped) interval, so a child ending after its parent or starting before it counts
//! only inside it; children entirely outside, or with zero or negative duration,
//! contribute nothing. The tree is a
//! forest by construction (`TraceTree` cuts cycles) and the walk uses an explicit stack,
//! so neither cycles nor deep traces can hang or overflow it.

use crate::model::tree::{TraceTree, TreeSpan};

/// Nanoseconds each span spends *itself* on the critical path below `root`, indexed like
/// the tree's spans (spans outside `root`'s subtree or off the path get 0). The values
/// are never negative and sum to the root's duration (0 when the root ends before it
/// starts). An out-of-range `root` gives all zeros.
pub fn critical_path(tree: &TraceTree, root: usize) -> Vec<i64> {
    let mut own = vec![0i64; tree.len()];
    if root >= tree.len() {
        return own;
    }
    let r = tree.span(root);
    let extents = extents(tree);
    let mut stack = vec![Frame::new(
        tree,
        &extents,
        root,
        r.start_ns,
        r.end_ns.max(r.start_ns),
    )];
    while let Some(frame) = stack.last_mut() {
        // Children ending after the cursor overlap the path segment already taken.
        while frame
            .candidates
            .last()
            .is_some_and(|c| c.end > frame.cursor)
        {
            frame.candidates.pop();
        }
        match frame.candidates.pop() {
            Some(child) => {
                own[frame.node] = own[frame.node].saturating_add(frame.cursor - child.end);
                frame.cursor = child.start;
                let next = Frame::new(tree, &extents, child.index, child.start, child.end);
                stack.push(next);
            }
            None => {
                own[frame.node] = own[frame.node].saturating_add(frame.cursor - frame.lo);
                stack.pop();
            }
        }
    }
    own
}

/// The run's pipeline span to walk from: the longest pipeline span without a parent
/// (a trace can hold a second, small one whose parent was not exported), else the
/// longest pipeline span (a re-run's may sit below a parent that was not exported).
/// Ties go to the earlier start, then the lower span id: the choice depends on the
/// spans, not on the order they were read in.
pub fn pipeline_root(tree: &TraceTree) -> Option<usize> {
    let pipelines = (0..tree.len()).filter(|&i| tree.span(i).role.as_deref() == Some("pipeline"));
    let rank = |&i: &usize| {
        let s = tree.span(i);
        (
            tree.parent(i).is_none(),
            s.end_ns.saturating_sub(s.start_ns),
            std::cmp::Reverse(s.start_ns),
            std::cmp::Reverse(s.span_id.as_str()),
        )
    };
    pipelines.max_by(|a, b| rank(a).cmp(&rank(b)))
}

/// The spans on the critical path below `root` (those with own critical time > 0), in
/// the tree's depth-first order. Convenient for displaying the chain itself.
pub fn critical_spans(tree: &TraceTree, root: usize) -> Vec<usize> {
    if root >= tree.len() {
        return Vec::new();
    }
    let own = critical_path(tree, root);
    std::iter::once(root)
        .chain(tree.descendants(root))
        .filter(|&i| own.get(i).is_some_and(|&ns| ns > 0))
        .collect()
}

/// Sums per-span critical time (from [`critical_path`]) into "units", the spans for which
/// `is_unit` holds (tasks, steps, …): for each unit, its own time plus that of all its
/// descendants. Units come in the tree's depth-first order, each once, including units
/// with 0 critical time (so callers can count runs). A unit nested inside another unit
/// counts in both; callers that sum per name should pick a unit predicate that does not
/// nest (e.g. `role == "task"`).
pub fn rollup(
    tree: &TraceTree,
    per_span_ns: &[i64],
    is_unit: impl Fn(&TreeSpan) -> bool,
) -> Vec<(usize, i64)> {
    let subtotal = subtree_totals(tree, per_span_ns);
    tree.preorder()
        .filter(|&i| is_unit(tree.span(i)))
        .map(|i| (i, subtotal[i]))
        .collect()
}

/// Each span's interval widened to cover its descendants' (spans with a negative
/// duration count as empty).
fn extents(tree: &TraceTree) -> Vec<(i64, i64)> {
    let mut extent: Vec<(i64, i64)> = tree
        .spans()
        .iter()
        .map(|s| (s.start_ns, s.end_ns.max(s.start_ns)))
        .collect();
    let order: Vec<usize> = tree.preorder().collect();
    for &i in order.iter().rev() {
        if let Some(p) = tree.parent(i) {
            let (start, end) = extent[i];
            if end > start {
                extent[p].0 = extent[p].0.min(start);
                extent[p].1 = extent[p].1.max(end);
            }
        }
    }
    extent
}

/// For every span, the sum of `per_span_ns` over it and its descendants.
fn subtree_totals(tree: &TraceTree, per_span_ns: &[i64]) -> Vec<i64> {
    let mut total: Vec<i64> = (0..tree.len())
        .map(|i| per_span_ns.get(i).copied().unwrap_or(0))
        .collect();
    // Pre-order lists parents before children; walking it backwards adds every child
    // into its parent after the child's own subtree is complete.
    let order: Vec<usize> = tree.preorder().collect();
    for &i in order.iter().rev() {
        if let Some(p) = tree.parent(i) {
            total[p] = total[p].saturating_add(total[i]);
        }
    }
    total
}

/// A child interval clamped into its parent's.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    index: usize,
    start: i64,
    end: i64,
}

/// One span being walked: its clamped interval start, the cursor moving backwards from
/// its end, and the children not yet considered, sorted so the next pick is last.
struct Frame {
    node: usize,
    lo: i64,
    cursor: i64,
    candidates: Vec<Candidate>,
}

impl Frame {
    fn new(tree: &TraceTree, extents: &[(i64, i64)], node: usize, lo: i64, hi: i64) -> Frame {
        let mut candidates: Vec<Candidate> = tree
            .children(node)
            .iter()
            .filter_map(|&c| {
                let (own_start, own_end) = extents[c];
                let start = own_start.max(lo);
                let end = own_end.min(hi);
                (end > start).then_some(Candidate {
                    index: c,
                    start,
                    end,
                })
            })
            .collect();
        // Latest end last; among equal ends the earliest start (the longer chain) last,
        // then the lowest span id: the walk depends on the spans, not on the order
        // they were read in (a sorted stream, a hash join).
        let id = |c: &Candidate| tree.span(c.index).span_id.as_str();
        candidates.sort_by(|a, b| {
            (a.end, std::cmp::Reverse(a.start), std::cmp::Reverse(id(a))).cmp(&(
                b.end,
                std::cmp::Reverse(b.start),
                std::cmp::Reverse(id(b)),
            ))
        });
        Frame {
            node,
            lo,
            cursor: hi,
            candidates,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn span(id: &str, parent: Option<&str>, start: i64, end: i64) -> TreeSpan {
        TreeSpan::for_test(id, parent, start, end)
    }

    #[test]
    fn the_pipeline_root_is_the_long_one_whatever_the_order_of_the_spans() {
        let pipeline = |id: &str, parent: Option<&str>, start, end| TreeSpan {
            role: Some("pipeline".to_string()),
            ..span(id, parent, start, end)
        };
        // A trace with its pipeline and a small pipeline span whose parent was not
        // exported (an upload step's own pipeline): both are roots after repair.
        let spans = vec![
            pipeline("ff", None, 0, 100),
            task("t1", "ff", 0, 60),
            pipeline("00", Some("gone"), 98, 99),
        ];
        for order in [spans.clone(), spans.iter().rev().cloned().collect()] {
            let tree = TraceTree::new(order);
            let root = pipeline_root(&tree).expect("a root");
            assert_eq!(tree.span(root).span_id, "ff");
        }
    }

    fn task(id: &str, parent: &str, start: i64, end: i64) -> TreeSpan {
        TreeSpan {
            role: Some("task".to_string()),
            ..span(id, Some(parent), start, end)
        }
    }

    /// Critical time per span id, only for spans with non-zero time, sorted by id.
    fn by_id(spans: Vec<TreeSpan>) -> Vec<(String, i64)> {
        let tree = TraceTree::new(spans);
        let root = tree.roots()[0];
        let own = critical_path(&tree, root);
        let mut out: Vec<(String, i64)> = own
            .iter()
            .enumerate()
            .filter(|(_, ns)| **ns != 0)
            .map(|(i, ns)| (tree.span(i).span_id.clone(), *ns))
            .collect();
        out.sort();
        out
    }

    fn pairs(v: &[(&str, i64)]) -> Vec<(String, i64)> {
        v.iter().map(|(s, n)| (s.to_string(), *n)).collect()
    }

    #[test]
    fn sequential_chain_with_gaps() {
        let got = by_id(vec![
            span("root", None, 0, 100),
            span("a", Some("root"), 10, 40),
            span("b", Some("root"), 50, 90),
        ]);
        // root owns the gaps 0-10, 40-50 and 90-100.
        assert_eq!(got, pairs(&[("a", 30), ("b", 40), ("root", 30)]));
    }

    #[test]
    fn shorter_parallel_branch_gets_nothing() {
        let got = by_id(vec![
            span("root", None, 0, 100),
            span("build", Some("root"), 0, 30),
            span("test", Some("root"), 30, 100),
            // Long (60) but always in parallel with the longer build → test chain.
            span("lint", Some("root"), 5, 65),
        ]);
        assert_eq!(got, pairs(&[("build", 30), ("test", 70)]));
    }

    #[test]
    fn nested_tasks_attribute_to_the_deepest_span() {
        let spans = vec![
            span("root", None, 0, 100),
            task("t1", "root", 0, 60),
            span("s1", Some("t1"), 0, 20),
            span("s2", Some("t1"), 20, 55),
            task("t2", "root", 60, 100),
            span("s3", Some("t2"), 70, 100),
        ];
        assert_eq!(
            by_id(spans.clone()),
            pairs(&[("s1", 20), ("s2", 35), ("s3", 30), ("t1", 5), ("t2", 10)])
        );
        let tree = TraceTree::new(spans);
        let own = critical_path(&tree, 0);
        let units = rollup(&tree, &own, |s| s.role.as_deref() == Some("task"));
        assert_eq!(units, vec![(1, 60), (4, 40)]);
        assert_eq!(critical_spans(&tree, 0), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn skewed_children_are_clamped_to_the_parent() {
        let got = by_id(vec![
            span("root", None, 100, 200),
            // Starts before the parent (clock skew): counts from 100.
            span("early", Some("root"), 50, 130),
            // Ends after the parent: counts until 200.
            span("late", Some("root"), 150, 260),
            // Entirely outside the parent: ignored.
            span("outside", Some("root"), 300, 400),
        ]);
        assert_eq!(got, pairs(&[("early", 30), ("late", 50), ("root", 20)]));
    }

    #[test]
    fn child_ending_after_parent_is_the_last_finisher() {
        let got = by_id(vec![
            span("root", None, 0, 100),
            span("a", Some("root"), 0, 80),
            span("b", Some("root"), 60, 150),
        ]);
        // b (clamped to 60-100) ends last; a overlaps b's start, so root owns 0-60.
        assert_eq!(got, pairs(&[("b", 40), ("root", 60)]));
    }

    #[test]
    fn zero_negative_and_cyclic_spans_are_safe() {
        let got = by_id(vec![
            span("root", None, 0, 100),
            span("zero", Some("root"), 50, 50),
            span("neg", Some("root"), 70, 20),
            span("x", Some("y"), 10, 20),
            span("y", Some("x"), 5, 30),
        ]);
        assert_eq!(got, pairs(&[("root", 100)]));
        // The cycle became the tree y → x and y can be walked as a root.
        let tree = TraceTree::new(vec![
            span("x", Some("y"), 10, 20),
            span("y", Some("x"), 5, 30),
        ]);
        assert_eq!(critical_path(&tree, 1), vec![10, 15]);
        assert_eq!(critical_path(&tree, 7), vec![0, 0]);
        let neg_root = TraceTree::new(vec![span("r", None, 10, 0)]);
        assert_eq!(critical_path(&neg_root, 0), vec![0]);
    }

    #[test]
    fn rollup_counts_units_off_the_path_as_zero() {
        let tree = TraceTree::new(vec![
            span("root", None, 0, 100),
            task("fast", "root", 0, 10),
            task("slow", "root", 0, 100),
        ]);
        let own = critical_path(&tree, 0);
        let units = rollup(&tree, &own, |s| s.role.is_some());
        assert_eq!(units, vec![(1, 0), (2, 100)]);
    }

    /// Spans of an OTLP/JSON file, read just far enough for this test (the real decoder
    /// lives in `source`).
    fn otlp_spans(path: &str) -> Option<Vec<TreeSpan>> {
        let text = std::fs::read_to_string(path).ok()?;
        let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
        let str_of = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("").to_string();
        let mut out = Vec::new();
        for rs in doc["resourceSpans"].as_array()? {
            for ss in rs["scopeSpans"].as_array()? {
                for s in ss["spans"].as_array()? {
                    let parent = str_of(s, "parentSpanId");
                    out.push(TreeSpan {
                        span_id: str_of(s, "spanId"),
                        parent_span_id: (!parent.is_empty()).then_some(parent),
                        name: str_of(s, "name"),
                        start_ns: str_of(s, "startTimeUnixNano").parse().ok()?,
                        end_ns: str_of(s, "endTimeUnixNano").parse().ok()?,
                        ..TreeSpan::default()
                    });
                }
            }
        }
        Some(out)
    }

    #[test]
    fn real_github_job_trace_with_steps_outside_their_parent() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/real/collector-contrib/workflow-job-expected.json"
        );
        let Some(spans) = otlp_spans(path) else {
            eprintln!("note: {path} not available, skipping");
            return;
        };
        let tree = TraceTree::new(spans);
        // The job span's parent (the run) is not in the file: it is an orphan root.
        assert_eq!(tree.roots().len(), 1);
        let root = tree.roots()[0];
        assert_eq!(tree.span(root).name, "test (1.23)");
        let own = critical_path(&tree, root);
        assert_eq!(own.iter().sum::<i64>(), 87_000_000_000);
        // The receiver hangs the steps under the 5 s queue span, though most of them run
        // after it ended: the queue span's extent covers them, so the steps (the test
        // run above all) carry the job's critical time, not the job span itself.
        let named = |name: &str| {
            let i = tree
                .spans()
                .iter()
                .position(|s| s.name == name)
                .unwrap_or(usize::MAX);
            own.get(i).copied().unwrap_or(-1)
        };
        assert_eq!(named("Make test-all"), 74_000_000_000);
        assert_eq!(named("Set up job"), 2_000_000_000);
        assert_eq!(named("Upload coverage to Codecov"), 3_000_000_000);
        // Its own time: waiting for the runner, and the gaps between steps.
        assert_eq!(named("queue-test (1.23)"), 5_000_000_000);
    }

    /// Random traces: up to 40 spans, random parents (including missing ids and cycles),
    /// random intervals (including negative durations and skew).
    fn arb_trace() -> impl Strategy<Value = Vec<TreeSpan>> {
        prop::collection::vec((0usize..45, -50i64..1000, -50i64..1000), 1..40).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (p, s, e))| {
                    let parent = (i > 0 && p != 44).then(|| format!("s{p}"));
                    span(&format!("s{i}"), parent.as_deref(), s, e)
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn critical_time_sums_to_root_duration(spans in arb_trace()) {
            let tree = TraceTree::new(spans);
            for &root in tree.roots() {
                let own = critical_path(&tree, root);
                prop_assert!(own.iter().all(|&ns| ns >= 0));
                prop_assert_eq!(own.iter().sum::<i64>(), tree.span(root).duration_ns());
                let units = rollup(&tree, &own, |_| true);
                prop_assert_eq!(units.len(), tree.len());
            }
        }
    }
}
