//! `pipescope delivery`: each change's path from its first pull-request check through
//! merge to each environment (`analysis::delivery`): the list of changes, or one
//! change's waterfall with `--change` / `--commit`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};

use crate::analysis::delivery::{
    ChangePath, ChangeRow, DeliverySettings, History, StageRow, headline, paths, stages,
};
use crate::analysis::time::{now_ns, parse_time};
use crate::render::{self, OutputFormat, Rows};
use crate::store::Store;

/// The settings traces do not carry, shared with `pipescope dora`.
#[derive(Debug, Clone, clap::Args)]
pub struct SettingsArgs {
    /// Only this repository.
    #[arg(long)]
    pub repo: Option<String>,
    /// Config file with a `[delivery]` section (default: ./pipescope.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A default branch (repeatable; replaces the config's) [default: main, master].
    #[arg(long = "default-branch")]
    pub default_branches: Vec<String>,
    /// A production environment name (repeatable; replaces the config's)
    /// [default: production, prod].
    #[arg(long = "production")]
    pub production: Vec<String>,
    /// A rollback or hotfix deployment this soon after a production deployment marks it
    /// failed [default: 24h].
    #[arg(long)]
    pub failure_window: Option<String>,
}

impl SettingsArgs {
    pub fn settings(&self) -> anyhow::Result<DeliverySettings> {
        let mut s = DeliverySettings::load(self.config.as_deref())?;
        if !self.default_branches.is_empty() {
            s.default_branches.clone_from(&self.default_branches);
        }
        if !self.production.is_empty() {
            s.production = self.production.iter().map(|p| p.to_lowercase()).collect();
        }
        if let Some(w) = &self.failure_window {
            s = s
                .with_failure_window(w)
                .map_err(|e| anyhow!("--failure-window: {e}"))?;
        }
        Ok(s)
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// One pull / merge request's path, as a waterfall (`42`, `#42` or `!42`).
    #[arg(long, conflicts_with = "commit")]
    pub change: Option<String>,
    /// One commit's path, as a waterfall (at least 7 characters of it).
    #[arg(long)]
    pub commit: Option<String>,
    /// Only changes whose first CI run is this recent: a duration (30d), a date or an
    /// RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let settings = args.settings.settings()?;
    let since_ns = args
        .since
        .as_deref()
        .map(|t| parse_time(t, now_ns()).map_err(|e| anyhow!("--since: {e}")))
        .transpose()?;
    let store = Store::open_existing(data)?;
    let history = History::load_since(&store, since_ns, args.settings.repo.as_deref())
        .await
        .with_context(|| format!("cannot query the store at {}", data.display()))?;
    let mut all = paths(&history, &settings);
    all.retain(|p| since_ns.is_none_or(|s| p.first_ci_ns >= s));
    let mut params = serde_json::Map::new();
    params.insert("since".into(), json!(args.since));
    params.insert("repo".into(), json!(args.settings.repo));
    params.insert("change".into(), json!(args.change));
    params.insert("commit".into(), json!(args.commit));

    if args.change.is_none() && args.commit.is_none() {
        let rows: Vec<ChangeRow> = all.iter().map(|p| ChangeRow::of(p, &settings)).collect();
        let mut rows = Rows::from_records(&rows);
        if args.format == OutputFormat::Table {
            rows = rows.select(&["repo", "commit", "pr", "title", "path", "lead_time"]);
            shorten_commits(&mut rows);
        }
        render::print(args.format, "delivery", &params, &rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let path = pick(&all, args.change.as_deref(), args.commit.as_deref())?;
    let rows: Vec<StageRow> = stages(path)
        .iter()
        .map(|s| StageRow::of(s, path.first_ci_ns))
        .collect();
    let rows = if args.format == OutputFormat::Table {
        println!("{}", headline(path, &settings));
        render::delivery::stage_table(&rows)
    } else {
        Rows::from_records(&rows)
    };
    render::print(args.format, "delivery_change", &params, &rows)?;
    Ok(ExitCode::SUCCESS)
}

/// The change asked for: by pull request (the commit that merged, else the latest), or
/// by commit prefix (which must name one change).
fn pick<'a>(
    all: &'a [ChangePath],
    change: Option<&str>,
    commit: Option<&str>,
) -> anyhow::Result<&'a ChangePath> {
    if let Some(change) = change {
        let id = change.trim().trim_start_matches(['#', '!']);
        let of_pr: Vec<&ChangePath> = all.iter().filter(|p| p.pr.as_deref() == Some(id)).collect();
        return of_pr
            .iter()
            .copied()
            .filter(|p| p.merge.is_some())
            .min_by_key(|p| p.merge.as_ref().map(|m| m.start_ns))
            .or_else(|| of_pr.iter().copied().max_by_key(|p| p.first_ci_ns))
            .ok_or_else(|| anyhow!("no run in the store checks pull request {id}"));
    }
    let prefix = commit.unwrap_or_default().trim();
    if prefix.len() < 7 {
        bail!("--commit {prefix}: give at least 7 characters of the commit");
    }
    let found: Vec<&ChangePath> = all
        .iter()
        .filter(|p| p.commit.starts_with(prefix))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => bail!("no run in the store built commit {prefix}"),
        many => bail!(
            "--commit {prefix} names {} commits ({}): give more of it",
            many.len(),
            many.iter()
                .map(|p| p.commit.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn shorten_commits(rows: &mut Rows) {
    if let Some(i) = rows.columns.iter().position(|c| c == "commit") {
        for row in &mut rows.rows {
            if let Some(Value::String(c)) = row.get_mut(i) {
                *c = crate::analysis::delivery::stages::short(c).to_string();
            }
        }
    }
}
