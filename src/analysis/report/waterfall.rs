//! The report's waterfall: the critical path of the most recent successful run, with
//! the spans that ran beside the path folded into one row per parent (a run with
//! hundreds of parallel tests draws its chain, not every span). `analysis::critical_path`
//! finds the path; `render::svg::waterfall` draws the rows.

use serde::Serialize;

use crate::analysis::critical_path::{critical_path, pipeline_root};
use crate::analysis::stats::round3;
use crate::model::tree::TraceTree;
use crate::query::{Engine, QueryError, load};

/// One bar of the critical-path waterfall (seconds from the run's start): a span on
/// the path, or (`off_path` > 0) the children of one path span that are off it, folded
/// into one row covering their extent.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub name: String,
    pub role: String,
    pub depth: u32,
    pub start_s: f64,
    pub end_s: f64,
    /// How many spans this folded row stands for (the off-path children and everything
    /// below them); absent for a span on the path.
    #[serde(skip_serializing_if = "is_zero")]
    pub off_path: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The most recent successful run's critical path (any run when none succeeded).
/// Runs are taken one at a time off the store; only the best so far is kept.
pub(super) async fn recent(engine: &Engine) -> Result<Option<(String, Vec<Bar>)>, QueryError> {
    let best = load::fold_pipeline_traces(
        engine,
        || None::<((bool, i64), load::LoadedTrace, usize)>,
        |best, trace| {
            let Some(root) = pipeline_root(&trace.tree) else {
                return;
            };
            let span = trace.tree.span(root);
            let rank = (span.outcome.as_deref() == Some("pass"), span.start_ns);
            // Ties go to the later run in key order, as `max_by_key` did.
            if best.as_ref().is_none_or(|(top, _, _)| rank >= *top) {
                *best = Some((rank, trace, root));
            }
        },
    )
    .await?;
    Ok(best.map(|(_, trace, root)| (trace.trace_id.clone(), waterfall(&trace.tree, root))))
}

/// The waterfall rows of `root`'s critical path: every span that is on it or has
/// descendants on it, depth-first, each followed (after its own path children) by one
/// folded row for its children that are off the path, so a run with hundreds of
/// parallel tests draws the chain plus a row per parent, not every span.
fn waterfall(tree: &TraceTree, root: usize) -> Vec<Bar> {
    let own = critical_path(tree, root);
    // A span is drawn when it, or something below it, spends time on the path.
    let mut on_path = vec![false; tree.len()];
    let subtree: Vec<usize> = std::iter::once(root)
        .chain(tree.descendants(root))
        .collect();
    for &i in subtree.iter().rev() {
        on_path[i] = own[i] > 0 || tree.children(i).iter().any(|&c| on_path[c]);
    }
    let t0 = tree.span(root).start_ns;
    let seconds = |ns: i64| round3((ns - t0) as f64 / 1e9);
    enum Item {
        Span(usize, u32),
        Folded(usize, u32),
    }
    let mut bars = Vec::new();
    let mut stack = vec![Item::Span(root, 0)];
    while let Some(item) = stack.pop() {
        match item {
            Item::Span(i, depth) => {
                let s = tree.span(i);
                bars.push(Bar {
                    name: s
                        .task
                        .clone()
                        .filter(|_| s.role.as_deref() == Some("task"))
                        .unwrap_or_else(|| s.name.clone()),
                    role: s.role.clone().unwrap_or_default(),
                    depth,
                    start_s: seconds(s.start_ns),
                    end_s: seconds(s.end_ns),
                    off_path: 0,
                });
                let children = tree.children(i);
                if children.iter().any(|&c| !on_path[c]) {
                    stack.push(Item::Folded(i, depth + 1));
                }
                for &c in children.iter().rev().filter(|&&c| on_path[c]) {
                    stack.push(Item::Span(c, depth + 1));
                }
            }
            Item::Folded(parent, depth) => {
                let off: Vec<usize> = tree
                    .children(parent)
                    .iter()
                    .copied()
                    .filter(|&c| !on_path[c])
                    .collect();
                let count: usize = off.iter().map(|&c| 1 + tree.descendants(c).count()).sum();
                let start = off
                    .iter()
                    .map(|&c| tree.span(c).start_ns)
                    .min()
                    .unwrap_or(t0);
                let end = off.iter().map(|&c| tree.span(c).end_ns).max().unwrap_or(t0);
                bars.push(Bar {
                    name: if count == 1 {
                        "1 span off the critical path".into()
                    } else {
                        format!("{count} spans off the critical path")
                    },
                    role: "folded".into(),
                    depth,
                    start_s: seconds(start),
                    end_s: seconds(end.max(start)),
                    off_path: count as u64,
                });
            }
        }
    }
    bars
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tree::TreeSpan;

    const S: i64 = 1_000_000_000;

    #[test]
    fn spans_off_the_path_fold_into_one_row_per_parent() {
        let mut spans = vec![
            TreeSpan::for_test("run", None, 0, 20 * S),
            TreeSpan::for_test("build", Some("run"), 0, 10 * S),
            TreeSpan::for_test("lint", Some("run"), 0, 3 * S),
            TreeSpan::for_test("docs", Some("run"), 0, 2 * S),
            TreeSpan::for_test("docs-page", Some("docs"), 0, S),
            TreeSpan::for_test("tests", Some("run"), 10 * S, 20 * S),
        ];
        // 100 tests in parallel; the 9 s one decides when `tests` ends.
        for k in 0..100 {
            let end = if k == 42 {
                20 * S
            } else {
                11 * S + k * S / 100
            };
            spans.push(TreeSpan::for_test(
                &format!("t{k}"),
                Some("tests"),
                11 * S,
                end,
            ));
        }
        let tree = TraceTree::new(spans);
        let bars = waterfall(&tree, 0);
        let rows: Vec<(&str, u32, u64)> = bars
            .iter()
            .map(|b| (b.name.as_str(), b.depth, b.off_path))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("run", 0, 0),
                ("build", 1, 0),
                ("tests", 1, 0),
                ("t42", 2, 0),
                ("99 spans off the critical path", 2, 99),
                ("3 spans off the critical path", 1, 3),
            ]
        );
        let folded = &bars[5];
        assert_eq!((folded.start_s, folded.end_s), (0.0, 3.0));
        assert_eq!((bars[4].start_s, bars[4].end_s), (11.0, 11.99));
    }
}
