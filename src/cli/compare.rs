//! `pipescope compare`: why does a test fail? Its child spans in passing vs failing
//! executions, side by side, the likely cause first.
//!
//! Row fields (a JSON contract): `test`, `span`, `pass_count`, `fail_count`,
//! `pass_p50_ms`, `fail_p50_ms`, `pass_mean_ms`, `fail_mean_ms`, `delta_ms`,
//! `pass_error_rate`, `fail_error_rate`, `signal` (`duration` | `error` | `attribute` |
//! `missing` | `extra` | `self_duration`), `detail`, `p_value` — see
//! `query::compare` for the statistics.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::analysis::{CommonArgs, print};
use crate::analysis::compare::{compare_test, to_rows};
use crate::analysis::flaky;

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
    let tests: Vec<String> = match &args.test {
        Some(test) => vec![test.clone()],
        None => {
            let flaky_rows = flaky::rows(&engine, false).await?;
            flaky_rows.into_iter().map(|row| row.test).collect()
        }
    };
    let mut all = Vec::new();
    for test in &tests {
        let mut rows = compare_test(&engine, test).await?;
        if rows.is_empty() && args.test.is_some() {
            anyhow::bail!(
                "no passing or failing executions of test '{test}' in the store (names are exact; `pipescope flaky --all` lists them)"
            );
        }
        rows.truncate(args.limit);
        all.extend(rows);
    }
    let mut params = args.common.params();
    params.insert("test".into(), json!(args.test));
    params.insert("flaky".into(), json!(args.flaky));
    print(args.common.format, "compare", params, &to_rows(&all)?)?;
    Ok(ExitCode::SUCCESS)
}
