//! `pipescope bottlenecks`: per task (or step), durations and time on the critical
//! path. The rows are [`BottleneckRow`]s (their fields are the JSON contract).

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::analysis::CommonArgs;
use crate::analysis::bottlenecks::{self, BottleneckRow, ByStep, ByTask, Unit, UnitKey};
use crate::query::{Engine, QueryError};
use crate::render::{self, Rows};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Rank tasks (spans with role `task`: jobs, stages that are units of work) or the
    /// steps inside them (role `step`: steps inside a job, commands inside a task).
    #[arg(long, value_enum, default_value_t = Unit::Task)]
    pub by: Unit,
    /// At most this many rows.
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub common: CommonArgs,
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let engine = args.common.engine(data).await?;
    let rows = match args.by {
        Unit::Task => rows::<ByTask>(&engine, args.limit).await?,
        Unit::Step => rows::<ByStep>(&engine, args.limit).await?,
    };
    let mut params = args.common.params();
    params.insert("by".into(), json!(args.by.name()));
    render::print(args.common.format, "bottlenecks", &params, &rows)?;
    Ok(ExitCode::SUCCESS)
}

/// The first `limit` rows of one unit, ready to render.
async fn rows<K: UnitKey>(engine: &Engine, limit: Option<usize>) -> Result<Rows, QueryError> {
    let mut rows: Vec<BottleneckRow<K>> = bottlenecks::rows(engine).await?;
    rows.truncate(limit.unwrap_or(usize::MAX));
    Ok(Rows::from_records(&rows))
}

super::value_enum!(Unit);
