//! The parent/child structure of one trace's spans, safe against bad data: duplicate
//! span ids keep the first, self-parents and parent cycles are cut, and spans whose
//! parent is not in this batch start their own subtree.

use std::collections::HashMap;

use crate::model::span::Span;

/// Parent and child links by index, plus an order that visits parents before children.
#[derive(Debug, Clone)]
pub(super) struct Tree {
    pub parent: Vec<Option<usize>>,
    pub children: Vec<Vec<usize>>,
    pub order: Vec<usize>,
}

impl Tree {
    pub fn build(spans: &[Span]) -> Tree {
        let n = spans.len();
        let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(n);
        for (i, s) in spans.iter().enumerate() {
            by_id.entry(s.span_id.as_str()).or_insert(i);
        }
        let mut parent: Vec<Option<usize>> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.parent_span_id
                    .as_deref()
                    .and_then(|p| by_id.get(p).copied())
                    .filter(|&p| p != i)
            })
            .collect();
        let mut children = vec![Vec::new(); n];
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                children[*p].push(i);
            }
        }
        let mut order = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        let starts: Vec<usize> = (0..n).filter(|&i| parent[i].is_none()).collect();
        for s in starts {
            visit(s, &children, &mut seen, &mut order);
        }
        // Whatever is left sits on a parent cycle: cut the link of the first member met
        // and walk from there.
        for i in 0..n {
            if !seen[i] {
                if let Some(p) = parent[i].take() {
                    children[p].retain(|&c| c != i);
                }
                visit(i, &children, &mut seen, &mut order);
            }
        }
        Tree {
            parent,
            children,
            order,
        }
    }
}

fn visit(start: usize, children: &[Vec<usize>], seen: &mut [bool], order: &mut Vec<usize>) {
    let mut stack = vec![start];
    while let Some(i) = stack.pop() {
        if seen[i] {
            continue;
        }
        seen[i] = true;
        order.push(i);
        stack.extend(children[i].iter().rev().copied().filter(|&c| !seen[c]));
    }
}
