//! The runs and deployments a path to production is built from
//! (`queries/delivery_runs.sql`, `queries/deployments.sql`), and what kind of run each
//! one is. Both are small next to the store: one row per pipeline run and one per
//! deployment, never one per span.

use std::collections::HashMap;

use datafusion::common::ScalarValue;
use serde::{Deserialize, Serialize};

use super::settings::DeliverySettings;
use crate::query::{Engine, Filters, NamedQuery, QueryError, rows::records};
use crate::store::Store;

/// How far before a window its changes' first CI runs are looked for: a change deployed
/// in the window may have started its checks weeks before.
pub const LOOKBACK_NS: i64 = 30 * 24 * 3_600 * 1_000_000_000;

/// One pipeline run of a known commit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub run_key: String,
    pub repo: Option<String>,
    pub pipeline: Option<String>,
    pub branch: Option<String>,
    pub commit: String,
    pub trigger: Option<String>,
    pub change_id: Option<String>,
    pub change_title: Option<String>,
    pub base_branch: Option<String>,
    pub start_ns: i64,
    pub end_ns: i64,
    pub failed: bool,
}

/// One deployment with a result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub run_key: String,
    pub repo: Option<String>,
    pub pipeline: Option<String>,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub environment: String,
    pub job: String,
    pub start_ns: i64,
    pub end_ns: i64,
    pub failed: bool,
}

/// What a run is on the way to production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// Checks a pull / merge request before it merges.
    PullRequestCheck,
    /// Runs on the default branch: the first one of a commit is its merge.
    DefaultBranch,
    /// Anything else (a feature-branch push, a tag, a hotfix branch).
    Other,
}

impl Run {
    /// A pull-request check when its trigger says so, or when it names a pull request
    /// (or a base branch) on a branch that is not a default branch; a default-branch run
    /// when it runs on a default branch and is no such check.
    pub fn kind(&self, settings: &DeliverySettings) -> RunKind {
        let on_default = settings.is_default_branch(self.branch.as_deref());
        let names_a_pr = self.change_id.is_some() || self.base_branch.is_some();
        if self.trigger.as_deref() == Some("pull_request") || (names_a_pr && !on_default) {
            RunKind::PullRequestCheck
        } else if on_default {
            RunKind::DefaultBranch
        } else {
            RunKind::Other
        }
    }
}

/// Every run and every deployment in the engine's window, oldest first.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub runs: Vec<Run>,
    pub deployments: Vec<Deployment>,
}

impl History {
    /// The runs and deployments of `store` from [`LOOKBACK_NS`] before `since_ns` on
    /// (everything when `since_ns` is None), of `repo` only when given.
    pub async fn load_since(
        store: &Store,
        since_ns: Option<i64>,
        repo: Option<&str>,
    ) -> Result<History, QueryError> {
        let filters = Filters {
            since_ns: since_ns.map(|t| t.saturating_sub(LOOKBACK_NS)),
            ..Filters::default()
        };
        let engine = Engine::open(store, &filters).await?;
        let mut history = History::load(&engine).await?;
        if let Some(repo) = repo {
            history.runs.retain(|r| r.repo.as_deref() == Some(repo));
            history
                .deployments
                .retain(|d| d.repo.as_deref() == Some(repo));
        }
        Ok(history)
    }

    /// Each change's merge: the start of its first default-branch run, by (repo, commit).
    pub fn merge_times(
        &self,
        settings: &DeliverySettings,
    ) -> HashMap<(Option<String>, String), i64> {
        let mut merges: HashMap<(Option<String>, String), i64> = HashMap::new();
        for run in self
            .runs
            .iter()
            .filter(|r| r.kind(settings) == RunKind::DefaultBranch)
        {
            let slot = merges
                .entry((run.repo.clone(), run.commit.clone()))
                .or_insert(run.start_ns);
            *slot = (*slot).min(run.start_ns);
        }
        merges
    }

    /// Every run and deployment the engine's filters let through.
    pub async fn load(engine: &Engine) -> Result<History, QueryError> {
        let runs = rows(engine, NamedQuery::DeliveryRuns).await?;
        let deployments = rows(engine, NamedQuery::Deployments).await?;
        Ok(History { runs, deployments })
    }
}

async fn rows<T>(engine: &Engine, query: NamedQuery) -> Result<Vec<T>, QueryError>
where
    T: Serialize + for<'de> Deserialize<'de> + Default,
{
    let params: Vec<(&str, ScalarValue)> = vec![];
    let result = engine.run(query, params).await?;
    records(query.name(), &result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(branch: &str, trigger: Option<&str>, change: Option<&str>) -> Run {
        Run {
            branch: Some(branch.into()),
            trigger: trigger.map(str::to_string),
            change_id: change.map(str::to_string),
            ..Run::default()
        }
    }

    #[test]
    fn runs_are_pull_request_checks_default_branch_runs_or_neither() {
        let s = DeliverySettings::default();
        assert_eq!(
            run("feat", Some("pull_request"), Some("4")).kind(&s),
            RunKind::PullRequestCheck
        );
        assert_eq!(
            run("feat", Some("push"), Some("4")).kind(&s),
            RunKind::PullRequestCheck,
            "names a PR"
        );
        assert_eq!(run("feat", Some("push"), None).kind(&s), RunKind::Other);
        assert_eq!(
            run("main", Some("push"), None).kind(&s),
            RunKind::DefaultBranch
        );
        assert_eq!(
            run("main", Some("push"), Some("4")).kind(&s),
            RunKind::DefaultBranch,
            "a merge pipeline that still names its merge request"
        );
        assert_eq!(run("main", None, None).kind(&s), RunKind::DefaultBranch);
        assert_eq!(
            run("main", Some("pull_request"), Some("9")).kind(&s),
            RunKind::PullRequestCheck,
            "GitHub runs a PR from main of a fork on its head branch"
        );
    }
}
