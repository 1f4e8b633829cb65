//! The CI normaliser: fills `Span.ci` (role, pipeline, run, attempt, task, test, suite,
//! environment, outcome, branch, commit, repo, trigger, pull request) from each span's attributes, its resource, its name
//! and its place in the trace, following the conventions table
//! (`model::conventions`, spec: CONVENTIONS.md).
//!
//! One trace at a time, in four steps:
//! 1. per-span facts (`facts`): one pass over each span's attributes and resource
//!    against a key index built once in [`Normalizer::new`];
//! 2. roles (`roles`): own facts first, then corrected by position in the tree
//!    (`model::tree`, the builder the analyses use too, so a repaired trace has the
//!    same roots here as there), plus the task/test/suite names and the outcome;
//! 3. deployments (`deployments`): the environment of deploy tasks and pipelines;
//! 4. trace-level facts (`propagate`): pipeline, run id, attempt, branch, commit, repo,
//!    trigger and pull request found anywhere in the trace, copied onto every span.
//!
//! Decisions worth knowing:
//! - outcome is set only on spans with a role: the result attribute for that role, else
//!   the span status (error → fail, anything else → pass);
//! - a GitLab job that failed with `gitlab.job.allow_failure=true` keeps outcome `fail`:
//!   the job did fail, the span table has no "tolerated" value, and the pipeline's own
//!   result already says whether the failure mattered (the attribute stays queryable);
//! - a task with no result of its own fails when one of its steps failed, a pipeline
//!   when one of its tasks did (Tekton-style scripts mark only the failing command);
//!   a child allowed to fail (`allow_failure` row) does not count;
//! - test retries get no column: analyses order executions within a run;
//! - values are data: trimmed, `refs/heads/` stripped from branches, nothing else.

mod deployments;
mod facts;
mod propagate;
mod roles;

#[cfg(test)]
mod tests;

/// Spans whose format has no resource (beyond the service name), so their tags carry
/// the resource attributes.
fn flattens_resource(span: &Span) -> bool {
    span.source == Some(SourceKind::Zipkin)
}

use crate::model::conventions::Conventions;
use crate::model::span::{SourceKind, Span};
use crate::model::tree::Links;

pub use propagate::TraceFacts;

use facts::{KeyIndex, SpanFacts};

/// Fills the CI columns of spans, one trace at a time. Build once, reuse for every
/// trace: construction indexes the conventions table.
#[derive(Debug, Clone)]
pub struct Normalizer {
    conventions: Conventions,
    index: KeyIndex,
}

impl Normalizer {
    /// Indexes `conventions` (key → rows) so each span costs one hash lookup per
    /// attribute.
    pub fn new(conventions: Conventions) -> Normalizer {
        let index = KeyIndex::build(&conventions);
        Normalizer { conventions, index }
    }

    /// Normalises all spans of ONE trace in place: per-span facts, then the
    /// tree-dependent roles, then trace-level propagation. `known` carries facts
    /// already learned about this trace from an earlier batch (spans of one trace can
    /// arrive in several batches); the returned [`TraceFacts`] merges `known` and what
    /// this batch found.
    ///
    /// When no run id is found anywhere (nor in `known`), a CI trace's run id is its
    /// trace id and its attempt 1; those fallbacks are not in the returned facts.
    pub fn normalize_trace(&self, spans: &mut [Span], known: Option<&TraceFacts>) -> TraceFacts {
        // Zipkin has no resource: OpenTelemetry's Zipkin exporter writes the resource
        // attributes as tags of every span. While normalising, the tags are read as the
        // resource too, so that resource-only keys (Tekton's `pipeline.name`,
        // `task.name`) mean what they mean in OTLP; the stored resource is left as it was.
        let flattened: Vec<(usize, usize)> = (0..spans.len())
            .filter(|&i| flattens_resource(&spans[i]))
            .map(|i| (i, spans[i].resource.len()))
            .collect();
        for &(i, _) in &flattened {
            let tags = spans[i].attributes.clone();
            spans[i].resource.extend(tags);
        }
        let trace = self.normalize_spans(spans, known);
        for &(i, own) in &flattened {
            spans[i].resource.truncate(own);
        }
        trace
    }

    fn normalize_spans(&self, spans: &mut [Span], known: Option<&TraceFacts>) -> TraceFacts {
        let facts: Vec<SpanFacts> = spans
            .iter()
            .map(|s| self.index.scan(&self.conventions, s))
            .collect();
        let tree = Links::build(spans);
        let assigned = roles::assign(spans, &facts, &self.conventions, &tree);
        let environments = deployments::environments(spans, &facts, &assigned, &self.conventions);
        let (trace, is_ci) = propagate::gather(spans, &facts, &assigned, known, &self.conventions);

        for ((span, a), environment) in spans.iter_mut().zip(assigned).zip(environments) {
            let ci = &mut span.ci;
            ci.role = a.role;
            ci.task = a.task;
            ci.test = a.test;
            ci.test_id = a.test_id;
            ci.suite = a.suite;
            ci.outcome = a.outcome;
            ci.environment = environment;
            ci.pipeline.clone_from(&trace.pipeline);
            ci.run_id.clone_from(&trace.run_id);
            ci.attempt = trace.attempt;
            ci.branch.clone_from(&trace.branch);
            ci.commit.clone_from(&trace.commit);
            ci.repo.clone_from(&trace.repo);
            ci.trigger.clone_from(&trace.trigger);
            ci.change_id.clone_from(&trace.change_id);
            ci.change_title.clone_from(&trace.change_title);
            ci.base_branch.clone_from(&trace.base_branch);
            if is_ci {
                if ci.run_id.is_none() && !span.trace_id.is_empty() {
                    ci.run_id = Some(span.trace_id.clone());
                }
                ci.attempt.get_or_insert(1);
            }
        }
        trace
    }
}
