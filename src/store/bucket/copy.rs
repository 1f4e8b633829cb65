//! The local working copy of a bucket's store: brought level with the bucket before
//! a command runs, published back (by a writer holding the lease) as it changes.
//!
//! `<copy>/.bucket-state.json` records, for every file the copy shares with the
//! bucket, the object's size and ETag and the local file's size and mtime: a file
//! whose object changed is fetched again, one whose local stamp changed (or that is
//! new) is published, one recorded but gone from the bucket (a compaction elsewhere)
//! is deleted here, one recorded but gone from here (a compaction here) is deleted
//! in the bucket. A local file the bucket never had is this machine's write not yet
//! published (a command killed, or the bucket unreachable, after its commit): it is
//! kept, and the next writing command publishes it.
//!
//! Copied: every file of the layout but dot files (temporaries, locks, this state,
//! the bucket's lease) and `wal/` (the receiver's write-ahead log stays local).
//! One process uses a copy at a time (`.copy.lock`); another waits.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use futures::StreamExt;
use object_store::{
    Error as ObjectError, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart,
};
use serde::{Deserialize, Serialize};

use super::lease::Lease;
use super::{BucketError, BucketUrl};

const STATE_FILE: &str = ".bucket-state.json";
const COPY_LOCK: &str = ".copy.lock";
/// Files up to this size are published by one PUT, larger ones by a multipart upload
/// of parts this size: memory is a part, whatever the file.
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Listings that keep changing while the copy is brought level (a compaction
/// elsewhere finishing step by step) are retried this many times.
const LEVEL_ROUNDS: usize = 8;

/// A local file's identity between two looks at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
}

/// A file the copy and the bucket share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Shared {
    object_size: u64,
    e_tag: Option<String>,
    local: Stamp,
}

/// What bringing level or publishing moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    pub files: u64,
    pub bytes: u64,
    pub removed: u64,
}

/// The working copy of one bucket store (see the module comment).
#[derive(Debug)]
pub struct WorkingCopy {
    store: Arc<dyn ObjectStore>,
    url: BucketUrl,
    dir: PathBuf,
    shared: BTreeMap<String, Shared>,
    _lock: File,
}

impl WorkingCopy {
    /// Opens (creating) the copy at `dir`, waiting for another process using it.
    pub fn open(
        store: Arc<dyn ObjectStore>,
        url: &BucketUrl,
        dir: &Path,
    ) -> Result<WorkingCopy, BucketError> {
        fs::create_dir_all(dir).map_err(|e| BucketError::local(dir, e))?;
        let lock_path = dir.join(COPY_LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| BucketError::local(&lock_path, e))?;
        if lock.try_lock().is_err() {
            eprintln!(
                "another pipescope is using the working copy {}; waiting",
                dir.display()
            );
            lock.lock().map_err(|e| BucketError::local(&lock_path, e))?;
        }
        // A state that does not parse only costs fetching the files again.
        let shared = fs::read(dir.join(STATE_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Ok(WorkingCopy {
            store,
            url: url.clone(),
            dir: dir.to_path_buf(),
            shared,
            _lock: lock,
        })
    }

    /// The local store directory the command runs on.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the bucket holds a store (its last listing found any file).
    pub fn bucket_has_store(&self) -> bool {
        self.shared
            .keys()
            .any(|k| k.starts_with("spans/") || k == "FORMAT")
    }

    /// Fetches what the bucket has and the copy lacks and deletes here what the
    /// bucket deleted, until two listings in a row agree: a listing is no snapshot,
    /// and one taken while a compaction elsewhere publishes could show its output
    /// without its journal; the next one then differs, and the copy follows it.
    pub async fn bring_level(&mut self) -> Result<Transfer, BucketError> {
        let mut total = Transfer::default();
        let mut listing = self.list().await?;
        for _ in 0..LEVEL_ROUNDS {
            match self.follow(&listing).await {
                Ok(moved) => {
                    total.files += moved.files;
                    total.bytes += moved.bytes;
                    total.removed += moved.removed;
                }
                // Deleted between the listing and the fetch: list again.
                Err(BucketError::Remote {
                    source: ObjectError::NotFound { .. },
                    ..
                }) => {}
                Err(e) => return Err(e),
            }
            self.save()?;
            let again = self.list().await?;
            if again == listing {
                let unpublished = self.local_files()?;
                let mine = unpublished
                    .keys()
                    .filter(|rel| !self.shared.contains_key(*rel))
                    .count();
                if mine > 0 {
                    tracing::warn!(
                        "{mine} files written in {} are not yet in {}; the next writing command publishes them",
                        self.dir.display(),
                        self.url.url
                    );
                }
                return Ok(total);
            }
            listing = again;
        }
        Err(BucketError::Moved {
            url: self.url.url.clone(),
            message: format!("{LEVEL_ROUNDS} listings in a row differed; try again"),
        })
    }

    /// Makes the copy follow one listing.
    async fn follow(
        &mut self,
        listing: &BTreeMap<String, ObjectMeta>,
    ) -> Result<Transfer, BucketError> {
        let mut moved = Transfer::default();
        let local = self.local_files()?;
        for (rel, meta) in listing {
            let level = self.shared.get(rel).is_some_and(|s| {
                s.e_tag == meta.e_tag
                    && s.object_size == meta.size
                    && local.get(rel) == Some(&s.local)
            });
            if !level {
                let stamp = self.fetch(rel, meta).await?;
                self.shared.insert(
                    rel.clone(),
                    Shared {
                        object_size: meta.size,
                        e_tag: meta.e_tag.clone(),
                        local: stamp,
                    },
                );
                moved.files += 1;
                moved.bytes += meta.size;
            }
        }
        let gone: Vec<String> = self
            .shared
            .keys()
            .filter(|rel| !listing.contains_key(*rel))
            .cloned()
            .collect();
        for rel in gone {
            let path = self.local_path(&rel);
            match fs::remove_file(&path) {
                Ok(()) => moved.removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(BucketError::local(path, e)),
            }
            self.shared.remove(&rel);
        }
        Ok(moved)
    }

    /// Publishes what changed here since the copy was level: new and changed files
    /// first (compaction journals before the outputs they name, data before its
    /// records), then deletions (a journal last, after the inputs it names). Every
    /// step first checks that the lease still holds.
    pub async fn publish(&mut self, lease: &Lease) -> Result<Transfer, BucketError> {
        let mut moved = Transfer::default();
        let local = self.local_files()?;
        let mut changed: Vec<(&String, &Stamp)> = local
            .iter()
            .filter(|(rel, stamp)| self.shared.get(*rel).map(|s| &s.local) != Some(*stamp))
            .collect();
        changed.sort_by_key(|(rel, _)| (put_order(rel), (*rel).clone()));
        let outcome = async {
            for (rel, stamp) in changed {
                lease.check()?;
                let put = self.upload(rel).await?;
                self.shared.insert(
                    rel.clone(),
                    Shared {
                        object_size: stamp.size,
                        e_tag: put,
                        local: *stamp,
                    },
                );
                moved.files += 1;
                moved.bytes += stamp.size;
            }
            let mut deleted: Vec<String> = self
                .shared
                .keys()
                .filter(|rel| !local.contains_key(*rel))
                .cloned()
                .collect();
            deleted.sort_by_key(|rel| (rel.starts_with("compaction/"), rel.clone()));
            for rel in deleted {
                lease.check()?;
                let object = self.url.object(&rel);
                match self.store.delete(&object).await {
                    Ok(()) | Err(ObjectError::NotFound { .. }) => {}
                    Err(source) => return Err(self.remote(format!("deleting {object}"), source)),
                }
                self.shared.remove(&rel);
                moved.removed += 1;
            }
            Ok(())
        };
        let result = outcome.await;
        // What was published is recorded even when a later step failed.
        self.save()?;
        result.map(|()| moved)
    }

    async fn list(&self) -> Result<BTreeMap<String, ObjectMeta>, BucketError> {
        let prefix = self.url.prefix.clone();
        let mut listing = BTreeMap::new();
        let mut objects = self.store.list(Some(&prefix));
        while let Some(meta) = objects.next().await {
            let meta = meta.map_err(|source| self.remote(format!("listing {prefix}"), source))?;
            let Some(rel) = relative(&prefix, &meta.location) else {
                continue;
            };
            if copied(&rel) {
                listing.insert(rel, meta);
            }
        }
        Ok(listing)
    }

    /// Downloads one object to a temporary file beside its place, then renames it.
    async fn fetch(&self, rel: &str, meta: &ObjectMeta) -> Result<Stamp, BucketError> {
        let path = self.local_path(rel);
        let dir = path.parent().unwrap_or(&self.dir).to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| BucketError::local(&dir, e))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let temp = dir.join(format!(".{}.fetch", name.unwrap_or_default()));
        let got = self
            .store
            .get(&meta.location)
            .await
            .map_err(|source| self.remote(format!("fetching {}", meta.location), source))?;
        let mut file = File::create(&temp).map_err(|e| BucketError::local(&temp, e))?;
        let mut stream = got.into_stream();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(|source| self.remote(format!("fetching {}", meta.location), source))?;
            size += chunk.len() as u64;
            file.write_all(&chunk)
                .map_err(|e| BucketError::local(&temp, e))?;
        }
        if size != meta.size {
            let _ = fs::remove_file(&temp);
            return Err(BucketError::Moved {
                url: self.url.url.clone(),
                message: format!(
                    "{} was listed with {} bytes and fetched with {size}",
                    meta.location, meta.size
                ),
            });
        }
        file.sync_all().map_err(|e| BucketError::local(&temp, e))?;
        drop(file);
        fs::rename(&temp, &path).map_err(|e| BucketError::local(&path, e))?;
        stamp(&path)
    }

    /// Uploads one local file: one PUT when small, else a multipart upload (visible
    /// only once complete either way). Returns the object's ETag.
    async fn upload(&self, rel: &str) -> Result<Option<String>, BucketError> {
        let path = self.local_path(rel);
        let object = self.url.object(rel);
        let failed = |source| self.remote(format!("publishing {object}"), source);
        let size = fs::metadata(&path)
            .map_err(|e| BucketError::local(&path, e))?
            .len();
        if size as usize <= PART_BYTES {
            let bytes = fs::read(&path).map_err(|e| BucketError::local(&path, e))?;
            let put = self
                .store
                .put(&object, PutPayload::from(bytes))
                .await
                .map_err(failed)?;
            return Ok(put.e_tag);
        }
        let upload = self.store.put_multipart(&object).await.map_err(failed)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut file = File::open(&path).map_err(|e| BucketError::local(&path, e))?;
        let mut buffer = vec![0u8; PART_BYTES];
        loop {
            let n = std::io::Read::read(&mut file, &mut buffer)
                .map_err(|e| BucketError::local(&path, e))?;
            if n == 0 {
                break;
            }
            writer.wait_for_capacity(2).await.map_err(failed)?;
            writer.write(&buffer[..n]);
        }
        let put = writer.finish().await.map_err(failed)?;
        Ok(put.e_tag)
    }

    /// Every copied file here, by its relative path, with its stamp.
    fn local_files(&self) -> Result<BTreeMap<String, Stamp>, BucketError> {
        let mut out = BTreeMap::new();
        walk(&self.dir, &self.dir, &mut out)?;
        Ok(out)
    }

    fn local_path(&self, rel: &str) -> PathBuf {
        rel.split('/')
            .fold(self.dir.clone(), |p, part| p.join(part))
    }

    fn save(&self) -> Result<(), BucketError> {
        let path = self.dir.join(STATE_FILE);
        let temp = self.dir.join(format!("{STATE_FILE}.tmp"));
        let bytes = serde_json::to_vec(&self.shared).unwrap_or_default();
        let written = File::create(&temp).and_then(|mut f| {
            f.write_all(&bytes)?;
            f.sync_all()
        });
        written.map_err(|e| BucketError::local(&temp, e))?;
        fs::rename(&temp, &path).map_err(|e| BucketError::local(&path, e))
    }

    fn remote(&self, action: String, source: ObjectError) -> BucketError {
        BucketError::Remote {
            url: self.url.url.clone(),
            action,
            source,
        }
    }
}

/// The order files are published in: a compaction's journal before its output,
/// data files before the records that vouch for them, the format first.
fn put_order(rel: &str) -> u8 {
    match rel.split('/').next().unwrap_or_default() {
        "FORMAT" => 0,
        "compaction" => 1,
        "spans" | "traces" => 2,
        "manifest" => 3,
        _ => 4,
    }
}

/// Whether a file of the layout is shared with the bucket (see the module comment).
fn copied(rel: &str) -> bool {
    !rel.is_empty()
        && !rel
            .split('/')
            .any(|part| part.is_empty() || part.starts_with('.'))
        && rel.split('/').next() != Some("wal")
}

fn relative(
    prefix: &object_store::path::Path,
    location: &object_store::path::Path,
) -> Option<String> {
    let parts: Vec<String> = location
        .prefix_match(prefix)?
        .map(|p| p.as_ref().to_string())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Stamp>) -> Result<(), BucketError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(BucketError::local(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| BucketError::local(dir, e))?;
        let path = entry.path();
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let rel = rel.join("/");
        if !copied(&rel) {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(|e| BucketError::local(&path, e))?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() {
            out.insert(rel, stamp(&path)?);
        }
    }
    Ok(())
}

fn stamp(path: &Path) -> Result<Stamp, BucketError> {
    let meta = fs::metadata(path).map_err(|e| BucketError::local(path, e))?;
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    Ok(Stamp {
        size: meta.len(),
        mtime_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_files_and_the_wal_stay_local() {
        assert!(copied("spans/date=2025-06-15/part-1.parquet"));
        assert!(copied("FORMAT"));
        assert!(copied("pull-checkpoints/jaeger-1.json"));
        assert!(!copied(".writer.lock"));
        assert!(!copied(".bucket-state.json"));
        assert!(!copied("spans/date=2025-06-15/.part-1.parquet.tmp"));
        assert!(!copied("wal/segment-1.log"));
        assert!(!copied("spans//x"));
    }

    #[test]
    fn journals_are_published_before_data_and_data_before_records() {
        let mut rels = vec![
            "manifest/spans/date=1/a.parquet.json",
            "spans/date=1/a.parquet",
            "pull-checkpoints/x.json",
            "compaction/a.parquet.json",
            "FORMAT",
            "traces/t.parquet",
        ];
        rels.sort_by_key(|rel| (put_order(rel), rel.to_string()));
        assert_eq!(
            rels,
            vec![
                "FORMAT",
                "compaction/a.parquet.json",
                "spans/date=1/a.parquet",
                "traces/t.parquet",
                "manifest/spans/date=1/a.parquet.json",
                "pull-checkpoints/x.json",
            ]
        );
    }
}
