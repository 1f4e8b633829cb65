//! What `delivery`, `dora` and `failures --by cause` must find in the delivery
//! history, computed from the plan with the definitions of issue 12 (changes, merges,
//! deployments that include a change, rollbacks, DORA keys, platform failures) in
//! plain code, one definition per function, so that a disagreement with the analysis
//! points at one rule.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::plan::{DEFAULT_BRANCH, PRODUCTION, PlannedRun, RepoPlan};

const NS_PER_US: i64 = 1_000;
const DAY_NS: i64 = 86_400 * 1_000_000_000;
/// The default `[delivery] failure_window`.
const FAILURE_WINDOW_NS: i64 = DAY_NS;
/// The default `[delivery] hotfix_prefixes`.
const HOTFIX_PREFIXES: [&str; 3] = ["hotfix/", "hotfix-", "hotfix_"];

/// One change (repo, commit) and when it reached each environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeTruth {
    pub repo: String,
    pub commit: String,
    /// The PR / MR number of its runs; `None` for a direct push.
    pub pr: Option<String>,
    /// Earliest start of any run of the commit.
    pub first_ci_start_ns: i64,
    /// Start of its first default-branch run; `None` when it never merged.
    pub merge_ns: Option<i64>,
    /// Environment → end of the first successful deployment that includes it.
    pub deployed_ns: BTreeMap<String, i64>,
    /// Production deployment end - first CI start.
    pub lead_time_ns: Option<i64>,
}

/// The DORA keys of one repository over the whole month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoraTruth {
    /// Production deployments, successful or failed by outcome (the change failure
    /// rate's denominator).
    pub deployments: u64,
    /// Successful production deployments (the deployment frequency's count).
    pub successful_deployments: u64,
    /// `successful_deployments / (window days / 7)`.
    pub deployments_per_week: f64,
    /// Distinct UTC dates with a successful production deployment.
    pub deployment_days: u64,
    pub deployment_days_per_week: f64,
    /// Failed by outcome, or followed within the failure window by a rollback or a
    /// hotfix deployment.
    pub failed_deployments: u64,
    pub change_failure_rate: f64,
    pub lead_time_median_ns: Option<i64>,
    /// Nearest rank: the ceil(0.9 n)-th smallest.
    pub lead_time_p90_ns: Option<i64>,
    /// Per failed production deployment, in end order: its end to the end of the next
    /// successful production deployment.
    pub restore_ns: Vec<i64>,
    pub restore_median_ns: Option<i64>,
}

/// Failed runs of one pipeline: how many, and how much time, the platform lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlatformTruth {
    pub runs: u64,
    pub failed_runs: u64,
    pub platform_failed_runs: u64,
    /// Sum of the failed runs' pipeline-span durations.
    pub lost_ns: i64,
    pub platform_lost_ns: i64,
}

/// The planted special cases of one repository, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlantedDelivery {
    /// A PR that has PR-check runs only.
    pub never_merged_pr: String,
    /// A change (commit) whose production deployment deployed a later commit.
    pub deployed_by_later_commit: String,
    /// The later commit that deployed it.
    pub deploying_commit: String,
    /// The commit the rollback deployment deployed (an older merged commit).
    pub rollback_commit: String,
    /// The commit of the production deployment whose job failed.
    pub failed_deployment_commit: String,
    /// A change pushed to the default branch without a PR, deployed to production.
    pub no_pr_commit: String,
}

/// Everything the delivery history planted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeliveryTruth {
    /// The DORA window: the synthetic month, [start, start + 30 d).
    pub window_start_ns: i64,
    pub window_end_ns: i64,
    pub default_branch: String,
    pub production: String,
    /// Every change, by repo then first CI start.
    pub changes: Vec<ChangeTruth>,
    /// Repo → DORA keys.
    pub dora: BTreeMap<String, DoraTruth>,
    /// Pipeline → failed runs and the platform's share.
    pub platform: BTreeMap<String, PlatformTruth>,
    /// Repo → the planted special cases.
    pub planted: BTreeMap<String, PlantedDelivery>,
}

/// A deployment: a deploy job that passed or failed (cancelled and skipped ones are
/// not deployments). Its time is its end.
#[derive(Debug, Clone)]
struct Deployment {
    env: &'static str,
    commit: String,
    end_ns: i64,
    ok: bool,
    /// The branch of its run (hotfix prefixes).
    branch: String,
}

fn deployments(runs: &[PlannedRun]) -> Vec<Deployment> {
    let mut out: Vec<Deployment> = runs
        .iter()
        .flat_map(|r| {
            r.jobs.iter().filter_map(move |j| {
                let t = j.target.as_ref()?;
                let ok = match j.result {
                    super::plan::JobResult::Success => true,
                    x if x.failed() => false,
                    _ => return None,
                };
                Some(Deployment {
                    env: t.env,
                    commit: r.commit.clone(),
                    end_ns: j.end_us * NS_PER_US,
                    ok,
                    branch: r.branch.clone(),
                })
            })
        })
        .collect();
    out.sort_by_key(|d| d.end_ns);
    out
}

/// A PR-check run: it belongs to a PR (trigger pull_request, change id and base set).
fn is_pr_check(r: &PlannedRun) -> bool {
    r.pr.is_some()
}

fn is_default_branch_run(r: &PlannedRun) -> bool {
    r.branch == DEFAULT_BRANCH && !is_pr_check(r)
}

/// merge(commit): start of its first default-branch run.
fn merges(runs: &[PlannedRun]) -> BTreeMap<&str, i64> {
    let mut m: BTreeMap<&str, i64> = BTreeMap::new();
    for r in runs.iter().filter(|r| is_default_branch_run(r)) {
        let start = r.start_us * NS_PER_US;
        m.entry(r.commit.as_str())
            .and_modify(|s| *s = (*s).min(start))
            .or_insert(start);
    }
    m
}

/// A deployment of `d` includes change `c` when it is the same commit or both merged
/// and `c` merged no later than `d`.
fn includes(merge: &BTreeMap<&str, i64>, d: &str, c: &str) -> bool {
    d == c || matches!((merge.get(c), merge.get(d)), (Some(mc), Some(md)) if mc <= md)
}

fn median(sorted: &[i64]) -> Option<i64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        // Times are whole µs, so the mean of two ns values is a whole ns.
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

fn p90(sorted: &[i64]) -> Option<i64> {
    let n = sorted.len();
    let rank = (9 * n).div_ceil(10);
    (n > 0).then(|| sorted[rank.max(1) - 1])
}

/// The deployments that roll back: a commit merged earlier than the one the previous
/// successful deployment of the environment deployed.
fn rollbacks(deps: &[Deployment], merge: &BTreeMap<&str, i64>) -> Vec<bool> {
    deps.iter()
        .enumerate()
        .map(|(i, d)| {
            let previous = deps[..i]
                .iter()
                .rev()
                .find(|p| p.ok && p.env == d.env && p.end_ns < d.end_ns);
            match (previous, merge.get(d.commit.as_str())) {
                (Some(p), Some(md)) => merge.get(p.commit.as_str()).is_some_and(|mp| md < mp),
                _ => false,
            }
        })
        .collect()
}

fn changes_of(plan: &RepoPlan, deps: &[Deployment]) -> Vec<ChangeTruth> {
    let merge = merges(&plan.runs);
    let mut by_commit: BTreeMap<&str, (i64, Option<String>)> = BTreeMap::new();
    for r in &plan.runs {
        let e = by_commit
            .entry(r.commit.as_str())
            .or_insert((i64::MAX, None));
        e.0 = e.0.min(r.start_us * NS_PER_US);
        if let Some(pr) = &r.pr {
            e.1 = Some(pr.number.to_string());
        }
    }
    let mut out: Vec<ChangeTruth> = by_commit
        .into_iter()
        .map(|(commit, (first, pr))| {
            let mut deployed_ns = BTreeMap::new();
            for d in deps
                .iter()
                .filter(|d| d.ok && includes(&merge, &d.commit, commit))
            {
                deployed_ns.entry(d.env.to_string()).or_insert(d.end_ns);
            }
            let lead_time_ns = deployed_ns.get(PRODUCTION).map(|end| end - first);
            ChangeTruth {
                repo: plan.repo.name.to_string(),
                commit: commit.to_string(),
                pr,
                first_ci_start_ns: first,
                merge_ns: merge.get(commit).copied(),
                deployed_ns,
                lead_time_ns,
            }
        })
        .collect();
    out.sort_by(|a, b| (a.first_ci_start_ns, &a.commit).cmp(&(b.first_ci_start_ns, &b.commit)));
    out
}

fn dora_of(
    plan: &RepoPlan,
    deps: &[Deployment],
    changes: &[ChangeTruth],
    window: (i64, i64),
) -> DoraTruth {
    let merge = merges(&plan.runs);
    let in_window = |t: i64| window.0 <= t && t < window.1;
    let production: Vec<Deployment> = deps
        .iter()
        .filter(|d| d.env == PRODUCTION)
        .cloned()
        .collect();
    let rollback = rollbacks(&production, &merge);
    let hotfix = |d: &Deployment| HOTFIX_PREFIXES.iter().any(|p| d.branch.starts_with(p));
    let failed: Vec<bool> = production
        .iter()
        .map(|d| {
            !d.ok
                || production
                    .iter()
                    .zip(&rollback)
                    .any(|(later, &is_rollback)| {
                        (is_rollback || hotfix(later))
                            && later.end_ns > d.end_ns
                            && later.end_ns - d.end_ns <= FAILURE_WINDOW_NS
                    })
        })
        .collect();
    let weeks = (window.1 - window.0) as f64 / DAY_NS as f64 / 7.0;
    let mut t = DoraTruth {
        deployments: 0,
        successful_deployments: 0,
        deployments_per_week: 0.0,
        deployment_days: 0,
        deployment_days_per_week: 0.0,
        failed_deployments: 0,
        change_failure_rate: 0.0,
        lead_time_median_ns: None,
        lead_time_p90_ns: None,
        restore_ns: Vec::new(),
        restore_median_ns: None,
    };
    let mut days = BTreeSet::new();
    for (i, d) in production.iter().enumerate() {
        if !in_window(d.end_ns) {
            continue;
        }
        t.deployments += 1;
        if d.ok {
            t.successful_deployments += 1;
            days.insert(d.end_ns.div_euclid(DAY_NS));
        }
        if failed[i] {
            t.failed_deployments += 1;
            if let Some(next) = production[i + 1..]
                .iter()
                .find(|n| n.ok && n.end_ns > d.end_ns)
            {
                t.restore_ns.push(next.end_ns - d.end_ns);
            }
        }
    }
    t.deployment_days = days.len() as u64;
    t.deployments_per_week = t.successful_deployments as f64 / weeks;
    t.deployment_days_per_week = t.deployment_days as f64 / weeks;
    if t.deployments > 0 {
        t.change_failure_rate = t.failed_deployments as f64 / t.deployments as f64;
    }
    let mut leads: Vec<i64> = changes
        .iter()
        .filter(|c| c.deployed_ns.get(PRODUCTION).is_some_and(|&e| in_window(e)))
        .filter_map(|c| c.lead_time_ns)
        .collect();
    leads.sort_unstable();
    t.lead_time_median_ns = median(&leads);
    t.lead_time_p90_ns = p90(&leads);
    let mut restore = t.restore_ns.clone();
    restore.sort_unstable();
    t.restore_median_ns = median(&restore);
    t
}

fn platform_of(runs: &[PlannedRun], window: (i64, i64), out: &mut BTreeMap<String, PlatformTruth>) {
    for r in runs {
        let start = r.start_us * NS_PER_US;
        if !(window.0 <= start && start < window.1) {
            continue;
        }
        let p = out.entry(r.pipeline.to_string()).or_default();
        p.runs += 1;
        if !r.failed() {
            continue;
        }
        let lost = (r.end_us - r.start_us) * NS_PER_US;
        p.failed_runs += 1;
        p.lost_ns += lost;
        if r.platform_failure() {
            p.platform_failed_runs += 1;
            p.platform_lost_ns += lost;
        }
    }
}

fn planted_of(plan: &RepoPlan, deps: &[Deployment], changes: &[ChangeTruth]) -> PlantedDelivery {
    // A PR change deployed to production by a deployment of another commit: the
    // first one whose production deployment end is another commit's deployment.
    let by_later = changes.iter().find_map(|c| {
        let end = *c.deployed_ns.get(PRODUCTION)?;
        c.pr.as_ref()?;
        let d = deps
            .iter()
            .find(|d| d.ok && d.env == PRODUCTION && d.end_ns == end)?;
        (d.commit != c.commit).then(|| (c.commit.clone(), d.commit.clone()))
    });
    let (deployed_by_later_commit, deploying_commit) = by_later.unwrap_or_default();
    PlantedDelivery {
        never_merged_pr: plan.planted.never_merged_pr.clone(),
        deployed_by_later_commit,
        deploying_commit,
        rollback_commit: plan.planted.rollback_commit.clone(),
        failed_deployment_commit: plan.planted.failed_deployment_commit.clone(),
        no_pr_commit: plan.planted.no_pr_commit.clone(),
    }
}

/// The truth of the planned repositories over [window_start_ns, window_end_ns).
pub(crate) fn compute(
    plans: &[RepoPlan],
    window_start_ns: i64,
    window_end_ns: i64,
) -> DeliveryTruth {
    let window = (window_start_ns, window_end_ns);
    let mut t = DeliveryTruth {
        window_start_ns,
        window_end_ns,
        default_branch: DEFAULT_BRANCH.to_string(),
        production: PRODUCTION.to_string(),
        ..DeliveryTruth::default()
    };
    for plan in plans {
        let deps = deployments(&plan.runs);
        let changes = changes_of(plan, &deps);
        let name = plan.repo.name.to_string();
        t.dora
            .insert(name.clone(), dora_of(plan, &deps, &changes, window));
        t.planted.insert(name, planted_of(plan, &deps, &changes));
        platform_of(&plan.runs, window, &mut t.platform);
        t.changes.extend(changes);
    }
    t
}
