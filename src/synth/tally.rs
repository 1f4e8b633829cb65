//! Turns what the scenario did into the [`Truth`]: run counts per branch and
//! pipeline, per-test executions, per-commit verdicts, mess counters.
//!
//! The tally is kept as the scenario goes, one run at a time, so that no run has to be
//! kept for it and its size does not grow with the number of runs: a commit's
//! verdicts (flaky, broken) are settled and its per-test counts dropped as soon as its
//! branch moves on to a new commit, because no later run can build it again.

use std::collections::{BTreeMap, BTreeSet};

use super::catalog::{self, BranchDef, Convention, Plant, SuiteDef, TestDef};
use super::generator::Gen;
use super::pipeline_main;
use super::run::Run;
use super::suites::Exec;
use super::truth::{Cause, PlantedFlaky, TestStats, Truth};
use crate::model::Conventions;
use crate::model::test_id::TestNames;

/// test → (passes, failures) on one commit.
pub(crate) type CommitResults = BTreeMap<&'static str, (u64, u64)>;

/// The Truth so far; [`Tally::into_truth`] finishes it.
#[derive(Default)]
pub(crate) struct Tally {
    /// Run, trace and span counts (the fields [`count_run`] fills).
    truth: Truth,
    /// Executions per test (generator name; the Truth shows the `test_id`).
    stats: BTreeMap<&'static str, TestStats>,
    /// Commits some branch is still on → their results so far.
    open: BTreeMap<String, CommitResults>,
    /// Per test: commits on which it both passed and failed, and on which it only failed.
    verdicts: BTreeMap<&'static str, (u64, u64)>,
    /// (commit, test) of every failed-only commit of a test.
    broken: Vec<(String, &'static str)>,
}

impl Tally {
    /// Counts one finished run (its trace, attempt and result).
    pub(crate) fn count_run(&mut self, run: &Run) {
        count_run(&mut self.truth, run);
    }

    /// Adds the test executions of one run on `commit`.
    pub(crate) fn record_execs(&mut self, execs: &[Exec], commit: &str) {
        let per_test = self.open.entry(commit.to_string()).or_default();
        for e in execs {
            let c = per_test.entry(e.test).or_default();
            let s = self.stats.entry(e.test).or_default();
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

    /// The results on `commit` so far (`None` when nothing has run on it).
    pub(crate) fn on_commit(&self, commit: &str) -> Option<&CommitResults> {
        self.open.get(commit)
    }

    /// Settles the verdicts of `commit`: no run will build it again.
    pub(crate) fn close_commit(&mut self, commit: &str) {
        let Some((commit, per_test)) = self.open.remove_entry(commit) else {
            return;
        };
        for (test, (p, f)) in per_test {
            let v = self.verdicts.entry(test).or_default();
            if p > 0 && f > 0 {
                v.0 += 1;
            } else if f > 0 {
                v.1 += 1;
                self.broken.push((commit.clone(), test));
            }
        }
    }

    /// The finished Truth; tests are named by their `test_id`.
    pub(crate) fn into_truth(
        mut self,
        branches: &[BranchDef],
        suites: &[SuiteDef],
        g: &Gen,
    ) -> Truth {
        let still_open: Vec<String> = self.open.keys().cloned().collect();
        for commit in still_open {
            self.close_commit(&commit);
        }
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
            ..self.truth
        };
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
            self.stats.into_iter().map(|(k, v)| (shown(k), v)).collect();
        for (test, (flaky, broken)) in self.verdicts {
            let s = stats.entry(shown(test)).or_default();
            s.flaky_commits += flaky;
            s.broken_commits += broken;
        }
        // In (commit, test) order, as a map over every commit's results would list them.
        self.broken.sort_unstable();
        for (commit, test) in self.broken {
            t.broken_commits
                .entry(shown(test))
                .or_default()
                .push(commit);
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

/// Adds one run to the run, trace and span counts of `t`.
pub(crate) fn count_run(t: &mut Truth, r: &Run) {
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
