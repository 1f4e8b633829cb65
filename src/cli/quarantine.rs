//! `pipescope quarantine`: the tests that are flaky now, with their evidence and since
//! when, as a table, as JSON (a versioned contract, see `render::quarantine`), or as
//! arguments a test runner takes directly (pytest, Go, nextest, Maven Surefire, Jest).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{Map, Value, json};

use crate::analysis::flaky;
use crate::analysis::quarantine::entries;
use crate::analysis::time::{now_ns, parse_time};
use crate::query::{Engine, Filters};
use crate::render::quarantine::{QuarantineFormat, pytest_prefix_collisions, write};
use crate::store::Store;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The window whose flakes count: a duration back from now (30d), a date or RFC 3339.
    #[arg(long, default_value = "30d")]
    pub since: String,
    /// Only executions before this time (same forms as --since).
    #[arg(long)]
    pub until: Option<String>,
    /// Only this branch (repeatable: any of them), e.g. the default branch.
    #[arg(long = "branch")]
    pub branches: Vec<String>,
    /// Only this pipeline.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// List a test only when it flaked on at least this many commits.
    #[arg(long, default_value_t = 1)]
    pub min_flaky_commits: u64,
    /// Output: table, json (the contract), or a runner's arguments: pytest
    /// (`pytest @file`), go (`go test -skip`), nextest (`cargo nextest run -E`),
    /// surefire (`mvn test -Dtest=`), jest (`jest -t`).
    #[arg(long, value_enum, default_value_t = QuarantineFormat::Table)]
    pub format: QuarantineFormat,
}

impl Args {
    fn filters(&self) -> anyhow::Result<Filters> {
        let now = now_ns();
        let time = |flag: &str, text: &str| {
            parse_time(text, now).map_err(|e| anyhow::anyhow!("--{flag}: {e}"))
        };
        Ok(Filters {
            since_ns: Some(time("since", &self.since)?),
            until_ns: self
                .until
                .as_deref()
                .map(|t| time("until", t))
                .transpose()?,
            branches: self.branches.clone(),
            pipeline: self.pipeline.clone(),
            ..Filters::default()
        })
    }

    fn params(&self) -> Map<String, Value> {
        let mut params = Map::new();
        params.insert("since".into(), json!(self.since));
        params.insert("until".into(), json!(self.until));
        params.insert("branches".into(), json!(self.branches));
        params.insert("pipeline".into(), json!(self.pipeline));
        params.insert("min_flaky_commits".into(), json!(self.min_flaky_commits));
        params
    }
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(data)?;
    let engine = Engine::open(&store, &args.filters()?).await?;
    let listed = entries(&engine, args.min_flaky_commits).await?;
    if args.format == QuarantineFormat::Pytest {
        // pytest deselects by node-id prefix: say when that drops a test not listed.
        let known = flaky::rows(&engine, true).await?;
        let known: Vec<&str> = known.iter().map(|r| r.test.as_str()).collect();
        let ids: Vec<&str> = listed.iter().map(|e| e.test.as_str()).collect();
        for (id, other) in pytest_prefix_collisions(&ids, &known) {
            tracing::warn!(
                "pytest deselects by node-id prefix: quarantining {id} also skips {other}"
            );
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    write(&listed, &args.params(), args.format, &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
