//! The story of the synthetic month: which branch is pushed when, which commits break
//! which tests, which pipelines run, which runs are re-run, and the Truth that results.
//!
//! Guarantees the Truth relies on are enforced here rather than hoped for: every branch
//! gets its minimum number of pushes, broken-test windows always get fresh commits, and a
//! run that leaves a flaky test failed-only on its commit is re-run with that test
//! passing (the re-run a developer would click), so a flake never looks like a breakage.
//!
//! Runs are handed out one at a time as they are built, and the Truth is tallied as
//! they go, so a month of any size is generated in memory that does not grow with it
//! (save the shuffled deck of push events, one word per ~35 spans).

use rand::Rng;
use rand::seq::SliceRandom;

use super::SynthConfig;
use super::catalog::{self, BranchDef, Plant, SuiteDef};
use super::generator::Gen;
use super::pipeline_main;
use super::pipeline_release;
use super::run::{Run, RunCtx, RunOut};
use super::tally::Tally;
use super::trace::{Kind, SpanStatus, SynthSpan, SynthTrace, Val, hex};
use super::truth::Truth;
use super::{pipeline_jenkins, pipeline_tekton};

const DAY_US: i64 = 86_400 * 1_000_000;
const MIN_US: i64 = 60 * 1_000_000;
struct BranchState {
    events: usize,
    commit: String,
    broken: Vec<&'static str>,
}

/// Generates all runs, handing each to `emit` as soon as it is built (in time order),
/// and returns the Truth; the first error of `emit` stops the generation.
pub(crate) fn generate<E>(
    cfg: &SynthConfig,
    mut emit: impl FnMut(Run) -> Result<(), E>,
) -> Result<Truth, E> {
    let mut g = Gen::new(cfg.seed, cfg.messy);
    let branches = catalog::branches();
    let suites = catalog::main_suites();
    // About 2.1 traces per push: the main pipeline, three others at 35 %, re-runs.
    let n_events = (cfg.runs * 10 / 21).max(1);
    let deck = event_deck(&mut g, &branches, n_events);
    let interval = (i64::from(cfg.days.max(1)) * DAY_US) / deck.len() as i64;
    let start_us = cfg.start / 1_000;

    let mut states: Vec<BranchState> = branches
        .iter()
        .map(|_| BranchState {
            events: 0,
            commit: String::new(),
            broken: Vec::new(),
        })
        .collect();
    let mut tally = Tally::default();
    let mut gh_run_id: i64 = 14_460_000_000;
    let mut jenkins_build: i64 = 1200;
    let mut tekton_run: i64 = 0x1000;

    for (ei, &bi) in deck.iter().enumerate() {
        let bdef = &branches[bi];
        advance_commit(&mut g, bdef, &mut states[bi], &mut tally);
        let st = &states[bi];
        let t = start_us + ei as i64 * interval + g.rng.random_range(0..interval / 2 + 1);
        gh_run_id += g.rng.random_range(1..5000);

        // The bottleneck pipeline runs on every push, re-run as described above.
        let mut attempt = 1;
        let mut prev = None;
        let mut forced: Vec<&'static str> = Vec::new();
        let mut run_start = t;
        loop {
            let ctx = RunCtx {
                branch: &bdef.name,
                commit: &st.commit,
                attempt,
                run_id: gh_run_id,
                start_us: run_start,
                prev_root: prev,
                task_fail: if forced.is_empty() {
                    bdef.task_fail
                } else {
                    0.0
                },
                forced_pass: &forced,
                broken: &st.broken,
            };
            let out = pipeline_main::build(&mut g, &ctx, &suites);
            tally.record_execs(&out.execs, &st.commit);
            let needing = failed_only_flaky(&suites, &st.commit, &tally);
            let end = trace_end(&out.trace);
            let (failed, root, tid) = (out.failed, out.root_span, out.trace.trace_id);
            let run = finish(&mut g, out, &bdef.name, attempt);
            tally.count_run(&run);
            emit(run)?;
            let rerun = failed && (!needing.is_empty() || g.rng.random_bool(0.3));
            if !rerun || attempt >= 3 {
                break;
            }
            attempt += 1;
            forced = needing;
            prev = Some((tid, root));
            run_start = end + g.rng.random_range(5 * MIN_US..30 * MIN_US);
        }

        for which in 0..3 {
            if !g.rng.random_bool(0.35) {
                continue;
            }
            let mut attempt = 1;
            let mut tries = 0;
            let mut run_start = t + g.rng.random_range(0..MIN_US);
            loop {
                tries += 1;
                let run_id = match which {
                    0 => gh_run_id + 1,
                    1 => {
                        jenkins_build += 1;
                        jenkins_build
                    }
                    _ => {
                        tekton_run += g.rng.random_range(1..50);
                        tekton_run
                    }
                };
                let ctx = RunCtx {
                    branch: &bdef.name,
                    commit: &st.commit,
                    attempt,
                    run_id,
                    start_us: run_start,
                    prev_root: None,
                    task_fail: bdef.task_fail,
                    forced_pass: &[],
                    broken: &[],
                };
                let out = match which {
                    0 => pipeline_release::release(&mut g, &ctx),
                    1 => pipeline_jenkins::jenkins(&mut g, &ctx),
                    _ => pipeline_tekton::tekton(&mut g, &ctx),
                };
                tally.record_execs(&out.execs, &st.commit);
                let end = trace_end(&out.trace);
                let failed = out.failed;
                let run = finish(&mut g, out, &bdef.name, attempt);
                tally.count_run(&run);
                emit(run)?;
                if !failed || tries >= 2 || !g.rng.random_bool(0.3) {
                    break;
                }
                // A GitHub re-run keeps its run id and counts attempts; Jenkins and
                // Tekton re-runs are new runs.
                if which == 0 {
                    attempt += 1;
                }
                run_start = end + g.rng.random_range(5 * MIN_US..30 * MIN_US);
            }
        }
    }
    Ok(tally.into_truth(&branches, &suites, &g))
}

/// Branch of every push event: counts proportional to the weights (never below a
/// branch's minimum), in shuffled order.
fn event_deck(g: &mut Gen, branches: &[BranchDef], n: usize) -> Vec<usize> {
    let mut deck = Vec::new();
    for (i, b) in branches.iter().enumerate() {
        let k = ((b.weight * n as f64).round() as usize).max(b.min_events);
        deck.extend(std::iter::repeat_n(i, k));
    }
    deck.shuffle(&mut g.rng);
    deck
}

/// Moves the branch on to its next push; a new commit settles the old one in `tally`.
fn advance_commit(g: &mut Gen, b: &BranchDef, st: &mut BranchState, tally: &mut Tally) {
    let k = st.events;
    st.events += 1;
    let forced = match b.breaks {
        Some((_, from, to)) => k == from || k == from + 1 || k == to + 1,
        None => false,
    };
    if k == 0 || forced || g.rng.random_bool(0.4) {
        let sha: [u8; 20] = g.rng.random();
        tally.close_commit(&st.commit);
        st.commit = hex(&sha);
        st.broken = match b.breaks {
            Some((test, from, to)) if (from..=to).contains(&k) => vec![test],
            _ => Vec::new(),
        };
    }
}

/// Flaky tests that have failed but not yet passed on `commit`.
fn failed_only_flaky(suites: &[SuiteDef], commit: &str, tally: &Tally) -> Vec<&'static str> {
    let mut out = Vec::new();
    let Some(results) = tally.on_commit(commit) else {
        return out;
    };
    for t in suites.iter().flat_map(|s| &s.tests) {
        if matches!(t.plant, Plant::Flaky { .. })
            && let Some(&(p, f)) = results.get(t.name)
            && p == 0
            && f > 0
        {
            out.push(t.name);
        }
    }
    out
}

fn trace_end(t: &SynthTrace) -> i64 {
    t.spans.iter().map(|s| s.end_us).max().unwrap_or(0)
}

/// Adds the trace-level mess (orphan spans) and wraps the run.
fn finish(g: &mut Gen, out: RunOut, branch: &str, attempt: u32) -> Run {
    let mut trace = out.trace;
    if g.messy && g.rng.random_bool(0.04) {
        add_orphan(g, &mut trace);
    }
    Run {
        trace,
        branch: branch.to_string(),
        pipeline: out.pipeline,
        failed: out.failed,
        attempt,
    }
}

/// An artifact-upload span whose parent was never exported (a lost batch).
fn add_orphan(g: &mut Gen, trace: &mut SynthTrace) {
    let Some(root) = trace.spans.first() else {
        return;
    };
    let start = root.end_us - g.rng.random_range(1_000_000..5_000_000);
    let mut parent: [u8; 8] = g.rng.random();
    while trace.spans.iter().any(|s| s.span_id == parent) {
        parent = g.rng.random();
    }
    let span = SynthSpan {
        span_id: g.rng.random(),
        parent: Some(parent),
        resource: root.resource,
        name: "upload-artifact".into(),
        kind: Kind::Client,
        start_us: start,
        end_us: start + g.rng.random_range(200_000..900_000),
        status: SpanStatus::Unset,
        status_message: None,
        attrs: vec![("artifact.name".into(), Val::Str("test-results.zip".into()))],
        links: Vec::new(),
    };
    trace.spans.push(span);
}
