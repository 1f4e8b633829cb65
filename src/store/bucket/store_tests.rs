//! The lease and the working copy against an in-memory object store (the same
//! conditional-put semantics as S3's); tests/bucket.rs runs them against a server.

use std::fs;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

use super::copy::WorkingCopy;
use super::lease::{LEASE_OBJECT, Lease};
use super::{BucketError, BucketUrl};

fn url() -> BucketUrl {
    BucketUrl::parse("s3://ci/store").unwrap().unwrap()
}

/// An object store that records every put and delete, in order.
#[derive(Debug, Default)]
struct Recording {
    inner: InMemory,
    log: Mutex<Vec<String>>,
}

impl Recording {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl std::fmt::Display for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recording")
    }
}

#[async_trait]
impl ObjectStore for Recording {
    async fn put_opts(
        &self,
        location: &ObjectPath,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.log.lock().unwrap().push(format!("put {location}"));
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &ObjectPath,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.log.lock().unwrap().push(format!("put {location}"));
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &ObjectPath, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &ObjectPath, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<ObjectPath>>,
    ) -> BoxStream<'static, Result<ObjectPath>> {
        let locations: Vec<_> = futures::executor::block_on(locations.collect());
        for location in locations.iter().flatten() {
            self.log.lock().unwrap().push(format!("delete {location}"));
        }
        self.inner
            .delete_stream(futures::stream::iter(locations).boxed())
    }

    fn list(&self, prefix: Option<&ObjectPath>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&ObjectPath>,
        offset: &ObjectPath,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &ObjectPath,
        to: &ObjectPath,
        options: CopyOptions,
    ) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(
        &self,
        from: &ObjectPath,
        to: &ObjectPath,
        options: RenameOptions,
    ) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

async fn objects(store: &dyn ObjectStore) -> Vec<String> {
    let mut keys: Vec<String> = store
        .list(None)
        .map(|m| m.unwrap().location.to_string())
        .collect()
        .await;
    keys.sort();
    keys
}

#[tokio::test]
async fn one_writer_holds_the_lease_and_another_gives_up_naming_it() {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let first = Lease::acquire(store.clone(), &url(), "first", Duration::ZERO)
        .await
        .unwrap();
    let wait = Duration::from_millis(600);
    let second = Lease::acquire(store.clone(), &url(), "second", wait).await;
    let error = second.unwrap_err();
    assert!(matches!(error, BucketError::Held { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("s3://ci/store is being written by first (lease taken "),
        "{error}"
    );
    first.check().unwrap();
    assert!(first.renew_now().await, "a held lease renews");
    first.release().await.unwrap();
    assert_eq!(objects(store.as_ref()).await, Vec::<String>::new());
    let third = Lease::acquire(store.clone(), &url(), "third", Duration::ZERO).await;
    third.unwrap().release().await.unwrap();
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_its_old_holder_publishes_nothing_more() {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let old = Lease::acquire(store.clone(), &url(), "old", Duration::ZERO)
        .await
        .unwrap();
    // Its renewals stopped (a paused VM, a network cut) and the lease ran out.
    let expired = r#"{"holder":"old","taken_ms":0,"expires_ms":1}"#;
    let path = url().object(LEASE_OBJECT);
    store.put(&path, PutPayload::from(expired)).await.unwrap();
    let new = Lease::acquire(store.clone(), &url(), "new", Duration::ZERO)
        .await
        .unwrap();
    assert!(!old.renew_now().await, "the old holder's renewal must fail");
    let lost = old.check().unwrap_err();
    assert!(matches!(lost, BucketError::Lost { .. }), "{lost:?}");
    assert!(
        lost.to_string().contains("another writer took it over"),
        "{lost}"
    );
    // Releasing a lease that is no longer its own leaves the new holder's.
    old.release().await.unwrap();
    new.check().unwrap();
    assert_eq!(objects(store.as_ref()).await, vec!["store/.writer.lease"]);
    new.release().await.unwrap();
}

#[tokio::test]
async fn a_publish_uploads_journals_first_then_the_snapshot_then_deletes() {
    let recording = Arc::new(Recording::default());
    let store: Arc<dyn ObjectStore> = recording.clone();
    let lease = Lease::acquire(store.clone(), &url(), "w", Duration::ZERO)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut copy = WorkingCopy::open(store.clone(), &url(), dir.path(), "test").unwrap();
    copy.bring_level().await.unwrap();
    for (rel, text) in [
        ("spans/date=2025-06-15/a.parquet", "a"),
        ("spans/date=2025-06-15/b.parquet", "b"),
        ("manifest/spans/date=2025-06-15/a.parquet.json", "{}"),
        ("FORMAT", "3\n"),
    ] {
        write(dir.path(), rel, text);
    }
    // Never published: temporaries, locks, the receiver's log.
    write(dir.path(), "spans/date=2025-06-15/.c.parquet.tmp", "half");
    write(dir.path(), ".writer.lock", "");
    write(dir.path(), "wal/segment-1", "log");
    recording.take();
    copy.publish(&lease).await.unwrap();
    assert_eq!(
        recording.take(),
        vec![
            "put store/FORMAT",
            "put store/spans/date=2025-06-15/a.parquet",
            "put store/spans/date=2025-06-15/b.parquet",
            "put store/manifest/spans/date=2025-06-15/a.parquet.json",
            "put store/.snapshot.json",
        ]
    );
    // A compaction here: journal and output, then (once readers are gone) the inputs
    // and the journal deleted.
    write(dir.path(), "spans/date=2025-06-15/c.parquet", "ab");
    write(dir.path(), "compaction/c.parquet.json", "{}");
    copy.publish(&lease).await.unwrap();
    assert_eq!(
        recording.take(),
        vec![
            "put store/compaction/c.parquet.json",
            "put store/spans/date=2025-06-15/c.parquet",
            "put store/.snapshot.json",
        ]
    );
    for rel in [
        "spans/date=2025-06-15/a.parquet",
        "spans/date=2025-06-15/b.parquet",
        "manifest/spans/date=2025-06-15/a.parquet.json",
        "compaction/c.parquet.json",
    ] {
        fs::remove_file(dir.path().join(rel)).unwrap();
    }
    copy.publish(&lease).await.unwrap();
    let deleted = recording.take();
    assert_eq!(deleted.len(), 5, "{deleted:?}");
    assert_eq!(
        deleted[0], "put store/.snapshot.json",
        "deleted before the snapshot stopped naming them"
    );
    assert_eq!(
        deleted.last().unwrap(),
        "delete store/compaction/c.parquet.json"
    );
    assert_eq!(
        objects(store.as_ref()).await,
        vec![
            "store/.snapshot.json",
            "store/.writer.lease",
            "store/FORMAT",
            "store/spans/date=2025-06-15/c.parquet"
        ]
    );
    // Nothing changed: nothing published.
    copy.publish(&lease).await.unwrap();
    assert_eq!(recording.take(), Vec::<String>::new());
    lease.release().await.unwrap();
}

#[tokio::test]
async fn a_copy_follows_the_bucket_and_keeps_what_it_has_not_published() {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let lease = Lease::acquire(store.clone(), &url(), "w", Duration::ZERO)
        .await
        .unwrap();
    let mut writer = WorkingCopy::open(store.clone(), &url(), one.path(), "test").unwrap();
    writer.bring_level().await.unwrap();
    write(one.path(), "spans/date=2025-06-15/a.parquet", "aaaa");
    write(one.path(), "spans/date=2025-06-16/b.parquet", "bb");
    write(one.path(), "pull-checkpoints/jaeger.json", r#"{"v":1}"#);
    writer.publish(&lease).await.unwrap();

    let mut reader = WorkingCopy::open(store.clone(), &url(), two.path(), "test").unwrap();
    let fetched = reader.bring_level().await.unwrap();
    assert_eq!((fetched.files, fetched.bytes), (3, 13));
    assert!(reader.bucket_has_store());
    assert_eq!(
        fs::read_to_string(two.path().join("spans/date=2025-06-15/a.parquet")).unwrap(),
        "aaaa"
    );
    // Level already: nothing fetched again.
    assert_eq!(reader.bring_level().await.unwrap().files, 0);

    // The writer compacts a file away and rewrites its checkpoint; the reader has a
    // file of its own, never published.
    fs::remove_file(one.path().join("spans/date=2025-06-16/b.parquet")).unwrap();
    write(one.path(), "pull-checkpoints/jaeger.json", r#"{"v":2}"#);
    writer.publish(&lease).await.unwrap();
    write(two.path(), "spans/date=2025-06-17/mine.parquet", "m");
    let moved = reader.bring_level().await.unwrap();
    assert_eq!((moved.files, moved.removed), (1, 1));
    assert!(!two.path().join("spans/date=2025-06-16/b.parquet").exists());
    assert_eq!(
        fs::read_to_string(two.path().join("pull-checkpoints/jaeger.json")).unwrap(),
        r#"{"v":2}"#
    );
    assert!(
        two.path()
            .join("spans/date=2025-06-17/mine.parquet")
            .exists()
    );
    lease.release().await.unwrap();
}

#[tokio::test]
async fn a_copy_of_an_empty_prefix_has_no_store() {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let dir = tempfile::tempdir().unwrap();
    let mut copy = WorkingCopy::open(store, &url(), dir.path(), "test").unwrap();
    assert_eq!(copy.bring_level().await.unwrap().files, 0);
    assert!(!copy.bucket_has_store());
}

#[tokio::test]
async fn readers_see_only_what_a_snapshot_names_and_the_next_writer_adopts_the_rest() {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let (one, two, three) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let lease = Lease::acquire(store.clone(), &url(), "w", Duration::ZERO)
        .await
        .unwrap();
    let mut writer = WorkingCopy::open(store.clone(), &url(), one.path(), "test").unwrap();
    writer.bring_level().await.unwrap();
    write(one.path(), "spans/date=2025-06-15/a.parquet", "a");
    writer.publish(&lease).await.unwrap();
    lease.release().await.unwrap();
    // A writer killed between its uploads and its snapshot.
    let orphan = url().object("spans/date=2025-06-15/orphan.parquet");
    store.put(&orphan, PutPayload::from("o")).await.unwrap();

    let mut reader = WorkingCopy::open(store.clone(), &url(), two.path(), "test").unwrap();
    assert_eq!(reader.bring_level().await.unwrap().files, 1);
    assert!(
        !two.path()
            .join("spans/date=2025-06-15/orphan.parquet")
            .exists()
    );

    let lease = Lease::acquire(store.clone(), &url(), "next", Duration::ZERO)
        .await
        .unwrap();
    let mut next = WorkingCopy::open(store.clone(), &url(), three.path(), "test").unwrap();
    next.bring_level().await.unwrap();
    assert_eq!(next.adopt_orphans().await.unwrap(), 1);
    next.publish(&lease).await.unwrap();
    lease.release().await.unwrap();
    assert_eq!(reader.bring_level().await.unwrap().files, 1);
    assert!(
        two.path()
            .join("spans/date=2025-06-15/orphan.parquet")
            .exists()
    );
}

#[tokio::test]
async fn a_writer_whose_snapshot_is_stale_publishes_no_snapshot_over_the_newer_one() {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let lease = Lease::acquire(store.clone(), &url(), "w", Duration::ZERO)
        .await
        .unwrap();
    let mut first = WorkingCopy::open(store.clone(), &url(), one.path(), "test").unwrap();
    let mut second = WorkingCopy::open(store.clone(), &url(), two.path(), "test").unwrap();
    first.bring_level().await.unwrap();
    second.bring_level().await.unwrap();
    write(one.path(), "spans/date=2025-06-15/a.parquet", "a");
    write(two.path(), "spans/date=2025-06-15/b.parquet", "b");
    first.publish(&lease).await.unwrap();
    // The second read the store before the first published (a lease taken over from
    // a writer that was paused, not dead): its snapshot would drop the first's file.
    let stale = second.publish(&lease).await.unwrap_err();
    assert!(matches!(stale, BucketError::Lost { .. }), "{stale:?}");
    let dir = tempfile::tempdir().unwrap();
    let mut reader = WorkingCopy::open(store.clone(), &url(), dir.path(), "test").unwrap();
    reader.bring_level().await.unwrap();
    assert!(dir.path().join("spans/date=2025-06-15/a.parquet").exists());
    // Once level again, its own file is published beside the first's.
    second.bring_level().await.unwrap();
    second.publish(&lease).await.unwrap();
    reader.bring_level().await.unwrap();
    assert!(dir.path().join("spans/date=2025-06-15/a.parquet").exists());
    assert!(dir.path().join("spans/date=2025-06-15/b.parquet").exists());
    lease.release().await.unwrap();
}
