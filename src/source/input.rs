//! Expansion of command-line inputs into readers: files, directories (recursively,
//! sorted, hidden entries skipped), glob patterns and `-` for stdin. Gzip is detected
//! by its magic bytes (not only the `.gz` extension) and decompressed transparently,
//! so decoders only ever see plain bytes.

use super::SourceError;
use flate2::bufread::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// An input ready to be decoded.
pub struct Input {
    /// The path as given (or found in a directory / by a glob), or `stdin`.
    pub name: String,
    /// Decompressed bytes.
    pub reader: Box<dyn BufRead + Send>,
    /// When the file was last modified, ns since the Unix epoch (`None` for stdin or
    /// when the file system does not say): dates JUnit reports without a `timestamp`.
    pub mtime_ns: Option<i64>,
}

/// An input that has been found but not opened yet, so that thousands of files do
/// not hold thousands of descriptors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    Stdin,
    Path(PathBuf),
}

impl InputSpec {
    /// The name problems and reports use for this input.
    pub fn name(&self) -> String {
        match self {
            InputSpec::Stdin => "stdin".to_owned(),
            InputSpec::Path(p) => p.display().to_string(),
        }
    }

    /// When the file was last modified, ns since the Unix epoch (`None` for stdin).
    pub fn mtime_ns(&self) -> Option<i64> {
        match self {
            InputSpec::Stdin => None,
            InputSpec::Path(p) => std::fs::metadata(p).ok().as_ref().and_then(modified_ns),
        }
    }

    /// Opens the input, decompressing gzip transparently.
    pub fn open(&self) -> Result<Input, SourceError> {
        let name = self.name();
        let mut mtime_ns = None;
        let raw: Box<dyn BufRead + Send> = match self {
            InputSpec::Stdin => Box::new(BufReader::with_capacity(1 << 16, std::io::stdin())),
            InputSpec::Path(p) => {
                let file = File::open(p).map_err(|source| SourceError::Io {
                    path: p.clone(),
                    source,
                })?;
                mtime_ns = file.metadata().ok().as_ref().and_then(modified_ns);
                Box::new(BufReader::with_capacity(1 << 16, file))
            }
        };
        let reader = gunzip_if_needed(raw).map_err(|source| SourceError::Io {
            path: PathBuf::from(&name),
            source,
        })?;
        Ok(Input {
            name,
            reader,
            mtime_ns,
        })
    }
}

fn modified_ns(meta: &std::fs::Metadata) -> Option<i64> {
    let since = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    i64::try_from(since.as_nanos()).ok()
}

/// Wraps `reader` in a gzip decoder when it starts with the gzip magic bytes.
pub fn gunzip_if_needed(
    mut reader: Box<dyn BufRead + Send>,
) -> std::io::Result<Box<dyn BufRead + Send>> {
    let is_gzip = loop {
        match reader.fill_buf() {
            Ok(buf) => break buf.starts_with(&[0x1f, 0x8b]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    Ok(if is_gzip {
        Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(reader),
        ))
    } else {
        reader
    })
}

/// Expands command-line arguments into inputs, in the order given; each directory's
/// files are sorted. Errors name the argument.
pub fn expand_inputs(args: &[String]) -> Result<Vec<InputSpec>, SourceError> {
    let mut out = Vec::new();
    for arg in args {
        if arg == "-" {
            out.push(InputSpec::Stdin);
            continue;
        }
        let path = Path::new(arg);
        if path.exists() {
            push_path(path, &mut out)?;
        } else if arg.contains(['*', '?', '[']) {
            // Like the directory walk, `*` does not pick up hidden files.
            let options = glob::MatchOptions {
                require_literal_leading_dot: true,
                ..glob::MatchOptions::new()
            };
            let paths = glob::glob_with(arg, options).map_err(|e| SourceError::BadPattern {
                arg: arg.clone(),
                message: e.to_string(),
            })?;
            let mut matched: Vec<PathBuf> = Vec::new();
            for entry in paths {
                let p = entry.map_err(|e| SourceError::Io {
                    path: e.path().to_path_buf(),
                    source: e.into(),
                })?;
                matched.push(p);
            }
            matched.sort();
            if matched.is_empty() {
                return Err(SourceError::NoMatch { arg: arg.clone() });
            }
            for p in matched {
                push_path(&p, &mut out)?;
            }
        } else {
            return Err(SourceError::NotFound { arg: arg.clone() });
        }
    }
    Ok(out)
}

fn push_path(path: &Path, out: &mut Vec<InputSpec>) -> Result<(), SourceError> {
    if path.is_dir() {
        walk(path, out)
    } else {
        out.push(InputSpec::Path(path.to_path_buf()));
        Ok(())
    }
}

fn walk(dir: &Path, out: &mut Vec<InputSpec>) -> Result<(), SourceError> {
    let io = |source| SourceError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        entries.push(entry.path());
    }
    entries.sort();
    for p in entries {
        push_path(&p, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn read_all(spec: &InputSpec) -> String {
        let mut s = String::new();
        spec.open().unwrap().reader.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn directories_globs_and_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        std::fs::write(root.join("b.json"), "B").unwrap();
        std::fs::write(root.join("a.json"), "A").unwrap();
        std::fs::write(root.join(".secret.json"), "S").unwrap();
        std::fs::write(root.join(".hidden/x.json"), "X").unwrap();
        // Gzip without the extension: detected by magic bytes.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"resourceSpans\":[]}").unwrap();
        std::fs::write(root.join("sub/c.otlp"), gz.finish().unwrap()).unwrap();

        let arg = root.display().to_string();
        let specs = expand_inputs(std::slice::from_ref(&arg)).unwrap();
        let names: Vec<String> = specs
            .iter()
            .map(|s| s.name().strip_prefix(&arg).unwrap().to_owned())
            .collect();
        assert_eq!(names, vec!["/a.json", "/b.json", "/sub/c.otlp"]);
        assert_eq!(read_all(&specs[0]), "A");
        assert_eq!(read_all(&specs[2]), "{\"resourceSpans\":[]}");

        let pattern = format!("{arg}/*.json");
        let specs = expand_inputs(&[pattern, "-".to_owned()]).unwrap();
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[2], InputSpec::Stdin);
        assert_eq!(specs[2].name(), "stdin");
    }

    #[test]
    fn errors_name_the_argument() {
        let err = expand_inputs(&["/definitely/not/here.json".to_owned()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/definitely/not/here.json: no such file or directory"
        );
        let err = expand_inputs(&["/definitely/not/*.json".to_owned()]).unwrap_err();
        assert!(matches!(err, SourceError::NoMatch { .. }), "{err}");
        let err = expand_inputs(&["/tmp/[".to_owned()]).unwrap_err();
        assert!(matches!(err, SourceError::BadPattern { .. }), "{err}");
    }
}
