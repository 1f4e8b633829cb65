//! The `release` workflow in the GitHub Actions exporter's conventions (`github.*`,
//! `github.job.*`, `github.job.step.*`), plus helpers shared with the other secondary
//! pipelines (`pipeline_jenkins.rs`, `pipeline_tekton.rs`). Their tests are all stable;
//! they add volume, conventions and branch failures.

use rand::Rng;

use super::catalog::smoke_suite;
use super::generator::Gen;
use super::pipeline_main::S;
use super::run::{RunCtx, RunOut};
use super::suites::{SuiteCtx, emit_suite};
use super::trace::{Kind, SpanRef, SpanStatus, TraceBuilder, attrs};

pub(crate) const RELEASE: &str = "release";

pub(crate) fn status(failed: bool) -> SpanStatus {
    if failed {
        SpanStatus::Error
    } else {
        SpanStatus::Ok
    }
}

pub(crate) fn dur(g: &mut Gen, lo: i64, hi: i64) -> i64 {
    g.rng.random_range(lo * S..hi * S)
}

/// GitHub Actions exporter style (`otel-export-trace-action` / `otel-cicd-action`).
pub(crate) fn release(g: &mut Gen, ctx: &RunCtx<'_>) -> RunOut {
    let mut b = TraceBuilder::new(&mut g.rng);
    let res = b.resource(attrs! {
        "service.name" => RELEASE,
        "service.namespace" => "acme/shop",
        "service.instance.id" => format!("acme/shop/4711/{}/{}", ctx.run_id, ctx.attempt),
        "service.version" => ctx.commit,
    });
    let t0 = ctx.start_us;
    let root = b.span(
        &mut g.rng,
        res,
        None,
        RELEASE,
        Kind::Server,
        t0,
        t0,
        SpanStatus::Unset,
        vec![],
    );
    let mut execs = Vec::new();
    let mut cursor = t0 + dur(g, 2, 10);
    let mut failed = false;
    for name in ["build-release", "smoke-tests", "publish"] {
        let start = cursor + dur(g, 1, 6);
        let job = b.span(
            &mut g.rng,
            res,
            Some(root),
            name,
            Kind::Internal,
            start,
            start,
            SpanStatus::Unset,
            vec![],
        );
        let setup_end = start + dur(g, 1, 4);
        step(
            &mut b,
            g,
            res,
            job,
            "Set up job",
            1,
            start,
            setup_end,
            false,
        );
        let (end, job_failed) = match name {
            "smoke-tests" => {
                let sctx = SuiteCtx {
                    forced_pass: &[],
                    broken: &[],
                };
                let at = setup_end + dur(g, 20, 40);
                let r = emit_suite(&mut b, g, &smoke_suite(), job, at, &sctx, &mut execs);
                (r.end_us + dur(g, 1, 3), r.failed)
            }
            _ => {
                let f = g.rng.random_bool(ctx.task_fail * 0.4);
                let e = setup_end
                    + if name == "publish" {
                        dur(g, 20, 40)
                    } else {
                        dur(g, 60, 120)
                    };
                step(
                    &mut b,
                    g,
                    res,
                    job,
                    &format!("Run make {name}"),
                    2,
                    setup_end,
                    e,
                    f,
                );
                (e, f)
            }
        };
        let job_id = g.rng.random_range(30_000_000_000i64..40_000_000_000);
        let mut a = attrs! {
            "github.job.id" => job_id,
            "github.job.name" => name,
            "github.job.run_id" => ctx.run_id,
            "github.job.run_attempt" => i64::from(ctx.attempt),
            "github.job.status" => "completed",
            "github.job.conclusion" => if job_failed { "failure" } else { "success" },
            "github.job.head_branch" => ctx.branch,
            "github.job.head_sha" => ctx.commit,
            "github.job.runner_name" => format!("GitHub Actions {}", g.rng.random_range(1..400)),
            "github.job.workflow_name" => RELEASE,
        };
        if job_failed {
            g.maybe_huge(&mut a);
        }
        let s = b.get_mut(job);
        s.end_us = end;
        s.status = status(job_failed);
        s.attrs = a;
        cursor = end;
        if job_failed {
            failed = true;
            break;
        }
    }
    let r = b.get_mut(root);
    r.end_us = cursor + dur(g, 1, 3);
    r.status = status(failed);
    r.attrs = attrs! {
        "github.workflow" => RELEASE,
        "github.workflow_id" => 4711i64,
        "github.run_id" => ctx.run_id,
        "github.run_number" => ctx.run_id % 10_000,
        "github.run_attempt" => i64::from(ctx.attempt),
        "github.event" => "push",
        "github.status" => "completed",
        "github.conclusion" => if failed { "failure" } else { "success" },
        "github.head_branch" => ctx.branch,
        "github.head_sha" => ctx.commit,
        "github.html_url" => format!("https://github.com/acme/shop/actions/runs/{}", ctx.run_id),
    };
    RunOut {
        root_span: b.get(root).span_id,
        trace: b.trace,
        pipeline: RELEASE,
        failed,
        execs,
    }
}

#[allow(clippy::too_many_arguments)]
fn step(
    b: &mut TraceBuilder,
    g: &mut Gen,
    res: usize,
    job: SpanRef,
    name: &str,
    number: i64,
    start: i64,
    end: i64,
    failed: bool,
) {
    let a = attrs! {
        "github.job.step.name" => name,
        "github.job.step.number" => number,
        "github.job.step.status" => "completed",
        "github.job.step.conclusion" => if failed { "failure" } else { "success" },
        "error" => failed,
    };
    b.span(
        &mut g.rng,
        res,
        Some(job),
        name,
        Kind::Internal,
        start,
        end,
        status(failed),
        a,
    );
}
