//! `pipescope bottlenecks`: per task (or step), durations and time on the critical path.
//!
//! Row fields: `pipeline`, `task` (or `step`), `runs`, `p50_s`, `p95_s`, `mean_s`,
//! `total_s`, `critical_path_s` (time this task spent on its pipeline's critical path,
//! summed over runs), `critical_path_share` (of the pipeline's total wall time).

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::analysis::{CommonArgs, print};
use crate::analysis::bottlenecks::{self, Unit};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Rank tasks or the steps inside them.
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
    let mut rows = bottlenecks::rows(&engine, args.by).await?;
    if let Some(limit) = args.limit {
        rows.rows.truncate(limit);
    }
    let mut params = args.common.params();
    params.insert("by".into(), json!(args.by.column()));
    print(args.common.format, "bottlenecks", params, &rows)?;
    Ok(ExitCode::SUCCESS)
}
