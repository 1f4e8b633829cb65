//! The bottleneck pipeline `build-and-test`, in the Collector GitHub receiver's
//! `cicd.*` / `vcs.*` conventions.
//!
//! Its shape is the planted bottleneck: checkout → build → test → package is the
//! critical chain and `build` dominates it, while `lint` (longer than `test`) and
//! `docs` always run beside build+test and end earlier, so their critical-path time is 0.
//! Durations are drawn from ranges that make this hold on every run, failed ones too.

use rand::Rng;

use super::catalog::SuiteDef;
use super::generator::Gen;
use super::run::{RunCtx, RunOut};
use super::suites::{SuiteCtx, emit_suite};
use super::trace::{Kind, SpanRef, SpanStatus, TraceBuilder, Val, attrs};

pub(crate) const PIPELINE: &str = "build-and-test";
pub(crate) const CRITICAL_TASK: &str = "build";
pub(crate) const PARALLEL_LONG_TASK: &str = "lint";
pub(crate) const PARALLEL_TASKS: [&str; 2] = ["lint", "docs"];
const REPO_URL: &str = "https://github.com/acme/shop";

pub(crate) const S: i64 = 1_000_000;

/// Adds one job span of the GitHub-receiver style below `root`.
#[allow(clippy::too_many_arguments)]
fn job(
    b: &mut TraceBuilder,
    g: &mut Gen,
    root: SpanRef,
    run_id: i64,
    name: &str,
    start: i64,
    end: i64,
    failed: bool,
) -> SpanRef {
    let job_id = g.rng.random_range(40_000_000_000i64..50_000_000_000);
    let mut a = attrs! {
        "cicd.pipeline.task.name" => name,
        "cicd.pipeline.task.run.id" => job_id,
        "cicd.pipeline.task.run.result" => if failed { "failure" } else { "success" },
        "cicd.pipeline.task.run.url.full" => format!("{REPO_URL}/actions/runs/{run_id}/job/{job_id}"),
    };
    if failed {
        g.maybe_huge(&mut a);
    }
    let s = b.span(
        &mut g.rng,
        0,
        Some(root),
        name,
        Kind::Server,
        start,
        end,
        if failed {
            SpanStatus::Error
        } else {
            SpanStatus::Ok
        },
        a,
    );
    if failed {
        b.get_mut(s).status_message = Some("failure".into());
    }
    s
}

/// Builds one run attempt of `build-and-test`.
pub(crate) fn build(g: &mut Gen, ctx: &RunCtx<'_>, suites: &[SuiteDef]) -> RunOut {
    let mut b = TraceBuilder::new(&mut g.rng);
    b.resource(attrs! {
        "service.name" => "github-actions",
        "vcs.provider.name" => "github",
        "vcs.repository.name" => "acme/shop",
        "vcs.repository.url.full" => REPO_URL,
        "vcs.ref.head.name" => ctx.branch,
        "vcs.ref.head.type" => "branch",
        "vcs.ref.head.revision" => ctx.commit,
    });
    let t0 = ctx.start_us;
    let root = b.span(
        &mut g.rng,
        0,
        None,
        PIPELINE,
        Kind::Server,
        t0,
        t0,
        SpanStatus::Unset,
        Vec::new(),
    );
    let mut execs = Vec::new();
    let q = |g: &mut Gen, lo: i64, hi: i64| g.rng.random_range(lo * S..hi * S);

    let co_start = t0 + q(g, 2, 8);
    let co_end = co_start + q(g, 10, 20);
    job(
        &mut b, g, root, ctx.run_id, "checkout", co_start, co_end, false,
    );

    // Build alone (270-330 s) outlasts lint (200-260 s), so even a failed build keeps
    // lint off the critical path.
    let build_fail = g.rng.random_bool(ctx.task_fail * 0.5);
    let lint_fail = g.rng.random_bool(ctx.task_fail * 0.5);
    let bs = co_end + q(g, 1, 5);
    let be = bs + q(g, 270, 330);
    job(&mut b, g, root, ctx.run_id, "build", bs, be, build_fail);
    let ls = co_end + q(g, 1, 5);
    let le = ls + q(g, 200, 260);
    job(&mut b, g, root, ctx.run_id, "lint", ls, le, lint_fail);
    let ds = co_end + q(g, 1, 5);
    let de = ds + q(g, 40, 80);
    job(&mut b, g, root, ctx.run_id, "docs", ds, de, false);

    let mut end = be.max(le).max(de);
    let mut test_fail = false;
    if !build_fail {
        let ts = be + q(g, 2, 6);
        let test = job(&mut b, g, root, ctx.run_id, "test", ts, ts, false);
        let mut cursor = ts + q(g, 60, 90);
        let sctx = SuiteCtx {
            forced_pass: ctx.forced_pass,
            broken: ctx.broken,
        };
        for suite in suites {
            let r = emit_suite(&mut b, g, suite, test, cursor, &sctx, &mut execs);
            test_fail |= r.failed;
            cursor = r.end_us + q(g, 1, 3);
        }
        let te = cursor + q(g, 3, 8);
        set_result(&mut b, test, te, test_fail);
        end = end.max(te);
        if !test_fail {
            let ps = te + q(g, 2, 6);
            let pe = ps + q(g, 30, 60);
            job(&mut b, g, root, ctx.run_id, "package", ps, pe, false);
            end = end.max(pe);
        }
    }
    let failed = build_fail || lint_fail || test_fail;
    let r = b.get_mut(root);
    r.end_us = end + q(g, 1, 3);
    r.status = if failed {
        SpanStatus::Error
    } else {
        SpanStatus::Ok
    };
    r.attrs = attrs! {
        "cicd.pipeline.name" => PIPELINE,
        "cicd.pipeline.run.id" => ctx.run_id,
        "cicd.pipeline.result" => if failed { "failure" } else { "success" },
        "cicd.pipeline.run.url.full" => format!("{REPO_URL}/actions/runs/{}/attempts/{}", ctx.run_id, ctx.attempt),
    };
    if let Some(prev) = ctx.prev_root {
        r.links.push(prev);
        r.attrs.push((
            "cicd.pipeline.run.previous_attempt.url.full".into(),
            Val::Str(format!(
                "{REPO_URL}/actions/runs/{}/attempts/{}",
                ctx.run_id,
                ctx.attempt - 1
            )),
        ));
    }
    RunOut {
        root_span: b.get(root).span_id,
        trace: b.trace,
        pipeline: PIPELINE,
        failed,
        execs,
    }
}

fn set_result(b: &mut TraceBuilder, s: SpanRef, end: i64, failed: bool) {
    let span = b.get_mut(s);
    span.end_us = end;
    span.status = if failed {
        SpanStatus::Error
    } else {
        SpanStatus::Ok
    };
    for (k, v) in &mut span.attrs {
        if k == "cicd.pipeline.task.run.result" {
            *v = Val::Str(if failed { "failure" } else { "success" }.into());
        }
    }
}
