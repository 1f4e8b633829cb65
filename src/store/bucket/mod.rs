//! The store in a bucket: `--data s3://bucket/prefix`.
//!
//! The bucket holds the same layout as a store directory (`<prefix>/spans/date=…/`,
//! `traces/`, `manifest/`, `compaction/`, `FORMAT`, …), so DuckDB, Spark or a
//! Ballista executor read it as they read the directory. A command works on a local
//! *working copy* of it (`--cache DIR`, default under `~/.cache/pipescope/buckets/`):
//! the copy is brought level with the bucket, the command runs on it exactly as on a
//! local store (every check, lock and guarantee of the directory store holds there),
//! and a command that writes then publishes what it changed. Files are immutable
//! and uniquely named, so bringing the copy level costs the files added since the
//! last command; the copy is a cache, deleting it loses nothing.
//!
//! The guarantees, on a store without rename:
//!
//! - **Whole or not at all**: the store is what `<prefix>/.snapshot.json` names
//!   (see [`copy`]). A writer uploads its files, each by one PUT (or a multipart
//!   upload, which S3 shows only once completed), then replaces the snapshot by one
//!   conditional PUT: readers see a publish whole or not at all, and a crash
//!   mid-publish leaves the last snapshot, which names only whole files.
//! - **One writer at a time, enforced**: a writer holds the bucket's lease
//!   (`<prefix>/.writer.lease`, see [`lease`]), taken by a conditional PUT
//!   (`If-None-Match`), renewed by `If-Match` on its ETag, and taken over only once
//!   expired, by the same conditional PUT: of two writers racing for it one wins.
//!   A writer that lost its lease publishes nothing more, and the snapshot's own
//!   `If-Match` keeps one that missed losing it from publishing over another's work.
//! - **Nothing reported but not stored**: a command's output says what it stored
//!   only after it was published.

pub mod copy;
pub mod lease;
pub mod profile;

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::object_store::ObjectStore;
use datafusion::object_store::path::Path as ObjectPath;
use object_store::aws::AmazonS3Builder;

/// Errors of the bucket layer, each naming the bucket, object or file involved.
#[derive(Debug, thiserror::Error)]
pub enum BucketError {
    #[error("{url}: {message}")]
    Url { url: String, message: String },
    #[error("{url}: cannot open the bucket: {source}")]
    Connect {
        url: String,
        #[source]
        source: object_store::Error,
    },
    #[error("{url}: {action} failed: {source}")]
    Remote {
        url: String,
        action: String,
        #[source]
        source: object_store::Error,
    },
    #[error("{path}: {source}")]
    Local {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{url} is being written by {holder} (lease taken {taken}, expires {expires}); waited {waited_s} s. If that process is gone, the lease expires by itself"
    )]
    Held {
        url: String,
        holder: String,
        taken: String,
        expires: String,
        waited_s: u64,
    },
    #[error("{url}: this process lost the writer lease ({why}); nothing more was published")]
    Lost { url: String, why: String },
    #[error("{url}: the store changed while it was being copied: {message}")]
    Moved { url: String, message: String },
}

impl BucketError {
    pub(crate) fn local(path: impl Into<PathBuf>, source: std::io::Error) -> BucketError {
        BucketError::Local {
            path: path.into(),
            source,
        }
    }
}

/// `s3://bucket/prefix`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketUrl {
    /// As given, without a trailing `/`: what messages name.
    pub url: String,
    pub bucket: String,
    /// Where the store's layout starts inside the bucket (may be empty).
    pub prefix: ObjectPath,
}

impl BucketUrl {
    /// `Ok(None)` for a local path; a URL of another scheme is an error naming the
    /// schemes this pipescope reads (a local directory named `gs:` would be odd).
    pub fn parse(data: &str) -> Result<Option<BucketUrl>, BucketError> {
        let Some((scheme, rest)) = data.split_once("://") else {
            return Ok(None);
        };
        let url = data.trim_end_matches('/').to_string();
        let fail = |message: &str| BucketError::Url {
            url: url.clone(),
            message: message.to_string(),
        };
        if scheme != "s3" && scheme != "s3a" {
            return Err(fail(
                "only s3:// stores are built in (S3 and S3-compatible servers: MinIO, Ceph, R2, …)",
            ));
        }
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(fail("no bucket name (s3://BUCKET/PREFIX)"));
        }
        let prefix = ObjectPath::parse(prefix.trim_matches('/'))
            .map_err(|e| fail(&format!("not a valid object prefix: {e}")))?;
        Ok(Some(BucketUrl {
            url,
            bucket: bucket.to_string(),
            prefix,
        }))
    }

    /// Opens the bucket with the standard AWS environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
    /// …), what it lacks taken from the `AWS_PROFILE` of the shared files
    /// ([`profile`]); an `http://` endpoint (a server on loopback) is allowed as given.
    pub fn connect(&self) -> Result<Arc<dyn ObjectStore>, BucketError> {
        let env = |names: &[&str]| names.iter().find_map(|n| std::env::var(n).ok());
        let profile = profile::load()?;
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&self.bucket);
        let keys = (profile.access_key_id, profile.secret_access_key);
        if let (None, (Some(id), Some(secret))) = (env(&["AWS_ACCESS_KEY_ID"]), keys) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
            if let Some(token) = profile.session_token {
                builder = builder.with_token(token);
            }
        }
        let region = env(&["AWS_REGION", "AWS_DEFAULT_REGION"]).or(profile.region);
        builder = builder.with_region(region.unwrap_or_else(|| "us-east-1".into()));
        let endpoint = env(&["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]).or(profile.endpoint_url);
        if let Some(endpoint) = endpoint {
            builder = builder
                .with_endpoint(&endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder.build().map_err(|source| BucketError::Connect {
            url: self.url.clone(),
            source,
        })?;
        Ok(Arc::new(store))
    }

    /// The object at `relative` (a `/`-separated path of the store's layout).
    pub fn object(&self, relative: &str) -> ObjectPath {
        relative
            .split('/')
            .fold(self.prefix.clone(), |path, part| path.join(part))
    }

    /// The working copy's directory when `--cache` is not given:
    /// `$XDG_CACHE_HOME/pipescope/buckets/<bucket>/<prefix>` (or `~/.cache/…`).
    pub fn default_cache(&self) -> PathBuf {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        let mut dir = base.join("pipescope").join("buckets").join(&self.bucket);
        for part in self.prefix.parts() {
            dir.push(part.as_ref());
        }
        dir.join("store")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_parse_into_bucket_and_prefix_and_local_paths_are_none() {
        let url = BucketUrl::parse("s3://ci-history/org/pipescope/").unwrap();
        let url = url.unwrap();
        assert_eq!(url.url, "s3://ci-history/org/pipescope");
        assert_eq!(url.bucket, "ci-history");
        assert_eq!(url.prefix.as_ref(), "org/pipescope");
        assert_eq!(
            url.object("spans/date=2025-06-15/a.parquet").as_ref(),
            "org/pipescope/spans/date=2025-06-15/a.parquet"
        );
        let bare = BucketUrl::parse("s3://ci-history").unwrap().unwrap();
        assert_eq!(bare.prefix.as_ref(), "");
        assert_eq!(bare.object("FORMAT").as_ref(), "FORMAT");
        assert!(
            bare.default_cache()
                .ends_with("pipescope/buckets/ci-history/store")
        );
        assert_eq!(BucketUrl::parse("pipescope-data").unwrap(), None);
        assert_eq!(BucketUrl::parse("/var/lib/ci:store").unwrap(), None);
    }

    #[test]
    fn other_schemes_and_missing_buckets_are_refused_by_name() {
        let gs = BucketUrl::parse("gs://bucket/p").unwrap_err().to_string();
        assert!(gs.starts_with("gs://bucket/p: only s3:// stores"), "{gs}");
        let empty = BucketUrl::parse("s3:///prefix").unwrap_err().to_string();
        assert!(empty.contains("no bucket name"), "{empty}");
    }
}

#[cfg(test)]
mod store_tests;
