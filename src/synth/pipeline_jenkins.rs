//! The Jenkins OpenTelemetry plugin's build trace: root `BUILD <job>` with
//! `ci.pipeline.*`, `Stage: <name>` and `Parallel branch: <name>` spans, pytest-otel
//! suites inside the parallel branches. A re-run is a new build number.

use rand::Rng;

use super::catalog::jenkins_suites;
use super::generator::Gen;
use super::pipeline_release::{dur, status};
use super::run::{RunCtx, RunOut};
use super::suites::{SuiteCtx, emit_suite};
use super::trace::{Kind, SpanStatus, TraceBuilder, attrs};

pub(crate) const JENKINS: &str = "backend-ci";

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
    let root = b.span(
        &mut g.rng,
        res,
        None,
        root_name,
        Kind::Server,
        t0,
        t0,
        SpanStatus::Unset,
        vec![],
    );
    let mut execs = Vec::new();
    let mut failed = false;
    let stage = |b: &mut TraceBuilder,
                 g: &mut Gen,
                 parent,
                 name: String,
                 typ: &str,
                 start,
                 end,
                 f: bool| {
        let step_name = name.split(": ").nth(1).unwrap_or(&name).to_string();
        let a = attrs! {
            "jenkins.pipeline.step.type" => typ,
            "jenkins.pipeline.step.name" => step_name,
            "jenkins.pipeline.step.result" => if f { "FAILURE" } else { "SUCCESS" },
        };
        b.span(
            &mut g.rng,
            res,
            Some(parent),
            name,
            Kind::Internal,
            start,
            end,
            status(f),
            a,
        )
    };
    let ps = t0 + dur(g, 1, 5);
    let pe = ps + dur(g, 5, 15);
    stage(
        &mut b,
        g,
        root,
        "Stage: Prepare".into(),
        "stage",
        ps,
        pe,
        false,
    );
    let cs = pe + dur(g, 0, 2);
    let ce = cs + dur(g, 60, 120);
    let compile_fail = g.rng.random_bool(ctx.task_fail * 0.8);
    let compile = stage(
        &mut b,
        g,
        root,
        "Stage: Compile".into(),
        "stage",
        cs,
        ce,
        compile_fail,
    );
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
        let tests = stage(
            &mut b,
            g,
            root,
            "Stage: Tests".into(),
            "stage",
            ts,
            ts,
            false,
        );
        let sctx = SuiteCtx {
            forced_pass: &[],
            broken: &[],
        };
        let mut tests_end = ts;
        for (branch, suite) in ["unit", "integration"].into_iter().zip(jenkins_suites()) {
            let bs = ts + dur(g, 0, 2);
            let par = stage(
                &mut b,
                g,
                tests,
                format!("Parallel branch: {branch}"),
                "parallel",
                bs,
                bs,
                false,
            );
            let at = bs + dur(g, 10, 30);
            let r = emit_suite(&mut b, g, &suite, par, at, &sctx, &mut execs);
            let be = r.end_us + dur(g, 1, 3);
            b.get_mut(par).end_us = be;
            tests_end = tests_end.max(be);
        }
        b.get_mut(tests).end_us = tests_end + dur(g, 0, 2);
        let as_ = tests_end + dur(g, 1, 3);
        end = as_ + dur(g, 5, 15);
        stage(
            &mut b,
            g,
            root,
            "Stage: Archive".into(),
            "stage",
            as_,
            end,
            false,
        );
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
    RunOut {
        root_span: b.get(root).span_id,
        trace: b.trace,
        pipeline: JENKINS,
        failed,
        execs,
    }
}
