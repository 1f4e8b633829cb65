//! Turns what the scenario did into the [`Truth`]: run counts per branch and
//! pipeline, per-test executions, per-commit verdicts, mess counters.

use std::collections::{BTreeMap, BTreeSet};

use super::catalog::{self, BranchDef, Convention, Plant, SuiteDef, TestDef};
use super::generator::Gen;
use super::pipeline_main;
use super::run::Run;
use super::suites::Exec;
use super::truth::{Cause, PlantedFlaky, TestStats, Truth};
use crate::model::Conventions;
use crate::model::test_id::TestNames;

/// (commit, test) → (passes, failures).
pub(crate) type PerCommit = BTreeMap<(String, &'static str), (u64, u64)>;

pub(crate) fn record_execs(
    execs: &[Exec],
    commit: &str,
    per_commit: &mut PerCommit,
    stats: &mut BTreeMap<String, TestStats>,
) {
    for e in execs {
        let c = per_commit.entry((commit.to_string(), e.test)).or_default();
        let s = stats.entry(e.test.to_string()).or_default();
        s.executions += 1;
        s.retries += u64::from(e.retry);
        if e.passed {
            c.0 += 1;
            s.passes += 1;
        } else {
            c.1 += 1;
            s.failures += 1;
        }
    }
}

/// The name the analyses show for a test: its `test_id` from what the suite's
/// convention emits (JUnit-to-OTLP spans carry the class, the others a bare name).
fn test_id(suite: &SuiteDef, test: &TestDef) -> String {
    let class = matches!(suite.convention, Convention::JUnit).then_some(test.class);
    let names = TestNames {
        name: test.name,
        class,
        file: None,
    };
    Conventions::builtin().test_id_rules().canonical(names)
}

/// Computes the Truth from the generated runs; tests are named by their `test_id`.
pub(crate) fn make_truth(
    runs: &[Run],
    branches: &[BranchDef],
    suites: &[SuiteDef],
    per_commit: &PerCommit,
    stats: BTreeMap<String, TestStats>,
    g: &Gen,
) -> Truth {
    let mut t = Truth {
        bottleneck_pipeline: pipeline_main::PIPELINE.into(),
        critical_task: pipeline_main::CRITICAL_TASK.into(),
        parallel_long_task: pipeline_main::PARALLEL_LONG_TASK.into(),
        parallel_tasks: pipeline_main::PARALLEL_TASKS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        hostile_branches: branches
            .iter()
            .filter(|b| b.hostile)
            .map(|b| b.name.clone())
            .collect(),
        skewed_spans: g.skewed,
        huge_attribute_spans: g.huge,
        ..Truth::default()
    };
    count_runs(&mut t, runs);
    let smoke = catalog::smoke_suite();
    let jenkins = catalog::jenkins_suites();
    let all: Vec<&SuiteDef> = suites
        .iter()
        .chain(std::iter::once(&smoke))
        .chain(jenkins.iter())
        .collect();
    let ids: BTreeMap<&str, String> = all
        .iter()
        .flat_map(|suite| suite.tests.iter().map(|t| (t.name, test_id(suite, t))))
        .collect();
    let shown = |name: &str| ids.get(name).cloned().unwrap_or_else(|| name.to_string());
    let mut stats: BTreeMap<String, TestStats> =
        stats.into_iter().map(|(k, v)| (shown(&k), v)).collect();
    for ((commit, test), &(p, f)) in per_commit {
        let test = shown(test);
        let s = stats.entry(test.clone()).or_default();
        if p > 0 && f > 0 {
            s.flaky_commits += 1;
        } else if f > 0 {
            s.broken_commits += 1;
            t.broken_commits
                .entry(test)
                .or_default()
                .push(commit.clone());
        }
    }
    for suite in all {
        for test in &suite.tests {
            match &test.plant {
                Plant::Stable => t.stable_tests.push(shown(test.name)),
                Plant::Broken => t.broken_tests.push(shown(test.name)),
                Plant::Flaky { cause, child, rate } => t.flaky_tests.push(PlantedFlaky {
                    test: shown(test.name),
                    suite: suite.name.into(),
                    cause_span: match cause {
                        Cause::SelfDuration => match suite.convention {
                            Convention::Pytest => format!("Running {}", test.name),
                            _ => test.name.to_string(),
                        },
                        _ => test.children[*child].name.to_string(),
                    },
                    cause: cause.clone(),
                    planned_rate: *rate,
                }),
            }
        }
    }
    t.test_stats = stats;
    t
}

/// Adds `runs` to the run, trace and span counts of `t`.
pub(crate) fn count_runs(t: &mut Truth, runs: &[Run]) {
    for r in runs {
        for key in [
            t.branch_runs.entry(r.branch.clone()).or_default(),
            t.pipeline_runs.entry(r.pipeline.to_string()).or_default(),
        ] {
            key.0 += 1;
            key.1 += u64::from(r.failed);
        }
        t.traces += 1;
        t.reruns += u64::from(r.attempt > 1);
        t.spans += r.trace.spans.len() as u64;
        let ids: BTreeSet<[u8; 8]> = r.trace.spans.iter().map(|s| s.span_id).collect();
        t.orphan_spans += r
            .trace
            .spans
            .iter()
            .filter(|s| s.parent.is_some_and(|p| !ids.contains(&p)))
            .count() as u64;
    }
}
