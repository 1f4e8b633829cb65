//! Where things live in a store directory, and the writer lock.
//!
//! ```text
//! <data>/spans/date=YYYY-MM-DD/<unique>.parquet   finished files, the only ones readers see
//! <data>/spans/date=YYYY-MM-DD/.<unique>.parquet.tmp   being written; renamed when complete
//! <data>/traces/<unique>.parquet                  trace-level facts (branch, commit, …) per trace
//! <data>/.writer.lock                              held by the one process writing
//! <data>/.readers.lock                             held (shared) by every process reading
//! <data>/compaction/<file>.json                    a compaction's journal (see `journal`)
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

use super::{StoreError, format, journal, manifest};

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

    /// Every finished trace-facts file, sorted, minus those a compaction replaced.
    pub fn facts_files(&self) -> Result<Vec<PathBuf>, StoreError> {
        let files = read_dir_sorted(&self.facts_dir())?
            .into_iter()
            .filter(|f| is_finished_parquet(f))
            .collect();
        self.current(files)
    }

    /// The partition directory for spans starting on the day of `start_ns`.
    pub fn partition_dir(&self, start_ns: i64) -> PathBuf {
        self.day_dir(&partition_date(start_ns))
    }

    /// The partition directory of a `YYYY-MM-DD` date (see [`partition_date`]).
    pub fn day_dir(&self, date: &str) -> PathBuf {
        self.spans_dir().join(format!("date={date}"))
    }

    /// Every finished span file in the store, sorted, minus those a compaction
    /// replaced (see `journal`).
    pub fn parquet_files(&self) -> Result<Vec<PathBuf>, StoreError> {
        let mut files = Vec::new();
        for partition in self.partitions()? {
            files.extend(finished_files(&partition)?);
        }
        self.current(files)
    }

    /// The partition directories (`spans/date=…`), sorted.
    pub fn partitions(&self) -> Result<Vec<PathBuf>, StoreError> {
        Ok(read_dir_sorted(&self.spans_dir())?
            .into_iter()
            .filter(|p| p.is_dir())
            .collect())
    }

    /// The finished span files of one partition directory, as [`Store::parquet_files`].
    pub fn partition_files(&self, partition: &Path) -> Result<Vec<PathBuf>, StoreError> {
        self.current(finished_files(partition)?)
    }

    /// `files` without the inputs of pending compactions whose output is among them.
    fn current(&self, files: Vec<PathBuf>) -> Result<Vec<PathBuf>, StoreError> {
        let superseded = journal::superseded(&self.root, &files)?;
        Ok(files
            .into_iter()
            .filter(|f| !superseded.contains(f))
            .collect())
    }

    /// Takes the reader lock, shared: held by every process reading the store, so
    /// that a compaction deletes the files it replaced only once no query can still
    /// be reading them. A store this process cannot write to (read-only media, no
    /// permission) cannot be compacted either: it is read without the lock.
    pub fn lock_for_reading(&self) -> Result<ReaderLock, StoreError> {
        let path = self.root.join(READERS_LOCK);
        let file = match open_lock_file(&path) {
            Ok(file) => file,
            Err(e) if read_only(&e) => return Ok(ReaderLock { _file: None }),
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        file.lock_shared().map_err(|e| StoreError::io(&path, e))?;
        Ok(ReaderLock { _file: Some(file) })
    }

    /// The reader lock taken exclusively, if no process is reading the store now.
    fn no_readers(&self) -> Result<Option<File>, StoreError> {
        let path = self.root.join(READERS_LOCK);
        let file = open_lock_file(&path).map_err(|e| StoreError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(StoreError::io(&path, e)),
        }
    }

    /// Deletes the files pending compactions replaced, when no process is reading the
    /// store; a journal whose output never became visible is dropped. Returns how many
    /// replacements still wait for readers to finish. `_lock` is the writer lock.
    pub fn finish_compactions(&self, _lock: &WriterLock) -> Result<usize, StoreError> {
        let pending = journal::pending(&self.root)?;
        if pending.is_empty() {
            return Ok(0);
        }
        let readers_gone = self.no_readers()?;
        let mut waiting = 0;
        for replacement in &pending {
            if !replacement.output(&self.root).exists() {
                journal::abandon(replacement)?;
            } else if readers_gone.is_some() {
                journal::finish(&self.root, replacement)?;
            } else {
                waiting += 1;
            }
        }
        Ok(waiting)
    }

    /// Takes the exclusive writer lock, waiting for another writer to finish.
    /// Temporary files found once the lock is held are leftovers of a crashed writer
    /// (nothing reported them as stored) and are removed. A store of an older format
    /// is migrated to the current one here (see `format`: nothing to rewrite).
    pub fn lock_for_writing(&self) -> Result<WriterLock, StoreError> {
        let path = self.root.join(".writer.lock");
        let file = open_lock_file(&path).map_err(|e| StoreError::io(&path, e))?;
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
        if format::ensure_readable(&self.root)? < format::FORMAT_VERSION {
            format::write_current(&self.root)?;
        }
        self.remove_stale_temp_files()?;
        let lock = WriterLock { _file: file };
        self.finish_compactions(&lock)?;
        Ok(lock)
    }

    fn remove_stale_temp_files(&self) -> Result<(), StoreError> {
        let manifest = self.root.join(manifest::MANIFEST_DIR);
        let format_temp = self.root.join(format!(".{}.tmp", format::FORMAT_FILE));
        if format_temp.exists() {
            fs::remove_file(&format_temp).map_err(|e| StoreError::io(&format_temp, e))?;
        }
        let mut dirs = vec![
            self.facts_dir(),
            manifest.join("traces"),
            self.root.join(journal::JOURNAL_DIR),
        ];
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

/// Held while reading (see [`Store::lock_for_reading`]); dropping it releases it.
#[derive(Debug)]
pub struct ReaderLock {
    _file: Option<File>,
}

const READERS_LOCK: &str = ".readers.lock";

/// A lock file, created if needed and never truncated (its content is nothing; the
/// lock is on the open file).
fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

fn read_only(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
    )
}

fn finished_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    Ok(read_dir_sorted(dir)?
        .into_iter()
        .filter(|f| is_finished_parquet(f))
        .collect())
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
