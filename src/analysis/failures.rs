//! Failure rates of pipeline runs (by branch or pipeline), tasks or tests, optionally
//! per day or week (queries/failures_by_*.sql). `--by cause` (platform or change, per
//! pipeline) is `analysis::failure_cause`.
//!
//! A pipeline run is one trace with a pipeline span; every attempt counts as a run.
//! The grouping is a type ([`ByBranch`], [`ByPipeline`], [`ByTask`], [`ByTest`]), so
//! each row carries exactly the columns of its grouping.

use datafusion::common::ScalarValue;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::query::{Engine, NamedQuery, QueryError, rows::records};

/// What to group by. `Cause` is the failed runs per pipeline split into the
/// platform's and the change's (`analysis::failure_cause`, rows of their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Branch,
    Pipeline,
    Task,
    Test,
    Cause,
}

impl GroupBy {
    pub const ALL: [GroupBy; 5] = [
        GroupBy::Branch,
        GroupBy::Pipeline,
        GroupBy::Task,
        GroupBy::Test,
        GroupBy::Cause,
    ];

    /// The name used on the command line and in JSON parameters.
    pub fn name(self) -> &'static str {
        match self {
            GroupBy::Branch => "branch",
            GroupBy::Pipeline => "pipeline",
            GroupBy::Task => "task",
            GroupBy::Test => "test",
            GroupBy::Cause => "cause",
        }
    }
}

/// Time buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Week,
}

impl Bucket {
    pub const ALL: [Bucket; 2] = [Bucket::Day, Bucket::Week];

    /// The name used on the command line, in JSON parameters and in the SQL.
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
        }
    }
}

/// A grouping: the columns that name a group, and the query that counts per group.
pub trait Grouping: Serialize + DeserializeOwned + Default {
    const QUERY: NamedQuery;
}

/// Pipeline runs per branch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ByBranch {
    pub branch: Option<String>,
}

/// Pipeline runs per pipeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ByPipeline {
    pub pipeline: Option<String>,
}

/// Task runs per task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ByTask {
    pub task: Option<String>,
}

/// Test executions per test.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ByTest {
    pub test: Option<String>,
    pub suite: Option<String>,
}

impl Grouping for ByBranch {
    const QUERY: NamedQuery = NamedQuery::FailuresByBranch;
}
impl Grouping for ByPipeline {
    const QUERY: NamedQuery = NamedQuery::FailuresByPipeline;
}
impl Grouping for ByTask {
    const QUERY: NamedQuery = NamedQuery::FailuresByTask;
}
impl Grouping for ByTest {
    const QUERY: NamedQuery = NamedQuery::FailuresByTest;
}

/// Runs and failures of one group (in one bucket). Field order is the JSON contract's
/// column order: the group's columns, `bucket` (only when bucketed), the counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FailureRow<G> {
    #[serde(flatten)]
    pub group: G,
    /// Start of the day or week (RFC 3339), when bucketed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bucket: Option<String>,
    pub runs: u64,
    pub failed: u64,
    pub failure_rate: f64,
}

/// Failure rates per group (and bucket), highest first within a bucket.
pub async fn rows<G: Grouping>(
    engine: &Engine,
    bucket: Option<Bucket>,
) -> Result<Vec<FailureRow<G>>, QueryError> {
    let bucket_name = bucket.map_or("none", Bucket::name);
    let result = engine
        .run(G::QUERY, vec![("bucket", ScalarValue::from(bucket_name))])
        .await?;
    records(G::QUERY.name(), &result)
}
