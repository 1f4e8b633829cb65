//! `pipescope failures`: failure rates of pipeline runs (by branch or pipeline), tasks
//! or tests, optionally per day or week.
//!
//! Row fields: the grouping column (`branch`, `pipeline`, `task` or `test` + `suite`),
//! `bucket` (with `--bucket`), `runs`, `failed`, `failure_rate`. A pipeline run is one
//! trace with a pipeline span; every attempt counts as a run.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::analysis::{CommonArgs, print};
use crate::analysis::failures::{
    self, Bucket, ByBranch, ByPipeline, ByTask, ByTest, GroupBy, Grouping,
};
use crate::query::{Engine, QueryError, Rows};

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

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let engine = args.common.engine(data).await?;
    let rows = by_group(&engine, args.by, args.bucket).await?;
    let mut params = args.common.params();
    params.insert("by".into(), json!(args.by.name()));
    params.insert("bucket".into(), json!(args.bucket.map(Bucket::name)));
    print(args.common.format, "failures", params, &rows)?;
    Ok(ExitCode::SUCCESS)
}

/// The rows of the grouping `by` names, ready to render.
pub async fn by_group(
    engine: &Engine,
    by: GroupBy,
    bucket: Option<Bucket>,
) -> Result<Rows, QueryError> {
    async fn rows<G: Grouping>(
        engine: &Engine,
        bucket: Option<Bucket>,
    ) -> Result<Rows, QueryError> {
        Ok(Rows::from_records(
            &failures::rows::<G>(engine, bucket).await?,
        ))
    }
    match by {
        GroupBy::Branch => rows::<ByBranch>(engine, bucket).await,
        GroupBy::Pipeline => rows::<ByPipeline>(engine, bucket).await,
        GroupBy::Task => rows::<ByTask>(engine, bucket).await,
        GroupBy::Test => rows::<ByTest>(engine, bucket).await,
    }
}

super::value_enum!(GroupBy);
super::value_enum!(Bucket);
