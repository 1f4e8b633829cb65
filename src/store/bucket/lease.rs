//! The bucket's writer lease: one writer at a time on a store that has no lock files.
//!
//! `<prefix>/.writer.lease` holds `{"holder": …, "taken_ms": …, "expires_ms": …}`.
//! A writer creates it with a conditional PUT (`If-None-Match: *`): of two writers
//! only one succeeds. While it writes, a task renews it six times a lease with
//! `If-Match` on the ETag it last wrote; a renewal that fails means another writer
//! took the lease over (possible only once it had expired), and from then on
//! [`Lease::check`] fails, so this writer publishes nothing more. A writer that
//! finds the lease held waits for it (up to `--lock-wait`), and takes over one that
//! expired (its holder crashed) by a PUT conditional on the expired lease's ETag,
//! which again only one of several racing writers wins. Releasing deletes the lease
//! if it is still this writer's.
//!
//! Expiry is by the writers' own clocks: a clock more than most of a lease
//! ([`LEASE_FOR`]) off could take a live lease over. CI runners keep NTP time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use object_store::path::Path as ObjectPath;
use object_store::{
    Error as ObjectError, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    UpdateVersion,
};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::{BucketError, BucketUrl};

/// The lease object, under the store's prefix (a dot name: never copied as data).
pub const LEASE_OBJECT: &str = ".writer.lease";
/// How long a lease lasts without renewal, unless `PIPESCOPE_LEASE_FOR` (a duration:
/// `30s`) says otherwise: how long a crashed writer keeps the others waiting.
pub const LEASE_FOR: Duration = Duration::from_secs(120);

fn lease_for() -> Duration {
    std::env::var("PIPESCOPE_LEASE_FOR")
        .ok()
        .and_then(|text| humantime::parse_duration(&text).ok())
        .filter(|d| *d >= Duration::from_secs(2))
        .unwrap_or(LEASE_FOR)
}

/// How often the holder renews it: six times a lease.
fn renew_every() -> Duration {
    lease_for() / 6
}

/// A lease this close to expiry no longer vouches for a write.
fn margin() -> Duration {
    lease_for() / 12
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    holder: String,
    taken_ms: i64,
    expires_ms: i64,
}

impl Record {
    fn new(holder: &str, taken_ms: i64) -> Record {
        Record {
            holder: holder.to_string(),
            taken_ms,
            expires_ms: now_ms() + lease_for().as_millis() as i64,
        }
    }

    fn payload(&self) -> PutPayload {
        PutPayload::from(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// What the renewing task and the holder share.
#[derive(Debug)]
struct Held {
    e_tag: Mutex<Option<String>>,
    expires_ms: Mutex<i64>,
    lost: AtomicBool,
    why: Mutex<String>,
}

/// The lease, held until [`Lease::release`] (or the process ends: then it expires).
#[derive(Debug)]
pub struct Lease {
    store: Arc<dyn ObjectStore>,
    url: String,
    path: ObjectPath,
    held: Arc<Held>,
    renewing: JoinHandle<()>,
}

impl Lease {
    /// Takes the lease, waiting up to `wait` for another writer's to be released or
    /// to expire.
    pub async fn acquire(
        store: Arc<dyn ObjectStore>,
        url: &BucketUrl,
        holder: &str,
        wait: Duration,
    ) -> Result<Lease, BucketError> {
        let path = url.object(LEASE_OBJECT);
        let remote = |action: &str, source| BucketError::Remote {
            url: url.url.clone(),
            action: format!("{action} {path}"),
            source,
        };
        let started = std::time::Instant::now();
        let mut announced = false;
        loop {
            let record = Record::new(holder, now_ms());
            let create = PutOptions::from(PutMode::Create);
            let taken = match store.put_opts(&path, record.payload(), create).await {
                Ok(put) => Some(put.e_tag),
                Err(ObjectError::AlreadyExists { .. } | ObjectError::Precondition { .. }) => None,
                Err(source) => return Err(remote("creating the writer lease", source)),
            };
            let (e_tag, other) = match taken {
                Some(e_tag) => (Some(e_tag), None),
                None => match read(&store, &path).await {
                    Ok(Some((current, e_tag))) if current.expires_ms <= now_ms() => {
                        tracing::warn!(
                            "{}: taking over the expired writer lease of {}",
                            url.url,
                            current.holder
                        );
                        let update = PutOptions::from(PutMode::Update(UpdateVersion {
                            e_tag: e_tag.clone(),
                            version: None,
                        }));
                        match store.put_opts(&path, record.payload(), update).await {
                            Ok(put) => (Some(put.e_tag), None),
                            Err(
                                ObjectError::Precondition { .. } | ObjectError::NotFound { .. },
                            ) => (None, Some(current)),
                            Err(source) => return Err(remote("taking over the lease", source)),
                        }
                    }
                    Ok(Some((current, _))) => (None, Some(current)),
                    // Released between the two calls: try again at once.
                    Ok(None) => continue,
                    Err(source) => return Err(remote("reading the writer lease", source)),
                },
            };
            if let Some(e_tag) = e_tag {
                return Ok(Lease::held(store, url, path, holder, record, e_tag));
            }
            let other = other.unwrap_or_else(|| Record::new("?", 0));
            if started.elapsed() >= wait {
                return Err(BucketError::Held {
                    url: url.url.clone(),
                    holder: other.holder,
                    taken: time_text(other.taken_ms),
                    expires: time_text(other.expires_ms),
                    waited_s: started.elapsed().as_secs(),
                });
            }
            if !announced {
                eprintln!(
                    "{} is being written by {}; waiting for its lease",
                    url.url, other.holder
                );
                announced = true;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    fn held(
        store: Arc<dyn ObjectStore>,
        url: &BucketUrl,
        path: ObjectPath,
        holder: &str,
        record: Record,
        e_tag: Option<String>,
    ) -> Lease {
        let held = Arc::new(Held {
            e_tag: Mutex::new(e_tag),
            expires_ms: Mutex::new(record.expires_ms),
            lost: AtomicBool::new(false),
            why: Mutex::new(String::new()),
        });
        let renewing = tokio::spawn(renew(
            store.clone(),
            path.clone(),
            holder.to_string(),
            record.taken_ms,
            held.clone(),
        ));
        Lease {
            store,
            url: url.url.clone(),
            path,
            held,
            renewing,
        }
    }

    /// Fails once the lease no longer vouches for a write: lost to another writer,
    /// or too close to expiry (renewals failing).
    pub fn check(&self) -> Result<(), BucketError> {
        let lost = |why: String| BucketError::Lost {
            url: self.url.clone(),
            why,
        };
        if self.held.lost.load(Ordering::SeqCst) {
            return Err(lost(lock(&self.held.why).clone()));
        }
        let expires = *lock(&self.held.expires_ms);
        if expires - (margin().as_millis() as i64) <= now_ms() {
            return Err(lost(format!(
                "it expires at {} and could not be renewed",
                time_text(expires)
            )));
        }
        Ok(())
    }

    /// Deletes the lease if it is still this writer's.
    pub async fn release(&self) -> Result<(), BucketError> {
        self.renewing.abort();
        let ours = lock(&self.held.e_tag).clone();
        match read(&self.store, &self.path).await {
            Ok(Some((_, e_tag))) if e_tag == ours => {}
            Ok(_) => return Ok(()),
            Err(source) => {
                return Err(BucketError::Remote {
                    url: self.url.clone(),
                    action: format!("reading the writer lease {}", self.path),
                    source,
                });
            }
        }
        match self.store.delete(&self.path).await {
            Ok(()) | Err(ObjectError::NotFound { .. }) => Ok(()),
            Err(source) => Err(BucketError::Remote {
                url: self.url.clone(),
                action: format!("releasing the writer lease {}", self.path),
                source,
            }),
        }
    }
}

/// Renews the lease six times a lease until aborted or lost.
async fn renew(
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
    holder: String,
    taken_ms: i64,
    held: Arc<Held>,
) {
    loop {
        tokio::time::sleep(renew_every()).await;
        if !renew_once(&store, &path, &holder, taken_ms, &held).await {
            return;
        }
    }
}

/// One renewal; false once the lease is lost (then [`Lease::check`] fails).
async fn renew_once(
    store: &Arc<dyn ObjectStore>,
    path: &ObjectPath,
    holder: &str,
    taken_ms: i64,
    held: &Held,
) -> bool {
    let record = Record::new(holder, taken_ms);
    let e_tag = lock(&held.e_tag).clone();
    let update = PutOptions::from(PutMode::Update(UpdateVersion {
        e_tag,
        version: None,
    }));
    match store.put_opts(path, record.payload(), update).await {
        Ok(put) => {
            *lock(&held.e_tag) = put.e_tag;
            *lock(&held.expires_ms) = record.expires_ms;
            true
        }
        Err(ObjectError::Precondition { .. } | ObjectError::NotFound { .. }) => {
            *lock(&held.why) = "another writer took it over after it expired".into();
            held.lost.store(true, Ordering::SeqCst);
            false
        }
        // A network error: try again; `check` fails once the lease runs out.
        Err(e) => {
            tracing::warn!("renewing the writer lease {path}: {e}");
            true
        }
    }
}

/// The lease as stored and its ETag; `None` when there is none. A lease that does
/// not parse (written by hand?) reads as expired, so a writer can take it over.
async fn read(
    store: &Arc<dyn ObjectStore>,
    path: &ObjectPath,
) -> Result<Option<(Record, Option<String>)>, ObjectError> {
    let got = match store.get(path).await {
        Ok(got) => got,
        Err(ObjectError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let e_tag = got.meta.e_tag.clone();
    let bytes = got.bytes().await?;
    let record = serde_json::from_slice(&bytes).unwrap_or(Record {
        holder: format!("an unreadable lease ({} bytes)", bytes.len()),
        taken_ms: 0,
        expires_ms: 0,
    });
    Ok(Some((record, e_tag)))
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn time_text(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Lease {
    /// Renews now (the task does it six times a lease); false once lost.
    #[cfg(test)]
    pub(super) async fn renew_now(&self) -> bool {
        let taken_ms = 0;
        let holder = "test";
        renew_once(&self.store, &self.path, holder, taken_ms, &self.held).await
    }
}

/// Who holds a lease, for the message another writer prints: host, process, command.
pub fn holder_name(command: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    format!("pipescope {command} (pid {} on {host})", std::process::id())
}
