//! `pipescope failures`: failure rates of pipeline runs (by branch or pipeline), tasks
//! or tests, optionally per day or week.
//!
//! Row fields: the grouping column (`branch`, `pipeline`, `task` or `test` + `suite`),
//! `bucket` (with `--bucket`), `runs`, `failed`, `failure_rate`. A pipeline run is one
//! trace with a pipeline span; every attempt counts as a run.

use std::path::Path;
use std::process::ExitCode;

use datafusion::common::ScalarValue;
use serde_json::json;

use super::analysis::{CommonArgs, print};
use crate::query::{Engine, NamedQuery};
use crate::report::Rows;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    Branch,
    Pipeline,
    Task,
    Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bucket {
    Day,
    Week,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// What to group by.
    #[arg(long, value_enum, default_value_t = GroupBy::Branch)]
    pub by: GroupBy,
    /// Also split by time.
    #[arg(long, value_enum)]
    pub bucket: Option<Bucket>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The failure-rate rows.
pub async fn rows(engine: &Engine, by: GroupBy, bucket: Option<Bucket>) -> anyhow::Result<Rows> {
    let query = match by {
        GroupBy::Branch => NamedQuery::FailuresByBranch,
        GroupBy::Pipeline => NamedQuery::FailuresByPipeline,
        GroupBy::Task => NamedQuery::FailuresByTask,
        GroupBy::Test => NamedQuery::FailuresByTest,
    };
    let bucket_name = match bucket {
        Some(Bucket::Day) => "day",
        Some(Bucket::Week) => "week",
        None => "none",
    };
    let result = engine
        .run(query, vec![("bucket", ScalarValue::from(bucket_name))])
        .await?;
    let rows = Rows::from_batches(&result.schema, &result.batches);
    Ok(if bucket.is_none() {
        rows.without_column("bucket")
    } else {
        rows
    })
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let engine = args.common.engine(data).await?;
    let rows = rows(&engine, args.by, args.bucket).await?;
    let mut params = args.common.params();
    params.insert("by".into(), json!(format!("{:?}", args.by).to_lowercase()));
    params.insert(
        "bucket".into(),
        json!(args.bucket.map(|b| format!("{b:?}").to_lowercase())),
    );
    print(args.common.format, "failures", params, &rows)?;
    Ok(ExitCode::SUCCESS)
}
