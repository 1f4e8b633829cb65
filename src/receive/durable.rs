//! The durable write path: request bodies → bounded queue → write-ahead log (group
//! commit, one fsync per batch of requests) → acknowledgement; closed WAL segments →
//! compactor → normaliser → Parquet store.
//!
//! Two threads do the blocking I/O. The WAL writer takes every request waiting in the
//! queue, appends them, fsyncs once and only then answers each; it closes the segment
//! when it reaches `segment_bytes` or has been open `max_age`. The compactor decodes
//! closed segments (all that are waiting, as one batch), commits them to the store
//! through the ingest [`Batcher`], and deletes them only after the commit. The queue
//! is bounded and so is the WAL backlog: when either is full, requests are refused
//! with a retry hint rather than buffered.
//!
//! A full disk: an append that fails is answered 503 / UNAVAILABLE (nothing of it
//! stays in the log) and the next one tries again; a compaction that fails keeps its
//! segments, drops its writer (which counted spans it did not store) and retries with
//! a new one, backing off up to [`MAX_RETRY`], while the receiver keeps acknowledging
//! into the log until the backlog is full. Only at shutdown does it give up, leaving
//! the segments for the next start to replay.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::body;
use super::stats::Stats;
use super::wal::{Segment, WalDir, read_segment};
use crate::ingest::{Batcher, IngestOptions};
use crate::source::BodyKind;
use crate::store::{Store, WriteStats};

/// First and longest wait between two attempts of a failing compaction.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// Tuning of the durable path.
#[derive(Debug, Clone)]
pub struct DurableOptions {
    /// Requests waiting for the WAL writer before new ones are refused.
    pub queue: usize,
    /// A WAL segment is closed and compacted once it holds this many bytes…
    pub segment_bytes: u64,
    /// …or once it has been open this long.
    pub max_age: Duration,
    /// Bytes of closed segments not yet compacted before new requests are refused.
    pub max_backlog_bytes: u64,
}

impl Default for DurableOptions {
    fn default() -> Self {
        DurableOptions {
            queue: 256,
            segment_bytes: 32 << 20,
            max_age: Duration::from_secs(5),
            max_backlog_bytes: 1 << 30,
        }
    }
}

/// The outcome of [`Durable::submit`].
#[derive(Debug, PartialEq, Eq)]
pub enum Submitted {
    /// Appended and fsynced: safe to acknowledge.
    Durable,
    /// The queue or the backlog is full: ask the client to retry later.
    Busy,
    /// Not stored (shutting down, or the disk failed).
    Failed(String),
}

struct Append {
    kind: BodyKind,
    body: Vec<u8>,
    spans: u64,
    ack: oneshot::Sender<Result<(), String>>,
}

enum Msg {
    Append(Append),
    Shutdown,
}

/// Handle shared by the HTTP and gRPC servers.
pub struct Durable {
    tx: SyncSender<Msg>,
    closed: AtomicBool,
    stats: Arc<Stats>,
    max_backlog_bytes: u64,
}

/// The running threads, to be joined at shutdown.
pub struct Workers {
    writer: JoinHandle<()>,
    compactor: JoinHandle<anyhow::Result<()>>,
}

/// Replays what an earlier run left in the WAL into the store, then starts the writer
/// and compactor threads.
pub fn start(
    store: &Store,
    wal: WalDir,
    ingest: &IngestOptions,
    options: &DurableOptions,
    stats: Arc<Stats>,
) -> anyhow::Result<(Arc<Durable>, Workers)> {
    let mut batcher = Batcher::open(store, ingest)?;
    let wal = Arc::new(wal);
    let leftovers = wal.segments()?;
    let next_seq = leftovers.last().map_or(1, |(seq, _)| seq + 1);
    if !leftovers.is_empty() {
        let paths: Vec<PathBuf> = leftovers.into_iter().map(|(_, p)| p).collect();
        tracing::info!(
            "replaying {} write-ahead segment(s) from a previous run",
            paths.len()
        );
        compact(&wal, &mut batcher, &paths, WriteStats::default(), &stats)?;
    }
    let (tx, rx) = mpsc::sync_channel(options.queue.max(1));
    let (closed_tx, closed_rx) = mpsc::channel();
    let writer = {
        let (wal, stats, options) = (wal.clone(), stats.clone(), options.clone());
        std::thread::Builder::new()
            .name("wal-writer".into())
            .spawn(move || write_loop(rx, &wal, next_seq, closed_tx, &options, &stats))?
    };
    let compactor = {
        let (wal, stats) = (wal.clone(), stats.clone());
        let (store, ingest) = (store.clone(), ingest.clone());
        std::thread::Builder::new()
            .name("compactor".into())
            .spawn(move || compact_loop(closed_rx, &wal, (&store, &ingest, batcher), &stats))?
    };
    let durable = Arc::new(Durable {
        tx,
        closed: AtomicBool::new(false),
        stats,
        max_backlog_bytes: options.max_backlog_bytes,
    });
    Ok((durable, Workers { writer, compactor }))
}

impl Durable {
    /// Queues a checked body and waits until it is durable.
    pub async fn submit(&self, kind: BodyKind, body: Vec<u8>, spans: u64) -> Submitted {
        if self.closed.load(Ordering::Acquire) {
            return Submitted::Failed("the receiver is shutting down".into());
        }
        if self.stats.backlog_bytes() > self.max_backlog_bytes {
            return Submitted::Busy;
        }
        let (ack, done) = oneshot::channel();
        let msg = Msg::Append(Append {
            kind,
            body,
            spans,
            ack,
        });
        match self.tx.try_send(msg) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Submitted::Busy,
            Err(TrySendError::Disconnected(_)) => {
                return Submitted::Failed("the write-ahead log is closed".into());
            }
        }
        match done.await {
            Ok(Ok(())) => Submitted::Durable,
            Ok(Err(e)) => Submitted::Failed(e),
            Err(_) => Submitted::Failed("the write-ahead log closed before this request".into()),
        }
    }

    /// Stops taking requests; everything queued before is still written.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        // Blocks while the queue is full, which only delays shutdown by one batch.
        let _ = self.tx.send(Msg::Shutdown);
    }
}

impl Workers {
    /// Waits for the writer to drain and the compactor to store everything.
    pub fn join(self) -> anyhow::Result<()> {
        self.writer
            .join()
            .map_err(|_| anyhow::anyhow!("the WAL writer thread panicked"))?;
        self.compactor
            .join()
            .map_err(|_| anyhow::anyhow!("the compactor thread panicked"))?
    }
}

fn write_loop(
    rx: Receiver<Msg>,
    wal: &WalDir,
    mut seq: u64,
    closed: mpsc::Sender<PathBuf>,
    options: &DurableOptions,
    stats: &Stats,
) {
    let mut open: Option<(Segment, Instant)> = None;
    let mut shutting_down = false;
    while !shutting_down {
        let wait = match &open {
            Some((_, opened)) => options.max_age.saturating_sub(opened.elapsed()),
            None => Duration::from_secs(3600),
        };
        let mut batch = Vec::new();
        match rx.recv_timeout(wait) {
            Ok(Msg::Append(a)) => batch.push(a),
            Ok(Msg::Shutdown) | Err(RecvTimeoutError::Disconnected) => shutting_down = true,
            Err(RecvTimeoutError::Timeout) => {}
        }
        // Group commit: everything already waiting shares one fsync.
        while !shutting_down && batch.len() < 1024 {
            match rx.try_recv() {
                Ok(Msg::Append(a)) => batch.push(a),
                Ok(Msg::Shutdown) => shutting_down = true,
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            append_batch(wal, &mut open, &mut seq, batch, stats);
        }
        let due = open.as_ref().is_some_and(|(segment, opened)| {
            segment.len() >= options.segment_bytes || opened.elapsed() >= options.max_age
        });
        if (due || shutting_down)
            && let Some((segment, _)) = open.take()
        {
            stats.segment_closed(segment.len());
            let _ = closed.send(segment.path().to_path_buf());
        }
    }
}

fn append_batch(
    wal: &WalDir,
    open: &mut Option<(Segment, Instant)>,
    seq: &mut u64,
    batch: Vec<Append>,
    stats: &Stats,
) {
    if open.is_none() {
        match wal.create_segment(*seq) {
            Ok(segment) => {
                *seq += 1;
                *open = Some((segment, Instant::now()));
            }
            Err(e) => {
                let message = format!("cannot create a write-ahead segment: {e}");
                tracing::error!("{message}");
                for a in batch {
                    let _ = a.ack.send(Err(message.clone()));
                }
                return;
            }
        }
    }
    let Some((segment, _)) = open.as_mut() else {
        return;
    };
    let records: Vec<(BodyKind, &[u8])> =
        batch.iter().map(|a| (a.kind, a.body.as_slice())).collect();
    let result = segment.append(&records).map_err(|e| e.to_string());
    if let Err(e) = &result {
        tracing::error!("write-ahead append failed: {e}");
    } else {
        let bytes: u64 = batch.iter().map(|a| a.body.len() as u64).sum();
        let spans: u64 = batch.iter().map(|a| a.spans).sum();
        stats.appended(spans, bytes);
    }
    for a in batch {
        let _ = a.ack.send(result.clone());
    }
}

fn compact_loop(
    rx: Receiver<PathBuf>,
    wal: &WalDir,
    (store, ingest, batcher): (&Store, &IngestOptions, Batcher),
    stats: &Stats,
) -> anyhow::Result<()> {
    let mut batcher = Some(batcher);
    // What the writers dropped after a failure had stored (the counters add up).
    let mut earlier = WriteStats::default();
    let mut waiting: Vec<PathBuf> = Vec::new();
    let mut retry = FIRST_RETRY;
    let mut closing = false;
    loop {
        if waiting.is_empty() {
            match rx.recv() {
                Ok(path) => waiting.push(path),
                Err(_) => return Ok(()),
            }
        }
        waiting.extend(rx.try_iter());
        let opened = match batcher.take() {
            Some(b) => Ok(b),
            None => Batcher::open(store, ingest).map_err(anyhow::Error::from),
        };
        let failure = match opened {
            Err(e) => e,
            Ok(mut current) => match compact(wal, &mut current, &waiting, earlier, stats) {
                Ok(()) => {
                    batcher = Some(current);
                    waiting.clear();
                    retry = FIRST_RETRY;
                    continue;
                }
                Err(e) => {
                    earlier = earlier + current.summary().write;
                    e
                }
            },
        };
        tracing::error!(
            "cannot store {} write-ahead segment(s), they stay in the log; retrying in {:?}: {failure:#}",
            waiting.len(),
            retry
        );
        // Waits for the retry, or for the log to close at shutdown.
        match rx.recv_timeout(retry) {
            Ok(path) => waiting.push(path),
            Err(RecvTimeoutError::Timeout) => {}
            // Shutting down: one last attempt, then the next start replays.
            Err(RecvTimeoutError::Disconnected) if !closing => closing = true,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(failure.context("the write-ahead log is kept for the next start"));
            }
        }
        retry = (retry * 2).min(MAX_RETRY);
    }
}

/// Stores the spans of closed segments, then deletes the segments.
fn compact(
    wal: &WalDir,
    batcher: &mut Batcher,
    paths: &[PathBuf],
    earlier: WriteStats,
    stats: &Stats,
) -> anyhow::Result<()> {
    let mut bytes = 0u64;
    for path in paths {
        let (records, cut) = read_segment(path)?;
        if let Some(why) = cut {
            // Only an unacknowledged tail can be torn (see wal.rs).
            tracing::warn!(
                "{}: ignoring an incomplete last record ({why})",
                path.display()
            );
        }
        let origin = path.display().to_string();
        for record in records {
            bytes += record.payload.len() as u64 + 9;
            body::decode(record.kind, &record.payload, &origin, batcher)?;
        }
    }
    let summary = batcher.commit()?;
    let (write, skipped) = (earlier + summary.write, summary.skipped);
    wal.remove(paths)?;
    stats.compacted(write, bytes, skipped);
    Ok(())
}
