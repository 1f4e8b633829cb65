//! The arguments every analysis shares (filters and output format) and what they map
//! to: the engine's filters, the parameters echoed in JSON, the opened engine.

use std::path::Path;

use anyhow::Context;
use serde_json::{Map, Value, json};

use crate::analysis::time::{now_ns, parse_time};
use crate::query::{Engine, Filters};
use crate::render::OutputFormat;
use crate::store::Store;

/// Filters and output options of every analysis.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Only spans since this time: a duration back from now (7d, 12h), a date or RFC 3339.
    #[arg(long)]
    pub since: Option<String>,
    /// Only spans before this time (same forms as --since).
    #[arg(long)]
    pub until: Option<String>,
    /// Only this branch (repeatable: any of them).
    #[arg(long = "branch")]
    pub branches: Vec<String>,
    /// Only this pipeline.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

impl CommonArgs {
    /// The engine's filters; a time that does not parse names its flag.
    pub fn filters(&self) -> anyhow::Result<Filters> {
        let now = now_ns();
        let time = |flag: &str, text: &Option<String>| -> anyhow::Result<Option<i64>> {
            text.as_deref()
                .map(|t| parse_time(t, now).map_err(|e| anyhow::anyhow!("--{flag}: {e}")))
                .transpose()
        };
        Ok(Filters {
            since_ns: time("since", &self.since)?,
            until_ns: time("until", &self.until)?,
            branches: self.branches.clone(),
            pipeline: self.pipeline.clone(),
            ..Filters::default()
        })
    }

    /// The parameters echoed in JSON output.
    pub fn params(&self) -> Map<String, Value> {
        let mut params = Map::new();
        params.insert("since".into(), json!(self.since));
        params.insert("until".into(), json!(self.until));
        params.insert("branch".into(), json!(self.branches));
        params.insert("pipeline".into(), json!(self.pipeline));
        params
    }

    /// Opens the store read-only with the filters applied.
    pub async fn engine(&self, data: &Path) -> anyhow::Result<Engine> {
        let store = Store::open_existing(data)?;
        Engine::open(&store, &self.filters()?)
            .await
            .with_context(|| format!("cannot query the store at {}", data.display()))
    }
}
