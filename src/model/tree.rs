//! The one trace-tree builder: parent/child links over a trace's spans, repaired so
//! that every walk terminates. Both consumers of trace structure use it — the
//! normaliser ([`Links`] over its `Span`s, to judge roles by position) and the graph
//! analyses ([`TraceTree`] over [`TreeSpan`]s loaded by the query layer) — so they
//! always agree on which span is a root and which span is whose parent.
//!
//! Real traces are messy. The repair rule, applied in this order:
//!
//! 1. a duplicated span id resolves to its first occurrence (by index): later copies
//!    stay as nodes of their own, so no span is lost, but children attach to the first;
//! 2. a parent id that is not in the trace (an orphan) makes the span a root;
//! 3. a span that is its own parent is a root;
//! 4. every other cycle in parent links is cut at the cycle's earliest-starting span
//!    (ties broken by index), which becomes a root: of the spans on a cycle, the
//!    earliest is the most plausible real ancestor of the others.
//!
//! After that the links form a forest. Children and roots are ordered by start time,
//! then end time, then index, so walks are deterministic. Times are not repaired here
//! (children outside their parent, end before start): each analysis says how it treats
//! them.

use std::collections::HashMap;

use crate::model::span::Span;

/// What the builder reads of a span: its id, its parent's id and its times (for the
/// cycle cut and the order of siblings).
pub trait Linked {
    fn span_id(&self) -> &str;
    fn parent_span_id(&self) -> Option<&str>;
    /// Nanoseconds since the Unix epoch.
    fn start_ns(&self) -> i64;
    fn end_ns(&self) -> i64;
}

impl Linked for Span {
    fn span_id(&self) -> &str {
        &self.span_id
    }
    fn parent_span_id(&self) -> Option<&str> {
        self.parent_span_id.as_deref()
    }
    fn start_ns(&self) -> i64 {
        self.start_ns
    }
    fn end_ns(&self) -> i64 {
        self.end_ns
    }
}

impl Linked for TreeSpan {
    fn span_id(&self) -> &str {
        &self.span_id
    }
    fn parent_span_id(&self) -> Option<&str> {
        self.parent_span_id.as_deref()
    }
    fn start_ns(&self) -> i64 {
        self.start_ns
    }
    fn end_ns(&self) -> i64 {
        self.end_ns
    }
}

/// The repaired parent/child links of one trace's spans, by index into the slice given
/// to [`Links::build`] (see the module docs for the repair rule).
#[derive(Debug, Clone, Default)]
pub struct Links {
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    roots: Vec<usize>,
}

impl Links {
    /// Builds the links; never fails.
    pub fn build<S: Linked>(spans: &[S]) -> Links {
        let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(spans.len());
        for (i, s) in spans.iter().enumerate() {
            by_id.entry(s.span_id()).or_insert(i);
        }
        let mut parent: Vec<Option<usize>> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let p = *by_id.get(s.parent_span_id()?)?;
                (p != i).then_some(p)
            })
            .collect();
        break_cycles(spans, &mut parent);

        let mut children = vec![Vec::new(); spans.len()];
        let mut roots = Vec::new();
        for (i, p) in parent.iter().enumerate() {
            match p {
                Some(p) => children[*p].push(i),
                None => roots.push(i),
            }
        }
        let key = |i: usize| (spans[i].start_ns(), spans[i].end_ns(), i);
        for c in &mut children {
            c.sort_by_key(|&i| key(i));
        }
        roots.sort_by_key(|&i| key(i));
        Links {
            parent,
            children,
            roots,
        }
    }

    /// Number of spans.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True when there are no spans.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The parent of `i` after repairs (`None` for roots).
    pub fn parent(&self, i: usize) -> Option<usize> {
        self.parent[i]
    }

    /// Children of `i`, ordered by start time.
    pub fn children(&self, i: usize) -> &[usize] {
        &self.children[i]
    }

    /// Spans without a (present, non-cyclic) parent, ordered by start time.
    pub fn roots(&self) -> &[usize] {
        &self.roots
    }

    /// Every span, parents before their children: each root followed by its
    /// descendants. Walking it backwards visits children before parents.
    pub fn preorder(&self) -> impl Iterator<Item = usize> + '_ {
        self.roots
            .iter()
            .flat_map(|&r| std::iter::once(r).chain(self.descendants(r)))
    }

    /// Every span below `i` (not `i` itself), depth-first in child order.
    pub fn descendants(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.descendants_with_depth(i).map(|(d, _)| d)
    }

    /// Every span below `i` with its depth relative to `i` (children have depth 1),
    /// depth-first in child order.
    pub fn descendants_with_depth(&self, i: usize) -> impl Iterator<Item = (usize, u32)> + '_ {
        // An explicit stack: real traces can be deep enough to make recursion risky.
        let mut stack: Vec<(usize, u32)> = self.children[i].iter().rev().map(|&c| (c, 1)).collect();
        std::iter::from_fn(move || {
            let (node, depth) = stack.pop()?;
            stack.extend(self.children[node].iter().rev().map(|&c| (c, depth + 1)));
            Some((node, depth))
        })
    }
}

/// Cuts every cycle in `parent` so that it becomes a forest. Each cycle is cut at its
/// earliest-starting span (ties by index).
fn break_cycles<S: Linked>(spans: &[S], parent: &mut [Option<usize>]) {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; parent.len()];
    let mut path = Vec::new();
    for start in 0..parent.len() {
        path.clear();
        let mut cur = Some(start);
        while let Some(i) = cur {
            match state[i] {
                NEW => {
                    state[i] = ON_PATH;
                    path.push(i);
                    cur = parent[i];
                }
                ON_PATH => {
                    // `i` is on the current path: the path from `i` onwards is a cycle.
                    let from = path.iter().position(|&p| p == i).unwrap_or(0);
                    let cut = path[from..]
                        .iter()
                        .copied()
                        .min_by_key(|&p| (spans[p].start_ns(), p))
                        .unwrap_or(i);
                    parent[cut] = None;
                    cur = None;
                }
                _ => cur = None,
            }
        }
        for &p in &path {
            state[p] = DONE;
        }
    }
}

/// One span of a trace as the analyses need it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreeSpan {
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub name: String,
    /// Nanoseconds since the Unix epoch.
    pub start_ns: i64,
    pub end_ns: i64,
    /// The span's status is `error`.
    pub error: bool,
    /// `pipeline`, `stage`, `task`, `step`, `suite`, `test` or `None`.
    pub role: Option<String>,
    pub task: Option<String>,
    pub test: Option<String>,
    /// `pass`, `fail`, `skip`, `error`, `cancel`, `timeout` or `None`.
    pub outcome: Option<String>,
    pub attributes: Vec<(String, String)>,
}

impl TreeSpan {
    /// Duration in nanoseconds, never negative (clock skew can put end before start).
    pub fn duration_ns(&self) -> i64 {
        self.end_ns.saturating_sub(self.start_ns).max(0)
    }

    /// A span named after its id, for the graph analyses' tests.
    #[cfg(test)]
    pub(crate) fn for_test(id: &str, parent: Option<&str>, start_ns: i64, end_ns: i64) -> TreeSpan {
        TreeSpan {
            span_id: id.to_string(),
            parent_span_id: parent.map(str::to_string),
            name: id.to_string(),
            start_ns,
            end_ns,
            ..TreeSpan::default()
        }
    }
}

/// A trace's spans with their [`Links`] built once: what the graph analyses
/// (`critical_path`, `compare`, `bottlenecks`) walk by index.
///
/// Indexes are positions in the `Vec<TreeSpan>` given to [`TraceTree::new`].
#[derive(Debug, Clone)]
pub struct TraceTree {
    spans: Vec<TreeSpan>,
    links: Links,
}

impl TraceTree {
    /// Builds the links; never fails (see the module docs for what is repaired).
    pub fn new(spans: Vec<TreeSpan>) -> TraceTree {
        let links = Links::build(&spans);
        TraceTree { spans, links }
    }

    /// The tree of one pipeline run. A run without a pipeline span (Tekton-style task
    /// scripts: each task its own trace, tied by a run id) gets one, so the analyses
    /// walk it like any other run: a synthetic `pipeline` span, from the first span's
    /// start to the last span's end, parent of every task and of every other root (and
    /// orphan) of the run. Tasks hang from it directly: scripts that chain tasks through
    /// a traceparent file put each task below the previous one, which ended before it
    /// started, but they are steps of one pipeline, not of each other.
    pub fn for_run(spans: Vec<TreeSpan>, run_key: &str) -> TraceTree {
        let tree = TraceTree::new(spans);
        let has_pipeline = tree
            .spans
            .iter()
            .any(|s| s.role.as_deref() == Some("pipeline"));
        if has_pipeline || tree.spans.is_empty() {
            return tree;
        }
        let root_id = format!("{run_key}/pipeline");
        let mut is_root = vec![false; tree.spans.len()];
        for &r in tree.links.roots() {
            is_root[r] = true;
        }
        let mut spans = tree.spans;
        for (span, root) in spans.iter_mut().zip(is_root) {
            if root || span.role.as_deref() == Some("task") {
                span.parent_span_id = Some(root_id.clone());
            }
        }
        let start_ns = spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
        let end_ns = spans.iter().map(|s| s.end_ns).max().unwrap_or(start_ns);
        spans.push(TreeSpan {
            span_id: root_id,
            name: run_key.to_string(),
            start_ns,
            end_ns,
            role: Some("pipeline".into()),
            ..TreeSpan::default()
        });
        TraceTree::new(spans)
    }

    /// Number of spans.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when the trace has no spans.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The span at index `i`. Panics when `i` is out of range, like slice indexing.
    pub fn span(&self, i: usize) -> &TreeSpan {
        &self.spans[i]
    }

    /// All spans, in the order given to [`TraceTree::new`].
    pub fn spans(&self) -> &[TreeSpan] {
        &self.spans
    }

    /// The repaired links, shared with the normaliser's view of a trace.
    pub fn links(&self) -> &Links {
        &self.links
    }

    /// The parent of `i` after repairs (`None` for roots).
    pub fn parent(&self, i: usize) -> Option<usize> {
        self.links.parent(i)
    }

    /// Children of `i`, ordered by start time.
    pub fn children(&self, i: usize) -> &[usize] {
        self.links.children(i)
    }

    /// Spans without a (present, non-cyclic) parent, ordered by start time.
    pub fn roots(&self) -> &[usize] {
        self.links.roots()
    }

    /// Index of the first span with this id.
    pub fn find(&self, span_id: &str) -> Option<usize> {
        self.spans.iter().position(|s| s.span_id == span_id)
    }

    /// Every span, parents before their children: each root followed by its
    /// descendants. Walking it backwards visits children before parents.
    pub fn preorder(&self) -> impl Iterator<Item = usize> + '_ {
        self.links.preorder()
    }

    /// Every span below `i` (not `i` itself), depth-first in child order.
    pub fn descendants(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.links.descendants(i)
    }

    /// Every span below `i` with its depth relative to `i` (children have depth 1),
    /// depth-first in child order.
    pub fn descendants_with_depth(&self, i: usize) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.links.descendants_with_depth(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, start: i64, end: i64) -> TreeSpan {
        TreeSpan::for_test(id, parent, start, end)
    }

    fn ids(tree: &TraceTree, idx: impl IntoIterator<Item = usize>) -> Vec<String> {
        idx.into_iter()
            .map(|i| tree.span(i).span_id.clone())
            .collect()
    }

    #[test]
    fn builds_children_roots_and_descendants_in_start_order() {
        let tree = TraceTree::new(vec![
            span("b", Some("root"), 20, 30),
            span("root", None, 0, 100),
            span("a", Some("root"), 10, 15),
            span("a1", Some("a"), 11, 12),
        ]);
        assert_eq!(ids(&tree, tree.roots().iter().copied()), ["root"]);
        assert_eq!(ids(&tree, tree.children(1).iter().copied()), ["a", "b"]);
        assert_eq!(ids(&tree, tree.descendants(1)), ["a", "a1", "b"]);
        let depths: Vec<u32> = tree.descendants_with_depth(1).map(|(_, d)| d).collect();
        assert_eq!(depths, [1, 2, 1]);
        assert_eq!(tree.parent(3), Some(2));
        assert_eq!(tree.find("b"), Some(0));
    }

    #[test]
    fn orphans_become_roots() {
        let tree = TraceTree::new(vec![
            span("x", Some("missing"), 5, 6),
            span("r", None, 0, 9),
        ]);
        assert_eq!(ids(&tree, tree.roots().iter().copied()), ["r", "x"]);
    }

    #[test]
    fn cycles_are_cut_at_the_earliest_span() {
        let tree = TraceTree::new(vec![
            span("a", Some("c"), 10, 20),
            span("b", Some("a"), 5, 20),
            span("c", Some("b"), 12, 20),
            span("self", Some("self"), 0, 1),
            span("d", Some("c"), 13, 14),
        ]);
        assert_eq!(ids(&tree, tree.roots().iter().copied()), ["self", "b"]);
        assert_eq!(ids(&tree, tree.descendants(1)), ["c", "a", "d"]);
    }

    #[test]
    fn duplicate_ids_attach_children_to_the_first_copy() {
        let tree = TraceTree::new(vec![
            span("p", None, 0, 10),
            span("p", None, 0, 10),
            span("c", Some("p"), 1, 2),
        ]);
        assert_eq!(tree.roots(), [0, 1]);
        assert_eq!(tree.children(0), [2]);
        assert!(tree.children(1).is_empty());
        assert_eq!(tree.len(), 3);
    }

    #[test]
    fn a_cycle_is_cut_once_even_when_a_span_below_it_comes_first() {
        // "d" hangs off the cycle a -> b -> a and comes first in the batch: only the
        // cycle is cut, so "d" keeps its parent.
        let tree = TraceTree::new(vec![
            span("d", Some("a"), 30, 31),
            span("a", Some("b"), 20, 40),
            span("b", Some("a"), 10, 40),
        ]);
        assert_eq!(ids(&tree, tree.roots().iter().copied()), ["b"]);
        assert_eq!(ids(&tree, tree.preorder()), ["b", "a", "d"]);
    }

    #[test]
    fn a_cycle_of_equal_starts_is_cut_at_its_first_index() {
        let tree = TraceTree::new(vec![span("x", Some("y"), 5, 9), span("y", Some("x"), 5, 9)]);
        assert_eq!(tree.roots(), [0]);
        assert_eq!(tree.parent(1), Some(0));
    }

    #[test]
    fn links_over_model_spans_are_those_of_the_trace_tree() {
        let shapes = vec![
            vec![
                span("a", Some("c"), 10, 20),
                span("b", Some("a"), 5, 20),
                span("c", Some("b"), 12, 20),
                span("self", Some("self"), 0, 1),
            ],
            vec![
                span("p", None, 3, 10),
                span("p", Some("q"), 0, 10),
                span("q", Some("p"), 1, 2),
            ],
        ];
        for shape in shapes {
            let model: Vec<Span> = shape
                .iter()
                .map(|s| Span {
                    span_id: s.span_id.clone(),
                    parent_span_id: s.parent_span_id.clone(),
                    start_ns: s.start_ns,
                    end_ns: s.end_ns,
                    ..Span::default()
                })
                .collect();
            let links = Links::build(&model);
            let tree = TraceTree::new(shape);
            assert_eq!(links.roots(), tree.roots());
            let parents = |l: &Links| (0..l.len()).map(|i| l.parent(i)).collect::<Vec<_>>();
            assert_eq!(parents(&links), parents(tree.links()));
        }
    }

    #[test]
    fn negative_durations_read_as_zero() {
        assert_eq!(span("x", None, 10, 3).duration_ns(), 0);
        assert_eq!(span("x", None, i64::MIN, i64::MAX).duration_ns(), i64::MAX);
    }
}
