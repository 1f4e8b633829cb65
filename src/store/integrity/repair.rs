//! `check --repair`: damaged files move into `<data>/quarantine/<relative path>`, with
//! their writer's record, by `rename` within the store's filesystem (atomic: a reader
//! sees the file in `spans/` or not at all). The caller holds the store's writer lock,
//! so no ingest or compaction runs meanwhile. Nothing is deleted: a file set aside can
//! be examined, or put back by hand.

use std::fs;
use std::path::{Path, PathBuf};

use super::check::StoreCheck;
use crate::store::layout::{WriterLock, sync_dir};
use crate::store::manifest;
use crate::store::{Store, StoreError};

/// Directory damaged files are moved to, under the store's root.
pub const QUARANTINE_DIR: &str = "quarantine";

/// One file moved aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub from: PathBuf,
    pub to: PathBuf,
}

/// Moves every damaged file of `check` (and its record) into quarantine. `_lock` is
/// the writer lock, held by the caller across the check and the moves.
pub fn quarantine(
    store: &Store,
    check: &StoreCheck,
    _lock: &WriterLock,
) -> Result<Vec<Moved>, StoreError> {
    let root = store.root();
    let mut moved = Vec::new();
    for damaged in &check.damaged {
        let record = manifest::record_path(root, &damaged.path).filter(|r| r.exists());
        // A missing file leaves only its record to set aside.
        for from in damaged
            .path
            .exists()
            .then(|| damaged.path.clone())
            .into_iter()
            .chain(record)
        {
            let to = move_aside(root, &from)?;
            moved.push(Moved { from, to });
        }
    }
    Ok(moved)
}

fn move_aside(root: &Path, from: &Path) -> Result<PathBuf, StoreError> {
    let relative = from.strip_prefix(root).map_err(|_| StoreError::Write {
        path: from.to_path_buf(),
        message: format!("not inside the store at {}", root.display()),
    })?;
    let mut to = root.join(QUARANTINE_DIR).join(relative);
    // A file quarantined before under the same name is kept: the new one gets a suffix.
    let mut n = 1;
    while to.exists() {
        let name = relative
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        to = root
            .join(QUARANTINE_DIR)
            .join(relative)
            .with_file_name(format!("{}.{n}", name.unwrap_or_default()));
        n += 1;
    }
    let dir = to.parent().unwrap_or(root).to_path_buf();
    fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
    fs::rename(from, &to).map_err(|e| StoreError::io(from, e))?;
    sync_dir(&dir)?;
    if let Some(source_dir) = from.parent() {
        sync_dir(source_dir)?;
    }
    Ok(to)
}
