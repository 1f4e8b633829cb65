//! `pipescope sql`: ad hoc SQL over `spans` and the views of queries/views.sql
//! (`test_executions`, `pipeline_runs`, `task_runs`). The rows are whatever the query
//! selects, so they stay dynamic ([`Rows::from_result`]) rather than typed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use super::analysis::CommonArgs;
use crate::render::{self, Rows};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The SQL to run (several statements separated by `;`: the last one's rows print).
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub query: Option<String>,
    /// Read the SQL from a file.
    #[arg(short = 'f', long)]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

impl Args {
    /// The SQL text: the argument, or the file's contents.
    fn sql(&self) -> anyhow::Result<String> {
        match (&self.query, &self.file) {
            (Some(query), _) => Ok(query.clone()),
            (None, Some(file)) => std::fs::read_to_string(file)
                .with_context(|| format!("cannot read SQL from {}", file.display())),
            (None, None) => anyhow::bail!("give a query or -f FILE"),
        }
    }
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let sql = args.sql()?;
    let engine = args.common.engine(data).await?;
    let rows = Rows::from_result(&engine.sql(&sql).await?);
    let mut params = args.common.params();
    params.insert("sql".into(), json!(sql));
    render::print(args.common.format, "sql", &params, &rows)?;
    Ok(ExitCode::SUCCESS)
}
