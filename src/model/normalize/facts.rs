//! Per-span facts: one pass over a span's attributes and one over its resource, looking
//! every key up in an index built once from the conventions table. The result is, for
//! each row of the table, the best-ranked attribute found (by position, not by copy, so
//! nothing is allocated per span).

use std::collections::HashMap;

use crate::model::conventions::{Conventions, Group, Scope};
use crate::model::span::{Outcome, Span};

/// Emitter-specific keys rank after every `[keys]` entry.
const EMITTER_BASE: u32 = 1 << 20;

/// Where one row's value was found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Hit {
    /// Lower is better: `2 * key priority`, plus one when found on the resource.
    pub rank: u32,
    pub from_resource: bool,
    /// Index into `Span::attributes` or `Span::resource`.
    pub idx: usize,
    /// For result rows: what the value means (values that mean nothing are not hits).
    pub outcome: Option<Outcome>,
}

/// The best hit per row of the conventions table for one span.
#[derive(Debug, Clone)]
pub(super) struct SpanFacts {
    hits: [Option<Hit>; Group::COUNT],
}

impl SpanFacts {
    pub fn hit(&self, g: Group) -> Option<Hit> {
        self.hits[g as usize]
    }

    pub fn has(&self, g: Group) -> bool {
        self.hits[g as usize].is_some()
    }

    /// Whether the row was found in the span's own attributes.
    pub fn on_span(&self, g: Group) -> bool {
        self.hit(g).is_some_and(|h| !h.from_resource)
    }

    /// The trimmed value of the row's best hit.
    pub fn value<'s>(&self, g: Group, span: &'s Span) -> Option<&'s str> {
        self.hit(g)
            .and_then(|h| pair(span, h))
            .map(|(_, v)| v.trim())
    }

    /// Keeps `at` as the row's hit if it ranks better and (for result rows) means
    /// something; `k`/`v` are the attribute at `at`.
    fn offer(&mut self, conv: &Conventions, g: Group, at: Hit, k: &str, v: &str) {
        let v = v.trim();
        if v.is_empty() {
            return;
        }
        if let Some(old) = self.hits[g as usize]
            && old.rank <= at.rank
        {
            return;
        }
        let outcome = if g.is_result() {
            match conv.outcome_of(k, v) {
                Some(o) => Some(o),
                // "in_progress", "running": not a result, let a lower-ranked key speak.
                None => return,
            }
        } else {
            None
        };
        self.hits[g as usize] = Some(Hit { outcome, ..at });
    }
}

fn pair(span: &Span, h: Hit) -> Option<&(String, String)> {
    if h.from_resource {
        span.resource.get(h.idx)
    } else {
        span.attributes.get(h.idx)
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    group: Group,
    prio: u32,
    scope: Scope,
}

#[derive(Debug, Clone)]
struct EmitterKey {
    group: Group,
    prio: u32,
    key: String,
    scope: Scope,
}

fn place(rank: u32, from_resource: bool, idx: usize) -> Hit {
    Hit {
        rank,
        from_resource,
        idx,
        outcome: None,
    }
}

/// key → rows it belongs to, built once per normaliser.
#[derive(Debug, Clone)]
pub(super) struct KeyIndex {
    map: HashMap<String, Vec<Entry>>,
    /// service.name → the keys that count for that emitter only.
    emitters: Vec<(String, Vec<EmitterKey>)>,
}

impl KeyIndex {
    pub fn build(conv: &Conventions) -> KeyIndex {
        let mut map: HashMap<String, Vec<Entry>> = HashMap::new();
        for g in Group::ALL {
            for (prio, spec) in conv.keys(g).iter().enumerate() {
                map.entry(spec.key.clone()).or_default().push(Entry {
                    group: g,
                    prio: prio as u32,
                    scope: spec.scope,
                });
            }
        }
        let emitters = conv
            .emitter_keys()
            .iter()
            .map(|(service, rows)| {
                let mut flat = Vec::new();
                for g in Group::ALL {
                    for (prio, spec) in rows[g as usize].iter().enumerate() {
                        flat.push(EmitterKey {
                            group: g,
                            prio: prio as u32,
                            key: spec.key.clone(),
                            scope: spec.scope,
                        });
                    }
                }
                (service.clone(), flat)
            })
            .collect();
        KeyIndex { map, emitters }
    }

    /// Scans one span: each attribute is hashed once.
    pub fn scan(&self, conv: &Conventions, span: &Span) -> SpanFacts {
        let mut f = SpanFacts {
            hits: [None; Group::COUNT],
        };
        for (i, (k, v)) in span.attributes.iter().enumerate() {
            if let Some(entries) = self.map.get(k.as_str()) {
                for e in entries.iter().filter(|e| e.scope == Scope::Any) {
                    f.offer(conv, e.group, place(e.prio * 2, false, i), k, v);
                }
            }
        }
        for (i, (k, v)) in span.resource.iter().enumerate() {
            if let Some(entries) = self.map.get(k.as_str()) {
                for e in entries {
                    f.offer(conv, e.group, place(e.prio * 2 + 1, true, i), k, v);
                }
            }
        }
        if !self.emitters.is_empty() {
            self.scan_emitter(conv, span, &mut f);
        }
        f
    }

    fn scan_emitter(&self, conv: &Conventions, span: &Span, f: &mut SpanFacts) {
        let service = span
            .resource_attr("service.name")
            .or(span.service.as_deref());
        let Some(service) = service else { return };
        for (name, rows) in &self.emitters {
            if name != service {
                continue;
            }
            for e in rows {
                let rank = EMITTER_BASE + e.prio * 2;
                if e.scope == Scope::Any
                    && let Some(i) = span.attributes.iter().position(|(k, _)| *k == e.key)
                {
                    f.offer(
                        conv,
                        e.group,
                        place(rank, false, i),
                        &e.key,
                        &span.attributes[i].1,
                    );
                }
                if let Some(i) = span.resource.iter().position(|(k, _)| *k == e.key) {
                    f.offer(
                        conv,
                        e.group,
                        place(rank + 1, true, i),
                        &e.key,
                        &span.resource[i].1,
                    );
                }
            }
        }
    }
}
