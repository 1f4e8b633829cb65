//! The plan of the delivery month: for each repository, which changes exist, when
//! their PR checks run (and fail, and are re-run or cancelled), when they merge, when
//! each environment gets which commit, and the planted production incidents.
//!
//! The plan is plain data ([`PlannedRun`]s with their [`Job`]s); `github.rs` and
//! `gitlab.rs` only dress it in their emitter's keys and `truth.rs` computes the
//! expected analysis from it, so the two can never disagree about what happened.

use rand::Rng;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;

use crate::synth::trace::{Attrs, Val, attrs, hex};

/// The default branch of both repositories.
pub(crate) const DEFAULT_BRANCH: &str = "main";
pub(crate) const INTEGRATION: &str = "integration";
pub(crate) const STAGING: &str = "staging";
pub(crate) const PRODUCTION: &str = "production";

pub(crate) const SEC_US: i64 = 1_000_000;
pub(crate) const MIN_US: i64 = 60 * SEC_US;
pub(crate) const HOUR_US: i64 = 60 * MIN_US;
pub(crate) const DAY_US: i64 = 24 * HOUR_US;

/// Whose attribute conventions a repository's runs are emitted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Emitter {
    /// The GitHub Actions exporters (`github.*`, otel-cicd-action).
    GitHub,
    /// The Collector's GitLab receiver (`cicd.*`, `vcs.*`, `gitlab.*`).
    GitLab,
}

/// A repository of the delivery story.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RepoDef {
    pub name: &'static str,
    pub emitter: Emitter,
    /// Pipeline of PR checks and default-branch builds.
    pub ci: &'static str,
    /// Pipeline of the deployments (the same as `ci` on GitLab).
    pub deploy: &'static str,
    pub changes: usize,
    /// Days of the week (0 = the first day of the month) with a production release.
    pub release_weekdays: &'static [i64],
    pub release_hour: i64,
    pub first_pr: u32,
    pub first_run_id: i64,
}

/// The two repositories: storefront on GitHub, payments on GitLab.
pub(crate) const REPOS: [RepoDef; 2] = [
    RepoDef {
        name: "acme/storefront",
        emitter: Emitter::GitHub,
        ci: "CI",
        deploy: "Deploy",
        changes: 30,
        release_weekdays: &[0, 2, 4],
        release_hour: 14,
        first_pr: 301,
        first_run_id: 15_100_000_000,
    },
    RepoDef {
        name: "acme/payments",
        emitter: Emitter::GitLab,
        ci: "payments",
        deploy: "payments",
        changes: 24,
        release_weekdays: &[1, 3],
        release_hour: 10,
        first_pr: 41,
        first_run_id: 1_480_000_000,
    },
];

/// How a job ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobResult {
    Success,
    /// The change's fault: a test or a deployment failed.
    Failure,
    /// Failed because the CI platform did (a `setup` / `fetch-deps` job lost its
    /// runner or network); emitted as an ordinary failure of a platform-named job.
    PlatformFailure,
    Cancelled,
    Skipped,
}

impl JobResult {
    pub(crate) fn failed(self) -> bool {
        matches!(self, JobResult::Failure | JobResult::PlatformFailure)
    }
}

/// Where a deploy job's environment is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnvKey {
    /// `deployment.environment.name` (stable semconv).
    Semconv,
    /// `deployment.environment` (older semconv).
    Older,
    /// `cicd.pipeline.task.run.environment.name` (GitLab receiver).
    GitLab,
    /// Nowhere: only the job name (`deploy-staging`) says it.
    NameOnly,
}

/// A deploy job's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Canonical environment name (what the truth uses).
    pub env: &'static str,
    /// The value as emitted (`Production` for the canonical `production`).
    pub value: &'static str,
    pub key: EnvKey,
    /// Whether the job carries `cicd.pipeline.task.type = deploy`.
    pub typed: bool,
}

impl Target {
    /// The deploy job's attributes for its target (the same keys on both emitters).
    pub(crate) fn attrs(&self) -> Attrs {
        let mut a = if self.typed {
            attrs! { "cicd.pipeline.task.type" => "deploy" }
        } else {
            Attrs::new()
        };
        let key = match self.key {
            EnvKey::Semconv => "deployment.environment.name",
            EnvKey::Older => "deployment.environment",
            EnvKey::GitLab => "cicd.pipeline.task.run.environment.name",
            EnvKey::NameOnly => return a,
        };
        a.push((key.to_string(), Val::from(self.value)));
        a
    }
}

/// One job (task) of a run.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub name: &'static str,
    /// GitLab stage; unused on GitHub.
    pub stage: &'static str,
    pub start_us: i64,
    pub end_us: i64,
    pub result: JobResult,
    pub target: Option<Target>,
}

/// The pull request (merge request) a PR-check run belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pr {
    pub number: u32,
    pub title: String,
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    PullRequest,
    Push,
    /// A person started it (GitHub `workflow_dispatch`, GitLab `web`).
    Manual,
    /// GitLab `schedule`.
    Schedule,
}

/// One pipeline run attempt (one trace).
#[derive(Debug, Clone)]
pub(crate) struct PlannedRun {
    pub repo: &'static RepoDef,
    pub pipeline: &'static str,
    pub trigger: Trigger,
    pub branch: String,
    pub commit: String,
    pub pr: Option<Pr>,
    pub run_id: i64,
    pub attempt: u32,
    pub start_us: i64,
    pub end_us: i64,
    /// Empty for a run that never started (GitHub `startup_failure`).
    pub jobs: Vec<Job>,
    /// The run failed before any job started: the platform's fault.
    pub startup_failure: bool,
}

impl PlannedRun {
    /// Failed (the pipeline result is a failure or an error).
    pub(crate) fn failed(&self) -> bool {
        self.startup_failure || self.jobs.iter().any(|j| j.result.failed())
    }

    pub(crate) fn cancelled(&self) -> bool {
        !self.failed() && self.jobs.iter().any(|j| j.result == JobResult::Cancelled)
    }

    /// A failure of the CI platform rather than of the change: the triage's rule (a
    /// platform-named job failed, or nothing below the pipeline failed).
    pub(crate) fn platform_failure(&self) -> bool {
        self.failed()
            && (self.startup_failure
                || self
                    .jobs
                    .iter()
                    .any(|j| j.result == JobResult::PlatformFailure))
    }
}

/// How a change's PR checks go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checks {
    Pass,
    /// The first run fails for the platform, its re-run passes.
    Platform,
    /// GitHub only: the first run never starts, its re-run passes.
    Startup,
    /// The first run's tests fail (a flaky test), its re-run passes.
    Code,
    /// The first run is cancelled (superseded), its re-run passes.
    Cancelled,
}

/// What happens to a change after its PR checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Merged,
    /// PR checks only.
    NeverMerged,
    /// Pushed to the default branch without a PR.
    DirectPush,
}

/// A change of the plan.
#[derive(Debug, Clone)]
pub(crate) struct PlannedChange {
    pub commit: String,
    /// The last end of its staging deployment, when it succeeded.
    pub staged_end_us: Option<i64>,
    pub merge_us: Option<i64>,
}

/// What was planted on purpose, by name, for the tests.
#[derive(Debug, Clone, Default)]
pub(crate) struct Planted {
    pub never_merged_pr: String,
    pub no_pr_commit: String,
    pub failed_deployment_commit: String,
    pub rollback_commit: String,
}

/// The plan of one repository: its runs in start order.
pub(crate) struct RepoPlan {
    pub repo: &'static RepoDef,
    pub runs: Vec<PlannedRun>,
    pub planted: Planted,
}

const TOPICS: [&str; 12] = [
    "cart-badge",
    "price-rounding",
    "search-filters",
    "retry-webhooks",
    "invoice-pdf",
    "currency-format",
    "session-timeout",
    "image-lazy-load",
    "tax-rules",
    "refund-emails",
    "rate-limits",
    "address-autocomplete",
];

struct Builder<'a> {
    repo: &'static RepoDef,
    rng: &'a mut SmallRng,
    runs: Vec<PlannedRun>,
    next_run_id: i64,
}

impl Builder<'_> {
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.random_range(lo..hi)
    }

    fn run_id(&mut self) -> i64 {
        self.next_run_id += self.rng.random_range(3..400);
        self.next_run_id
    }

    /// Lays out `jobs` (name, stage, result, target) one after another from `start`;
    /// returns them and the end of the last one. A skipped job takes no time.
    fn jobs(
        &mut self,
        start: i64,
        specs: &[(&'static str, &'static str, JobResult, Option<Target>)],
    ) -> (Vec<Job>, i64) {
        let mut t = start;
        let mut jobs = Vec::new();
        for (name, stage, result, target) in specs {
            let begin = t + self.range(2 * SEC_US, 20 * SEC_US);
            let length = match (*result, *name) {
                (JobResult::Skipped, _) => 0,
                (JobResult::PlatformFailure, _) => self.range(20 * SEC_US, 90 * SEC_US),
                (JobResult::Cancelled, _) => self.range(MIN_US, 3 * MIN_US),
                // Shorter than build-and-test's 5-minute build, so that the planted
                // bottleneck stays the slowest task of the month.
                (_, n) if n.contains("test") => self.range(2 * MIN_US, 4 * MIN_US),
                (_, n) if n.contains("build") => self.range(90 * SEC_US, 3 * MIN_US),
                (_, n) if n.contains("eploy") => self.range(MIN_US, 4 * MIN_US),
                _ => self.range(30 * SEC_US, 2 * MIN_US),
            };
            jobs.push(Job {
                name,
                stage,
                start_us: begin,
                end_us: begin + length,
                result: *result,
                target: target.clone(),
            });
            t = begin + length;
        }
        (jobs, t)
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        pipeline: &'static str,
        trigger: Trigger,
        branch: &str,
        commit: &str,
        pr: Option<&Pr>,
        run_id: i64,
        attempt: u32,
        start: i64,
        specs: &[(&'static str, &'static str, JobResult, Option<Target>)],
    ) -> i64 {
        let (jobs, last) = self.jobs(start, specs);
        let end = last + self.range(SEC_US, 10 * SEC_US);
        self.runs.push(PlannedRun {
            repo: self.repo,
            pipeline,
            trigger,
            branch: branch.to_string(),
            commit: commit.to_string(),
            pr: pr.cloned(),
            run_id,
            attempt,
            start_us: start,
            end_us: end,
            jobs,
            startup_failure: false,
        });
        end
    }

    /// A GitHub run that failed to start: the workflow span alone, a few seconds.
    fn startup_failure(
        &mut self,
        branch: &str,
        commit: &str,
        pr: Option<&Pr>,
        run_id: i64,
        start: i64,
    ) -> i64 {
        let end = start + self.range(2 * SEC_US, 8 * SEC_US);
        self.runs.push(PlannedRun {
            repo: self.repo,
            pipeline: self.repo.ci,
            trigger: if pr.is_some() {
                Trigger::PullRequest
            } else {
                Trigger::Push
            },
            branch: branch.to_string(),
            commit: commit.to_string(),
            pr: pr.cloned(),
            run_id,
            attempt: 1,
            start_us: start,
            end_us: end,
            jobs: Vec::new(),
            startup_failure: true,
        });
        end
    }
}

/// The CI jobs (PR checks and default-branch builds) for a run of `how`.
fn ci_specs(
    emitter: Emitter,
    how: Checks,
) -> Vec<(&'static str, &'static str, JobResult, Option<Target>)> {
    use JobResult::*;
    let (setup, build, test) = match emitter {
        Emitter::GitHub => ("setup", "build", "test"),
        Emitter::GitLab => ("fetch-deps", "build", "unit-tests"),
    };
    let results = match how {
        Checks::Pass | Checks::Startup => [Success, Success, Success],
        Checks::Platform => [PlatformFailure, Skipped, Skipped],
        Checks::Code => [Success, Success, Failure],
        Checks::Cancelled => [Success, Success, Cancelled],
    };
    vec![
        (setup, "build", results[0], None),
        (build, "build", results[1], None),
        (test, "test", results[2], None),
    ]
}

fn target(env: &'static str, value: &'static str, key: EnvKey, typed: bool) -> Option<Target> {
    Some(Target {
        env,
        value,
        key,
        typed,
    })
}

/// The integration and staging deploy jobs after a merge.
fn pre_production_specs(
    emitter: Emitter,
    results: [JobResult; 2],
) -> Vec<(&'static str, &'static str, JobResult, Option<Target>)> {
    match emitter {
        Emitter::GitHub => vec![
            (
                "deploy-integration",
                "deploy",
                results[0],
                target(INTEGRATION, INTEGRATION, EnvKey::Semconv, true),
            ),
            (
                "deploy-staging",
                "deploy",
                results[1],
                target(STAGING, STAGING, EnvKey::NameOnly, false),
            ),
        ],
        Emitter::GitLab => vec![
            (
                "deploy:integration",
                "deploy",
                results[0],
                target(INTEGRATION, INTEGRATION, EnvKey::GitLab, false),
            ),
            (
                "deploy:staging",
                "deploy",
                results[1],
                target(STAGING, STAGING, EnvKey::Older, false),
            ),
        ],
    }
}

fn production_spec(
    emitter: Emitter,
    result: JobResult,
) -> Vec<(&'static str, &'static str, JobResult, Option<Target>)> {
    match emitter {
        Emitter::GitHub => vec![(
            "Deploy to Production",
            "deploy",
            result,
            target(PRODUCTION, "Production", EnvKey::Semconv, true),
        )],
        Emitter::GitLab => vec![(
            "deploy:production",
            "deploy",
            result,
            target(PRODUCTION, PRODUCTION, EnvKey::GitLab, false),
        )],
    }
}

/// What happens after a merge: the default-branch CI run's fate and the pre-production
/// deploy jobs' results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterMerge {
    Normal,
    /// The default-branch CI run fails for the platform and is re-run.
    PlatformRerun,
    /// The integration deployment fails (staging is skipped).
    IntegrationFails,
    /// The staging deployment is cancelled.
    StagingCancelled,
    /// GitLab: the default-branch tests fail (a flaky test), the deploy jobs are
    /// skipped; nothing is re-run, the next merge carries the change on.
    TestsFail,
}

/// The plan of `repo` for the month from `start_us`.
pub(crate) fn plan_repo(repo: &'static RepoDef, rng: &mut SmallRng, start_us: i64) -> RepoPlan {
    let n = repo.changes;
    let gh = repo.emitter == Emitter::GitHub;
    let mut b = Builder {
        repo,
        rng,
        runs: Vec::new(),
        next_run_id: repo.first_run_id,
    };

    // PR-check fates and post-merge fates, shuffled over the changes (never on the
    // first two, so that the month starts with a production baseline).
    let mut checks = vec![
        Checks::Platform,
        Checks::Platform,
        Checks::Code,
        Checks::Code,
    ];
    checks.push(Checks::Code);
    checks.push(Checks::Cancelled);
    if gh {
        checks.push(Checks::Startup);
    }
    checks.resize(n - 2, Checks::Pass);
    checks.shuffle(b.rng);
    checks.splice(0..0, [Checks::Pass, Checks::Pass]);
    let mut after = vec![AfterMerge::PlatformRerun, AfterMerge::IntegrationFails];
    after.push(if gh {
        AfterMerge::StagingCancelled
    } else {
        AfterMerge::TestsFail
    });
    after.resize(n - 2, AfterMerge::Normal);
    after.shuffle(b.rng);
    after.splice(0..0, [AfterMerge::Normal, AfterMerge::Normal]);
    let never_merged = b.range(3, n as i64 / 2) as usize;
    let direct = b.range(n as i64 / 2, n as i64 - 3) as usize;

    let span = 26 * DAY_US;
    let mut changes: Vec<PlannedChange> = Vec::new();
    let mut planted = Planted::default();
    let mut main_free = start_us;
    let mut pr_number = repo.first_pr;
    for i in 0..n {
        let kind = match i {
            _ if i == never_merged => Kind::NeverMerged,
            _ if i == direct => Kind::DirectPush,
            _ => Kind::Merged,
        };
        let slot = span / n as i64;
        let created = start_us + HOUR_US + i as i64 * slot + b.range(0, slot / 2);
        let sha: [u8; 20] = b.rng.random();
        let commit = hex(&sha);
        let topic = TOPICS[i % TOPICS.len()];
        let pr = (kind != Kind::DirectPush).then(|| {
            pr_number += b.rng.random_range(1..4);
            Pr {
                number: pr_number,
                title: format!("{} {topic}", ["Fix", "Add", "Improve"][i % 3]),
            }
        });
        let branch = match kind {
            Kind::DirectPush => DEFAULT_BRANCH.to_string(),
            _ => format!("feature/{topic}-{i}"),
        };

        // PR checks.
        let mut checks_end = created;
        if let Some(pr) = &pr {
            let how = if kind == Kind::NeverMerged {
                Checks::Code
            } else {
                checks[i]
            };
            let run_id = b.run_id();
            let first_end = if how == Checks::Startup {
                b.startup_failure(&branch, &commit, Some(pr), run_id, created)
            } else {
                let specs = ci_specs(repo.emitter, how);
                b.push(
                    repo.ci,
                    Trigger::PullRequest,
                    &branch,
                    &commit,
                    Some(pr),
                    run_id,
                    1,
                    created,
                    &specs,
                )
            };
            checks_end = first_end;
            if how != Checks::Pass && kind != Kind::NeverMerged {
                // GitHub re-runs keep the run id and count attempts; GitLab starts a
                // new pipeline.
                let (id, attempt) = if gh { (run_id, 2) } else { (b.run_id(), 1) };
                let at = first_end + b.range(3 * MIN_US, 25 * MIN_US);
                let specs = ci_specs(repo.emitter, Checks::Pass);
                checks_end = b.push(
                    repo.ci,
                    Trigger::PullRequest,
                    &branch,
                    &commit,
                    Some(pr),
                    id,
                    attempt,
                    at,
                    &specs,
                );
            }
        }
        if kind == Kind::NeverMerged {
            planted.never_merged_pr = pr
                .as_ref()
                .map(|p| p.number.to_string())
                .unwrap_or_default();
            changes.push(PlannedChange {
                commit,
                staged_end_us: None,
                merge_us: None,
            });
            continue;
        }

        // Review, merge (the first default-branch run), pre-production deployments.
        let review = if kind == Kind::DirectPush {
            0
        } else {
            b.range(20 * MIN_US, 20 * HOUR_US)
        };
        let merge = (checks_end + review).max(main_free + 10 * MIN_US);
        if kind == Kind::DirectPush {
            planted.no_pr_commit = commit.clone();
        }
        let fate = after[i];
        let how = match fate {
            AfterMerge::PlatformRerun => Checks::Platform,
            AfterMerge::TestsFail => Checks::Code,
            _ => Checks::Pass,
        };
        let deploy_results = match fate {
            AfterMerge::IntegrationFails => [JobResult::Failure, JobResult::Skipped],
            AfterMerge::StagingCancelled => [JobResult::Success, JobResult::Cancelled],
            AfterMerge::TestsFail => [JobResult::Skipped, JobResult::Skipped],
            _ => [JobResult::Success, JobResult::Success],
        };
        let staged_end;
        if gh {
            let run_id = b.run_id();
            let mut end = b.push(
                repo.ci,
                Trigger::Push,
                DEFAULT_BRANCH,
                &commit,
                None,
                run_id,
                1,
                merge,
                &ci_specs(repo.emitter, how),
            );
            if how == Checks::Platform {
                let at = end + b.range(3 * MIN_US, 15 * MIN_US);
                let specs = ci_specs(repo.emitter, Checks::Pass);
                end = b.push(
                    repo.ci,
                    Trigger::Push,
                    DEFAULT_BRANCH,
                    &commit,
                    None,
                    run_id,
                    2,
                    at,
                    &specs,
                );
            }
            let at = end + b.range(MIN_US, 3 * MIN_US);
            let run_id = b.run_id();
            let specs = pre_production_specs(repo.emitter, deploy_results);
            end = b.push(
                repo.deploy,
                Trigger::Push,
                DEFAULT_BRANCH,
                &commit,
                None,
                run_id,
                1,
                at,
                &specs,
            );
            staged_end = (deploy_results[1] == JobResult::Success)
                .then(|| b.runs.last().and_then(|r| r.jobs.last()).map(|j| j.end_us))
                .flatten();
            main_free = end;
        } else {
            // One pipeline: build, test, deploy to integration and staging. A platform
            // failure is retried as a new pipeline.
            let mut specs = ci_specs(repo.emitter, how);
            specs.extend(pre_production_specs(repo.emitter, deploy_results));
            if how == Checks::Platform {
                for s in specs.iter_mut().skip(3) {
                    s.2 = JobResult::Skipped;
                }
            }
            let run_id = b.run_id();
            let mut end = b.push(
                repo.ci,
                Trigger::Push,
                DEFAULT_BRANCH,
                &commit,
                None,
                run_id,
                1,
                merge,
                &specs,
            );
            if how == Checks::Platform {
                let at = end + b.range(3 * MIN_US, 15 * MIN_US);
                let mut specs = ci_specs(repo.emitter, Checks::Pass);
                specs.extend(pre_production_specs(repo.emitter, deploy_results));
                let run_id = b.run_id();
                end = b.push(
                    repo.ci,
                    Trigger::Push,
                    DEFAULT_BRANCH,
                    &commit,
                    None,
                    run_id,
                    1,
                    at,
                    &specs,
                );
            }
            staged_end = (deploy_results[1] == JobResult::Success)
                .then(|| b.runs.last().and_then(|r| r.jobs.last()).map(|j| j.end_us))
                .flatten();
            main_free = end;
        }
        changes.push(PlannedChange {
            commit,
            staged_end_us: staged_end,
            merge_us: Some(merge),
        });
    }

    plan_releases(&mut b, &changes, &mut planted, start_us);
    let mut runs = b.runs;
    runs.sort_by_key(|r| (r.start_us, r.run_id, r.attempt));
    RepoPlan {
        repo,
        runs,
        planted,
    }
}

/// Production releases on the repository's release days: the latest staged change,
/// when it is newer than what production runs. The third release fails and is re-run
/// (the restore); the sixth is rolled back a few hours later to the release before it.
fn plan_releases(
    b: &mut Builder<'_>,
    changes: &[PlannedChange],
    planted: &mut Planted,
    start_us: i64,
) {
    let repo = b.repo;
    let gh = repo.emitter == Emitter::GitHub;
    let (manual, scheduled) = if gh {
        (Trigger::Manual, Trigger::Manual)
    } else {
        (Trigger::Manual, Trigger::Schedule)
    };
    // (merge, commit) of what production runs.
    let mut current: Option<(i64, String)> = None;
    let mut releases = 0;
    for day in 0..30 {
        if !repo.release_weekdays.contains(&(day % 7)) {
            continue;
        }
        let at = start_us + day * DAY_US + repo.release_hour * HOUR_US + b.range(0, 30 * MIN_US);
        let Some(candidate) = changes
            .iter()
            .filter(|c| c.staged_end_us.is_some_and(|e| e < at))
            .filter_map(|c| c.merge_us.map(|m| (m, c.commit.clone())))
            .max()
        else {
            continue;
        };
        if current.as_ref().is_some_and(|c| c.0 >= candidate.0) {
            continue;
        }
        releases += 1;
        let run_id = b.run_id();
        let commit = candidate.1.clone();
        if releases == 3 {
            planted.failed_deployment_commit = commit.clone();
            let specs = production_spec(repo.emitter, JobResult::Failure);
            let end = b.push(
                repo.deploy,
                scheduled,
                DEFAULT_BRANCH,
                &commit,
                None,
                run_id,
                1,
                at,
                &specs,
            );
            let (id, attempt) = if gh { (run_id, 2) } else { (b.run_id(), 1) };
            let retry = end + b.range(30 * MIN_US, 90 * MIN_US);
            let specs = production_spec(repo.emitter, JobResult::Success);
            b.push(
                repo.deploy,
                manual,
                DEFAULT_BRANCH,
                &commit,
                None,
                id,
                attempt,
                retry,
                &specs,
            );
        } else {
            let specs = production_spec(repo.emitter, JobResult::Success);
            let end = b.push(
                repo.deploy,
                scheduled,
                DEFAULT_BRANCH,
                &commit,
                None,
                run_id,
                1,
                at,
                &specs,
            );
            if releases == 6
                && let Some((_, previous)) = &current
            {
                planted.rollback_commit = previous.clone();
                let back = end + b.range(2 * HOUR_US, 5 * HOUR_US);
                let run_id = b.run_id();
                let specs = production_spec(repo.emitter, JobResult::Success);
                b.push(
                    repo.deploy,
                    manual,
                    DEFAULT_BRANCH,
                    previous,
                    None,
                    run_id,
                    1,
                    back,
                    &specs,
                );
                current = changes
                    .iter()
                    .find(|c| &c.commit == previous)
                    .and_then(|c| c.merge_us.map(|m| (m, c.commit.clone())));
                continue;
            }
        }
        current = Some(candidate);
    }
}
