//! Each change's path to production: from its first CI run through its pull-request
//! checks and its merge to the first successful deployment to each environment that
//! includes it.
//!
//! A change is a commit of a repository. Its merge is the start of its first
//! default-branch run. A deployment of commit D includes commit C when D is C, or when
//! C merged no later than D and D had merged when it was deployed: a deployment from a
//! branch that merges later holds that branch, not the default branch. So a change
//! that a scheduled deployment of a later commit takes to production reaches
//! production with it, and a pull request that never merges reaches no environment
//! (unless its own commit is deployed, to a review environment, say).

use std::collections::{BTreeMap, HashMap};

use super::history::{Deployment, History, RunKind};
use super::settings::DeliverySettings;

/// The default-branch run that merged a change.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    pub start_ns: i64,
    pub end_ns: i64,
    pub pipeline: Option<String>,
}

/// The first successful deployment to one environment that included a change.
#[derive(Debug, Clone, PartialEq)]
pub struct Reached {
    pub environment: String,
    /// The commit that deployment deployed (this change's, or a later one's).
    pub deployed_commit: Option<String>,
    pub job: String,
    pub pipeline: Option<String>,
    pub start_ns: i64,
    pub end_ns: i64,
}

/// One change's path.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePath {
    pub repo: Option<String>,
    pub commit: String,
    /// The pull / merge request, when a run of the commit names one.
    pub pr: Option<String>,
    pub title: Option<String>,
    /// The branch its pull-request checks ran on, else its first run's.
    pub branch: Option<String>,
    pub first_ci_ns: i64,
    /// First start and last end of its pull-request checks (those before its merge).
    pub pr_checks: Option<(i64, i64)>,
    pub merge: Option<Merge>,
    /// By end time.
    pub reached: Vec<Reached>,
    /// Production deployment end - first CI run start.
    pub lead_time_ns: Option<i64>,
}

impl ChangePath {
    /// Its production deployment (the earliest, if several environments are production).
    pub fn production<'a>(&'a self, settings: &DeliverySettings) -> Option<&'a Reached> {
        self.reached
            .iter()
            .find(|r| settings.is_production(&r.environment))
    }
}

type ChangeKey = (Option<String>, String);

/// Every change of the history, oldest first CI run first.
pub fn paths(history: &History, settings: &DeliverySettings) -> Vec<ChangePath> {
    let mut changes: BTreeMap<ChangeKey, ChangePath> = BTreeMap::new();
    for run in &history.runs {
        let key = (run.repo.clone(), run.commit.clone());
        let change = changes.entry(key).or_insert_with(|| ChangePath {
            repo: run.repo.clone(),
            commit: run.commit.clone(),
            pr: None,
            title: None,
            branch: run.branch.clone(),
            first_ci_ns: run.start_ns,
            pr_checks: None,
            merge: None,
            reached: Vec::new(),
            lead_time_ns: None,
        });
        change.first_ci_ns = change.first_ci_ns.min(run.start_ns);
        if change.pr.is_none() {
            change.pr.clone_from(&run.change_id);
        }
        if change.title.is_none() {
            change.title.clone_from(&run.change_title);
        }
        if run.kind(settings) == RunKind::DefaultBranch
            && change
                .merge
                .as_ref()
                .is_none_or(|m| run.start_ns < m.start_ns)
        {
            change.merge = Some(Merge {
                start_ns: run.start_ns,
                end_ns: run.end_ns,
                pipeline: run.pipeline.clone(),
            });
        }
    }
    // Pull-request checks count up to the merge: a check re-run after it is not part
    // of getting the change merged.
    for run in &history.runs {
        if run.kind(settings) != RunKind::PullRequestCheck {
            continue;
        }
        let Some(change) = changes.get_mut(&(run.repo.clone(), run.commit.clone())) else {
            continue;
        };
        if change
            .merge
            .as_ref()
            .is_some_and(|m| run.start_ns >= m.start_ns)
        {
            continue;
        }
        change.branch.clone_from(&run.branch);
        change.pr_checks = Some(match change.pr_checks {
            Some((start, end)) => (start.min(run.start_ns), end.max(run.end_ns)),
            None => (run.start_ns, run.end_ns),
        });
    }

    let merges = history.merge_times(settings);
    let deployed = Deployed::index(&history.deployments, &merges);
    for (key, change) in changes.iter_mut() {
        change.reached = deployed.reaching(key, merges.get(key).copied());
        change.lead_time_ns = change
            .production(settings)
            .map(|p| p.end_ns - change.first_ci_ns);
    }
    let mut paths: Vec<ChangePath> = changes.into_values().collect();
    paths.sort_by(|a, b| (a.first_ci_ns, &a.commit).cmp(&(b.first_ci_ns, &b.commit)));
    paths
}

/// The successful deployments of each repository and environment, by end time, with
/// the running maximum of the merge time of what they deployed: the first deployment
/// whose running maximum reaches a change's merge is the first that includes it.
struct Deployed<'a> {
    by_target: BTreeMap<(Option<String>, String), Target<'a>>,
}

#[derive(Default)]
struct Target<'a> {
    deployments: Vec<&'a Deployment>,
    /// Running maximum of the deployed commits' merge times (None: nothing merged yet).
    reach: Vec<Option<i64>>,
    /// First deployment of each commit.
    first_of: HashMap<&'a str, usize>,
}

impl<'a> Deployed<'a> {
    fn index(deployments: &'a [Deployment], merges: &HashMap<ChangeKey, i64>) -> Deployed<'a> {
        let mut by_target: BTreeMap<(Option<String>, String), Target<'a>> = BTreeMap::new();
        let mut ok: Vec<&Deployment> = deployments.iter().filter(|d| !d.failed).collect();
        ok.sort_by_key(|d| (d.end_ns, d.start_ns));
        for d in ok {
            let target = by_target
                .entry((d.repo.clone(), d.environment.clone()))
                .or_default();
            // The merge position of what it deployed, if that had merged by then.
            let merged = d.commit.as_ref().and_then(|c| {
                merges
                    .get(&(d.repo.clone(), c.clone()))
                    .copied()
                    .filter(|&m| m <= d.start_ns)
            });
            let previous = target.reach.last().copied().flatten();
            target.reach.push(match (previous, merged) {
                (Some(p), Some(m)) => Some(p.max(m)),
                (p, m) => p.or(m),
            });
            if let Some(c) = d.commit.as_deref() {
                target.first_of.entry(c).or_insert(target.deployments.len());
            }
            target.deployments.push(d);
        }
        Deployed { by_target }
    }

    /// The first successful deployment to each environment of the change's repository
    /// that includes it, by end time.
    fn reaching(&self, (repo, commit): &ChangeKey, merge: Option<i64>) -> Vec<Reached> {
        let mut reached: Vec<Reached> = self
            .by_target
            .iter()
            .filter(|((r, _), _)| r == repo)
            .filter_map(|((_, environment), target)| {
                let by_merge = merge.and_then(|m| {
                    let i = target.reach.partition_point(|r| r.is_none_or(|r| r < m));
                    (i < target.deployments.len()).then_some(i)
                });
                let own = target.first_of.get(commit.as_str()).copied();
                let first = match (by_merge, own) {
                    (Some(a), Some(b)) => a.min(b),
                    (a, b) => a.or(b)?,
                };
                let d = target.deployments[first];
                Some(Reached {
                    environment: environment.clone(),
                    deployed_commit: d.commit.clone(),
                    job: d.job.clone(),
                    pipeline: d.pipeline.clone(),
                    start_ns: d.start_ns,
                    end_ns: d.end_ns,
                })
            })
            .collect();
        reached.sort_by(|a, b| (a.end_ns, &a.environment).cmp(&(b.end_ns, &b.environment)));
        reached
    }
}
