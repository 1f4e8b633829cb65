//! `pipescope demo`: the whole job on bundled data, no server and no files needed.
//! Generates the demo history with the built-in generator (fixed seed, so every run
//! shows the same thing), ingests it into a temporary store and prints what each
//! analysis finds, one titled table per analysis. JSON and CSV are refused: they carry
//! one result per document, which the analyses' own subcommands give.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::analysis::bottlenecks::{self, BottleneckRow, ByTask};
use crate::analysis::delivery::DeliverySettings;
use crate::analysis::failures::{self, ByBranch, FailureRow};
use crate::analysis::report::delivery::as_of_last_production;
use crate::analysis::{compare, flaky};
use crate::ingest::IngestOptions;
use crate::query::{Engine, Filters};
use crate::render::{self, Rows, SectionFormat};
use crate::store::Store;
use crate::synth::{SynthConfig, write_to_dir};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Keep the store here instead of a temporary directory (explore it afterwards with
    /// `pipescope --data DIR ...`).
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Output format (for JSON or CSV, run an analysis on the store kept with --keep).
    #[arg(long, value_enum, default_value_t = SectionFormat::Table)]
    pub format: SectionFormat,
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

    let store = Store::open(&data)?;
    let engine = Engine::open(&store, &Filters::default()).await?;
    let mut out = std::io::stdout().lock();
    for (title, rows) in sections(&store, &engine).await? {
        render::section(args.format, &title, &rows, &mut out)?;
    }
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
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// How many branches the failure-rate table shows.
const BUSIEST_BRANCHES: usize = 8;

/// What the demo shows: a title and a short summary of each analysis's rows.
async fn sections(store: &Store, engine: &Engine) -> anyhow::Result<Vec<(String, Rows)>> {
    let mut sections = Vec::new();

    let mut flaky_rows = flaky::rows(engine, false).await?;
    flaky_rows.truncate(8);
    sections.push((
        "Flaky tests (pass and fail on the same commit), most evidence first".to_string(),
        Rows::from_records(&flaky_rows).select(&[
            "test",
            "runs",
            "failures",
            "flaky_commits",
            "retry_passes",
            "flake_rate",
            "score",
        ]),
    ));

    if let Some(worst) = flaky_rows.first().map(|row| row.test.as_str()) {
        let mut causes = compare::compare_test(engine, worst).await?;
        causes.truncate(3);
        sections.push((
            format!("Why does {worst} fail? (pass vs fail, likely cause first)"),
            Rows::from_records(&causes).select(&["span", "signal", "detail", "p_value"]),
        ));
    }

    let mut slow: Vec<BottleneckRow<ByTask>> = bottlenecks::rows(engine).await?;
    slow.truncate(6);
    sections.push((
        "Bottlenecks: time on the critical path, not merely long".to_string(),
        Rows::from_records(&slow).select(&[
            "pipeline",
            "task",
            "runs",
            "p50_s",
            "p95_s",
            "critical_path_s",
            "critical_path_share",
        ]),
    ));

    // Every pull request has its branch: the busiest ones say most.
    let mut by_branch: Vec<FailureRow<ByBranch>> = failures::rows(engine, None).await?;
    let branches = by_branch.len();
    by_branch.sort_by(|a, b| {
        (b.runs, b.failure_rate)
            .partial_cmp(&(a.runs, a.failure_rate))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    by_branch.truncate(BUSIEST_BRANCHES);
    sections.push((
        format!(
            "Pipeline failure rate of the {} busiest of {branches} branches",
            by_branch.len()
        ),
        Rows::from_records(&by_branch),
    ));

    // The bundled history has fixed dates: its DORA keys are those of the 30 days up
    // to its last production deployment, not of the 30 days up to now.
    let settings = DeliverySettings::default();
    if let Some(path) = as_of_last_production(store, &settings).await? {
        let mut keys = render::delivery::dora_table(&path.dora);
        if path.dora.iter().all(|row| row.trend.is_none()) {
            // Nothing stored before the period (the summary says so).
            keys = keys.select(&["repository", "key", "value", "band"]);
        }
        sections.push((format!("Path to production: {}", path.summary), keys));
        if let Some(latest) = &path.latest {
            sections.push((
                format!("The latest change in production: {}", latest.headline),
                render::delivery::stage_table(&latest.stages),
            ));
        }
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::Cli;

    #[test]
    fn json_and_csv_are_refused_with_the_formats_it_has() {
        for format in ["json", "csv"] {
            let error = Cli::try_parse_from(["pipescope", "demo", "--format", format])
                .expect_err("demo has no one-document formats");
            assert_eq!(error.kind(), clap::error::ErrorKind::InvalidValue);
            let message = error.to_string();
            assert!(
                message.contains(&format!("invalid value '{format}'"))
                    && message.contains("[possible values: table, markdown]"),
                "{message}"
            );
        }
        assert!(Cli::try_parse_from(["pipescope", "demo", "--format", "markdown"]).is_ok());
    }
}
