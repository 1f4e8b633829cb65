//! `pipescope failures`: failure rates of pipeline runs (by branch or pipeline), tasks
//! or tests, optionally per day or week. The rows are [`FailureRow`]s of the grouping
//! asked for (their fields are the JSON contract). `--by cause` splits each pipeline's
//! failed runs into the platform's and the change's: [`CauseRow`]s, one per pipeline
//! and a `total` row (per bucket).

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::analysis::CommonArgs;
use crate::analysis::failure_cause::{self, CauseRow};
use crate::analysis::failures::{
    self, Bucket, ByBranch, ByPipeline, ByTask, ByTest, FailureRow, GroupBy, Grouping,
};
use crate::query::{Engine, QueryError};
use crate::render::{self, Rows};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// What to group by: branch, pipeline, task or test (failure rates), or cause
    /// (per pipeline: how many failed runs, and how much of their time, the CI
    /// platform failed rather than the code or its tests).
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
    let rows = match args.by {
        GroupBy::Branch => rows::<ByBranch>(&engine, args.bucket).await?,
        GroupBy::Pipeline => rows::<ByPipeline>(&engine, args.bucket).await?,
        GroupBy::Task => rows::<ByTask>(&engine, args.bucket).await?,
        GroupBy::Test => rows::<ByTest>(&engine, args.bucket).await?,
        GroupBy::Cause => cause_rows(&engine, args.bucket).await?,
    };
    let mut params = args.common.params();
    params.insert("by".into(), json!(args.by.name()));
    params.insert("bucket".into(), json!(args.bucket.map(Bucket::name)));
    render::print(args.common.format, "failures", &params, &rows)?;
    Ok(ExitCode::SUCCESS)
}

/// The rows of one grouping, ready to render.
async fn rows<G: Grouping>(engine: &Engine, bucket: Option<Bucket>) -> Result<Rows, QueryError> {
    let rows: Vec<FailureRow<G>> = failures::rows(engine, bucket).await?;
    Ok(Rows::from_records(&rows))
}

/// The rows of `--by cause`, ready to render.
async fn cause_rows(engine: &Engine, bucket: Option<Bucket>) -> Result<Rows, QueryError> {
    let rows: Vec<CauseRow> = failure_cause::rows(engine, bucket)
        .await?
        .into_iter()
        .map(|c| c.row)
        .collect();
    Ok(Rows::from_records(&rows))
}

super::value_enum!(GroupBy);
super::value_enum!(Bucket);
