//! `pull`: fetch traces from a backend's query API into the store, completely,
//! incrementally and politely.
//!
//! The range is cut into windows ([`windows`]); each window is searched, and a
//! window whose answer is full is split and searched again (the backends truncate
//! silently). Traces found as ids are fetched with bounded concurrency. Windows are
//! committed to the store in time order, and the checkpoint ([`checkpoint`]) is
//! advanced after each commit, only over windows that were pulled without failures,
//! so the next run continues exactly where the data stops. Still-running traces
//! ([`running`]) are held back and remembered in the checkpoint.

pub mod backend;
pub mod checkpoint;
mod error;
pub mod running;
pub mod windows;

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use futures::{StreamExt, stream};

use crate::ingest::{Batcher, IngestOptions};
use crate::model::Span;
use crate::source::backend::api::{Found, Window};
use crate::source::backend::http::{HttpError, redact};
use crate::store::Store;

pub use backend::{Backend, Services, jaeger_backends};
use checkpoint::{CHECKPOINT_VERSION, Checkpoint, PendingTrace};
pub use error::PullError;
use windows::Split;

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
    /// Width of the first windows (capped by the backend's maximum).
    pub window_ns: i64,
    /// Full windows are split down to this width, and no further.
    pub min_window_ns: i64,
    /// Results asked for per search (`limit`, `search_depth`).
    pub limit: usize,
    /// Searches and trace fetches in flight at once.
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
            window_ns: 60 * NS_PER_MIN,
            min_window_ns: 1_000_000_000,
            limit: 1000,
            concurrency: 4,
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
    pub windows: u64,
    pub windows_done: u64,
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

/// What one top-level window produced before it is committed.
#[derive(Default)]
struct WindowResult {
    searches: u64,
    traces: Vec<Vec<Span>>,
    failures: Vec<String>,
    partial: Vec<String>,
}

/// Pulls `backend` (at `url`, the key of its checkpoint) into `store`. A fatal error
/// (authentication, a rejected query) stops the pull: what was committed before it
/// stays, and the checkpoint covers exactly that.
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
    let range = Window {
        start_ns: start,
        end_ns: end,
    };
    summary.range = Some(range);
    let width = options.window_ns.min(backend.max_window_ns()).max(1);
    let planned = windows::plan(start, end, width);
    summary.windows = planned.len() as u64;

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

    let mut batcher = Batcher::open(store, &options.ingest)?;
    let seen: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let mut pending: Vec<PendingTrace> = Vec::new();
    let mut contiguous = true;

    let mut results = stream::iter(planned.iter().copied())
        .map(|w| {
            let seen = &seen;
            async move { (w, collect_window(backend, w, options, seen).await) }
        })
        .buffered(options.concurrency.max(1));
    while let Some((window, result)) = results.next().await {
        let result = match result {
            Ok(result) => result,
            Err(e) => {
                // Stop: later windows must not be committed past a fatal error either.
                drop(results);
                batcher.finish()?;
                return Err(PullError::Stopped { window, source: e });
            }
        };
        summary.searches += result.searches;
        for spans in result.traces {
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
        let clean =
            result.failures.is_empty() && (result.partial.is_empty() || options.allow_partial);
        summary.failures.extend(result.failures);
        summary.partial.extend(result.partial);
        contiguous &= clean;
        if contiguous {
            let mut keep: Vec<PendingTrace> = old_pending
                .iter()
                .filter(|p| p.start_ns >= window.end_ns)
                .cloned()
                .collect();
            keep.extend(pending.iter().cloned());
            let cp = Checkpoint {
                version: CHECKPOINT_VERSION,
                backend: backend.name().to_string(),
                url: redact(url),
                query: backend.query_key(),
                covered_start_ns: covered_start,
                covered_end_ns: window.end_ns,
                pending: keep,
                written_at: chrono::Utc::now().to_rfc3339(),
            };
            checkpoint::save(&cp_path, &cp)?;
            summary.checkpoint_end_ns = Some(window.end_ns);
        }
        summary.windows_done += 1;
        let stats = backend.http().stats();
        summary.retries = stats.retries.load(Ordering::Relaxed);
        summary.requests = stats.requests.load(Ordering::Relaxed);
        progress(&summary);
    }
    drop(results);
    let done = batcher.finish()?;
    summary.stored = done.write.stored;
    summary.duplicates = done.write.duplicates;
    Ok(summary)
}

/// Searches one window, splitting it while answers come back full, then fetches the
/// traces found as ids. Non-fatal failures are recorded and the rest goes on.
async fn collect_window(
    backend: &Backend,
    window: Window,
    options: &PullOptions,
    seen: &Mutex<HashSet<String>>,
) -> Result<WindowResult, HttpError> {
    let mut result = WindowResult::default();
    let mut ids = Vec::new();
    let mut todo = vec![window];
    let first_time = |id: &str| match seen.lock() {
        Ok(mut set) => set.insert(id.to_string()),
        Err(poisoned) => poisoned.into_inner().insert(id.to_string()),
    };
    while let Some(w) = todo.pop() {
        result.searches += 1;
        let found = match backend.search(w, options.limit).await {
            Ok(found) => found,
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => {
                result.failures.push(e.to_string());
                continue;
            }
        };
        match windows::split(w, found.hits, options.limit, options.min_window_ns) {
            Split::Halves(a, b) => {
                todo.push(b);
                todo.push(a);
                continue;
            }
            Split::Partial => result.partial.push(format!(
                "window {w} still returned {} traces (the limit) at the minimum width; traces may be missing (raise --limit or lower --min-window)",
                found.hits
            )),
            Split::Complete => {}
        }
        for trace in found.found {
            if !first_time(trace.trace_id()) {
                continue;
            }
            match trace {
                Found::Spans(spans) => result.traces.push(spans),
                Found::Id(id) => ids.push(id),
            }
        }
    }
    let mut fetched = stream::iter(ids)
        .map(|id| async move {
            let spans = backend.fetch(&id).await;
            (id, spans)
        })
        .buffer_unordered(options.concurrency.max(1));
    while let Some((id, spans)) = fetched.next().await {
        match spans {
            Ok(spans) if spans.is_empty() => {
                result
                    .failures
                    .push(format!("trace {id}: found by the search but not by id"));
            }
            Ok(spans) => result.traces.push(spans),
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => result.failures.push(format!("trace {id}: {e}")),
        }
    }
    // Store in a stable order whatever order the fetches finished in.
    result
        .traces
        .sort_by(|a, b| a[0].trace_id.cmp(&b[0].trace_id));
    Ok(result)
}
