//! A planned run in the GitHub Actions exporters' shapes (otel-cicd-action,
//! otel-export-trace-action): a workflow span with `github.*` keys (the PR's number
//! and base under `github.pull_requests.0.*` on PR runs), job spans with
//! `github.job.*`, and on deploy jobs `cicd.pipeline.task.type = deploy` with
//! `deployment.environment.name` where the workflow sets one. The resource names the
//! emitter (`service.name = otel-cicd-action`), whose repository is the resource's
//! `service.namespace` and whose commit is also its `service.version`.

use rand::Rng;
use rand::rngs::SmallRng;

use super::plan::{DEFAULT_BRANCH, JobResult, PlannedRun, Trigger};
use crate::synth::trace::{Kind, SpanStatus, SynthTrace, TraceBuilder, attrs};

const WORKFLOW_ID: i64 = 8_812;

fn conclusion(r: JobResult) -> &'static str {
    match r {
        JobResult::Success => "success",
        JobResult::Failure | JobResult::PlatformFailure => "failure",
        JobResult::Cancelled => "cancelled",
        JobResult::Skipped => "skipped",
    }
}

fn status(r: JobResult) -> SpanStatus {
    match r {
        JobResult::Success => SpanStatus::Ok,
        JobResult::Failure | JobResult::PlatformFailure => SpanStatus::Error,
        JobResult::Cancelled | JobResult::Skipped => SpanStatus::Unset,
    }
}

fn event(t: Trigger) -> &'static str {
    match t {
        Trigger::PullRequest => "pull_request",
        Trigger::Push => "push",
        Trigger::Manual => "workflow_dispatch",
        Trigger::Schedule => "schedule",
    }
}

/// The run as one trace.
pub(crate) fn trace(rng: &mut SmallRng, run: &PlannedRun) -> SynthTrace {
    let repo = run.repo.name;
    let mut b = TraceBuilder::new(rng);
    let res = b.resource(attrs! {
        // otel-cicd-action names itself as the service; the normaliser reads the
        // repository from service.namespace and the commit from service.version only
        // for that emitter, and the pipeline's name from github.workflow.
        "service.name" => "otel-cicd-action",
        "service.namespace" => repo,
        "service.instance.id" => format!("{repo}/{WORKFLOW_ID}/{}/{}", run.run_id, run.attempt),
        "service.version" => &run.commit,
    });
    let (conclusion_value, root_status) = if run.startup_failure {
        ("startup_failure", SpanStatus::Error)
    } else if run.failed() {
        ("failure", SpanStatus::Error)
    } else if run.cancelled() {
        ("cancelled", SpanStatus::Unset)
    } else {
        ("success", SpanStatus::Ok)
    };
    let mut a = attrs! {
        "github.workflow" => run.pipeline,
        "github.workflow_id" => WORKFLOW_ID,
        "github.run_id" => run.run_id,
        "github.run_number" => run.run_id % 10_000,
        "github.run_attempt" => i64::from(run.attempt),
        "github.event" => event(run.trigger),
        "github.status" => "completed",
        "github.conclusion" => conclusion_value,
        "github.head_branch" => &run.branch,
        "github.head_sha" => &run.commit,
        "github.html_url" => format!("https://github.com/{repo}/actions/runs/{}", run.run_id),
    };
    if let Some(pr) = &run.pr {
        a.extend(attrs! {
            "github.head_ref" => &run.branch,
            "github.base_ref" => DEFAULT_BRANCH,
            "github.pull_requests.0.number" => i64::from(pr.number),
            "github.pull_requests.0.base.ref" => DEFAULT_BRANCH,
            "github.pull_requests.0.head.ref" => &run.branch,
            "github.pull_requests.0.head.sha" => &run.commit,
        });
    }
    let root = b.span(
        rng,
        res,
        None,
        run.pipeline,
        Kind::Server,
        run.start_us,
        run.end_us,
        root_status,
        a,
    );
    for job in &run.jobs {
        let job_id = rng.random_range(40_000_000_000i64..50_000_000_000);
        let mut a = attrs! {
            "github.job.id" => job_id,
            "github.job.name" => job.name,
            "github.job.run_id" => run.run_id,
            "github.job.run_attempt" => i64::from(run.attempt),
            "github.job.status" => "completed",
            "github.job.conclusion" => conclusion(job.result),
            "github.job.head_branch" => &run.branch,
            "github.job.head_sha" => &run.commit,
            "github.job.workflow_name" => run.pipeline,
        };
        if let Some(t) = &job.target {
            a.extend(t.attrs());
        }
        b.span(
            rng,
            res,
            Some(root),
            job.name,
            Kind::Internal,
            job.start_us,
            job.end_us,
            status(job.result),
            a,
        );
    }
    b.trace
}
