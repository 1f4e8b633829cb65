//! The receiver's write-ahead log: request bodies made durable before they are
//! acknowledged, later compacted into the Parquet store.
//!
//! ```text
//! <data>/wal/.lock                   held by the one `pipescope receive` using this store
//! <data>/wal/seg-<seq>.wal           segments; the highest is being appended to
//! ```
//! A segment is a sequence of records `[len: u32 LE][crc32: u32 LE][kind: u8][payload]`
//! where `len` counts `kind` + `payload` and the CRC covers the same bytes; `kind` is
//! the payload's [`BodyKind`] as numbered by [`kind_byte`] (1 OTLP protobuf, 2
//! OTLP/JSON: on disk, never renumbered). A record
//! is acknowledged only after it and everything before it were fsynced, so after a
//! crash a torn or corrupt record can only be at a segment's tail and was never
//! acknowledged: replay stops reading that segment there. A segment is deleted only
//! after its spans were committed to the store; a crash between the two replays it,
//! and the store's `(trace_id, span_id)` deduplication drops the repeats.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::source::BodyKind;

/// Bytes before a record's payload.
const HEADER: usize = 9;
/// Records larger than this are taken as corruption (bodies are limited far below).
const MAX_RECORD: usize = 1 << 30;

/// Errors of the write-ahead log, each naming the file.
#[derive(Debug, Error)]
pub enum WalError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path}: another `pipescope receive` is using this store (its write-ahead log is locked)"
    )]
    Locked { path: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WalError + '_ {
    move |source| WalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The byte a record's kind is written as. Segments outlive a build: these numbers
/// are part of the on-disk format (1 and 2 are what every receiver so far wrote).
pub fn kind_byte(kind: BodyKind) -> u8 {
    match kind {
        BodyKind::OtlpProto => 1,
        BodyKind::OtlpJson => 2,
        BodyKind::Jaeger => 3,
        BodyKind::Zipkin => 4,
    }
}

/// The kind a record's byte names (see [`kind_byte`]).
fn kind_from_byte(b: u8) -> Option<BodyKind> {
    match b {
        1 => Some(BodyKind::OtlpProto),
        2 => Some(BodyKind::OtlpJson),
        3 => Some(BodyKind::Jaeger),
        4 => Some(BodyKind::Zipkin),
        _ => None,
    }
}

/// One record read back from a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: BodyKind,
    pub payload: Vec<u8>,
}

/// The write-ahead directory, locked for this process.
#[derive(Debug)]
pub struct WalDir {
    dir: PathBuf,
    _lock: File,
}

impl WalDir {
    /// Opens `<data>/wal`, failing (not waiting) if another receiver holds it.
    pub fn open(data: &Path) -> Result<WalDir, WalError> {
        WalDir::open_at(&data.join("wal"))
    }

    /// Opens the log at `dir` (`receive --wal DIR`), as [`WalDir::open`].
    pub fn open_at(dir: &Path) -> Result<WalDir, WalError> {
        let dir = dir.to_path_buf();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let lock_path = dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(WalError::Locked { path: dir }),
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        Ok(WalDir { dir, _lock: lock })
    }

    /// The `wal` directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Existing segments, oldest first, with their sequence numbers.
    pub fn segments(&self) -> Result<Vec<(u64, PathBuf)>, WalError> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let path = entry.map_err(io_err(&self.dir))?.path();
            let seq = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("seg-"))
                .and_then(|n| n.strip_suffix(".wal"))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(seq) = seq {
                found.push((seq, path));
            }
        }
        found.sort();
        Ok(found)
    }

    /// Creates segment `seq` for appending (durably: the directory entry is fsynced).
    pub fn create_segment(&self, seq: u64) -> Result<Segment, WalError> {
        let path = self.dir.join(format!("seg-{seq:020}.wal"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        sync_dir(&self.dir)?;
        Ok(Segment {
            path,
            file,
            len: 0,
            records: 0,
        })
    }

    /// Deletes compacted segments and makes the deletion durable.
    pub fn remove(&self, paths: &[PathBuf]) -> Result<(), WalError> {
        for path in paths {
            fs::remove_file(path).map_err(io_err(path))?;
        }
        sync_dir(&self.dir)
    }
}

/// The segment being appended to.
#[derive(Debug)]
pub struct Segment {
    path: PathBuf,
    file: File,
    len: u64,
    records: u64,
}

impl Segment {
    /// The segment's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no record was appended yet.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Appends records and fsyncs. On error the segment is cut back to its previous
    /// length, so a failed append never leaves a torn record before later ones.
    pub fn append(&mut self, records: &[(BodyKind, &[u8])]) -> Result<(), WalError> {
        let mut buf = Vec::with_capacity(records.iter().map(|(_, p)| p.len() + HEADER).sum());
        for (kind, payload) in records {
            let len = u32::try_from(payload.len() + 1).unwrap_or(u32::MAX);
            let mut crc = crc32fast::Hasher::new();
            let kind = kind_byte(*kind);
            crc.update(&[kind]);
            crc.update(payload);
            buf.extend_from_slice(&len.to_le_bytes());
            buf.extend_from_slice(&crc.finalize().to_le_bytes());
            buf.push(kind);
            buf.extend_from_slice(payload);
        }
        let result = self
            .file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data());
        match result {
            Ok(()) => {
                self.len += buf.len() as u64;
                self.records += records.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Cut what part of the batch was written (nothing of it is acknowledged)
                // and move back to the end, else the next append (once the disk has
                // room again) would write after a hole that ends the segment for the
                // reader, and its records with it.
                let _ = self.file.set_len(self.len);
                let _ = self.file.seek(SeekFrom::Start(self.len));
                Err(io_err(&self.path)(e))
            }
        }
    }
}

/// Reads a segment's records up to its end or its first torn/corrupt record.
/// Returns the records and, when the tail was cut, a description of why.
pub fn read_segment(path: &Path) -> Result<(Vec<Record>, Option<String>), WalError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io_err(path))?;
    Ok(parse_records(&bytes))
}

/// Parses a segment's bytes (see [`read_segment`]); public for the fuzz target.
pub fn parse_records(bytes: &[u8]) -> (Vec<Record>, Option<String>) {
    let mut records = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let Some(header) = bytes.get(at..at + HEADER) else {
            return (records, Some(format!("byte {at}: torn record header")));
        };
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len == 0 || len > MAX_RECORD {
            return (records, Some(format!("byte {at}: impossible length {len}")));
        }
        let Some(body) = bytes.get(at + 8..at + 8 + len) else {
            return (
                records,
                Some(format!("byte {at}: torn record ({len} bytes announced)")),
            );
        };
        if crc32fast::hash(body) != crc {
            return (records, Some(format!("byte {at}: checksum mismatch")));
        }
        let Some(kind) = kind_from_byte(body[0]) else {
            return (
                records,
                Some(format!("byte {at}: unknown kind {}", body[0])),
            );
        };
        records.push(Record {
            kind,
            payload: body[1..].to_vec(),
        });
        at += 8 + len;
    }
    (records, None)
}

fn sync_dir(dir: &Path) -> Result<(), WalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_torn_tail_is_cut() {
        let tmp = tempfile::tempdir().unwrap();
        let wal = WalDir::open(tmp.path()).unwrap();
        let mut seg = wal.create_segment(7).unwrap();
        seg.append(&[(BodyKind::OtlpProto, b"abc"), (BodyKind::OtlpJson, b"{}")])
            .unwrap();
        seg.append(&[(BodyKind::OtlpJson, b"[1]")]).unwrap();
        assert_eq!(seg.len(), 3 * 9 + 3 + 2 + 3);
        let path = seg.path().to_path_buf();
        drop(seg);
        let (records, cut) = read_segment(&path).unwrap();
        assert_eq!(cut, None);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].kind, BodyKind::OtlpProto);
        assert_eq!(records[0].payload, b"abc");
        assert_eq!(records[2].payload, b"[1]");

        // A crash mid-write leaves a partial record: it is dropped, the rest kept.
        let mut bytes = fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 2);
        let (records, cut) = parse_records(&bytes);
        assert_eq!(records.len(), 2);
        assert!(cut.unwrap().contains("torn record"));

        // A flipped bit is caught by the checksum.
        let mut bytes = fs::read(&path).unwrap();
        bytes[10] ^= 1;
        let (records, cut) = parse_records(&bytes);
        assert_eq!(records.len(), 0);
        assert!(cut.unwrap().contains("checksum"));

        assert_eq!(wal.segments().unwrap(), vec![(7, path.clone())]);
        wal.remove(&[path]).unwrap();
        assert!(wal.segments().unwrap().is_empty());
    }

    #[test]
    fn records_keep_the_on_disk_encoding_of_earlier_builds() {
        // `[len][crc32][kind][payload]`, kind 1 protobuf and 2 JSON: segments written
        // by earlier receivers must replay.
        let tmp = tempfile::tempdir().unwrap();
        let wal = WalDir::open(tmp.path()).unwrap();
        let mut seg = wal.create_segment(1).unwrap();
        seg.append(&[(BodyKind::OtlpProto, b"p"), (BodyKind::OtlpJson, b"{}")])
            .unwrap();
        let bytes = fs::read(seg.path()).unwrap();
        let mut expected = Vec::new();
        for (kind, payload) in [(1u8, &b"p"[..]), (2u8, &b"{}"[..])] {
            let mut body = vec![kind];
            body.extend_from_slice(payload);
            expected.extend_from_slice(&(body.len() as u32).to_le_bytes());
            expected.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
            expected.extend_from_slice(&body);
        }
        assert_eq!(bytes, expected);
        let (records, cut) = parse_records(&expected);
        assert_eq!(cut, None);
        assert_eq!(records[0].kind, BodyKind::OtlpProto);
        assert_eq!(records[1].kind, BodyKind::OtlpJson);
    }

    #[test]
    fn a_second_receiver_on_the_same_store_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let _first = WalDir::open(tmp.path()).unwrap();
        let second = WalDir::open(tmp.path()).unwrap_err();
        assert!(second.to_string().contains("another `pipescope receive`"));
    }
}
