//! The other pipelines, one per emitter convention: a GitHub Actions exporter workflow
//! (`github.*`), a Jenkins OpenTelemetry plugin build (`BUILD`, `Stage:`,
//! `Parallel branch:`, `ci.pipeline.*`) and a Tekton pipeline traced by its task
//! scripts (resource `pipeline.name` / `task.name`, command spans with `exit_code`).
//! Their tests are all stable; they add volume, conventions and branch failures.

use rand::Rng;

use super::catalog::{jenkins_suites, smoke_suite};
use super::pipeline_main::S;
use super::scenario::{Gen, RunCtx, RunOut};
use super::suites::{SuiteCtx, emit_suite};
use super::trace::{Kind, SpanRef, SpanStatus, TraceBuilder, attrs};

pub(crate) const RELEASE: &str = "release";
pub(crate) const JENKINS: &str = "backend-ci";
pub(crate) const TEKTON: &str = "deploy-check";

fn status(failed: bool) -> SpanStatus {
    if failed {
        SpanStatus::Error
    } else {
        SpanStatus::Ok
    }
}

fn dur(g: &mut Gen, lo: i64, hi: i64) -> i64 {
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
    let root = b.span(&mut g.rng, res, None, RELEASE, Kind::Server, t0, t0, SpanStatus::Unset, vec![]);
    let mut execs = Vec::new();
    let mut cursor = t0 + dur(g, 2, 10);
    let mut failed = false;
    for name in ["build-release", "smoke-tests", "publish"] {
        let start = cursor + dur(g, 1, 6);
        let job = b.span(&mut g.rng, res, Some(root), name, Kind::Internal, start, start, SpanStatus::Unset, vec![]);
        let setup_end = start + dur(g, 1, 4);
        step(&mut b, g, res, job, "Set up job", 1, start, setup_end, false);
        let (end, job_failed) = match name {
            "smoke-tests" => {
                let sctx = SuiteCtx { forced_pass: &[], broken: &[] };
                let at = setup_end + dur(g, 20, 40);
                let r = emit_suite(&mut b, g, &smoke_suite(), job, at, &sctx, &mut execs);
                (r.end_us + dur(g, 1, 3), r.failed)
            }
            _ => {
                let f = g.rng.random_bool(ctx.task_fail * 0.4);
                let e = setup_end + if name == "publish" { dur(g, 20, 40) } else { dur(g, 60, 120) };
                step(&mut b, g, res, job, &format!("Run make {name}"), 2, setup_end, e, f);
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
    RunOut { root_span: b.get(root).span_id, trace: b.trace, pipeline: RELEASE, failed, execs }
}

#[allow(clippy::too_many_arguments)]
fn step(b: &mut TraceBuilder, g: &mut Gen, res: usize, job: SpanRef, name: &str, number: i64, start: i64, end: i64, failed: bool) {
    let a = attrs! {
        "github.job.step.name" => name,
        "github.job.step.number" => number,
        "github.job.step.status" => "completed",
        "github.job.step.conclusion" => if failed { "failure" } else { "success" },
        "error" => failed,
    };
    b.span(&mut g.rng, res, Some(job), name, Kind::Internal, start, end, status(failed), a);
}

/// Jenkins OpenTelemetry plugin style.
pub(crate) fn jenkins(g: &mut Gen, ctx: &RunCtx<'_>) -> RunOut {
    let mut b = TraceBuilder::new(&mut g.rng);
    let res = b.resource(attrs! {
        "service.name" => "jenkins",
        "service.namespace" => "jenkins",
        "service.version" => "2.479.1",
        "host.name" => "ci.acme.test",
    });
    let t0 = ctx.start_us;
    let root_name = format!("BUILD {JENKINS}");
    let root = b.span(&mut g.rng, res, None, root_name, Kind::Server, t0, t0, SpanStatus::Unset, vec![]);
    let mut execs = Vec::new();
    let mut failed = false;
    let stage = |b: &mut TraceBuilder, g: &mut Gen, parent, name: String, typ: &str, start, end, f: bool| {
        let step_name = name.split(": ").nth(1).unwrap_or(&name).to_string();
        let a = attrs! {
            "jenkins.pipeline.step.type" => typ,
            "jenkins.pipeline.step.name" => step_name,
            "jenkins.pipeline.step.result" => if f { "FAILURE" } else { "SUCCESS" },
        };
        b.span(&mut g.rng, res, Some(parent), name, Kind::Internal, start, end, status(f), a)
    };
    let ps = t0 + dur(g, 1, 5);
    let pe = ps + dur(g, 5, 15);
    stage(&mut b, g, root, "Stage: Prepare".into(), "stage", ps, pe, false);
    let cs = pe + dur(g, 0, 2);
    let ce = cs + dur(g, 60, 120);
    let compile_fail = g.rng.random_bool(ctx.task_fail * 0.5);
    let compile = stage(&mut b, g, root, "Stage: Compile".into(), "stage", cs, ce, compile_fail);
    if compile_fail {
        let mut a = Vec::new();
        g.maybe_huge(&mut a);
        b.get_mut(compile).attrs.extend(a);
    }
    let mut end = ce;
    if compile_fail {
        failed = true;
    } else {
        let ts = ce + dur(g, 0, 2);
        let tests = stage(&mut b, g, root, "Stage: Tests".into(), "stage", ts, ts, false);
        let sctx = SuiteCtx { forced_pass: &[], broken: &[] };
        let mut tests_end = ts;
        for (branch, suite) in ["unit", "integration"].into_iter().zip(jenkins_suites()) {
            let bs = ts + dur(g, 0, 2);
            let par = stage(&mut b, g, tests, format!("Parallel branch: {branch}"), "parallel", bs, bs, false);
            let at = bs + dur(g, 10, 30);
            let r = emit_suite(&mut b, g, &suite, par, at, &sctx, &mut execs);
            let be = r.end_us + dur(g, 1, 3);
            b.get_mut(par).end_us = be;
            tests_end = tests_end.max(be);
        }
        b.get_mut(tests).end_us = tests_end + dur(g, 0, 2);
        let as_ = tests_end + dur(g, 1, 3);
        end = as_ + dur(g, 5, 15);
        stage(&mut b, g, root, "Stage: Archive".into(), "stage", as_, end, false);
    }
    let r = b.get_mut(root);
    r.end_us = end + dur(g, 1, 2);
    r.status = status(failed);
    r.attrs = attrs! {
        "ci.pipeline.id" => JENKINS,
        "ci.pipeline.name" => JENKINS,
        "ci.pipeline.type" => "workflow",
        "ci.pipeline.run.number" => ctx.run_id,
        "ci.pipeline.run.url" => format!("https://ci.acme.test/job/{JENKINS}/{}/", ctx.run_id),
        "ci.pipeline.run.result" => if failed { "FAILURE" } else { "SUCCESS" },
        "ci.pipeline.run.completed" => true,
        "git.branch" => ctx.branch,
        "ci.commit.sha" => ctx.commit,
        "git.repository" => "https://github.com/acme/shop.git",
    };
    RunOut { root_span: b.get(root).span_id, trace: b.trace, pipeline: JENKINS, failed, execs }
}

/// Tekton pipeline whose task scripts emit spans (e.g. with otel-cli): one resource
/// per task, command spans with `command` and `exit_code`.
pub(crate) fn tekton(g: &mut Gen, ctx: &RunCtx<'_>) -> RunOut {
    let mut b = TraceBuilder::new(&mut g.rng);
    let run = format!("{TEKTON}-run-{:05x}", ctx.run_id % 0xfffff);
    let root_res = b.resource(attrs! {
        "service.name" => "tekton-pipelines",
        "pipeline.name" => TEKTON,
        "pipeline.run" => run.as_str(),
        "vcs.ref.head.name" => ctx.branch,
        "vcs.ref.head.revision" => ctx.commit,
    });
    let t0 = ctx.start_us;
    let root = b.span(&mut g.rng, root_res, None, TEKTON, Kind::Server, t0, t0, SpanStatus::Unset, vec![]);
    let tasks: [(&str, &str, i64, i64); 4] = [
        ("fetch-source", "git clone https://github.com/acme/shop.git", 5, 15),
        ("render-manifests", "helm template shop ./chart -f values-staging.yaml", 10, 30),
        ("kubeval", "kubeval --strict rendered/", 5, 20),
        ("dry-run-deploy", "kubectl apply --dry-run=server -f rendered/", 20, 60),
    ];
    let mut cursor = t0 + dur(g, 3, 10);
    let mut failed = false;
    for (task, command, lo, hi) in tasks {
        let res = b.resource(attrs! {
            "service.name" => task,
            "pipeline.name" => TEKTON,
            "pipeline.run" => run.as_str(),
            "task.name" => task,
            "task.run" => format!("{run}-{task}"),
        });
        let start = cursor + dur(g, 2, 8);
        let f = task != "fetch-source" && g.rng.random_bool(ctx.task_fail * 0.3);
        let cs = start + dur(g, 1, 3);
        let ce = cs + dur(g, lo, hi);
        let end = ce + dur(g, 0, 2);
        let t = b.span(&mut g.rng, res, Some(root), task, Kind::Internal, start, end, status(f), vec![]);
        let a = attrs! { "command" => command, "exit_code" => if f { 1i64 } else { 0 } };
        b.span(&mut g.rng, res, Some(t), command, Kind::Internal, cs, ce, status(f), a);
        cursor = end;
        if f {
            failed = true;
            break;
        }
    }
    let r = b.get_mut(root);
    r.end_us = cursor + dur(g, 1, 3);
    r.status = status(failed);
    RunOut { root_span: b.get(root).span_id, trace: b.trace, pipeline: TEKTON, failed, execs: vec![] }
}
