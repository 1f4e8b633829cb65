//! `pull`: fetch traces from a backend's query API into the store, completely,
//! incrementally and politely.
//!
//! The range is searched adaptively ([`windows`]): the first search covers the whole
//! range (or as much of it as the backend accepts), and only a window whose answer is
//! full (the backends truncate silently) is split in halves and searched again, down
//! to a minimum width. A sparse month thus costs a handful of searches instead of one
//! per hour. Windows are searched depth first in time order ([`search`]); the traces
//! a final window found are fetched by id (where the search returns only ids) with
//! bounded concurrency, while the searches go on ahead. Each final window is
//! committed to the store in time order, and the checkpoint ([`checkpoint`]) is
//! advanced after each commit, only over windows that were pulled without failures,
//! so the next run continues exactly where the data stops. Still-running traces
//! ([`running`]) are held back and remembered in the checkpoint.

pub mod backend;
pub mod checkpoint;
mod error;
pub mod running;
mod search;
pub mod windows;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering;

use futures::stream::{self, FuturesUnordered, StreamExt};

use crate::ingest::{Batcher, IngestOptions};
use crate::model::Span;
use crate::source::backend::api::Window;
use crate::source::backend::http::redact;
use crate::store::Store;

pub use backend::{Backend, Services, jaeger_backends, zipkin_backends};
use checkpoint::{CHECKPOINT_VERSION, Checkpoint, PendingTrace};
pub use error::PullError;
use search::{Done, Searcher, Stop, WindowEnd, resolve};

const NS_PER_MIN: i64 = 60 * 1_000_000_000;

/// How to pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// Start of the range; `None` continues from the checkpoint (or `since_default_ns`).
    pub start_ns: Option<i64>,
    pub end_ns: i64,
    /// Start used when there is neither `start_ns` nor a checkpoint.
    pub since_default_ns: i64,
    /// Re-read this much before the checkpoint, for late-arriving spans.
    pub overlap_ns: i64,
    /// Width of the first windows (capped by the backend's maximum); `None`: the whole
    /// range.
    pub window_ns: Option<i64>,
    /// Full windows are split down to this width, and no further.
    pub min_window_ns: i64,
    /// Results asked for per search (`limit`, `search_depth`); `None`: the backend's
    /// default ([`Backend::default_limit`]).
    pub limit: Option<usize>,
    /// Searches in flight at once, and trace fetches in flight at once.
    pub concurrency: usize,
    /// Windows still full at the minimum width do not stop the checkpoint.
    pub allow_partial: bool,
    /// A trace that looks unfinished but whose last span started longer ago than this
    /// (before now) is stored as it is: it will not complete any more.
    pub running_grace_ns: i64,
    /// "now", in ns (injected for tests).
    pub now_ns: i64,
    pub ingest: IngestOptions,
}

impl PullOptions {
    /// Defaults for a pull ending at `now_ns`.
    pub fn new(now_ns: i64) -> PullOptions {
        PullOptions {
            start_ns: None,
            end_ns: now_ns,
            since_default_ns: now_ns - 7 * 24 * 60 * NS_PER_MIN,
            overlap_ns: 10 * NS_PER_MIN,
            window_ns: None,
            min_window_ns: 1_000_000_000,
            limit: None,
            concurrency: 8,
            allow_partial: false,
            running_grace_ns: 24 * 60 * NS_PER_MIN,
            now_ns,
            ingest: IngestOptions::default(),
        }
    }
}

/// What a pull did.
#[derive(Debug, Clone, Default)]
pub struct PullSummary {
    pub range: Option<Window>,
    /// Whether the range start came from a checkpoint.
    pub resumed: bool,
    /// Final windows (answered under the limit, or full at the minimum width) pulled.
    pub windows: u64,
    /// Searches made, those of windows that came back full and were split included.
    pub searches: u64,
    pub traces: u64,
    pub spans: u64,
    pub stored: u64,
    pub duplicates: u64,
    /// Traces held back because they are still running.
    pub running: u64,
    pub retries: u64,
    pub requests: u64,
    /// Requests that failed after their retries (the items were skipped).
    pub failures: Vec<String>,
    /// Windows still full at the minimum width.
    pub partial: Vec<String>,
    /// Where the last committed window ends (how far the pull has come).
    pub done_to_ns: Option<i64>,
    /// Where the checkpoint now ends.
    pub checkpoint_end_ns: Option<i64>,
}

impl PullSummary {
    /// Whether anything was missed (failures, or partial windows not allowed).
    pub fn incomplete(&self, allow_partial: bool) -> bool {
        !self.failures.is_empty() || (!self.partial.is_empty() && !allow_partial)
    }
}

/// Called after each committed window.
pub type Progress<'a> = &'a mut dyn FnMut(&PullSummary);

/// A final window while its fetches come in.
#[derive(Default)]
struct Open {
    traces: Vec<Vec<Span>>,
    failures: Vec<String>,
    /// Trace items done (fetched, failed or passed on).
    done: usize,
    end: Option<WindowEnd>,
}

impl Open {
    fn complete(&self) -> bool {
        self.end.as_ref().is_some_and(|end| end.traces == self.done)
    }
}

/// Pulls `backend` (at `url`, the key of its checkpoint) into `store`. A fatal error
/// (authentication, a rejected query, a search that failed after its retries) stops
/// the pull: what was committed before it stays, and the checkpoint covers exactly
/// that.
pub async fn pull(
    store: &Store,
    backend: &Backend,
    url: &str,
    options: &PullOptions,
    progress: Progress<'_>,
) -> Result<PullSummary, PullError> {
    let key = format!("{}|{}|{}", backend.name(), url, backend.query_key());
    let cp_path = checkpoint::checkpoint_path(store.root(), &key);
    let previous = checkpoint::load(&cp_path)?;
    let mut summary = PullSummary::default();
    let start = match (options.start_ns, &previous) {
        (Some(start), _) => start,
        (None, Some(cp)) => {
            summary.resumed = true;
            let pending = cp.pending.iter().map(|p| p.start_ns).min();
            (cp.covered_end_ns - options.overlap_ns).min(pending.unwrap_or(i64::MAX))
        }
        (None, None) => options.since_default_ns,
    };
    let end = options.end_ns;
    summary.range = Some(Window {
        start_ns: start,
        end_ns: end,
    });
    let width = options
        .window_ns
        .unwrap_or(i64::MAX)
        .min(backend.max_window_ns())
        .max(1);
    let mut first = windows::plan(start, end, width);
    first.reverse();

    // Coverage continues the previous checkpoint if the new range touches it.
    let mut covered_start = start;
    let mut old_pending = Vec::new();
    if let Some(cp) = &previous
        && start <= cp.covered_end_ns
        && start >= cp.covered_start_ns.saturating_sub(options.overlap_ns)
    {
        covered_start = cp.covered_start_ns.min(start);
        old_pending = cp.pending.clone();
    }

    let searcher = Searcher {
        backend,
        limit: options.limit.unwrap_or(backend.default_limit()).max(1),
        min_window_ns: options.min_window_ns,
        ahead: options.concurrency.max(1),
        todo: first,
        searching: FuturesUnordered::new(),
        started: HashSet::new(),
        answers: HashMap::new(),
        seen: HashSet::new(),
        seq: 0,
    };
    // Searches run ahead of the fetches as far as the concurrency lets them. Fetches
    // finish in any order (a slow one holds up nothing but its own window); windows
    // are committed in time order as each completes.
    let mut done = std::pin::pin!(
        stream::unfold(searcher, |mut searcher| async move {
            let work = searcher.next_window().await?;
            Some((stream::iter(work), searcher))
        })
        .flatten()
        .map(|work| resolve(backend, work))
        .buffer_unordered(options.concurrency.max(1))
    );

    let mut batcher = Batcher::open(store, &options.ingest)?;
    let mut pending: Vec<PendingTrace> = Vec::new();
    let mut contiguous = true;
    let mut open: BTreeMap<u64, Open> = BTreeMap::new();
    let mut next_seq = 0;
    let mut stopped: Option<Stop> = None;
    while let Some(item) = done.next().await {
        match item {
            Done::Trace { seq, spans } => {
                let window = open.entry(seq).or_default();
                window.traces.push(spans);
                window.done += 1;
            }
            Done::Failed { seq, failure } => {
                let window = open.entry(seq).or_default();
                window.failures.push(failure);
                window.done += 1;
            }
            Done::End(end) => {
                let seq = end.seq;
                open.entry(seq).or_default().end = Some(end);
            }
            Done::Stop(stop) if stop.finish_earlier => stopped = Some(stop),
            Done::Stop(stop) => {
                // Nothing of this window is committed, nor anything after it.
                batcher.finish()?;
                return Err(stop.into_error());
            }
        }
        while open.get(&next_seq).is_some_and(Open::complete) {
            let Some(window) = open.remove(&next_seq) else {
                break;
            };
            next_seq += 1;
            let cp = Commit {
                checkpoint: &cp_path,
                backend,
                url,
                covered_start,
                old_pending: &old_pending,
            };
            commit_window(
                window,
                &cp,
                options,
                &mut batcher,
                &mut pending,
                &mut contiguous,
                &mut summary,
            )?;
            progress(&summary);
        }
    }
    let finished = batcher.finish()?;
    if let Some(stop) = stopped {
        return Err(stop.into_error());
    }
    summary.stored = finished.write.stored;
    summary.duplicates = finished.write.duplicates;
    Ok(summary)
}

/// What committing a window needs to know of its pull.
struct Commit<'a> {
    checkpoint: &'a std::path::Path,
    backend: &'a Backend,
    url: &'a str,
    covered_start: i64,
    old_pending: &'a [PendingTrace],
}

/// Stores a completed final window (holding back running traces), commits the store
/// and, while every window so far was pulled cleanly, advances the checkpoint.
fn commit_window(
    mut open: Open,
    pull: &Commit<'_>,
    options: &PullOptions,
    batcher: &mut Batcher,
    pending: &mut Vec<PendingTrace>,
    contiguous: &mut bool,
    summary: &mut PullSummary,
) -> Result<(), PullError> {
    let Some(end) = open.end else {
        return Ok(());
    };
    summary.searches += end.searches;
    summary.windows += 1;
    // Store in a stable order whatever order the fetches finished in.
    open.traces
        .sort_by(|a, b| a[0].trace_id.cmp(&b[0].trace_id));
    for spans in open.traces {
        summary.traces += 1;
        summary.spans += spans.len() as u64;
        if running::still_running(&spans)
            && options.now_ns - running::last_start_ns(&spans) < options.running_grace_ns
        {
            summary.running += 1;
            pending.push(PendingTrace {
                trace_id: spans[0].trace_id.clone(),
                start_ns: running::first_start_ns(&spans),
            });
            continue;
        }
        for span in spans {
            batcher.add(span)?;
        }
    }
    let stats = batcher.commit()?.write;
    summary.stored = stats.stored;
    summary.duplicates = stats.duplicates;
    let clean = open.failures.is_empty() && (end.partial.is_none() || options.allow_partial);
    summary.failures.append(&mut open.failures);
    summary.partial.extend(end.partial);
    *contiguous &= clean;
    let window = end.window;
    if *contiguous {
        let mut keep: Vec<PendingTrace> = pull
            .old_pending
            .iter()
            .filter(|p| p.start_ns >= window.end_ns)
            .cloned()
            .collect();
        keep.extend(pending.iter().cloned());
        let cp = Checkpoint {
            version: CHECKPOINT_VERSION,
            backend: pull.backend.name().to_string(),
            url: redact(pull.url),
            query: pull.backend.query_key(),
            covered_start_ns: pull.covered_start,
            covered_end_ns: window.end_ns,
            pending: keep,
            written_at: chrono::Utc::now().to_rfc3339(),
        };
        checkpoint::save(pull.checkpoint, &cp)?;
        summary.checkpoint_end_ns = Some(window.end_ns);
    }
    summary.done_to_ns = Some(window.end_ns);
    let stats = pull.backend.http().stats();
    summary.retries = stats.retries.load(Ordering::Relaxed);
    summary.requests = stats.requests.load(Ordering::Relaxed);
    Ok(())
}
