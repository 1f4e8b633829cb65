//! Compaction's journal: how many small files are replaced by one without a reader
//! ever seeing a span twice or missing one.
//!
//! A file system cannot rename several files into one atomically, so compaction says
//! what it is about to do before doing it: `<data>/compaction/<output name>.json`
//! holds `{"output": PATH, "inputs": [PATH, …]}` (paths relative to the store's root),
//! written atomically before the output is renamed into place. From then on:
//!
//! - a reader that lists the output also finds its journal, and leaves the inputs out
//!   (they hold the same spans); one that listed before the rename sees the inputs and
//!   not the output — either way every span once;
//! - the inputs are deleted only while no reader holds the store's reader lock (a
//!   query that listed them may still open them), then the journal is removed;
//! - a crash before the rename leaves a journal whose output does not exist: the next
//!   writer removes it (and the output's temporary file); a crash after it leaves
//!   inputs to delete, which the next writer or compaction deletes.
//!
//! Journals name files by relative paths that must stay inside `spans/` or `traces/`:
//! a journal edited by hand cannot make pipescope delete anything else.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::layout::sync_dir;
use super::{StoreError, manifest};

/// Directory of the journals, under the store's root.
pub const JOURNAL_DIR: &str = "compaction";

/// One output file replacing its inputs, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    pub output: PathBuf,
    pub inputs: Vec<PathBuf>,
}

impl Replacement {
    /// A replacement of files under `root` (absolute paths in, relative ones kept).
    pub fn new(root: &Path, output: &Path, inputs: &[PathBuf]) -> Result<Replacement, StoreError> {
        let relative = |p: &Path| {
            p.strip_prefix(root)
                .map(Path::to_path_buf)
                .map_err(|_| StoreError::Write {
                    path: p.to_path_buf(),
                    message: format!("not inside the store at {}", root.display()),
                })
        };
        Ok(Replacement {
            output: relative(output)?,
            inputs: inputs
                .iter()
                .map(|p| relative(p))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A journal file and what it records.
#[derive(Debug, Clone)]
pub struct Pending {
    pub journal: PathBuf,
    pub replacement: Replacement,
}

impl Pending {
    pub fn output(&self, root: &Path) -> PathBuf {
        root.join(&self.replacement.output)
    }

    pub fn inputs(&self, root: &Path) -> Vec<PathBuf> {
        self.replacement
            .inputs
            .iter()
            .map(|p| root.join(p))
            .collect()
    }
}

/// Records `replacement` durably (temporary file, fsync, rename, directory fsync)
/// before its output is made visible.
pub fn write(root: &Path, replacement: &Replacement) -> Result<Pending, StoreError> {
    let dir = root.join(JOURNAL_DIR);
    fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
    let name = replacement
        .output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let journal = dir.join(format!("{name}.json"));
    let text = serde_json::to_vec(replacement).map_err(|e| StoreError::Write {
        path: journal.clone(),
        message: e.to_string(),
    })?;
    let temp = dir.join(format!(".{name}.json.tmp"));
    let written = fs::File::create(&temp).and_then(|mut f| {
        io::Write::write_all(&mut f, &text)?;
        f.sync_all()
    });
    written.map_err(|e| StoreError::io(&temp, e))?;
    fs::rename(&temp, &journal).map_err(|e| StoreError::io(&journal, e))?;
    sync_dir(&dir)?;
    Ok(Pending {
        journal,
        replacement: replacement.clone(),
    })
}

/// Every journal of the store, oldest name first. A journal that does not parse, or
/// names a path outside the store's tables, is an error naming it: guessing which
/// files it meant could lose spans or show them twice.
pub fn pending(root: &Path) -> Result<Vec<Pending>, StoreError> {
    let dir = root.join(JOURNAL_DIR);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(&dir, e)),
    };
    let mut journals = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| StoreError::io(&dir, e))?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.is_some_and(|n| !n.starts_with('.') && n.ends_with(".json")) {
            journals.push(path);
        }
    }
    journals.sort();
    journals.into_iter().map(|path| read(&path)).collect()
}

fn read(path: &Path) -> Result<Pending, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    let text = fs::read(path).map_err(|e| StoreError::io(path, e))?;
    let replacement: Replacement = serde_json::from_slice(&text)
        .map_err(|e| corrupt(format!("not a compaction journal: {e}")))?;
    for file in std::iter::once(&replacement.output).chain(&replacement.inputs) {
        if !inside_tables(file) {
            return Err(corrupt(format!(
                "names {}, which is not a file of the store's tables",
                file.display()
            )));
        }
    }
    Ok(Pending {
        journal: path.to_path_buf(),
        replacement,
    })
}

/// `spans/…/x.parquet` or `traces/x.parquet`, with no `..`, root or prefix.
fn inside_tables(relative: &Path) -> bool {
    let mut components = relative.components();
    let table =
        matches!(components.next(), Some(Component::Normal(t)) if t == "spans" || t == "traces");
    table
        && relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        && relative.extension().is_some_and(|e| e == "parquet")
}

/// The files of `listed` that a pending replacement has superseded: the inputs of
/// every journal whose output is among `listed` (see the module comment).
pub fn superseded(root: &Path, listed: &[PathBuf]) -> Result<HashSet<PathBuf>, StoreError> {
    let pending = pending(root)?;
    if pending.is_empty() {
        return Ok(HashSet::new());
    }
    let listed: HashSet<&PathBuf> = listed.iter().collect();
    Ok(pending
        .iter()
        .filter(|p| listed.contains(&p.output(root)))
        .flat_map(|p| p.inputs(root))
        .collect())
}

/// Deletes a replacement's inputs and their records, then its journal. The caller
/// holds the writer lock and has made sure no reader holds the reader lock.
pub fn finish(root: &Path, pending: &Pending) -> Result<(), StoreError> {
    let mut dirs = HashSet::new();
    for input in pending.inputs(root) {
        match fs::remove_file(&input) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(&input, e)),
        }
        manifest::remove(root, &input)?;
        if let Some(dir) = input.parent() {
            dirs.insert(dir.to_path_buf());
        }
    }
    // The deletions are durable before the journal goes: a crash in between leaves a
    // journal whose inputs are gone, which finishing again handles.
    for dir in &dirs {
        sync_dir(dir)?;
    }
    remove_journal(pending)
}

/// Drops a journal whose output never became visible (a crash before the rename).
pub fn abandon(pending: &Pending) -> Result<(), StoreError> {
    remove_journal(pending)
}

fn remove_journal(pending: &Pending) -> Result<(), StoreError> {
    match fs::remove_file(&pending.journal) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(StoreError::io(&pending.journal, e)),
    }
    if let Some(dir) = pending.journal.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_round_trips_and_supersedes_its_inputs_only_once_its_output_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let file = |name: &str| root.join("spans/date=2025-06-15").join(name);
        let (a, b, out) = (file("a.parquet"), file("b.parquet"), file("c.parquet"));
        let replacement = Replacement::new(root, &out, &[a.clone(), b.clone()]).unwrap();
        let written = write(root, &replacement).unwrap();
        let found = pending(root).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].replacement, replacement);
        assert_eq!(found[0].inputs(root), vec![a.clone(), b.clone()]);

        let before_rename = superseded(root, &[a.clone(), b.clone()]).unwrap();
        assert!(before_rename.is_empty(), "the output is not visible yet");
        let after_rename = superseded(root, &[a.clone(), b.clone(), out.clone()]).unwrap();
        assert_eq!(after_rename, HashSet::from([a, b]));

        abandon(&written).unwrap();
        assert!(pending(root).unwrap().is_empty());
    }

    #[test]
    fn a_journal_naming_a_file_outside_the_tables_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let journals = root.join(JOURNAL_DIR);
        fs::create_dir_all(&journals).unwrap();
        for hostile in [
            r#"{"output": "spans/x.parquet", "inputs": ["../../etc/passwd.parquet"]}"#,
            r#"{"output": "spans/x.parquet", "inputs": ["/etc/x.parquet"]}"#,
            r#"{"output": "spans/x.parquet", "inputs": ["FORMAT"]}"#,
            r#"{"output": "manifest/x.parquet", "inputs": []}"#,
            r#"{"output": 7}"#,
        ] {
            fs::write(journals.join("j.json"), hostile).unwrap();
            let error = pending(root).unwrap_err();
            assert!(
                matches!(&error, StoreError::Corrupt { path, .. } if path.ends_with("j.json")),
                "{hostile}: {error}"
            );
        }
    }
}
