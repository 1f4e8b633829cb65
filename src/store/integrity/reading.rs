//! How a reading command treats damaged store files: each one is named on stderr and
//! left out (the answer comes from the rest, and the process exits 2 instead of 0),
//! or, with `--strict`, the command fails.
//!
//! This state is the process's, not an engine's: a command opens one or several
//! engines (the report opens three, over different windows) from code that knows
//! nothing of the command line, and the outcome — was anything left out — decides the
//! exit status of the whole process. Footer checks are cached per (path, size, mtime),
//! so the second engine over the same store reads no footer again.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::SystemTime;

use super::{Problem, Table, inspect};
use crate::store::{Store, StoreError};

static STRICT: AtomicBool = AtomicBool::new(false);
static REFUSED: AtomicBool = AtomicBool::new(false);

/// `--strict`: a damaged file fails the command instead of being left out.
pub fn set_strict(strict: bool) {
    STRICT.store(strict, Ordering::Relaxed);
}

/// Whether `--strict` failed on a damaged file: the command's error is that, and its
/// exit status 1. (The error itself may reach `main` wrapped where a downcast cannot
/// see it, behind `#[error(transparent)]`.)
pub fn refused_damage() -> bool {
    REFUSED.load(Ordering::Relaxed)
}

/// The files left out of this process's answers, with what was wrong with each.
pub fn skipped() -> BTreeMap<PathBuf, Problem> {
    lock(skipped_files()).clone()
}

/// The finished files of the store, each with its table, sorted.
pub fn store_files(store: &Store) -> Result<Vec<(PathBuf, Table)>, StoreError> {
    let spans = store
        .parquet_files()?
        .into_iter()
        .map(|f| (f, Table::Spans));
    let facts = store
        .facts_files()?
        .into_iter()
        .map(|f| (f, Table::TraceFacts));
    Ok(spans.chain(facts).collect())
}

/// Footer-checks every file of the store and reports the damaged ones
/// ([`report_damaged`]); returns the files a query must leave out.
pub fn damaged_files(store: &Store) -> Result<Vec<PathBuf>, StoreError> {
    let mut damaged = Vec::new();
    for (path, table) in store_files(store)? {
        // Found damaged by an earlier engine of this process (a data page its query
        // failed on): left out from the start, not decoded again.
        let known = lock(skipped_files()).get(&path).cloned();
        let verdict = match known {
            Some(problem) => Some(problem),
            None => footer_verdict(store.root(), &path, table)?,
        };
        if let Some(problem) = verdict {
            report_damaged(&path, &problem)?;
            damaged.push(path);
        }
    }
    Ok(damaged)
}

/// A file found damaged while reading: with `--strict` the error to fail with;
/// otherwise a warning on stderr (once per file and process) and the file is recorded
/// as left out.
pub fn report_damaged(path: &Path, problem: &Problem) -> Result<(), StoreError> {
    if STRICT.load(Ordering::Relaxed) {
        REFUSED.store(true, Ordering::Relaxed);
        return Err(StoreError::Damaged {
            path: path.to_path_buf(),
            message: problem.message.clone(),
        });
    }
    let mut skipped = lock(skipped_files());
    if !skipped.contains_key(path) {
        eprintln!(
            "warning: skipping {}",
            StoreError::Damaged {
                path: path.to_path_buf(),
                message: problem.message.clone(),
            }
        );
        skipped.insert(path.to_path_buf(), problem.clone());
    }
    Ok(())
}

/// Fully decodes `path` (a file a failing query read); its problem, if it has one.
pub fn decode_verdict(store: &Store, path: &Path) -> Result<Option<Problem>, StoreError> {
    Ok(inspect(store.root(), path, Table::of(store, path), true)?.problem)
}

/// What identifies one version of a file: its size and modification time.
type Stamp = (u64, Option<SystemTime>);
/// The footer verdict of each file, with the stamp it was given for.
type Verdicts = HashMap<PathBuf, (Stamp, Option<Problem>)>;

fn footer_verdict(root: &Path, path: &Path, table: Table) -> Result<Option<Problem>, StoreError> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        // Gone since the listing (a writer replaced it): no file, nothing to leave out.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(path, e)),
    };
    let stamp: Stamp = (meta.len(), meta.modified().ok());
    if let Some((seen, verdict)) = lock(verdicts()).get(path)
        && *seen == stamp
    {
        return Ok(verdict.clone());
    }
    let verdict = inspect(root, path, table, false)?.problem;
    lock(verdicts()).insert(path.to_path_buf(), (stamp, verdict.clone()));
    Ok(verdict)
}

fn verdicts() -> &'static Mutex<Verdicts> {
    static VERDICTS: OnceLock<Mutex<Verdicts>> = OnceLock::new();
    VERDICTS.get_or_init(Mutex::default)
}

fn skipped_files() -> &'static Mutex<BTreeMap<PathBuf, Problem>> {
    static SKIPPED: OnceLock<Mutex<BTreeMap<PathBuf, Problem>>> = OnceLock::new();
    SKIPPED.get_or_init(Mutex::default)
}

/// A poisoned lock only means another thread panicked while holding it; the maps
/// stay consistent (each update is one insert), so reading on is safe.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
