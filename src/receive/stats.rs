//! Counters shared by the servers and the durable path, and the one-line status the
//! receiver prints on stderr.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::store::WriteStats;

/// Running totals since the receiver started.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    spans: AtomicU64,
    bytes: AtomicU64,
    rejected_spans: AtomicU64,
    refused: AtomicU64,
    busy: AtomicU64,
    connections_refused: AtomicU64,
    stored: AtomicU64,
    duplicates: AtomicU64,
    files: AtomicU64,
    skipped: AtomicU64,
    backlog: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Requests acknowledged (spans durable).
    pub requests: u64,
    /// Spans acknowledged.
    pub spans: u64,
    /// Body bytes acknowledged (after gzip).
    pub bytes: u64,
    /// Spans rejected inside accepted requests (`partial_success`).
    pub rejected_spans: u64,
    /// Requests refused as malformed, too large, unauthorised or of a wrong type.
    pub refused: u64,
    /// Requests refused to be retried later: the write path was full (429 /
    /// RESOURCE_EXHAUSTED) or `--max-inflight-bytes` were being read (503 / UNAVAILABLE).
    pub busy: u64,
    /// Connections closed at once because `--max-connections` were open.
    pub connections_refused: u64,
    /// Spans committed to the store, duplicates dropped, Parquet files written.
    pub stored: u64,
    pub duplicates: u64,
    pub files: u64,
    /// Write-ahead bytes waiting for compaction.
    pub backlog: u64,
}

impl Stats {
    pub(crate) fn appended(&self, spans: u64, bytes: u64) {
        self.requests.fetch_add(1, Relaxed);
        self.spans.fetch_add(spans, Relaxed);
        self.bytes.fetch_add(bytes, Relaxed);
    }

    pub(crate) fn rejected_spans(&self, n: u64) {
        self.rejected_spans.fetch_add(n, Relaxed);
    }

    pub(crate) fn refused(&self) {
        self.refused.fetch_add(1, Relaxed);
    }

    pub(crate) fn busy(&self) {
        self.busy.fetch_add(1, Relaxed);
    }

    pub(crate) fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Relaxed);
    }

    pub(crate) fn segment_closed(&self, bytes: u64) {
        self.backlog.fetch_add(bytes, Relaxed);
    }

    pub(crate) fn compacted(&self, total: WriteStats, bytes: u64, skipped: u64) {
        // The writer's stats are cumulative: store them rather than add.
        self.stored.store(total.stored, Relaxed);
        self.duplicates.store(total.duplicates, Relaxed);
        self.files.store(total.files, Relaxed);
        self.skipped.store(skipped, Relaxed);
        let _ = self
            .backlog
            .fetch_update(Relaxed, Relaxed, |b| Some(b.saturating_sub(bytes)));
    }

    pub(crate) fn backlog_bytes(&self) -> u64 {
        self.backlog.load(Relaxed)
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            requests: self.requests.load(Relaxed),
            spans: self.spans.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            rejected_spans: self.rejected_spans.load(Relaxed),
            refused: self.refused.load(Relaxed),
            busy: self.busy.load(Relaxed),
            connections_refused: self.connections_refused.load(Relaxed),
            stored: self.stored.load(Relaxed),
            duplicates: self.duplicates.load(Relaxed),
            files: self.files.load(Relaxed),
            backlog: self.backlog.load(Relaxed),
        }
    }
}

impl std::fmt::Display for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "receive: {} requests, {} spans ({:.1} MB) acknowledged, {} spans rejected, {} requests refused, {} busy (429/503), {} connections refused, {} spans stored in {} files, {} duplicates, {:.1} MB waiting for compaction",
            self.requests,
            self.spans,
            self.bytes as f64 / 1e6,
            self.rejected_spans,
            self.refused,
            self.busy,
            self.connections_refused,
            self.stored,
            self.files,
            self.duplicates,
            self.backlog as f64 / 1e6,
        )
    }
}
