//! `pipescope compare`: why does a test fail? Its child spans in passing vs failing
//! executions, side by side, the likely cause first. The rows are [`CompareRow`]s
//! (their fields are the JSON contract; `analysis::compare` explains the statistics).

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::analysis::CommonArgs;
use crate::analysis::compare::{self, CompareRow, Tests};
use crate::render::{self, Rows};

#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["test", "flaky"])))]
pub struct Args {
    /// The test to explain (its `test` name).
    #[arg(long)]
    pub test: Option<String>,
    /// Explain every flaky test (as listed by `pipescope flaky`).
    #[arg(long)]
    pub flaky: bool,
    /// Rows per test (the most likely causes first).
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[command(flatten)]
    pub common: CommonArgs,
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let engine = args.common.engine(data).await?;
    let tests = match &args.test {
        Some(test) => Tests::Named(test),
        None => Tests::Flaky,
    };
    let rows: Vec<CompareRow> = compare::explain(&engine, tests, args.limit).await?;
    let mut params = args.common.params();
    params.insert("test".into(), json!(args.test));
    params.insert("flaky".into(), json!(args.flaky));
    render::print(
        args.common.format,
        "compare",
        &params,
        &Rows::from_records(&rows),
    )?;
    Ok(ExitCode::SUCCESS)
}
