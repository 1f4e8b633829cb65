//! Running a command on a store in a bucket (`--data s3://bucket/prefix`): the
//! working copy brought level, the command run on it, and for a writing command the
//! lease held and what it stored published, every few seconds while it runs and
//! once more when it ends (see `store::bucket`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::runtime::Runtime;
use tokio::sync::Mutex;

use crate::store::Store;
use crate::store::bucket::BucketUrl;
use crate::store::bucket::copy::WorkingCopy;
use crate::store::bucket::lease::{Lease, holder_name};

/// How often a writing command publishes what it stored so far (a receiver runs
/// for days; an ingest of a year's files for minutes), unless
/// `PIPESCOPE_PUBLISH_EVERY` (a duration) says otherwise.
const PUBLISH_EVERY: Duration = Duration::from_secs(10);

fn publish_every() -> Duration {
    std::env::var("PIPESCOPE_PUBLISH_EVERY")
        .ok()
        .and_then(|text| humantime::parse_duration(&text).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(PUBLISH_EVERY)
}

/// How a command uses the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreUse {
    /// Never opens it (`demo`, `synth`).
    None,
    Read,
    Write,
}

/// The global options of a bucket store.
#[derive(Debug, Clone)]
pub struct BucketOptions {
    /// The working copy's directory; `None`: [`BucketUrl::default_cache`].
    pub cache: Option<PathBuf>,
    /// How long a writer waits for another writer's lease.
    pub lock_wait: Duration,
}

/// Runs `command` (named `name` in the lease) on the working copy of `url`.
pub fn run_on_bucket(
    url: &BucketUrl,
    options: &BucketOptions,
    name: &str,
    usage: StoreUse,
    runtime: &Runtime,
    command: impl FnOnce(&Path) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let remote = url.connect()?;
    // A receiver holds its copy for days: by default it has one of its own, so that
    // the analyses' copy is not held.
    let dir = options.cache.clone().unwrap_or_else(|| match name {
        "receive" => url.default_cache().with_file_name("receiver"),
        _ => url.default_cache(),
    });
    let holder = holder_name(name);
    let mut copy = WorkingCopy::open(remote.clone(), url, &dir, &holder)?;
    let lease = match usage {
        StoreUse::Write => {
            let lease = Lease::acquire(remote, url, &holder, options.lock_wait);
            Some(Arc::new(runtime.block_on(lease)?))
        }
        _ => None,
    };
    let level = runtime.block_on(copy.bring_level());
    let Some(lease) = lease else {
        let fetched = level?;
        tracing::info!(
            "{}: fetched {} files ({} bytes) into {}",
            url.url,
            fetched.files,
            fetched.bytes,
            dir.display()
        );
        if !copy.bucket_has_store() {
            anyhow::bail!(
                "no store at {} (run `pipescope ingest --data {} FILES` first)",
                url.url,
                url.url
            );
        }
        // A store whose snapshot names no span yet (its first writer was killed
        // early) answers with nothing rather than as missing.
        let spans = copy.dir().join("spans");
        std::fs::create_dir_all(&spans).with_context(|| format!("creating {}", spans.display()))?;
        return command(copy.dir());
    };
    let adopted = level.and(runtime.block_on(copy.adopt_orphans()));
    if let Err(e) = adopted {
        let _ = runtime.block_on(lease.release());
        return Err(e.into());
    }
    let result = write_and_publish(copy, lease.clone(), runtime, command);
    let released = runtime.block_on(lease.release());
    let code = result?;
    released?;
    Ok(code)
}

/// Runs a writing command on the copy and publishes what it stored.
fn write_and_publish(
    copy: WorkingCopy,
    lease: Arc<Lease>,
    runtime: &Runtime,
    command: impl FnOnce(&Path) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let dir = copy.dir().to_path_buf();
    // An empty copy becomes a store (FORMAT, spans/), published with the rest.
    Store::open(&dir)?;
    let copy = Arc::new(Mutex::new(copy));
    // Any moment of a local store is consistent (a compaction's journal goes after
    // its inputs), and a snapshot is one such moment: publishing while the command
    // writes is safe.
    let published = {
        let (copy, lease, every) = (copy.clone(), lease.clone(), publish_every());
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = copy.lock().await.publish(&lease).await {
                    tracing::warn!("{e}; trying again");
                }
            }
        })
    };
    let result = command(&dir);
    published.abort();
    let _ = runtime.block_on(published);
    let publish = runtime.block_on(async { copy.lock().await.publish(&lease).await });
    let published = publish.with_context(|| {
        format!(
            "what this command stored is in the working copy {}; the next writing command publishes it",
            dir.display()
        )
    });
    match (result, published) {
        (Err(e), _) => Err(e),
        (Ok(_), Err(e)) => Err(e),
        (Ok(code), Ok(_)) => Ok(code),
    }
}
