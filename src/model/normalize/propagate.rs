//! Trace-level facts (pipeline, run id, attempt, branch, commit, repo, trigger, pull
//! request and its base branch): found anywhere in a trace and copied onto every span
//! of it, so queries never join back to the root.
//!
//! Priority per fact: the pipeline span's own value (span attributes, then resource),
//! then the root span's, then any other span's, earliest start first. Facts already
//! known from an earlier batch of the same trace fill what this batch lacks. Fallbacks
//! when a trace has CI meaning but no value: the root's `service.name` as pipeline
//! name, the trace id as run id ("each trace is a run"), attempt 1. The run-id and
//! attempt fallbacks are not part of the returned facts, which hold what was *found*.

use crate::model::conventions::{Conventions, Group};
use crate::model::span::{Role, Span};

use super::facts::SpanFacts;
use super::roles::Assigned;

/// Trace-level facts propagated to every span: pipeline, run_id, attempt, branch,
/// commit, repo, trigger, change_id, change_title, base_branch. Returned by `Normalizer::normalize_trace` so that a later batch of the
/// same trace can be given what an earlier one found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceFacts {
    pub pipeline: Option<String>,
    pub run_id: Option<String>,
    pub attempt: Option<i32>,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub repo: Option<String>,
    /// Trigger class (`model::deployment`).
    pub trigger: Option<String>,
    pub change_id: Option<String>,
    pub change_title: Option<String>,
    pub base_branch: Option<String>,
}

impl TraceFacts {
    fn is_empty(&self) -> bool {
        *self == TraceFacts::default()
    }

    /// Fills each missing fact from `other`.
    fn fill_from(&mut self, other: &TraceFacts) {
        fill(&mut self.pipeline, &other.pipeline);
        fill(&mut self.run_id, &other.run_id);
        if self.attempt.is_none() {
            self.attempt = other.attempt;
        }
        fill(&mut self.branch, &other.branch);
        fill(&mut self.commit, &other.commit);
        fill(&mut self.repo, &other.repo);
        fill(&mut self.trigger, &other.trigger);
        fill(&mut self.change_id, &other.change_id);
        fill(&mut self.change_title, &other.change_title);
        fill(&mut self.base_branch, &other.base_branch);
    }
}

fn fill(slot: &mut Option<String>, from: &Option<String>) {
    if slot.is_none() {
        slot.clone_from(from);
    }
}

/// The facts of this batch (merged with `known`), and whether the trace is a CI trace
/// (which switches on the run-id and attempt fallbacks).
pub(super) fn gather(
    spans: &[Span],
    facts: &[SpanFacts],
    assigned: &[Assigned],
    known: Option<&TraceFacts>,
    conv: &Conventions,
) -> (TraceFacts, bool) {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    // Pipeline spans first, then roots, then the rest; earliest start first in each.
    order.sort_by_key(|&i| {
        let tier = if assigned[i].role == Some(Role::Pipeline) {
            0
        } else if spans[i].parent_span_id.is_none() {
            1
        } else {
            2
        };
        (tier, spans[i].start_ns, i)
    });

    let mut found = TraceFacts::default();
    for &i in &order {
        let (s, f) = (&spans[i], &facts[i]);
        if found.pipeline.is_none() {
            found.pipeline = pipeline_name(s, f, &assigned[i]);
        }
        if found.run_id.is_none() {
            found.run_id = run_id(s, f);
        }
        if found.attempt.is_none() {
            found.attempt = attempt(s, f);
        }
        if found.branch.is_none() {
            found.branch = f
                .value(Group::Branch, s)
                .map(strip_heads)
                .filter(|b| !b.is_empty());
        }
        if found.commit.is_none() {
            found.commit = f.value(Group::Commit, s).map(str::to_string);
        }
        if found.repo.is_none() {
            found.repo = f.value(Group::Repo, s).map(str::to_string);
        }
        if found.trigger.is_none() {
            found.trigger = f
                .value(Group::Trigger, s)
                .and_then(|v| conv.deployment_rules().trigger_class(v));
        }
        if found.change_id.is_none() {
            found.change_id = f.value(Group::ChangeId, s).map(change_number);
        }
        if found.change_title.is_none() {
            found.change_title = f.value(Group::ChangeTitle, s).map(str::to_string);
        }
        if found.base_branch.is_none() {
            found.base_branch = f
                .value(Group::BaseBranch, s)
                .map(strip_heads)
                .filter(|b| !b.is_empty());
        }
    }

    let has_role = assigned.iter().any(|a| a.role.is_some());
    let is_ci = has_role
        || found.pipeline.is_some()
        || found.run_id.is_some()
        || found.attempt.is_some()
        || known.is_some_and(|k| !k.is_empty());
    if let Some(k) = known {
        found.fill_from(k);
    }
    if found.pipeline.is_none() && has_role {
        found.pipeline = order
            .iter()
            .find(|&&i| spans[i].parent_span_id.is_none())
            .and_then(|&i| {
                let s = &spans[i];
                s.resource_attr("service.name").or(s.service.as_deref())
            })
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string);
    }
    (found, is_ci)
}

/// The pipeline name a span offers. The githubreceiver puts the *job* name in its job
/// resource's `cicd.pipeline.name`: a value equal to the enclosing task's name is not a
/// pipeline name.
fn pipeline_name(s: &Span, f: &SpanFacts, a: &Assigned) -> Option<String> {
    let v = f.value(Group::Pipeline, s)?;
    if a.role != Some(Role::Pipeline) && a.enclosing_task.as_deref() == Some(v) {
        return None;
    }
    Some(v.to_string())
}

/// A run id; per-pipeline counters (Jenkins build numbers) are prefixed with their scope
/// as `<ci.pipeline.id>#<number>` so that runs of different jobs do not collide.
fn run_id(s: &Span, f: &SpanFacts) -> Option<String> {
    let id = f.value(Group::RunId, s)?;
    let is_counter = match (f.hit(Group::RunId), f.hit(Group::RunNumber)) {
        (Some(r), Some(n)) => r.idx == n.idx && r.from_resource == n.from_resource,
        _ => false,
    };
    match f.value(Group::RunScope, s) {
        Some(scope) if is_counter => Some(format!("{scope}#{id}")),
        _ => Some(id.to_string()),
    }
}

/// The attempt: an attempt key; else one more than the `/attempts/N` of the previous
/// attempt's URL; else 2 when a root span links to another trace (the githubreceiver
/// links a re-run to the previous attempt).
fn attempt(s: &Span, f: &SpanFacts) -> Option<i32> {
    if let Some(n) = f.value(Group::Attempt, s).and_then(parse_attempt) {
        return Some(n);
    }
    if let Some(n) = f
        .value(Group::PreviousAttemptUrl, s)
        .and_then(previous_attempt)
    {
        return n.checked_add(1);
    }
    let links_elsewhere = s
        .links
        .iter()
        .any(|l| !l.trace_id.is_empty() && l.trace_id != s.trace_id);
    (s.parent_span_id.is_none() && links_elsewhere).then_some(2)
}

fn parse_attempt(v: &str) -> Option<i32> {
    let n = match v.parse::<i64>() {
        Ok(n) => n,
        // Some exporters write numbers as doubles ("2.0").
        Err(_) => {
            let d = v.parse::<f64>().ok()?;
            if d.fract() != 0.0 || !d.is_finite() {
                return None;
            }
            d as i64
        }
    };
    i32::try_from(n).ok().filter(|n| *n >= 1)
}

fn previous_attempt(url: &str) -> Option<i32> {
    let mut parts = url.trim_end_matches('/').rsplit('/');
    let n = parts.next()?.parse::<i32>().ok()?;
    (parts.next()? == "attempts" && n >= 1).then_some(n)
}

/// A pull request number as a number: exporters that write numbers as doubles give
/// `42.0`, which is pull request 42. Anything else is kept as it is (`!42`, `PR-42`).
fn change_number(v: &str) -> String {
    match v.parse::<f64>() {
        Ok(d) if d.is_finite() && d.fract() == 0.0 && d.abs() < 1e15 && v.contains('.') => {
            format!("{}", d as i64)
        }
        _ => v.to_string(),
    }
}

/// Branch values sometimes arrive as full refs. Nothing else is touched: branch names
/// are data, however odd (`fix/../../etc/passwd` stays as it is).
fn strip_heads(v: &str) -> String {
    v.strip_prefix("refs/heads/").unwrap_or(v).to_string()
}
