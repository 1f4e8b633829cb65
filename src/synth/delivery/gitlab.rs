//! A planned run in the Collector GitLab receiver's shapes: `cicd.pipeline.name` and
//! `cicd.pipeline.run.id` on the resource, a pipeline span with `cicd.pipeline.result`,
//! one span per stage and job spans with `cicd.pipeline.task.name` and
//! `cicd.pipeline.task.run.result` (raw GitLab statuses: `success`, `failed`,
//! `canceled`, `skipped`). Pipeline and job spans carry the ref (`vcs.ref.head.*`), the
//! pipeline source (`gitlab.pipeline.source`) and, on merge-request pipelines, the MR
//! (`vcs.change.id`, `vcs.change.title`, `vcs.ref.base.name`). Deploy jobs name their
//! environment in `cicd.pipeline.task.run.environment.name` or, as older receivers
//! did, `deployment.environment`.

use rand::rngs::SmallRng;

use super::plan::{DEFAULT_BRANCH, JobResult, PlannedRun, Trigger};
use crate::synth::trace::{Attrs, Kind, SpanStatus, SynthTrace, TraceBuilder, attrs};

fn result(r: JobResult) -> &'static str {
    match r {
        JobResult::Success => "success",
        JobResult::Failure | JobResult::PlatformFailure => "failed",
        JobResult::Cancelled => "canceled",
        JobResult::Skipped => "skipped",
    }
}

fn status(failed: bool) -> SpanStatus {
    if failed {
        SpanStatus::Error
    } else {
        SpanStatus::Ok
    }
}

fn source(t: Trigger) -> &'static str {
    match t {
        Trigger::PullRequest => "merge_request_event",
        Trigger::Push => "push",
        Trigger::Manual => "web",
        Trigger::Schedule => "schedule",
    }
}

/// The keys every pipeline and job span of `run` carries.
fn ref_attrs(run: &PlannedRun) -> Attrs {
    let mut a = attrs! {
        "vcs.ref.head.name" => &run.branch,
        "vcs.ref.head.revision" => &run.commit,
        "vcs.repository.name" => run.repo.name,
        "gitlab.pipeline.source" => source(run.trigger),
    };
    if let Some(pr) = &run.pr {
        a.extend(attrs! {
            "vcs.change.id" => pr.number.to_string(),
            "vcs.change.title" => &pr.title,
            "vcs.ref.base.name" => DEFAULT_BRANCH,
        });
    }
    a
}

/// The run as one trace.
pub(crate) fn trace(rng: &mut SmallRng, run: &PlannedRun) -> SynthTrace {
    let repo = run.repo.name;
    let mut b = TraceBuilder::new(rng);
    let res = b.resource(attrs! {
        "service.name" => repo,
        "cicd.pipeline.name" => run.pipeline,
        "cicd.pipeline.run.id" => run.run_id.to_string(),
        "vcs.repository.url.full" => format!("https://gitlab.com/{repo}"),
    });
    let pipeline_result = if run.failed() {
        "failed"
    } else if run.cancelled() {
        "canceled"
    } else {
        "success"
    };
    let mut a = attrs! { "cicd.pipeline.result" => pipeline_result };
    a.extend(ref_attrs(run));
    let root = b.span(
        rng,
        res,
        None,
        run.pipeline,
        Kind::Server,
        run.start_us,
        run.end_us,
        status(run.failed()),
        a,
    );
    let mut stages: Vec<&str> = Vec::new();
    for job in &run.jobs {
        if !stages.contains(&job.stage) {
            stages.push(job.stage);
        }
    }
    for stage in stages {
        let jobs: Vec<_> = run.jobs.iter().filter(|j| j.stage == stage).collect();
        let start = jobs
            .iter()
            .map(|j| j.start_us)
            .min()
            .unwrap_or(run.start_us);
        let end = jobs.iter().map(|j| j.end_us).max().unwrap_or(start);
        let failed = jobs.iter().any(|j| j.result.failed());
        let stage_span = b.span(
            rng,
            res,
            Some(root),
            stage,
            Kind::Internal,
            start,
            end,
            status(failed),
            Vec::new(),
        );
        for job in jobs {
            let mut a = attrs! {
                "cicd.pipeline.task.name" => job.name,
                "cicd.pipeline.task.run.result" => result(job.result),
            };
            a.extend(ref_attrs(run));
            if let Some(t) = &job.target {
                a.extend(t.attrs());
            }
            let job_status = match job.result {
                JobResult::Success => SpanStatus::Ok,
                JobResult::Failure | JobResult::PlatformFailure => SpanStatus::Error,
                JobResult::Cancelled | JobResult::Skipped => SpanStatus::Unset,
            };
            b.span(
                rng,
                res,
                Some(stage_span),
                job.name,
                Kind::Internal,
                job.start_us,
                job.end_us,
                job_status,
                a,
            );
        }
    }
    b.trace
}
