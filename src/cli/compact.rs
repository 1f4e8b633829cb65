//! `pipescope compact`: merges the store's small files (every receiver flush and every
//! pull adds some) into about `--target-rows` rows each, atomically; see
//! `store::compact`. Meant to run nightly, beside the report: it rewrites what was
//! written since the last run, so once a day costs each span one rewrite, and it
//! waits for the writer lock rather than slowing every ingest down.
//!
//! `--format json` is a wire format (`schema_version` 1): the fields of
//! `store::compact::CompactStats`, with the store's path and spans/bytes per span.
//! Exit 0, or 2 when damaged files were left as they were (`pipescope check`).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use crate::store::Store;
use crate::store::compact::{CompactStats, DEFAULT_TARGET_ROWS, compact};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Rows per compacted file; files already this big are left as they are.
    #[arg(long, default_value_t = DEFAULT_TARGET_ROWS, value_parser = clap::value_parser!(u64).range(1..))]
    pub target_rows: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CompactFormat::Text)]
    pub format: CompactFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompactFormat {
    Text,
    Json,
}

pub fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(data)?;
    let stats = compact(&store, args.target_rows)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        CompactFormat::Text => write_text(&store, &stats, &mut out)?,
        CompactFormat::Json => {
            let mut doc = json!({"schema_version": 1, "store": store.root().display().to_string()});
            if let (Some(doc), serde_json::Value::Object(fields)) =
                (doc.as_object_mut(), serde_json::to_value(&stats)?)
            {
                doc.extend(fields);
            }
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(if stats.damaged.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn write_text(store: &Store, stats: &CompactStats, out: &mut dyn Write) -> std::io::Result<()> {
    if stats.files_before == 0 && stats.facts_files_before == 0 {
        writeln!(out, "nothing to compact in {}", store.root().display())?;
    } else {
        let per_span = |bytes: u64| bytes as f64 / stats.rows.max(1) as f64;
        writeln!(
            out,
            "compacted {} partitions: {} span files into {} ({} spans), {} into {} bytes ({:.1} -> {:.1} bytes/span)",
            stats.partitions,
            stats.files_before,
            stats.files_after,
            stats.rows,
            stats.bytes_before,
            stats.bytes_after,
            per_span(stats.bytes_before),
            per_span(stats.bytes_after),
        )?;
        if stats.facts_files_before > 0 {
            writeln!(
                out,
                "trace facts: {} files into {}",
                stats.facts_files_before, stats.facts_files_after
            )?;
        }
    }
    if stats.duplicates_removed > 0 {
        writeln!(
            out,
            "{} spans were stored twice (by an older pipescope); kept once",
            stats.duplicates_removed
        )?;
    }
    if stats.waiting_for_readers > 0 {
        writeln!(
            out,
            "{} replaced groups wait for running queries to end; queries already leave them out, and the next compact or ingest deletes them",
            stats.waiting_for_readers
        )?;
    }
    for damaged in &stats.damaged {
        writeln!(
            out,
            "left as it is (damaged; see `pipescope check`): {}",
            damaged.display()
        )?;
    }
    Ok(())
}
