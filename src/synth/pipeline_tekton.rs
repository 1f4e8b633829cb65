//! A Tekton pipeline traced by its task scripts (e.g. with otel-cli): resource
//! `pipeline.name` / `pipeline.run` on the root, one resource with `task.name` per task,
//! command spans with `command` and `exit_code`. Results only as span status.

use rand::Rng;

use super::generator::Gen;
use super::pipeline_release::{dur, status};
use super::run::{RunCtx, RunOut};
use super::trace::{Kind, SpanStatus, TraceBuilder, attrs};

pub(crate) const TEKTON: &str = "deploy-check";

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
    let root = b.span(
        &mut g.rng,
        root_res,
        None,
        TEKTON,
        Kind::Server,
        t0,
        t0,
        SpanStatus::Unset,
        vec![],
    );
    let tasks: [(&str, &str, i64, i64); 4] = [
        (
            "fetch-source",
            "git clone https://github.com/acme/shop.git",
            5,
            15,
        ),
        (
            "render-manifests",
            "helm template shop ./chart -f values-staging.yaml",
            10,
            30,
        ),
        ("kubeval", "kubeval --strict rendered/", 5, 20),
        (
            "dry-run-deploy",
            "kubectl apply --dry-run=server -f rendered/",
            20,
            60,
        ),
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
        let f = task != "fetch-source" && g.rng.random_bool(ctx.task_fail * 0.4);
        let cs = start + dur(g, 1, 3);
        let ce = cs + dur(g, lo, hi);
        let end = ce + dur(g, 0, 2);
        let t = b.span(
            &mut g.rng,
            res,
            Some(root),
            task,
            Kind::Internal,
            start,
            end,
            status(f),
            vec![],
        );
        let a = attrs! { "command" => command, "exit_code" => if f { 1i64 } else { 0 } };
        b.span(
            &mut g.rng,
            res,
            Some(t),
            command,
            Kind::Internal,
            cs,
            ce,
            status(f),
            a,
        );
        cursor = end;
        if f {
            failed = true;
            break;
        }
    }
    let r = b.get_mut(root);
    r.end_us = cursor + dur(g, 1, 3);
    r.status = status(failed);
    RunOut {
        root_span: b.get(root).span_id,
        trace: b.trace,
        pipeline: TEKTON,
        failed,
        execs: vec![],
    }
}
