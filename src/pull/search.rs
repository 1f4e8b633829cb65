//! The searching side of a pull: [`Searcher`] walks the range depth first in time
//! order, splitting full windows ([`super::windows`]) and searching ahead, and turns
//! each final window into [`Work`] items (its traces, then its end); [`resolve`] does
//! an item (fetching a trace by id where the search returned only ids). `pull` runs
//! the items with bounded concurrency and commits the windows in order.

use std::collections::{HashMap, HashSet};

use futures::future::{FutureExt, LocalBoxFuture};
use futures::stream::{FuturesUnordered, StreamExt};

use super::windows::{self, Split};
use super::{Backend, PullError};
use crate::model::Span;
use crate::source::backend::api::{Found, SearchResult, Window};
use crate::source::backend::http::HttpError;

/// One item of a pull's work. Final windows are numbered in time order (`seq`); the
/// items of one window are its traces and its end, which says how many traces to wait
/// for.
pub(super) enum Work {
    /// A trace the search returned whole (Jaeger, Zipkin).
    Spans { seq: u64, spans: Vec<Span> },
    /// A trace the search only named (Tempo), to fetch by id.
    Fetch {
        seq: u64,
        id: String,
        window: Window,
    },
    /// After the traces of a final window.
    End(WindowEnd),
    /// A request failed in a way that stops the pull.
    Stop(Stop),
}

/// A work item, done.
pub(super) enum Done {
    Trace {
        seq: u64,
        spans: Vec<Span>,
    },
    /// A fetch that failed after its retries: the trace is skipped.
    Failed {
        seq: u64,
        failure: String,
    },
    End(WindowEnd),
    Stop(Stop),
}

/// The end of a final window.
pub(super) struct WindowEnd {
    pub(super) seq: u64,
    pub(super) window: Window,
    /// How many trace items the window has.
    pub(super) traces: usize,
    /// Searches it took (splits included).
    pub(super) searches: u64,
    /// Set when the window is still full at the minimum width.
    pub(super) partial: Option<String>,
}

/// Why and where a pull stops.
pub(super) struct Stop {
    pub(super) window: Window,
    pub(super) error: HttpError,
    /// Whether the windows before it are still to be finished (a search failed: no
    /// more work follows) or the pull stops at once (a fatal fetch error: every other
    /// request would fail too).
    pub(super) finish_earlier: bool,
}

impl Stop {
    pub(super) fn into_error(self) -> PullError {
        let (window, source) = (self.window, self.error);
        match source {
            HttpError::Transport { .. } => PullError::Unreachable { window, source },
            _ => PullError::Stopped { window, source },
        }
    }
}

/// A search under way.
type Searching<'a> = LocalBoxFuture<'a, (Window, Result<SearchResult, HttpError>)>;

/// Searches the range depth first in time order: a window whose answer is full is
/// replaced by its halves, the earlier one first; a window answered under the limit
/// (or full at the minimum width) is final. The next few windows to search are
/// searched ahead, concurrently: every window on the stack is searched sooner or later
/// (splitting one does not change the others), so searching ahead wastes nothing.
pub(super) struct Searcher<'a> {
    pub(super) backend: &'a Backend,
    pub(super) limit: usize,
    pub(super) min_window_ns: i64,
    /// Searches in flight at once.
    pub(super) ahead: usize,
    /// Windows still to search, the earliest on top.
    pub(super) todo: Vec<Window>,
    /// Searches under way, and their windows.
    pub(super) searching: FuturesUnordered<Searching<'a>>,
    pub(super) started: HashSet<Window>,
    /// Answers that came before their window's turn.
    pub(super) answers: HashMap<Window, Result<SearchResult, HttpError>>,
    /// Traces already handed on: one trace can answer several windows.
    pub(super) seen: HashSet<String>,
    /// The number of the next final window.
    pub(super) seq: u64,
}

impl<'a> Searcher<'a> {
    /// The answer of the search of `window` (the top of the stack), starting the
    /// searches of the windows after it on the way.
    async fn answer(&mut self, window: Window) -> Result<SearchResult, HttpError> {
        let (backend, limit) = (self.backend, self.limit);
        for &w in self.todo.iter().rev().take(self.ahead) {
            if self.started.insert(w) {
                self.searching
                    .push(async move { (w, backend.search(w, limit).await) }.boxed_local());
            }
        }
        loop {
            if let Some(answer) = self.answers.remove(&window) {
                self.started.remove(&window);
                return answer;
            }
            match self.searching.next().await {
                Some((w, answer)) => {
                    self.answers.insert(w, answer);
                }
                // Unreachable: the window's search was started above.
                None => return backend.search(window, limit).await,
            }
        }
    }

    /// Searches until a window is final and returns its work; `None` when the range is
    /// done.
    ///
    /// A search that fails after its retries stops the pull: nothing after it could be
    /// checkpointed, and every later search would most likely fail the same way (an
    /// unreachable backend is one error, not one per window).
    pub(super) async fn next_window(&mut self) -> Option<Vec<Work>> {
        let mut searches = 0;
        while let Some(&window) = self.todo.last() {
            searches += 1;
            let answer = self.answer(window).await;
            self.todo.pop();
            let found = match answer {
                Ok(found) => found,
                Err(error) => {
                    self.todo.clear();
                    self.searching.clear();
                    return Some(vec![Work::Stop(Stop {
                        window,
                        error,
                        finish_earlier: true,
                    })]);
                }
            };
            let partial = match windows::split(window, found.hits, self.limit, self.min_window_ns) {
                Split::Halves(earlier, later) => {
                    self.todo.push(later);
                    self.todo.push(earlier);
                    continue;
                }
                Split::Partial => Some(format!(
                    "window {window} still returned {} traces (the limit) at the minimum width; traces may be missing (raise --limit or lower --min-window)",
                    found.hits
                )),
                Split::Complete => None,
            };
            let seq = self.seq;
            self.seq += 1;
            let mut work = Vec::with_capacity(found.found.len() + 1);
            for trace in found.found {
                if !self.seen.insert(trace.trace_id().to_string()) {
                    continue;
                }
                work.push(match trace {
                    Found::Spans(spans) => Work::Spans { seq, spans },
                    Found::Id(id) => Work::Fetch { seq, id, window },
                });
            }
            work.push(Work::End(WindowEnd {
                seq,
                window,
                traces: work.len(),
                searches,
                partial,
            }));
            return Some(work);
        }
        None
    }
}

/// Does one work item: fetches a trace named by id, passes the rest on.
pub(super) async fn resolve(backend: &Backend, work: Work) -> Done {
    match work {
        Work::Spans { seq, spans } => Done::Trace { seq, spans },
        Work::Fetch { seq, id, window } => match backend.fetch(&id).await {
            Ok(spans) if spans.is_empty() => Done::Failed {
                seq,
                failure: format!("trace {id}: found by the search but not by id"),
            },
            Ok(spans) => Done::Trace { seq, spans },
            Err(error) if error.is_fatal() => Done::Stop(Stop {
                window,
                error,
                finish_earlier: false,
            }),
            Err(e) => Done::Failed {
                seq,
                failure: format!("trace {id}: {e}"),
            },
        },
        Work::End(end) => Done::End(end),
        Work::Stop(stop) => Done::Stop(stop),
    }
}
