//! Ingest: inputs → decoder → CI normaliser → store.
//!
//! [`IngestJob`] is what `pipescope ingest` and `demo` run (command-line paths expanded
//! into inputs, the store opened); [`ingest`] decodes inputs into a [`Batcher`], which
//! `pull` and `receive` also feed directly. Inputs decode on worker threads (`pool`)
//! while the calling thread normalises and writes, in input order, so the store is
//! the same whatever the number of threads.
//!
//! Spans are buffered grouped by trace so that the normaliser sees a trace's spans
//! together (roles depend on the tree; branch and commit are propagated across the
//! trace). The buffer is flushed every `batch_spans` spans, which bounds memory
//! whatever the input size; facts learned about a trace in one batch are remembered
//! and applied to its spans in later batches, and recorded in the store's trace-facts
//! table so that spans stored by an earlier ingest get them too (at query time).
//!
//! JUnit reports carry no CI context of their own: [`IngestOptions::junit`] gives it
//! (flags, else the CI environment), and each report without a `timestamp` is dated
//! by `--time`, else its file's mtime ([`junit_context_for`]). [`ingest_junit`] is the
//! entry point for a command that ingests the report of the run that just finished
//! (`gate --junit`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

mod pool;
use pool::Decoded;

use crate::model::Span;
use crate::model::conventions::Conventions;
use crate::model::normalize::{Normalizer, TraceFacts};
use crate::source::decode::junit;
pub use crate::source::decode::junit::JunitContext;
use crate::source::{self, Format, InputSpec, Problem, SinkError, SourceError, SpanSink};
use crate::store::{Store, StoreError, StoreWriter, WriteStats};

/// What stops an ingest (malformed items only do with `--strict`).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The store could not be opened for writing.
    #[error("cannot open the store at {}", path.display())]
    OpenStore {
        path: PathBuf,
        #[source]
        source: StoreError,
    },
    /// Writing or committing spans failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An input could not be found, opened or read.
    #[error(transparent)]
    Source(SourceError),
    /// The first bytes of an input could not be read (to detect its format).
    #[error("cannot read {name}")]
    Read {
        name: String,
        #[source]
        source: std::io::Error,
    },
    /// `strict` is set and an item was malformed.
    #[error("{problem}")]
    Strict { problem: Problem },
    /// A decoding thread ended before finishing an input (it panicked).
    #[error("decoding {name} stopped unexpectedly")]
    Decoder { name: String },
}

impl From<SourceError> for IngestError {
    /// A decoder stopped by the batcher gives the batcher's own error back.
    fn from(error: SourceError) -> IngestError {
        match error {
            SourceError::Sink(inner) => match inner.downcast::<IngestError>() {
                Ok(own) => *own,
                Err(other) => IngestError::Source(SourceError::Sink(other)),
            },
            other => IngestError::Source(other),
        }
    }
}

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Decode every input as this format instead of detecting it.
    pub format: Option<Format>,
    /// Stop at the first malformed item instead of skipping it.
    pub strict: bool,
    /// Spans buffered before they are normalised and handed to the store.
    pub batch_spans: usize,
    pub conventions: Conventions,
    /// Counts spans as they are decoded, for a progress display that must move inside
    /// one large file (the per-input callback of [`ingest`] fires between files).
    pub spans_seen: Option<Arc<AtomicU64>>,
    /// Threads decoding inputs while this one normalises and writes (see `pool`):
    /// several inputs decode at once, one input on one thread.
    pub threads: usize,
    /// The CI context of JUnit reports (run, attempt, task, branch, commit, repo).
    /// Its `time_ns`, when set (`--time`), dates every report without a `timestamp`;
    /// when absent, each file's mtime does.
    pub junit: JunitContext,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            format: None,
            strict: false,
            batch_spans: 50_000,
            conventions: Conventions::builtin(),
            spans_seen: None,
            threads: default_threads(),
            junit: JunitContext::default(),
        }
    }
}

/// One decoding thread per core: the writing thread waits on them most of the time.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The context one JUnit input is decoded with: `base`, dated (for suites without a
/// `timestamp`) by `base`'s explicit time, else the file's mtime. An explicit time
/// wins over the mtime because the mtime of a report is often when it was copied
/// (an artifact download, a cache restore), not when its tests ran.
pub fn junit_context_for(base: &JunitContext, mtime_ns: Option<i64>) -> JunitContext {
    JunitContext {
        time_ns: base.time_ns.or(mtime_ns),
        ..base.clone()
    }
}

/// What [`ingest_junit`] did: the ingest's summary and the runs it stored.
#[derive(Debug, Clone)]
pub struct JunitIngest {
    pub summary: IngestSummary,
    /// Distinct run ids (`run_id` column) the reports were stored under, in input
    /// order: the context's run id alone when it names one.
    pub run_ids: Vec<String>,
}

/// Ingests JUnit reports (`paths`: files, directories, globs, `-`) into the store at
/// `data` with the CI context `ctx`, as `ingest --format junit` would: for a command
/// that judges the run that just finished (`gate --junit`). `ctx` is used as given;
/// fill it from the CI environment first with [`JunitContext::with_env`]. Malformed
/// reports are counted as skipped in the summary (an error with `options.strict`).
pub fn ingest_junit(
    data: &Path,
    paths: &[String],
    ctx: &JunitContext,
    options: &IngestOptions,
) -> Result<JunitIngest, IngestError> {
    let job = IngestJob::open(data, paths)?;
    let options = IngestOptions {
        format: Some(Format::Junit),
        junit: ctx.clone(),
        ..options.clone()
    };
    // The run id of a report without one depends on its mtime: read it as ingest will.
    let mut run_ids: Vec<String> = Vec::new();
    for input in job.inputs() {
        let id = junit::run_id(&junit_context_for(ctx, input.mtime_ns()), &input.name());
        if !run_ids.contains(&id) {
            run_ids.push(id);
        }
    }
    let summary = job.run(&options, &mut |_, _| {})?;
    Ok(JunitIngest { summary, run_ids })
}

/// What an ingest did.
#[derive(Debug, Default, Clone)]
pub struct IngestSummary {
    pub files: u64,
    pub bytes: u64,
    pub traces: u64,
    pub spans_read: u64,
    pub write: WriteStats,
    /// Malformed items and unreadable files that were skipped.
    pub skipped: u64,
    /// The first problems, for the report (all are counted in `skipped`).
    pub problems: Vec<Problem>,
}

/// Traces whose facts a committing batcher keeps in memory (see [`Batcher::commit`]).
pub const MAX_REMEMBERED_TRACES: usize = 200_000;

/// Problems kept for the report; the rest are only counted.
const MAX_PROBLEMS_KEPT: usize = 50;

/// Called after each input with the running summary (for a progress bar).
pub type Progress<'a> = &'a mut dyn FnMut(&str, &IngestSummary);

/// Command-line paths ready to ingest: expanded into inputs (files, directories read
/// recursively, glob patterns, `-` for stdin) and the store they go to, opened. A
/// caller can size a progress display by [`IngestJob::inputs`] before
/// [`IngestJob::run`].
#[derive(Debug)]
pub struct IngestJob {
    store: Store,
    inputs: Vec<InputSpec>,
}

impl IngestJob {
    /// Expands `paths` (an argument naming nothing is an error) and opens (creating
    /// it if needed) the store at `data`.
    pub fn open(data: &Path, paths: &[String]) -> Result<IngestJob, IngestError> {
        let inputs = source::expand_inputs(paths).map_err(IngestError::Source)?;
        let store = Store::open(data).map_err(|source| IngestError::OpenStore {
            path: data.to_path_buf(),
            source,
        })?;
        Ok(IngestJob { store, inputs })
    }

    /// The inputs the paths expanded to.
    pub fn inputs(&self) -> &[InputSpec] {
        &self.inputs
    }

    /// Ingests every input (see [`ingest`]).
    pub fn run(
        &self,
        options: &IngestOptions,
        progress: Progress<'_>,
    ) -> Result<IngestSummary, IngestError> {
        ingest(&self.store, &self.inputs, options, progress)
    }
}

/// Ingests every input into the store. With `strict`, the first problem is an error
/// and nothing of the ingest is stored.
pub fn ingest(
    store: &Store,
    inputs: &[InputSpec],
    options: &IngestOptions,
    progress: Progress<'_>,
) -> Result<IngestSummary, IngestError> {
    let mut batcher = Batcher::open(store, options)?;
    let mut take = |input: &InputSpec, decoded: Decoded| match decoded {
        Decoded::Spans(spans) => spans.into_iter().try_for_each(|span| batcher.add(span)),
        Decoded::Skipped(problem) => batcher.skip(problem),
        Decoded::Done { bytes, result } => {
            batcher.summary.files += 1;
            batcher.summary.bytes += bytes;
            result?;
            progress(&input.name(), &batcher.summary);
            Ok(())
        }
    };
    pool::decode_in_order(inputs, options, options.threads, &mut take)?;
    batcher.finish()
}

/// The store end of a pipeline: a [`SpanSink`] that groups spans by trace,
/// normalises them and writes them to a [`StoreWriter`]. `ingest` feeds it from files;
/// `pull` feeds it spans fetched over HTTP and commits after each time window;
/// `receive` keeps one for its lifetime and commits it after each compaction.
pub struct Batcher {
    writer: StoreWriter,
    normalizer: Normalizer,
    strict: bool,
    batch_spans: usize,
    buffered: HashMap<String, Vec<Span>>,
    buffered_count: usize,
    facts: HashMap<String, TraceFacts>,
    traces: HashSet<String>,
    summary: IngestSummary,
    spans_seen: Option<Arc<AtomicU64>>,
}

impl Batcher {
    /// A batcher writing through `writer`, with `options`' conventions, batch size and
    /// strictness (the format option is not used here).
    pub fn new(writer: StoreWriter, options: &IngestOptions) -> Batcher {
        Batcher {
            writer,
            normalizer: Normalizer::new(options.conventions.clone()),
            strict: options.strict,
            batch_spans: options.batch_spans.max(1),
            buffered: HashMap::new(),
            buffered_count: 0,
            facts: HashMap::new(),
            traces: HashSet::new(),
            summary: IngestSummary::default(),
            spans_seen: options.spans_seen.clone(),
        }
    }

    /// A batcher on a new writer of `store` (see [`Batcher::new`]).
    pub fn open(store: &Store, options: &IngestOptions) -> Result<Batcher, IngestError> {
        let writer = StoreWriter::new(store).map_err(|source| IngestError::OpenStore {
            path: store.root().to_path_buf(),
            source,
        })?;
        Ok(Batcher::new(writer, options))
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        let mut traces: Vec<(String, Vec<Span>)> = self.buffered.drain().collect();
        traces.sort_by(|a, b| a.0.cmp(&b.0));
        let mut batch = Vec::with_capacity(self.buffered_count);
        for (trace_id, mut spans) in traces {
            let known = self.facts.get(&trace_id);
            let facts = self.normalizer.normalize_trace(&mut spans, known);
            self.writer.set_trace_facts(&trace_id, &facts);
            self.facts.insert(trace_id, facts);
            batch.append(&mut spans);
        }
        self.buffered_count = 0;
        self.writer.write(batch)?;
        Ok(())
    }

    /// Normalises and writes what is buffered and makes everything so far durable;
    /// returns the running summary. Trace facts stay remembered for spans of the same
    /// traces arriving later, up to [`MAX_REMEMBERED_TRACES`] traces, so that a
    /// long-running receiver does not grow without bound (the store's trace-facts
    /// table still completes those traces at query time).
    pub fn commit(&mut self) -> Result<&IngestSummary, IngestError> {
        self.flush()?;
        self.summary.write = self.writer.commit()?;
        self.summary.traces = self.traces.len() as u64;
        if self.facts.len() > MAX_REMEMBERED_TRACES {
            self.facts.clear();
            self.traces.clear();
        }
        Ok(&self.summary)
    }

    /// What the commits so far did.
    pub fn summary(&self) -> &IngestSummary {
        &self.summary
    }

    /// Commits and releases the store.
    pub fn finish(mut self) -> Result<IngestSummary, IngestError> {
        self.flush()?;
        self.summary.write = self.writer.finish()?;
        self.summary.traces = self.traces.len() as u64;
        Ok(self.summary)
    }
}

impl Batcher {
    /// Takes one span; every `batch_spans` spans the buffer is normalised and written.
    pub fn add(&mut self, span: Span) -> Result<(), IngestError> {
        self.summary.spans_read += 1;
        if let Some(seen) = &self.spans_seen {
            seen.fetch_add(1, Ordering::Relaxed);
        }
        if !self.traces.contains(&span.trace_id) {
            self.traces.insert(span.trace_id.clone());
        }
        self.buffered
            .entry(span.trace_id.clone())
            .or_default()
            .push(span);
        self.buffered_count += 1;
        if self.buffered_count >= self.batch_spans {
            self.flush()?;
        }
        Ok(())
    }

    /// Counts a skipped item (keeping the first ones for the report); with `strict`,
    /// the item is an error instead.
    pub fn skip(&mut self, problem: Problem) -> Result<(), IngestError> {
        if self.strict {
            return Err(IngestError::Strict { problem });
        }
        self.summary.skipped += 1;
        if self.summary.problems.len() < MAX_PROBLEMS_KEPT {
            self.summary.problems.push(problem);
        }
        Ok(())
    }
}

impl SpanSink for Batcher {
    fn span(&mut self, span: Span) -> Result<(), SinkError> {
        Ok(self.add(span)?)
    }

    fn skipped(&mut self, problem: Problem) -> Result<(), SinkError> {
        Ok(self.skip(problem)?)
    }
}

#[cfg(test)]
mod tests;
