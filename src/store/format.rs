//! The store's format version: `<data>/FORMAT`, one number and a newline.
//!
//! | version | what it adds |
//! |---------|--------------|
//! | 1 | the layout of [`super::layout`]; stores from before `FORMAT` existed (no file = 1) |
//! | 2 | `FORMAT` itself and the writer's row-count records under `manifest/` ([`super::manifest`]) |
//! | 3 | compaction journals under `compaction/` ([`super::journal`]): a reader that ignores them can see a compacted span twice |
//!
//! A store newer than this pipescope knows is refused by every command rather than
//! misread. An older one is read as it is; the first writer to take its lock migrates
//! it, atomically (versions 2 and 3 rewrite nothing: files written before simply have
//! no recorded row count, and a store without journals has nothing pending).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use super::StoreError;
use super::layout::sync_dir;

/// The format this pipescope writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 3;

/// Name of the version file in the store's root.
pub const FORMAT_FILE: &str = "FORMAT";

/// The version of the store at `root`: 1 when it has no `FORMAT` file.
pub fn read(root: &Path) -> Result<u32, StoreError> {
    let path = root.join(FORMAT_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(1),
        Err(e) => return Err(StoreError::io(&path, e)),
    };
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| StoreError::BadFormatFile {
            path: path.clone(),
            found: text.trim().chars().take(40).collect(),
        })
}

/// The store's version if this pipescope can read it, else [`StoreError::TooNew`].
pub fn ensure_readable(root: &Path) -> Result<u32, StoreError> {
    let version = read(root)?;
    if version > FORMAT_VERSION {
        return Err(StoreError::TooNew {
            path: root.to_path_buf(),
            version,
            known: FORMAT_VERSION,
        });
    }
    Ok(version)
}

/// Writes [`FORMAT_VERSION`] atomically: a temporary file, fsynced, renamed, and the
/// directory fsynced, so a reader sees the old version or the new one, never half.
pub fn write_current(root: &Path) -> Result<(), StoreError> {
    let path = root.join(FORMAT_FILE);
    let temp = root.join(format!(".{FORMAT_FILE}.tmp"));
    let written = File::create(&temp).and_then(|mut f| {
        writeln!(f, "{FORMAT_VERSION}")?;
        f.sync_all()
    });
    written.map_err(|e| StoreError::io(&temp, e))?;
    fs::rename(&temp, &path).map_err(|e| StoreError::io(&path, e))?;
    sync_dir(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_file_is_version_one_and_a_newer_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), 1);
        write_current(dir.path()).unwrap();
        assert_eq!(ensure_readable(dir.path()).unwrap(), FORMAT_VERSION);
        fs::write(dir.path().join(FORMAT_FILE), "4\n").unwrap();
        let error = ensure_readable(dir.path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "store at {} has format version 4; this pipescope reads up to {FORMAT_VERSION}; upgrade pipescope",
                dir.path().display()
            )
        );
        fs::write(dir.path().join(FORMAT_FILE), "two").unwrap();
        assert!(matches!(
            read(dir.path()),
            Err(StoreError::BadFormatFile { .. })
        ));
    }
}
