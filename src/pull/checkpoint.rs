//! The checkpoint of one pull query: which time range is covered and which traces
//! were still running, so that the next `pull` continues where this one stopped.
//!
//! One file per (backend, URL, query) under `<store>/pull-checkpoints/`, named by a
//! stable hash of that key. It is versioned JSON, written to a temporary file,
//! fsynced and renamed — and only after the spans it covers were committed to the
//! store, so a crash at any point loses nothing that the checkpoint claims.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The checkpoint format version this build reads and writes.
pub const CHECKPOINT_VERSION: u32 = 1;

/// A trace seen still running; the next pull searches again from its start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTrace {
    pub trace_id: String,
    pub start_ns: i64,
}

/// What a checkpoint file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// `jaeger`, `tempo` or `zipkin`.
    pub backend: String,
    /// The backend URL, credentials redacted.
    pub url: String,
    /// The query, as a canonical string (service, TraceQL, tags…).
    pub query: String,
    /// Everything in `[covered_start_ns, covered_end_ns)` is stored (minus `pending`).
    pub covered_start_ns: i64,
    pub covered_end_ns: i64,
    #[serde(default)]
    pub pending: Vec<PendingTrace>,
    /// When the checkpoint was written (RFC 3339), for people reading the file.
    pub written_at: String,
}

/// Errors reading or writing a checkpoint, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a pipescope checkpoint: {message} (delete it to pull from --start)")]
    Corrupt { path: PathBuf, message: String },
    #[error(
        "{path}: checkpoint version {found}, this pipescope reads version {CHECKPOINT_VERSION}"
    )]
    Version { path: PathBuf, found: u32 },
}

/// The checkpoint file of a query key.
pub fn checkpoint_path(store_root: &Path, key: &str) -> PathBuf {
    store_root
        .join("pull-checkpoints")
        .join(format!("{:016x}.json", fnv1a(key.as_bytes())))
}

/// 64-bit FNV-1a: stable across builds and platforms (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Reads a checkpoint; `Ok(None)` when there is none yet.
pub fn load(path: &Path) -> Result<Option<Checkpoint>, CheckpointError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CheckpointError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let found = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
    if found != CHECKPOINT_VERSION {
        return Err(CheckpointError::Version {
            path: path.to_path_buf(),
            found,
        });
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Writes a checkpoint atomically: temp file, fsync, rename, fsync of the directory.
pub fn save(path: &Path, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
    let io = |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io)?;
    let bytes = serde_json::to_vec_pretty(checkpoint).map_err(|e| io(e.into()))?;
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    temp.write_all(&bytes).map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    temp.persist(path).map_err(|e| io(e.error))?;
    if let Ok(d) = fs::File::open(dir) {
        // Directory fsync makes the rename durable; not supported everywhere.
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            version: CHECKPOINT_VERSION,
            backend: "tempo".into(),
            url: "http://tempo:3200/".into(),
            query: "q={}".into(),
            covered_start_ns: 1,
            covered_end_ns: 2,
            pending: vec![PendingTrace {
                trace_id: "ab".into(),
                start_ns: 1,
            }],
            written_at: "now".into(),
        }
    }

    #[test]
    fn round_trips_and_keys_are_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = checkpoint_path(dir.path(), "tempo|http://x|q");
        assert_eq!(path, checkpoint_path(dir.path(), "tempo|http://x|q"));
        assert_ne!(path, checkpoint_path(dir.path(), "tempo|http://x|r"));
        assert_eq!(load(&path).unwrap(), None);
        save(&path, &sample()).unwrap();
        assert_eq!(load(&path).unwrap(), Some(sample()));
    }

    #[test]
    fn other_versions_and_garbage_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        fs::write(&path, br#"{"version": 9}"#).unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("version 9") && err.contains("c.json"), "{err}");
        fs::write(&path, b"{not json").unwrap();
        assert!(
            load(&path)
                .unwrap_err()
                .to_string()
                .contains("not a pipescope checkpoint")
        );
    }
}
