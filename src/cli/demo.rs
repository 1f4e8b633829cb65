//! `pipescope demo`: the whole job on bundled data, no server and no files needed.
//! Generates the demo history with the built-in generator (fixed seed, so every run
//! shows the same thing), ingests it into a temporary store and prints what each
//! analysis finds.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::analysis::bottlenecks::{self, Unit};
use crate::analysis::failures::{self, ByBranch};
use crate::analysis::{compare, flaky};
use crate::ingest::IngestOptions;
use crate::query::{Engine, Filters};
use crate::render::{OutputFormat, Rows, markdown, table};
use crate::store::Store;
use crate::synth::{SynthConfig, write_to_dir};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Keep the store here instead of a temporary directory (explore it afterwards with
    /// `pipescope --data DIR ...`).
    #[arg(long)]
    pub keep: Option<std::path::PathBuf>,
    /// `table` or `markdown`.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let work = tempfile::tempdir().context("cannot create a temporary directory")?;
    let traces_dir = work.path().join("traces");
    let data = match &args.keep {
        Some(dir) => dir.clone(),
        None => work.path().join("store"),
    };
    write_to_dir(&SynthConfig::demo(), &traces_dir).context("cannot write the demo traces")?;
    let paths = vec![traces_dir.display().to_string()];
    super::ingest::ingest_paths(&data, &paths, &IngestOptions::default())?;

    let engine = Engine::open(&Store::open(&data)?, &Filters::default()).await?;
    let mut out = std::io::stdout().lock();
    let show = |out: &mut dyn Write, title: &str, rows: &Rows| -> std::io::Result<()> {
        match args.format {
            OutputFormat::Markdown => write!(out, "\n## {title}\n\n{}", markdown::render(rows)),
            _ => write!(out, "\n{title}\n{}\n", table::render(rows)),
        }
    };

    let mut flaky_rows = flaky::rows(&engine, false).await?;
    flaky_rows.truncate(8);
    let flaky_summary = select(
        Rows::from_records(&flaky_rows),
        &[
            "test",
            "runs",
            "failures",
            "flaky_commits",
            "retry_passes",
            "flake_rate",
            "score",
        ],
    );
    show(
        &mut out,
        "Flaky tests (pass and fail on the same commit), most evidence first",
        &flaky_summary,
    )?;

    if let Some(worst) = flaky_rows.first().map(|row| row.test.clone()) {
        let mut causes = compare::compare_test(&engine, &worst).await?;
        causes.truncate(3);
        let rows = compare::to_rows(&causes)?;
        let rows = select(rows, &["span", "signal", "detail", "p_value"]);
        show(
            &mut out,
            &format!("Why does {worst} fail? (pass vs fail, likely cause first)"),
            &rows,
        )?;
    }

    let mut slow = bottlenecks::rows(&engine, Unit::Task).await?;
    slow.rows.truncate(6);
    let slow = select(
        slow,
        &[
            "pipeline",
            "task",
            "runs",
            "p50_s",
            "p95_s",
            "critical_path_s",
            "critical_path_share",
        ],
    );
    show(
        &mut out,
        "Bottlenecks: time on the critical path, not merely long",
        &slow,
    )?;

    let by_branch = failures::rows::<ByBranch>(&engine, None).await?;
    let by_branch = Rows::from_records(&by_branch);
    show(&mut out, "Pipeline failure rate by branch", &by_branch)?;

    if let Some(dir) = &args.keep {
        writeln!(
            out,
            "\nThe store is kept in {}: try `pipescope --data {} flaky --all`.",
            dir.display(),
            dir.display()
        )?;
    } else {
        writeln!(
            out,
            "\nNext: `pipescope demo --keep DIR`, then `pipescope --data DIR sql \"SELECT * FROM pipeline_runs LIMIT 5\"`."
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn select(rows: Rows, keep: &[&str]) -> Rows {
    let indexes: Vec<usize> = keep
        .iter()
        .filter_map(|k| rows.columns.iter().position(|c| c == k))
        .collect();
    Rows {
        columns: indexes.iter().map(|&i| rows.columns[i].clone()).collect(),
        rows: rows
            .rows
            .iter()
            .map(|r| indexes.iter().map(|&i| r[i].clone()).collect())
            .collect(),
    }
}
