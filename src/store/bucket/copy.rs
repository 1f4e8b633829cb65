//! The local working copy of a bucket's store, and the bucket's snapshot: what the
//! store holds is what `<prefix>/.snapshot.json` names, the one object the writer
//! replaces, by a conditional PUT, each time it publishes.
//!
//! Publishing uploads the files that are new or changed here (data before the records
//! that vouch for it, a compaction's journal before its output), then writes the
//! snapshot naming every file of the copy, then deletes what it no longer names. A
//! reader reads the snapshot and fetches what it names: it sees a publish whole or not
//! at all, and a crash mid-publish leaves the last snapshot, naming only whole files.
//! The snapshot is written `If-Match` the ETag of the one this copy last read or wrote:
//! a writer that lost its lease (another took it over and published) cannot overwrite
//! what the other published. A bucket without a snapshot (a store uploaded by other
//! means) reads as its listing.
//!
//! `<copy>/.bucket-state.json` records, for every file the copy shares with the
//! snapshot, the object's size and ETag and the local file's size and mtime: a file
//! whose object changed is fetched again, one whose local stamp changed (or that is
//! new) is published, one shared but gone from the snapshot (a compaction elsewhere)
//! is deleted here. A local file the snapshot never named is this machine's write not
//! yet published (a command killed, or the bucket unreachable, after its commit): it
//! is kept, and the next writing command publishes it. Files a crashed writer uploaded
//! but never named in a snapshot are adopted by the next writer (`adopt_orphans`):
//! they are whole, and they may hold spans that writer's clients were told it stored.
//!
//! Copied: every file of the layout but dot files (temporaries, locks, this state,
//! the lease, the snapshot) and `wal/` (the receiver's write-ahead log stays local).
//! One process uses a copy at a time (`.copy.lock`); another waits.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use futures::StreamExt;
use object_store::{
    Error as ObjectError, ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    UpdateVersion, WriteMultipart,
};
use serde::{Deserialize, Serialize};

use super::lease::Lease;
use super::{BucketError, BucketUrl};

const STATE_FILE: &str = ".bucket-state.json";
const COPY_LOCK: &str = ".copy.lock";
/// The bucket's snapshot, under the store's prefix.
pub const SNAPSHOT: &str = ".snapshot.json";
/// Files up to this size are published by one PUT, larger ones by a multipart upload
/// of parts this size: memory is a part, whatever the file.
const PART_BYTES: usize = 8 * 1024 * 1024;
/// A file the snapshot named was deleted before it was fetched (a compaction
/// published meanwhile): the newer snapshot is read again, this many times.
const LEVEL_ROUNDS: u32 = 8;

/// What a snapshot says of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e_tag: Option<String>,
}

/// `.snapshot.json`: every file of the store, by its relative path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    files: BTreeMap<String, Entry>,
}

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
    /// The ETag of the snapshot last read or written; `None`: there was none.
    snapshot_tag: Option<String>,
    _lock: File,
}

impl WorkingCopy {
    /// Opens (creating) the copy at `dir`, waiting for another process using it.
    /// `user` (the command, for the message another process waiting prints).
    pub fn open(
        store: Arc<dyn ObjectStore>,
        url: &BucketUrl,
        dir: &Path,
        user: &str,
    ) -> Result<WorkingCopy, BucketError> {
        fs::create_dir_all(dir).map_err(|e| BucketError::local(dir, e))?;
        let lock_path = dir.join(COPY_LOCK);
        let mut lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(|e| BucketError::local(&lock_path, e))?;
        if lock.try_lock().is_err() {
            let holder = fs::read_to_string(&lock_path).unwrap_or_default();
            eprintln!(
                "{} is using the working copy {}; waiting (give this command its own --cache DIR to run beside it)",
                Some(holder.trim())
                    .filter(|h| !h.is_empty())
                    .unwrap_or("another pipescope"),
                dir.display()
            );
            lock.lock().map_err(|e| BucketError::local(&lock_path, e))?;
        }
        let _ = lock.set_len(0).and_then(|()| {
            std::io::Seek::rewind(&mut lock)?;
            write!(lock, "{user}")
        });
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
            snapshot_tag: None,
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

    /// Fetches what the snapshot names and the copy lacks, and deletes here what it
    /// no longer names.
    pub async fn bring_level(&mut self) -> Result<Transfer, BucketError> {
        for round in 0..LEVEL_ROUNDS {
            let (snapshot, tag) = match self.read_snapshot().await? {
                Some((snapshot, tag)) => (snapshot, tag),
                None => (self.listing_as_snapshot().await?, None),
            };
            match self.follow(&snapshot).await {
                Ok(moved) => {
                    self.snapshot_tag = tag;
                    self.save()?;
                    self.warn_unpublished()?;
                    return Ok(moved);
                }
                // Deleted after a newer snapshot: read that one.
                Err(BucketError::Remote {
                    source: ObjectError::NotFound { .. },
                    ..
                }) => {
                    self.save()?;
                    tokio::time::sleep(Duration::from_millis(100 << round.min(5))).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(BucketError::Moved {
            url: self.url.url.clone(),
            message: format!(
                "files named by {LEVEL_ROUNDS} snapshots in a row were deleted before they could be fetched; try again"
            ),
        })
    }

    /// Fetches, as this copy's own unpublished files, whatever the bucket holds that
    /// neither the snapshot nor this copy knows: a crashed writer's uploads. Run by a
    /// writer holding the lease, after [`WorkingCopy::bring_level`].
    pub async fn adopt_orphans(&mut self) -> Result<u64, BucketError> {
        let local = self.local_files()?;
        let mut adopted = 0;
        for (rel, meta) in self.list().await? {
            if self.shared.contains_key(&rel) || local.contains_key(&rel) {
                continue;
            }
            match self.fetch(&rel, &meta).await {
                Ok(_) => adopted += 1,
                Err(BucketError::Remote {
                    source: ObjectError::NotFound { .. },
                    ..
                }) => {}
                Err(e) => return Err(e),
            }
        }
        if adopted > 0 {
            tracing::warn!(
                "{}: adopting {adopted} files a writer uploaded but did not publish (it stopped mid-publish); publishing them",
                self.url.url
            );
        }
        Ok(adopted)
    }

    fn warn_unpublished(&self) -> Result<(), BucketError> {
        let mine = self
            .local_files()?
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
        Ok(())
    }

    /// Makes the copy follow one snapshot.
    async fn follow(&mut self, snapshot: &Snapshot) -> Result<Transfer, BucketError> {
        let mut moved = Transfer::default();
        let local = self.local_files()?;
        for (rel, entry) in &snapshot.files {
            let level = self.shared.get(rel).is_some_and(|s| {
                s.e_tag == entry.e_tag
                    && s.object_size == entry.size
                    && local.get(rel) == Some(&s.local)
            });
            if !level {
                let meta = ObjectMeta {
                    location: self.url.object(rel),
                    last_modified: chrono::Utc::now(),
                    size: entry.size,
                    e_tag: entry.e_tag.clone(),
                    version: None,
                };
                let stamp = self.fetch(rel, &meta).await?;
                self.shared.insert(
                    rel.clone(),
                    Shared {
                        object_size: entry.size,
                        e_tag: entry.e_tag.clone(),
                        local: stamp,
                    },
                );
                moved.files += 1;
                moved.bytes += entry.size;
            }
        }
        let gone: Vec<String> = self
            .shared
            .keys()
            .filter(|rel| !snapshot.files.contains_key(*rel))
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

    /// Publishes what changed here since the copy was level: uploads the new and
    /// changed files (journals before the outputs they name, data before its records),
    /// writes the snapshot naming every file here, then deletes the objects it no
    /// longer names. Every step first checks that the lease still holds.
    pub async fn publish(&mut self, lease: &Lease) -> Result<Transfer, BucketError> {
        let mut moved = Transfer::default();
        let local = self.local_files()?;
        let mut changed: Vec<(&String, &Stamp)> = local
            .iter()
            .filter(|(rel, stamp)| self.shared.get(*rel).map(|s| &s.local) != Some(*stamp))
            .collect();
        let mut deleted: Vec<String> = self
            .shared
            .keys()
            .filter(|rel| !local.contains_key(*rel))
            .cloned()
            .collect();
        // A journal goes after the inputs it names (see `put_order`).
        deleted.sort_by_key(|rel| (rel.starts_with("compaction/"), rel.clone()));
        if changed.is_empty() && deleted.is_empty() && self.snapshot_tag.is_some() {
            return Ok(moved);
        }
        changed.sort_by_key(|(rel, _)| (put_order(rel), (*rel).clone()));
        let mut uploaded = BTreeMap::new();
        for (rel, stamp) in changed {
            lease.check()?;
            let e_tag = self.upload(rel).await?;
            let shared = Shared {
                object_size: stamp.size,
                e_tag,
                local: *stamp,
            };
            uploaded.insert(rel.clone(), shared);
            moved.files += 1;
            moved.bytes += stamp.size;
        }
        let mut next = self.shared.clone();
        next.retain(|rel, _| local.contains_key(rel));
        next.extend(uploaded);
        lease.check()?;
        self.write_snapshot(&next).await?;
        self.shared = next;
        self.save()?;
        for rel in deleted {
            let object = self.url.object(&rel);
            match self.store.delete(&object).await {
                Ok(()) | Err(ObjectError::NotFound { .. }) => moved.removed += 1,
                // Left behind, named by no snapshot: the next writer adopts it, which
                // only costs a file compaction merges again.
                Err(e) => tracing::warn!("deleting {object}, which no snapshot names: {e}"),
            }
        }
        Ok(moved)
    }

    /// Replaces the snapshot, conditional on it being the one this copy last saw.
    async fn write_snapshot(
        &mut self,
        files: &BTreeMap<String, Shared>,
    ) -> Result<(), BucketError> {
        let snapshot = Snapshot {
            version: 1,
            files: files
                .iter()
                .map(|(rel, s)| {
                    let entry = Entry {
                        size: s.object_size,
                        e_tag: s.e_tag.clone(),
                    };
                    (rel.clone(), entry)
                })
                .collect(),
        };
        let bytes = serde_json::to_vec(&snapshot).unwrap_or_default();
        let mode = match &self.snapshot_tag {
            Some(tag) => PutMode::Update(UpdateVersion {
                e_tag: Some(tag.clone()),
                version: None,
            }),
            None => PutMode::Create,
        };
        let object = self.url.object(SNAPSHOT);
        match self
            .store
            .put_opts(&object, PutPayload::from(bytes), PutOptions::from(mode))
            .await
        {
            Ok(put) => {
                self.snapshot_tag = put.e_tag;
                Ok(())
            }
            Err(ObjectError::Precondition { .. } | ObjectError::AlreadyExists { .. }) => {
                Err(BucketError::Lost {
                    url: self.url.url.clone(),
                    why: "another writer published since this one read the store".into(),
                })
            }
            Err(source) => Err(self.remote(format!("publishing {object}"), source)),
        }
    }

    /// The snapshot and its ETag; `None` when the bucket has none.
    async fn read_snapshot(&self) -> Result<Option<(Snapshot, Option<String>)>, BucketError> {
        let object = self.url.object(SNAPSHOT);
        let failed = |source| self.remote(format!("reading {object}"), source);
        let got = match self.store.get(&object).await {
            Ok(got) => got,
            Err(ObjectError::NotFound { .. }) => return Ok(None),
            Err(source) => return Err(failed(source)),
        };
        let tag = got.meta.e_tag.clone();
        let bytes = got.bytes().await.map_err(failed)?;
        let snapshot: Snapshot = serde_json::from_slice(&bytes).map_err(|e| BucketError::Url {
            url: self.url.url.clone(),
            message: format!("{object} is not a pipescope snapshot: {e}"),
        })?;
        if snapshot.version > 1 {
            return Err(BucketError::Url {
                url: self.url.url.clone(),
                message: format!(
                    "{object} has version {}; this pipescope reads version 1; upgrade pipescope",
                    snapshot.version
                ),
            });
        }
        Ok(Some((snapshot, tag)))
    }

    /// A bucket without a snapshot, as its listing says.
    async fn listing_as_snapshot(&self) -> Result<Snapshot, BucketError> {
        let files = self
            .list()
            .await?
            .into_iter()
            .map(|(rel, meta)| {
                let entry = Entry {
                    size: meta.size,
                    e_tag: meta.e_tag,
                };
                (rel, entry)
            })
            .collect();
        Ok(Snapshot { version: 1, files })
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

/// The order files are uploaded in, for tools that read the prefix as listed rather
/// than through the snapshot: a compaction's journal before its output, data files
/// before the records that vouch for them, the format first.
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
