//! The local file system as the engine's queries see it: the store's files as they
//! were when the engine opened, minus the damaged ones, and a note of which files a
//! query read.
//!
//! As they were at the opening: a compaction that finishes while the engine lives
//! adds a file holding spans the engine already reads from the files it replaced (it
//! cannot delete those while the engine holds the reader lock). Every query of one
//! engine — a report runs dozens — thus sees one consistent store.
//!
//! Leaving a file out here, below DataFusion, rather than handing the listing table a
//! list of files, keeps everything the listing table does with a directory (the
//! `date=` partitions, pruning by them, statistics) unchanged. The files a query read
//! are what a failing query is checked against: DataFusion's Parquet errors do not
//! say which file they came from.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use bytes::Bytes;
use datafusion::object_store::path::Path;
use datafusion::object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};
use futures::stream::{BoxStream, StreamExt};

/// A file system that hides some files from listings and remembers what was read.
#[derive(Debug)]
pub struct VisibleFiles {
    inner: Arc<dyn ObjectStore>,
    /// The files listings may show: the store's when the engine opened.
    opened: HashSet<Path>,
    hidden: Mutex<HashSet<Path>>,
    read: Mutex<BTreeSet<Path>>,
}

impl VisibleFiles {
    /// Listings show only `opened` (minus what is hidden later).
    pub fn new(inner: Arc<dyn ObjectStore>, opened: HashSet<Path>) -> VisibleFiles {
        VisibleFiles {
            inner,
            opened,
            hidden: Mutex::default(),
            read: Mutex::default(),
        }
    }

    /// Leaves `location` out of every listing from now on.
    pub fn hide(&self, location: Path) {
        lock(&self.hidden).insert(location);
    }

    pub fn is_hidden(&self, location: &Path) -> bool {
        lock(&self.hidden).contains(location)
    }

    /// The files read since the last call, and forgets them.
    pub fn take_read(&self) -> BTreeSet<Path> {
        std::mem::take(&mut *lock(&self.read))
    }

    fn note_read(&self, location: &Path) {
        lock(&self.read).insert(location.clone());
    }

    fn visible(&self) -> impl Fn(&ObjectMeta) -> bool + Send + 'static {
        let hidden = lock(&self.hidden).clone();
        let opened = self.opened.clone();
        move |meta| opened.contains(&meta.location) && !hidden.contains(&meta.location)
    }
}

impl fmt::Display for VisibleFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VisibleFiles({})", self.inner)
    }
}

/// A poisoned lock only means a panic elsewhere; the sets stay consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[async_trait]
impl ObjectStore for VisibleFiles {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        if !options.head {
            self.note_read(location);
        }
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.note_read(location);
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let visible = self.visible();
        self.inner
            .list(prefix)
            .filter(move |m| std::future::ready(m.as_ref().map_or(true, &visible)))
            .boxed()
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        let visible = self.visible();
        self.inner
            .list_with_offset(prefix, offset)
            .filter(move |m| std::future::ready(m.as_ref().map_or(true, &visible)))
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let mut result = self.inner.list_with_delimiter(prefix).await?;
        result.objects.retain(self.visible());
        Ok(result)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}
