//! Command-line interface: one module per subcommand (its arguments, help and `run`).

pub mod analysis;
pub mod bottlenecks;
pub mod bucket;
pub mod check;
pub mod compact;
pub mod compare;
pub mod delivery;
pub mod demo;
pub mod dora;
pub mod failures;
pub mod flaky;
pub mod gate;
pub mod ingest;
pub mod pull;
pub mod quarantine;
pub mod receive;
pub mod report;
pub mod sql;
pub mod synth;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tokio::runtime::Runtime;

use crate::store::bucket::BucketUrl;
use bucket::{BucketOptions, StoreUse, run_on_bucket};

/// Lets clap parse an analysis enum by its `name()`, over its `ALL` values, so the
/// analysis layer needs no clap derive.
macro_rules! value_enum {
    ($t:ty) => {
        impl clap::ValueEnum for $t {
            fn value_variants<'a>() -> &'a [Self] {
                &<$t>::ALL
            }
            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.name()))
            }
        }
    };
}
pub(crate) use value_enum;

use clap::{Parser, Subcommand};

/// pipescope — flaky tests, their causes, bottlenecks and failure rates from CI traces.
#[derive(Debug, Parser)]
#[command(name = "pipescope", version, about, long_about = None)]
pub struct Cli {
    /// Store directory (Parquet files under <DATA>/spans/), or a bucket:
    /// s3://BUCKET/PREFIX (credentials, region and endpoint from the AWS_* variables).
    #[arg(
        long,
        global = true,
        env = "PIPESCOPE_DATA",
        default_value = "pipescope-data"
    )]
    pub data: PathBuf,

    /// With --data s3://…: the local working copy of the bucket's store
    /// [default: ~/.cache/pipescope/buckets/BUCKET/PREFIX/store].
    #[arg(long, global = true, env = "PIPESCOPE_CACHE")]
    pub cache: Option<PathBuf>,

    /// With --data s3://…: how long a writing command waits for another writer's lease.
    #[arg(long, global = true, default_value = "5m", value_parser = humantime::parse_duration)]
    pub lock_wait: std::time::Duration,

    /// Run the analyses' SQL on a DataFusion Ballista cluster: its scheduler's
    /// df://HOST:PORT (a pipescope built with `--features cluster`).
    #[arg(
        long,
        global = true,
        env = "PIPESCOPE_CLUSTER",
        value_name = "df://HOST:PORT"
    )]
    pub cluster: Option<String>,

    /// Fail on a damaged store file instead of answering from the rest (exit 1).
    #[arg(long, global = true)]
    pub strict: bool,

    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read trace files (OTLP JSON/protobuf, Jaeger, Zipkin) and JUnit XML reports into the store.
    Ingest(ingest::Args),
    /// Fetch CI traces from Jaeger, Grafana Tempo or Zipkin into the store, incrementally.
    Pull(Box<pull::Args>),
    /// Tests that pass and fail on the same commit, ranked by evidence.
    Flaky(flaky::Args),
    /// Why a test fails: its child spans in passing vs failing runs, likely cause first.
    Compare(compare::Args),
    /// Tasks that hold pipelines back: time on the critical path, not merely long.
    Bottlenecks(bottlenecks::Args),
    /// Failure rates of pipeline runs, tasks or tests, by branch, task, test or pipeline.
    Failures(failures::Args),
    /// Ad hoc SQL over the `spans` table and the views of queries/views.sql.
    Sql(sql::Args),
    /// Serve OTLP/HTTP and OTLP/gRPC: CI jobs export spans here, stored durably.
    Receive(receive::Args),
    /// Ingest bundled sample data into a temporary store and print a short report.
    Demo(demo::Args),
    /// Generate synthetic CI traces with planted flaky tests, bottlenecks and failures.
    Synth(synth::Args),
    /// CI gate: current runs vs a baseline; exit 1 on a regression, known flakes may pass.
    Gate(Box<gate::Args>),
    /// The flaky tests to skip now: JSON, or arguments for pytest, Go, nextest, Surefire, Jest.
    Quarantine(quarantine::Args),
    /// Nightly reliability report: self-contained HTML (or Markdown/JSON) with charts.
    Report(report::Args),
    /// Each change's path from pull request to production; one change as a waterfall.
    Delivery(delivery::Args),
    /// The four DORA keys per repository, with DevLake's bands and the trend.
    Dora(dora::Args),
    /// Verify every file of the store; --repair moves damaged ones into <DATA>/quarantine/.
    Check(check::Args),
    /// Merge the store's small files into large ones, atomically (run it nightly).
    Compact(compact::Args),
}

/// Runs the parsed command line. An answer given without the damaged store files it
/// had to leave out exits 2 instead of 0 (see `store::integrity::reading`).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    crate::store::integrity::reading::set_strict(cli.strict);
    let code = dispatch(cli)?;
    let partial = !crate::store::integrity::reading::skipped().is_empty();
    Ok(if partial && code == ExitCode::SUCCESS {
        ExitCode::from(2)
    } else {
        code
    })
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    // Deep stacks: a plan sent to a Ballista cluster (`--cluster`) is encoded as nested
    // protobuf messages, recursively.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 << 20)
        .build()?;
    let bucket = match cli.data.to_str() {
        Some(data) => BucketUrl::parse(data)?,
        None => None,
    };
    let (name, usage) = cli.command.store_use();
    if let Some(scheduler) = &cli.cluster {
        crate::query::cluster::set(crate::query::cluster::Cluster {
            scheduler: scheduler.clone(),
            store_url: bucket.as_ref().map(|b| b.url.clone()),
        });
    }
    match bucket {
        Some(url) if usage != StoreUse::None => {
            let options = BucketOptions {
                cache: cli.cache,
                lock_wait: cli.lock_wait,
            };
            let command = cli.command;
            run_on_bucket(&url, &options, name, usage, &runtime, |dir| {
                run_command(command, dir, &runtime)
            })
        }
        _ => run_command(cli.command, &cli.data, &runtime),
    }
}

impl Command {
    /// The command's name and how it uses the store.
    fn store_use(&self) -> (&'static str, StoreUse) {
        use StoreUse::{None, Read, Write};
        match self {
            Command::Ingest(_) => ("ingest", Write),
            Command::Pull(_) => ("pull", Write),
            Command::Receive(_) => ("receive", Write),
            Command::Compact(_) => ("compact", Write),
            Command::Check(args) if args.repair => ("check --repair", Write),
            Command::Check(_) => ("check", Read),
            Command::Demo(_) => ("demo", None),
            Command::Synth(_) => ("synth", None),
            _ => ("an analysis", Read),
        }
    }
}

fn run_command(command: Command, data: &Path, runtime: &Runtime) -> anyhow::Result<ExitCode> {
    match command {
        Command::Ingest(args) => ingest::run(args, data),
        Command::Pull(args) => runtime.block_on(pull::run(*args, data)),
        Command::Flaky(args) => runtime.block_on(flaky::run(args, data)),
        Command::Compare(args) => runtime.block_on(compare::run(args, data)),
        Command::Bottlenecks(args) => runtime.block_on(bottlenecks::run(args, data)),
        Command::Failures(args) => runtime.block_on(failures::run(args, data)),
        Command::Sql(args) => runtime.block_on(sql::run(args, data)),
        Command::Receive(args) => runtime.block_on(receive::run(args, data)),
        Command::Demo(args) => runtime.block_on(demo::run(args)),
        Command::Synth(args) => synth::run(args),
        Command::Gate(args) => runtime.block_on(gate::run(*args, data)),
        Command::Quarantine(args) => runtime.block_on(quarantine::run(args, data)),
        Command::Report(args) => runtime.block_on(report::run(args, data)),
        Command::Delivery(args) => runtime.block_on(delivery::run(args, data)),
        Command::Dora(args) => runtime.block_on(dora::run(args, data)),
        Command::Check(args) => check::run(args, data),
        Command::Compact(args) => compact::run(args, data),
    }
}
