//! Flaky tests: tests that pass and fail on the same commit (queries/flaky.sql).
//!
//! A test that fails on every execution of a commit is *broken*, not flaky. The flake
//! rate is failures on commits where the test also passed, over executions, with its
//! 95% Wilson interval; `score` = `flake_rate_low * ln(1 + flaky failures)`, so
//! well-evidenced flakes rank above thin ones (10 flakes in 100 runs above 1 in 2).

use datafusion::common::ScalarValue;
use serde::{Deserialize, Serialize};

use crate::query::{Engine, NamedQuery, QueryError, rows::records};

/// One test's evidence. The field order is the JSON contract's column order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlakyRow {
    pub test: String,
    pub suite: Option<String>,
    /// `flaky`, `broken` or `stable`.
    pub status: String,
    pub runs: u64,
    pub passes: u64,
    pub failures: u64,
    /// Commits on which the test both passed and failed.
    pub flaky_commits: u64,
    /// Passes that followed a failure within the same run (a retry that passed).
    pub retry_passes: u64,
    pub failure_rate: f64,
    /// Outcome changes between consecutive executions, over executions − 1.
    pub flip_rate: f64,
    pub score: f64,
    pub flake_rate: f64,
    pub flake_rate_low: f64,
    pub flake_rate_high: f64,
    /// RFC 3339 times of the first and last failure on a flaky commit.
    pub first_flake: Option<String>,
    pub last_flake: Option<String>,
}

/// The flaky tests, most evidence first; with `all`, broken and stable tests too.
pub async fn rows(engine: &Engine, all: bool) -> Result<Vec<FlakyRow>, QueryError> {
    let result = engine
        .run(
            NamedQuery::Flaky,
            vec![("all", ScalarValue::Boolean(Some(all)))],
        )
        .await?;
    records("flaky", &result)
}
