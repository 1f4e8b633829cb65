//! `pipescope flaky`: tests that pass and fail on the same commit, ranked by evidence.
//! The rows and their statistics are [`FlakyRow`]'s (its fields are the JSON contract).

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::analysis::CommonArgs;
use crate::analysis::flaky::{self, FlakyRow};
use crate::render::{self, Rows};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Also list broken tests (fail on every execution of a commit) and stable ones.
    #[arg(long)]
    pub all: bool,
    /// At most this many rows.
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub common: CommonArgs,
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let engine = args.common.engine(data).await?;
    let mut rows: Vec<FlakyRow> = flaky::rows(&engine, args.all).await?;
    rows.truncate(args.limit.unwrap_or(usize::MAX));
    let mut params = args.common.params();
    params.insert("all".into(), json!(args.all));
    render::print(
        args.common.format,
        "flaky",
        &params,
        &Rows::from_records(&rows),
    )?;
    Ok(ExitCode::SUCCESS)
}
