//! `pipescope check`: verifies every file of the store — its footer, its schema
//! against `store/schema.rs`, its row count and size against the writer's record, and
//! (unless `--quick`) every row group decoded — and names, per damaged file, what is
//! wrong and which days and traces it holds. `--repair` moves the damaged files into
//! `<data>/quarantine/`, holding the writer lock. Exit 0 when clean, 2 when damage
//! was found (also when `--repair` set it aside: the data in it is not answered).
//!
//! `--format json` is a wire format (`schema_version` 1):
//!
//! ```text
//! {"schema_version": 1, "store": PATH, "format_version": 3, "decoded": BOOL,
//!  "files": N, "rows": N, "clean": BOOL,
//!  "damaged": [{"path": PATH, "problem": "footer|schema|row_count|size|data|checksum|missing",
//!               "message": TEXT, "days": ["YYYY-MM-DD"], "traces": [ID] | null,
//!               "recorded_rows": N | null}],
//!  "unrecorded": [PATH], "moved": [{"from": PATH, "to": PATH}]}
//! ```
//! `traces` is null when they cannot be read (no footer, file gone); `days` is empty
//! for a trace-facts file, which has no partition.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use crate::store::Store;
use crate::store::format;
use crate::store::integrity::check::{DamagedFile, StoreCheck, check_store};
use crate::store::integrity::repair::{Moved, QUARANTINE_DIR, quarantine};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Footers, schemas and row counts only: skip decoding every row group.
    #[arg(long)]
    pub quick: bool,
    /// Move damaged files (and their records) into <DATA>/quarantine/, atomically.
    #[arg(long)]
    pub repair: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

/// Traces listed per damaged file in text; JSON lists all.
const TRACES_SHOWN: usize = 10;

pub fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(data)?;
    // No compaction deletes a file while it is being checked.
    let _readers = store.lock_for_reading()?;
    // Repair holds the lock from the check to the last move: no writer can add or
    // compact a file in between.
    let lock = args.repair.then(|| store.lock_for_writing()).transpose()?;
    let check = check_store(&store, !args.quick)?;
    let moved = match &lock {
        Some(lock) => quarantine(&store, &check, lock)?,
        None => Vec::new(),
    };
    let version = format::read(store.root())?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        CheckFormat::Text => write_text(&store, &check, &moved, &mut out)?,
        CheckFormat::Json => {
            let doc = to_json(&store, version, &check, &moved);
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(if check.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn write_text(
    store: &Store,
    check: &StoreCheck,
    moved: &[Moved],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let depth = if check.decoded {
        "every row group decoded"
    } else {
        "footers only"
    };
    writeln!(
        out,
        "checked {} files, {} rows in {} ({depth})",
        check.files,
        check.rows,
        store.root().display()
    )?;
    for damaged in &check.damaged {
        write_damaged(damaged, out)?;
    }
    if !check.unrecorded.is_empty() {
        writeln!(
            out,
            "{} files have no recorded row count (written by an older pipescope, or cut off before the record): checked without one",
            check.unrecorded.len()
        )?;
    }
    for m in moved {
        writeln!(out, "moved {} -> {}", m.from.display(), m.to.display())?;
    }
    let quarantine = store.root().join(QUARANTINE_DIR);
    match (check.damaged.len(), moved.is_empty()) {
        (0, _) => writeln!(out, "clean"),
        (n, true) => writeln!(
            out,
            "{n} damaged; `pipescope check --repair` moves them into {}",
            quarantine.display()
        ),
        (n, false) => writeln!(
            out,
            "{n} damaged, moved into {}; analyses no longer read them",
            quarantine.display()
        ),
    }
}

fn write_damaged(damaged: &DamagedFile, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "damaged {}", damaged.path.display())?;
    writeln!(out, "  problem: {}", damaged.problem.message)?;
    if damaged.days.is_empty() {
        writeln!(out, "  days:    none (trace facts)")?;
    } else {
        writeln!(out, "  days:    {}", damaged.days.join(", "))?;
    }
    match &damaged.traces {
        None => writeln!(out, "  traces:  unknown (the file's rows cannot be read)"),
        Some(traces) => {
            let shown: Vec<&str> = traces
                .iter()
                .take(TRACES_SHOWN)
                .map(String::as_str)
                .collect();
            let more = traces.len().saturating_sub(TRACES_SHOWN);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            writeln!(
                out,
                "  traces:  {} ({}){more}",
                shown.join(", "),
                traces.len()
            )
        }
    }
}

fn to_json(store: &Store, version: u32, check: &StoreCheck, moved: &[Moved]) -> serde_json::Value {
    let damaged: Vec<_> = check
        .damaged
        .iter()
        .map(|d| {
            json!({
                "path": d.path.display().to_string(),
                "problem": d.problem.kind,
                "message": d.problem.message,
                "days": d.days,
                "traces": d.traces,
                "recorded_rows": d.recorded.map(|r| r.rows),
            })
        })
        .collect();
    let path = |p: &Path| p.display().to_string();
    json!({
        "schema_version": 1,
        "store": path(store.root()),
        "format_version": version,
        "decoded": check.decoded,
        "files": check.files,
        "rows": check.rows,
        "clean": check.is_clean(),
        "damaged": damaged,
        "unrecorded": check.unrecorded.iter().map(|p| path(p)).collect::<Vec<_>>(),
        "moved": moved.iter().map(|m| json!({"from": path(&m.from), "to": path(&m.to)})).collect::<Vec<_>>(),
    })
}
