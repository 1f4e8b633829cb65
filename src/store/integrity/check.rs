//! `pipescope check` over a whole store: every file inspected (fully unless quick),
//! every writer's record matched to a file, and for each damaged file the days (its
//! `date=` partition) and trace ids it holds, when they can still be read.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::reading::store_files;
use super::{Problem, ProblemKind, inspect, trace_ids};
use crate::store::manifest::{self, FileRecord};
use crate::store::{Store, StoreError};

/// A damaged file and what it affects.
#[derive(Debug, Clone)]
pub struct DamagedFile {
    pub path: PathBuf,
    pub problem: Problem,
    /// The writer's record, when there is one.
    pub recorded: Option<FileRecord>,
    /// Days of its partition (`date=`); empty for trace-facts files, which have none.
    pub days: Vec<String>,
    /// Its trace ids, `None` when they cannot be read (no footer, file gone).
    pub traces: Option<Vec<String>>,
}

/// What a check found.
#[derive(Debug, Clone, Default)]
pub struct StoreCheck {
    pub files: usize,
    /// Rows of the files whose footer reads.
    pub rows: u64,
    /// Whether every row group was decoded (not `--quick`).
    pub decoded: bool,
    pub damaged: Vec<DamagedFile>,
    /// Files without a writer's record (written by an older pipescope, or a crash
    /// between the file and its record): checked, but not against a row count.
    pub unrecorded: Vec<PathBuf>,
}

impl StoreCheck {
    pub fn is_clean(&self) -> bool {
        self.damaged.is_empty()
    }
}

/// Checks every file of `store`; `decode` reads every row group too.
pub fn check_store(store: &Store, decode: bool) -> Result<StoreCheck, StoreError> {
    let root = store.root();
    let mut check = StoreCheck {
        decoded: decode,
        ..StoreCheck::default()
    };
    let files = store_files(store)?;
    let present: BTreeSet<&Path> = files.iter().map(|(p, _)| p.as_path()).collect();
    for (path, table) in &files {
        check.files += 1;
        let inspection = inspect(root, path, *table, decode)?;
        check.rows += inspection.rows.unwrap_or(0);
        if inspection.recorded.is_none() {
            check.unrecorded.push(path.clone());
        }
        if let Some(problem) = inspection.problem {
            let traces = inspection.rows.and_then(|_| trace_ids(path));
            check.damaged.push(DamagedFile {
                path: path.clone(),
                problem,
                recorded: inspection.recorded,
                days: day_of(path).into_iter().collect(),
                traces,
            });
        }
    }
    for record in manifest::all_records(root)? {
        let Some(data) = manifest::data_path(root, &record) else {
            continue;
        };
        if present.contains(data.as_path()) {
            continue;
        }
        let recorded = manifest::read(root, &data).ok().flatten();
        let rows = recorded.map_or("its".to_string(), |r| format!("{}", r.rows));
        check.damaged.push(DamagedFile {
            problem: Problem::new(
                ProblemKind::Missing,
                format!("the writer recorded this file ({rows} rows), but it is gone"),
            ),
            recorded,
            days: day_of(&data).into_iter().collect(),
            traces: None,
            path: data,
        });
    }
    check.damaged.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(check)
}

/// `2025-06-15` of `…/date=2025-06-15/part-….parquet`.
fn day_of(path: &Path) -> Option<String> {
    let partition = path.parent()?.file_name()?.to_str()?;
    partition.strip_prefix("date=").map(str::to_string)
}
