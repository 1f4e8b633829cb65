//! The quarantine list: the tests that are flaky now (queries/flaky.sql over the
//! selected window), each with its evidence and since when it flakes, for tools and
//! test runners to skip. Rendering into runner arguments is `render::quarantine`.

use serde::Serialize;

use crate::analysis::flaky;
use crate::query::{Engine, QueryError};

/// One quarantined test. The field order is the JSON contract's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The canonical test id (`model::test_id`).
    pub test: String,
    pub suite: Option<String>,
    /// RFC 3339 time of its first failure on a flaky commit in the window.
    pub since: Option<String>,
    /// RFC 3339 time of its latest failure on a flaky commit.
    pub last_flake: Option<String>,
    pub evidence: Evidence,
}

/// Why the test is on the list (the `flaky` columns of the same names).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub runs: u64,
    pub passes: u64,
    pub failures: u64,
    pub flaky_commits: u64,
    pub retry_passes: u64,
    pub flake_rate: f64,
    pub flake_rate_low: f64,
    pub flake_rate_high: f64,
    pub score: f64,
}

/// The flaky tests of the engine's selection with at least `min_flaky_commits`
/// commits on which they both passed and failed, most evidence first.
pub async fn entries(engine: &Engine, min_flaky_commits: u64) -> Result<Vec<Entry>, QueryError> {
    Ok(flaky::rows(engine, false)
        .await?
        .into_iter()
        .filter(|r| r.flaky_commits >= min_flaky_commits)
        .map(|r| Entry {
            test: r.test,
            suite: r.suite,
            since: r.first_flake,
            last_flake: r.last_flake,
            evidence: Evidence {
                runs: r.runs,
                passes: r.passes,
                failures: r.failures,
                flaky_commits: r.flaky_commits,
                retry_passes: r.retry_passes,
                flake_rate: r.flake_rate,
                flake_rate_low: r.flake_rate_low,
                flake_rate_high: r.flake_rate_high,
                score: r.score,
            },
        })
        .collect())
}
