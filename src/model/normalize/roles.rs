//! Roles and the names that go with them (task, test, suite), decided per span from its
//! own facts and then corrected by its position in the tree:
//!
//! - only the root-most pipeline candidate of a trace is the pipeline (receivers put
//!   `cicd.pipeline.*` on a resource shared by stage and job spans);
//! - a task below a task is a step (githubreceiver step spans carry
//!   `cicd.pipeline.task.name`); a span that is a task only through its *resource*
//!   (`task.name` of a Tekton-style script, the githubreceiver job resource) is a task
//!   only at the top of its subtree, and below a task it is a step when it is a command
//!   span (`command`/`exit_code`), otherwise nothing (the githubreceiver `queue-…` span);
//! - a Jenkins `Stage: <name>` holding `Parallel branch:` (or `Stage:`) children is a
//!   stage, one holding none is the unit of work: a task named `<name>`;
//! - a role-less child of the pipeline whose children are tasks is a stage (the GitLab
//!   receiver's stage spans carry no attributes at all).
//!
//! Columns: `task` is the task's own name on tasks, and the nearest enclosing task's
//! name on steps and tests; `test` only on tests, as the emitter named it, and `test_id`
//! its canonical identity (`model::test_id`) from the name, the test's own class and
//! file; `suite` on suites, and on tests from their own `test.classname`/`test.suite.name`
//! or else the nearest enclosing suite.

use crate::model::conventions::{Conventions, Group};
use crate::model::span::{Outcome, Role, Span, Status};
use crate::model::test_id::TestNames;
use crate::model::tree::Links;

use super::facts::SpanFacts;

/// What one span turned out to be.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Assigned {
    pub role: Option<Role>,
    pub task: Option<String>,
    pub test: Option<String>,
    pub test_id: Option<String>,
    pub suite: Option<String>,
    pub outcome: Option<Outcome>,
    /// Name of the nearest task at or above this span, whatever its role; used to
    /// recognise the githubreceiver job resource's `cicd.pipeline.name` (= job name).
    pub enclosing_task: Option<String>,
}

/// A span's role judged from its own facts, before the tree is consulted.
#[derive(Debug, Clone, PartialEq)]
enum Prelim {
    None,
    Pipeline,
    PipelineCandidate,
    Stage,
    /// Jenkins `Stage: <name>`, with the name after the prefix.
    NamedStage(String),
    Task {
        name: String,
        from_resource: bool,
    },
    Step,
    Command,
    Test,
    Suite,
}

fn prelim(span: &Span, f: &SpanFacts, conv: &Conventions) -> Prelim {
    let has_test = f.has(Group::Test) || f.has(Group::TestMarker);
    if let Some(scope) = f.value(Group::TestScope, span) {
        if scope.eq_ignore_ascii_case("suite") {
            return Prelim::Suite;
        }
        if scope.eq_ignore_ascii_case("run") {
            // junit's whole-report span: neither a suite nor a test.
            return Prelim::None;
        }
    }
    if has_test {
        return Prelim::Test;
    }
    let name = span.name.as_str();
    if f.has(Group::Suite) || conv.suite_names().iter().any(|n| n == name) {
        return Prelim::Suite;
    }
    if f.has(Group::Stage) {
        return Prelim::Stage;
    }
    if let Some(rest) = strip_any(name, conv.stage_prefixes()) {
        return Prelim::NamedStage(rest.to_string());
    }
    if let Some(rest) = strip_any(name, conv.task_prefixes()) {
        return Prelim::Task {
            name: rest.to_string(),
            from_resource: false,
        };
    }
    if f.has(Group::Task) || f.has(Group::TaskMarker) {
        let name = f.value(Group::Task, span).unwrap_or(name);
        return Prelim::Task {
            name: name.to_string(),
            from_resource: !(f.on_span(Group::Task) || f.on_span(Group::TaskMarker)),
        };
    }
    if f.has(Group::Step) {
        return Prelim::Step;
    }
    if f.has(Group::PipelineRootMarker) && span.parent_span_id.is_none() {
        return Prelim::Pipeline;
    }
    if f.has(Group::PipelineMarker) {
        return Prelim::PipelineCandidate;
    }
    if f.has(Group::Command) {
        return Prelim::Command;
    }
    Prelim::None
}

fn strip_any<'a>(name: &'a str, prefixes: &[String]) -> Option<&'a str> {
    prefixes
        .iter()
        .find_map(|p| name.strip_prefix(p.as_str()))
        .map(str::trim)
}

/// What a span passes down to its children.
#[derive(Debug, Clone, Copy, Default)]
struct Ctx {
    nearest_task: Option<usize>,
    nearest_suite: Option<usize>,
    pipeline_above: bool,
}

/// Assigns role, task/test/suite names and outcome to every span of one trace.
pub(super) fn assign(
    spans: &[Span],
    facts: &[SpanFacts],
    conv: &Conventions,
    tree: &Links,
) -> Vec<Assigned> {
    let n = spans.len();
    let prelims: Vec<Prelim> = spans
        .iter()
        .zip(facts)
        .map(|(s, f)| prelim(s, f, conv))
        .collect();
    let mut out = vec![Assigned::default(); n];
    let mut ctx = vec![Ctx::default(); n];

    // Parents before children: each span's rules read only what its ancestors (and
    // its children's own facts) say, so the order of siblings does not matter.
    for i in tree.preorder() {
        let up = tree.parent(i).map(|p| ctx[p]).unwrap_or_default();
        let (span, f) = (&spans[i], &facts[i]);
        let in_task = up.nearest_task.is_some();
        let enclosing_task = up.nearest_task.and_then(|t| out[t].task.clone());
        let mut here = up;
        let a = &mut out[i];
        match &prelims[i] {
            Prelim::None => {}
            Prelim::Pipeline => a.role = Some(Role::Pipeline),
            Prelim::PipelineCandidate => {
                if !up.pipeline_above {
                    a.role = Some(Role::Pipeline);
                }
            }
            Prelim::Stage => a.role = Some(Role::Stage),
            Prelim::NamedStage(name) => {
                let holds_branches = tree.children(i).iter().any(|&c| {
                    matches!(prelims[c], Prelim::NamedStage(_))
                        || strip_any(&spans[c].name, conv.task_prefixes()).is_some()
                });
                if holds_branches {
                    a.role = Some(Role::Stage);
                } else if in_task {
                    a.role = Some(Role::Step);
                } else {
                    a.role = Some(Role::Task);
                    a.task = Some(name.clone());
                }
            }
            Prelim::Task {
                name,
                from_resource,
            } => {
                // Tekton-style scripts chain tasks through a traceparent file, so the
                // next task's span sits below the previous task's: a resource whose task
                // name key names a *different* task starts a new task, not a step of the
                // enclosing one. (A task known only by a marker, like the GitHub
                // receiver's queue span, stays inside its job.)
                let another_task = *from_resource
                    && !f.has(Group::Command)
                    && f.value(Group::Task, span) == Some(name.as_str())
                    && enclosing_task
                        .as_deref()
                        .is_some_and(|t| t != name.as_str());
                // A command span of a Tekton-style task is a step even when its task
                // span is not in this batch (children are exported before their
                // parent ends, so a receiver may store them first).
                let command_step =
                    *from_resource && f.has(Group::Command) && span.parent_span_id.is_some();
                if command_step {
                    a.role = Some(Role::Step);
                } else if !in_task || another_task {
                    a.role = Some(Role::Task);
                    a.task = Some(name.clone());
                } else if !from_resource || f.has(Group::Command) {
                    a.role = Some(Role::Step);
                }
            }
            Prelim::Step => a.role = Some(Role::Step),
            Prelim::Command => {
                if in_task {
                    a.role = Some(Role::Step);
                }
            }
            Prelim::Test => {
                a.role = Some(Role::Test);
                let name = f.value(Group::Test, span).unwrap_or(&span.name);
                a.test = Some(name.to_string());
            }
            Prelim::Suite => {
                a.role = Some(Role::Suite);
                let name = f
                    .value(Group::Suite, span)
                    .or_else(|| f.value(Group::Test, span))
                    .unwrap_or(&span.name);
                a.suite = Some(name.to_string());
            }
        }
        match a.role {
            Some(Role::Pipeline) => here.pipeline_above = true,
            Some(Role::Task) => here.nearest_task = Some(i),
            Some(Role::Suite) => here.nearest_suite = Some(i),
            _ => {}
        }
        if prelims[i] == Prelim::PipelineCandidate {
            here.pipeline_above = true;
        }
        ctx[i] = here;
    }

    // Names from enclosing spans, now that every role is known.
    for i in tree.preorder() {
        let up = tree.parent(i).map(|p| ctx[p]).unwrap_or_default();
        let task_name = up.nearest_task.and_then(|t| out[t].task.clone());
        let suite_name = up.nearest_suite.and_then(|s| out[s].suite.clone());
        let a = &mut out[i];
        a.enclosing_task = if a.role == Some(Role::Task) {
            a.task.clone()
        } else {
            task_name.clone()
        };
        match a.role {
            Some(Role::Step) => {
                // Without its task span in the batch, a step still knows its task from
                // its resource.
                a.task = task_name
                    .or_else(|| facts[i].value(Group::Task, &spans[i]).map(str::to_string));
            }
            Some(Role::Test) => {
                let (span, f) = (&spans[i], &facts[i]);
                let class = f.value(Group::TestClass, span);
                a.task = task_name;
                a.suite = class
                    .or_else(|| f.value(Group::Suite, span))
                    .map(str::to_string)
                    .or(suite_name);
                // Only the test's own class and file qualify it: an enclosing suite span
                // is often a session ("Test Suite") or a report file, not a namespace.
                a.test_id = a.test.as_deref().map(|name| {
                    conv.test_id_rules().canonical(TestNames {
                        name,
                        class,
                        file: f.value(Group::TestFile, span),
                    })
                });
            }
            _ => {}
        }
    }

    // GitLab receiver stages: attribute-less children of the pipeline that hold tasks.
    for i in 0..n {
        let parent_is_pipeline = tree
            .parent(i)
            .is_some_and(|p| out[p].role == Some(Role::Pipeline));
        if out[i].role.is_none()
            && parent_is_pipeline
            && tree
                .children(i)
                .iter()
                .any(|&c| out[c].role == Some(Role::Task))
        {
            out[i].role = Some(Role::Stage);
        }
    }

    for i in 0..n {
        out[i].outcome = out[i].role.map(|r| outcome(r, &spans[i], &facts[i]));
    }
    out
}

/// The result attribute for the role, else the span status (error → fail, else pass).
fn outcome(role: Role, span: &Span, f: &SpanFacts) -> Outcome {
    let group = match role {
        Role::Pipeline => Group::PipelineResult,
        Role::Stage | Role::Task | Role::Step => Group::TaskResult,
        Role::Test | Role::Suite => Group::TestResult,
    };
    match f.hit(group).and_then(|h| h.outcome) {
        Some(o) => o,
        None if span.status == Status::Error => Outcome::Fail,
        None => Outcome::Pass,
    }
}
