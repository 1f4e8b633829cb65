//! The writer's record of each file it finished: `<data>/manifest/<relative path>.json`
//! holding `{"rows": N, "bytes": B, "crc32": C}` (the CRC-32 of the whole file), e.g. `manifest/spans/date=2025-06-15/part-….parquet.json`.
//!
//! Why a sidecar and not a key in the Parquet footer: the footer is the part a
//! truncated or overwritten file loses, and it is written by the same code as the
//! rows, so it cannot vouch for them. A separate small file, written atomically after
//! the data file is durable and renamed, can: `pipescope check` compares the file's
//! footer with it. A crash between the two leaves a file without a record ("no
//! recorded count"), never a record of a file that was not stored; stores written
//! before records existed read the same way. Whatever removes or moves a data file
//! (repair, a future compaction) moves or removes its record with it.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StoreError;
use super::layout::sync_dir;

/// Directory of the records, under the store's root.
pub const MANIFEST_DIR: &str = "manifest";

/// What the writer wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub rows: u64,
    pub bytes: u64,
    /// CRC-32 (IEEE) of the file's bytes: Parquet as written here carries no page
    /// checksums, so a flipped byte that still decodes is caught only by this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<u32>,
}

/// Where the record of `file` (a path under `root`) lives.
pub fn record_path(root: &Path, file: &Path) -> Option<PathBuf> {
    let relative = file.strip_prefix(root).ok()?;
    let mut name = relative.file_name()?.to_os_string();
    name.push(".json");
    Some(root.join(MANIFEST_DIR).join(relative).with_file_name(name))
}

/// The data file a record at `record` describes (the inverse of [`record_path`]).
pub fn data_path(root: &Path, record: &Path) -> Option<PathBuf> {
    let relative = record.strip_prefix(root.join(MANIFEST_DIR)).ok()?;
    let name = relative.file_name()?.to_str()?.strip_suffix(".json")?;
    Some(root.join(relative).with_file_name(name))
}

/// Records `file` atomically (temporary file, fsync, rename, directory fsync).
pub fn write(root: &Path, file: &Path, record: FileRecord) -> Result<(), StoreError> {
    let path = record_path(root, file).ok_or_else(|| StoreError::Write {
        path: file.to_path_buf(),
        message: format!("not inside the store at {}", root.display()),
    })?;
    let dir = path.parent().unwrap_or(root).to_path_buf();
    fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{}.tmp", name.unwrap_or_default()));
    let text = serde_json::to_string(&record).map_err(|e| StoreError::Write {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let written = File::create(&temp).and_then(|mut f| {
        writeln!(f, "{text}")?;
        f.sync_all()
    });
    written.map_err(|e| StoreError::io(&temp, e))?;
    fs::rename(&temp, &path).map_err(|e| StoreError::io(&path, e))?;
    sync_dir(&dir)
}

/// Records `file` once it is stored: a record that cannot be written leaves a file
/// without one (as older stores have), reported by `pipescope check`, not a failure of
/// the write that stored it.
pub fn write_or_warn(root: &Path, file: &Path, record: FileRecord) {
    if let Err(e) = write(root, file, record) {
        tracing::warn!("{e}; `pipescope check` will report the file as unrecorded");
    }
}

/// Removes the record of `file` (a file compaction replaced); none is no error.
pub fn remove(root: &Path, file: &Path) -> Result<(), StoreError> {
    let Some(path) = record_path(root, file) else {
        return Ok(());
    };
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io(&path, e)),
    }
}

/// The record of `file`: `None` when the writer left none (an older pipescope, or a
/// crash between the rename and the record); a record that does not parse is an error.
pub fn read(root: &Path, file: &Path) -> Result<Option<FileRecord>, StoreError> {
    let Some(path) = record_path(root, file) else {
        return Ok(None);
    };
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(&path, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| StoreError::Corrupt {
            path,
            message: format!("not a row-count record: {e}"),
        })
}

/// Every record file (finished ones: temporaries start with `.`), sorted.
pub fn all_records(root: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    walk(&root.join(MANIFEST_DIR), &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io(dir, e)),
    };
    for entry in entries {
        let path = entry.map_err(|e| StoreError::io(dir, e))?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if path.is_dir() {
            walk(&path, out)?;
        } else if !hidden && path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_maps_back_to_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let file = root.join("spans/date=2025-06-15/part-1.parquet");
        assert_eq!(read(root, &file).unwrap(), None, "no record yet");
        let record = FileRecord {
            rows: 3,
            bytes: 99,
            crc32: Some(7),
        };
        write(root, &file, record).unwrap();
        assert_eq!(read(root, &file).unwrap(), Some(record));
        let records = all_records(root).unwrap();
        assert_eq!(
            records,
            vec![root.join("manifest/spans/date=2025-06-15/part-1.parquet.json")]
        );
        assert_eq!(data_path(root, &records[0]), Some(file));
    }
}
