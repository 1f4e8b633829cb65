//! The `environment` column: which task and pipeline spans are deployments, and where to.
//!
//! A task deploys to:
//! 1. its own `environment` attribute (`deployment.environment.name`, …), or a
//!    task-scoped key (`cicd.pipeline.task.run.environment.name`) on the span or its
//!    resource;
//! 2. for a deploy task (`cicd.pipeline.task.type = deploy`, or a name with a deploy
//!    word), the `environment` key of its resource, else the environment its name
//!    names (`deploy-staging`, `Deploy to Production`).
//!
//! A pipeline deploys when its own span carries an environment, or its name is a deploy
//! name with an environment in it (a `Deploy to Production` workflow). When a task of the
//! trace deploys, the tasks are the deployments and the pipeline is not one: counting
//! both would count one deployment twice.
//!
//! A resource's `deployment.environment` on any other span is not a deployment: the
//! OpenTelemetry SDKs put it on every span of a service (`deployment.environment=ci`
//! on a test run's spans).

use crate::model::conventions::{Conventions, Group};
use crate::model::span::{Role, Span};

use super::facts::SpanFacts;
use super::roles::Assigned;

/// The environment of each span (None for all but deployments).
pub(super) fn environments(
    spans: &[Span],
    facts: &[SpanFacts],
    assigned: &[Assigned],
    conv: &Conventions,
) -> Vec<Option<String>> {
    let mut envs: Vec<Option<String>> = spans
        .iter()
        .zip(facts)
        .zip(assigned)
        .map(|((s, f), a)| match a.role {
            Some(Role::Task) => task_environment(s, f, a, conv),
            Some(Role::Pipeline) => pipeline_environment(s, f, conv),
            _ => None,
        })
        .collect();
    let a_task_deploys = envs
        .iter()
        .zip(assigned)
        .any(|(e, a)| e.is_some() && a.role == Some(Role::Task));
    if a_task_deploys {
        for (e, a) in envs.iter_mut().zip(assigned) {
            if a.role == Some(Role::Pipeline) {
                *e = None;
            }
        }
    }
    envs
}

fn task_environment(s: &Span, f: &SpanFacts, a: &Assigned, conv: &Conventions) -> Option<String> {
    let rules = conv.deployment_rules();
    let attribute = |g: Group| f.value(g, s).and_then(|v| rules.canonical_environment(v));
    if f.on_span(Group::Environment) {
        return attribute(Group::Environment);
    }
    if let Some(env) = attribute(Group::TaskEnvironment) {
        return Some(env);
    }
    let name = a.task.as_deref().unwrap_or(&s.name);
    let typed = f
        .value(Group::TaskType, s)
        .is_some_and(|t| rules.is_deploy_type(t));
    if !typed && !rules.names_a_deployment(name) {
        return None;
    }
    attribute(Group::Environment).or_else(|| rules.environment_in_name(name))
}

fn pipeline_environment(s: &Span, f: &SpanFacts, conv: &Conventions) -> Option<String> {
    let rules = conv.deployment_rules();
    if f.on_span(Group::Environment) {
        return f
            .value(Group::Environment, s)
            .and_then(|v| rules.canonical_environment(v));
    }
    let name = f.value(Group::Pipeline, s).unwrap_or(&s.name);
    if rules.names_a_deployment(name) {
        return rules.environment_in_name(name);
    }
    None
}
