//! `pipescope flaky`: tests that pass and fail on the same commit.
//!
//! Row fields (a JSON contract): `test`, `suite`, `status` (`flaky` | `broken` |
//! `stable`), `runs`, `passes`, `failures`, `flaky_commits`, `retry_passes`,
//! `failure_rate`, `flip_rate`, `score`, `flake_rate`, `flake_rate_low`,
//! `flake_rate_high`, `first_flake`, `last_flake`. The flake rate is failures on commits
//! where the test also passed, over executions, with its 95% Wilson interval; `score` =
//! `flake_rate_low * ln(1 + flaky failures)`, so well-evidenced flakes rank above thin
//! ones (10 flakes in 100 runs above 1 in 2): see queries/flaky.sql.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::analysis::{CommonArgs, print};
use crate::analysis::flaky;
use crate::query::Rows;

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
    let mut rows = flaky::rows(&engine, args.all).await?;
    if let Some(limit) = args.limit {
        rows.truncate(limit);
    }
    let mut params = args.common.params();
    params.insert("all".into(), json!(args.all));
    print(
        args.common.format,
        "flaky",
        params,
        &Rows::from_records(&rows),
    )?;
    Ok(ExitCode::SUCCESS)
}
