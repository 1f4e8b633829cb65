//! Where things live in a store directory, and the writer lock.
//!
//! ```text
//! <data>/spans/date=YYYY-MM-DD/<unique>.parquet   finished files, the only ones readers see
//! <data>/spans/date=YYYY-MM-DD/.<unique>.parquet.tmp   being written; renamed when complete
//! <data>/traces/<unique>.parquet                  trace-level facts (branch, commit, …) per trace
//! <data>/.writer.lock                              held by the one process writing
//! <data>/FORMAT                                    the store's format version (see `format`)
//! <data>/manifest/<relative path>.json             the writer's row count of each file (see `manifest`)
//! <data>/quarantine/<relative path>                damaged files set aside by `check --repair`
//! ```
//! Partition directories are named from span start dates only: values that come from
//! traces (branch names!) never become path components.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{StoreError, format, manifest};

/// A store directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (and creates if needed) a store rooted at `root`. A new store gets the
    /// current format version; one newer than this pipescope reads is refused.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store, StoreError> {
        let root = root.into();
        let spans = root.join("spans");
        let new = !spans.is_dir();
        fs::create_dir_all(&spans).map_err(|e| StoreError::io(&spans, e))?;
        format::ensure_readable(&root)?;
        // A store that existed before FORMAT always has spans/: this one is new.
        if new && !root.join(format::FORMAT_FILE).exists() {
            format::write_current(&root)?;
        }
        Ok(Store { root })
    }

    /// Opens a store that must already exist, for the commands that only read it: a
    /// missing store is [`StoreError::Missing`], whose message says how to make one.
    pub fn open_existing(root: impl Into<PathBuf>) -> Result<Store, StoreError> {
        let root = root.into();
        if !root.join("spans").is_dir() {
            return Err(StoreError::Missing { path: root });
        }
        format::ensure_readable(&root)?;
        Ok(Store { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory registered with DataFusion as the `spans` table.
    pub fn spans_dir(&self) -> PathBuf {
        self.root.join("spans")
    }

    /// Trace-level facts, one small file per write (see `schema::trace_facts_schema`).
    pub fn facts_dir(&self) -> PathBuf {
        self.root.join("traces")
    }

    /// Every finished trace-facts file, sorted.
    pub fn facts_files(&self) -> Result<Vec<PathBuf>, StoreError> {
        Ok(read_dir_sorted(&self.facts_dir())?
            .into_iter()
            .filter(|f| is_finished_parquet(f))
            .collect())
    }

    /// The partition directory for spans starting on the day of `start_ns`.
    pub fn partition_dir(&self, start_ns: i64) -> PathBuf {
        self.spans_dir()
            .join(format!("date={}", partition_date(start_ns)))
    }

    /// Every finished Parquet file in the store, sorted.
    pub fn parquet_files(&self) -> Result<Vec<PathBuf>, StoreError> {
        let mut files = Vec::new();
        let spans = self.spans_dir();
        for partition in read_dir_sorted(&spans)? {
            if !partition.is_dir() {
                continue;
            }
            for file in read_dir_sorted(&partition)? {
                if is_finished_parquet(&file) {
                    files.push(file);
                }
            }
        }
        Ok(files)
    }

    /// Takes the exclusive writer lock, waiting for another writer to finish.
    /// Temporary files found once the lock is held are leftovers of a crashed writer
    /// (nothing reported them as stored) and are removed. A store of an older format
    /// is migrated to the current one here (see `format`: nothing to rewrite).
    pub fn lock_for_writing(&self) -> Result<WriterLock, StoreError> {
        let path = self.root.join(".writer.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                tracing::info!(
                    "another pipescope process is writing to {}; waiting",
                    self.root.display()
                );
                file.lock().map_err(|e| StoreError::io(&path, e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(StoreError::io(&path, e)),
        }
        self.remove_stale_temp_files()?;
        if format::ensure_readable(&self.root)? < format::FORMAT_VERSION {
            format::write_current(&self.root)?;
        }
        Ok(WriterLock { _file: file })
    }

    fn remove_stale_temp_files(&self) -> Result<(), StoreError> {
        let manifest = self.root.join(manifest::MANIFEST_DIR);
        let format_temp = self.root.join(format!(".{}.tmp", format::FORMAT_FILE));
        if format_temp.exists() {
            fs::remove_file(&format_temp).map_err(|e| StoreError::io(&format_temp, e))?;
        }
        let mut dirs = vec![self.facts_dir(), manifest.join("traces")];
        for parent in [self.spans_dir(), manifest.join("spans")] {
            dirs.extend(read_dir_sorted(&parent)?.into_iter().filter(|p| p.is_dir()));
        }
        for dir in dirs {
            for file in read_dir_sorted(&dir)? {
                if file.extension().is_some_and(|e| e == "tmp") {
                    tracing::warn!(
                        "removing leftover of an interrupted write: {}",
                        file.display()
                    );
                    fs::remove_file(&file).map_err(|e| StoreError::io(&file, e))?;
                }
            }
        }
        Ok(())
    }
}

/// Held while writing; dropping it releases the lock.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

/// `YYYY-MM-DD` (UTC) of a nanosecond timestamp; out-of-range times go to 1970-01-01.
pub fn partition_date(start_ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(start_ns)
        .format("%Y-%m-%d")
        .to_string()
}

fn is_finished_parquet(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'));
    !hidden && path.extension().is_some_and(|e| e == "parquet")
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(dir, e)),
    };
    let mut paths = entries
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::io(dir, e))?;
    paths.sort();
    Ok(paths)
}

/// fsyncs a directory so that a rename inside it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}
