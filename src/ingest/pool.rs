//! Decoding on worker threads while the calling thread normalises and writes.
//!
//! Decoding (parsing JSON, protobuf or XML into spans) is most of an ingest's work, and
//! every input decodes on its own. So `threads` workers take the inputs in order and
//! decode each into chunks of spans, while the caller takes the chunks input by input,
//! in input order: the batcher sees exactly the spans and problems, in exactly the
//! order, that a one-threaded ingest gives it, so the store is written the same
//! whatever the number of threads. Channels are bounded: a worker ahead of the
//! batcher waits, and decoded spans in memory stay under
//! `threads × (CHUNKS_IN_FLIGHT + 1) × CHUNK_SPANS` whatever the input size.
//!
//! A worker that takes an input hands its receiving end to the caller before it
//! decodes, so the caller always knows who is decoding the input it waits for. When
//! the caller stops (an error, `--strict`), it drops every receiver: each worker's
//! next send fails, and it takes no further input.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use super::{IngestError, IngestOptions, junit_context_for};
use crate::model::Span;
use crate::source::decode::junit;
use crate::source::{self, Format, InputSpec, Problem, SinkError, SpanSink};

/// Spans sent together: large enough that channel traffic costs nothing next to
/// decoding, small enough that a worker ahead holds little.
const CHUNK_SPANS: usize = 1024;

/// Chunks a worker may have sent that the caller has not taken yet.
const CHUNKS_IN_FLIGHT: usize = 4;

/// What a worker reports of the input it decodes, in the order it read it.
pub(super) enum Decoded {
    Spans(Vec<Span>),
    Skipped(Problem),
    /// The input is done: the bytes read from it, and the error that stopped it if
    /// one did (a read that failed midway; malformed items are `Skipped`).
    Done {
        bytes: u64,
        result: Result<(), IngestError>,
    },
}

/// Decodes `inputs` on `threads` workers (at least one) and gives each input's
/// [`Decoded`] items to `take`, input after input in order. Stops at `take`'s first
/// error and returns it.
pub(super) fn decode_in_order(
    inputs: &[InputSpec],
    options: &IngestOptions,
    threads: usize,
    take: &mut dyn FnMut(&InputSpec, Decoded) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let next_input = AtomicUsize::new(0);
    let stopped = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (handoff, handed) = channel();
        for _ in 0..threads.clamp(1, inputs.len().max(1)) {
            let handoff = handoff.clone();
            let (next_input, stopped) = (&next_input, &stopped);
            scope.spawn(move || work(inputs, options, next_input, stopped, handoff));
        }
        drop(handoff);
        let result = take_in_order(inputs, handed, take);
        // Whatever ended the loop, the receivers are dropped now: workers stop at
        // their next send, and the scope's join does not wait on them.
        stopped.store(true, Ordering::Relaxed);
        result
    })
}

fn take_in_order(
    inputs: &[InputSpec],
    handed: Receiver<(usize, Receiver<Decoded>)>,
    take: &mut dyn FnMut(&InputSpec, Decoded) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let mut waiting: HashMap<usize, Receiver<Decoded>> = HashMap::new();
    for (index, input) in inputs.iter().enumerate() {
        let decoded = loop {
            if let Some(receiver) = waiting.remove(&index) {
                break receiver;
            }
            let (handed_index, receiver) = handed.recv().map_err(|_| worker_lost(input))?;
            waiting.insert(handed_index, receiver);
        };
        let mut done = false;
        for item in decoded.iter() {
            done = matches!(item, Decoded::Done { .. });
            take(input, item)?;
        }
        if !done {
            return Err(worker_lost(input));
        }
    }
    Ok(())
}

/// A worker ended without finishing its input: it panicked (the scope re-raises the
/// panic when it joins; this error is what the caller sees if it does not).
fn worker_lost(input: &InputSpec) -> IngestError {
    IngestError::Decoder { name: input.name() }
}

fn work(
    inputs: &[InputSpec],
    options: &IngestOptions,
    next_input: &AtomicUsize,
    stopped: &AtomicBool,
    handoff: Sender<(usize, Receiver<Decoded>)>,
) {
    while !stopped.load(Ordering::Relaxed) {
        let index = next_input.fetch_add(1, Ordering::Relaxed);
        let Some(input) = inputs.get(index) else {
            return;
        };
        let (sender, receiver) = sync_channel(CHUNKS_IN_FLIGHT);
        if handoff.send((index, receiver)).is_err() {
            return;
        }
        let mut sink = ChunkSink {
            sender,
            chunk: Vec::with_capacity(CHUNK_SPANS),
        };
        let (bytes, result) = decode_input(input, options, &mut sink);
        let sent =
            sink.send_chunk().is_ok() && sink.sender.send(Decoded::Done { bytes, result }).is_ok();
        if !sent {
            return;
        }
    }
}

/// Decodes one input into `sink`: its format given or detected from its first bytes,
/// JUnit reports dated by the options' time or the file's mtime. Returns the bytes
/// read and what stopped the decoder, if anything did.
fn decode_input(
    input: &InputSpec,
    options: &IngestOptions,
    sink: &mut ChunkSink,
) -> (u64, Result<(), IngestError>) {
    let mut opened = match input.open() {
        Ok(opened) => opened,
        Err(error) => {
            let problem = Problem {
                location: input.name(),
                message: error.to_string(),
            };
            return (0, sink.skipped(problem).map_err(stopped_by_caller));
        }
    };
    let name = opened.name.clone();
    let format = match options.format {
        Some(format) => format,
        None => {
            let prefix = match opened.reader.fill_buf() {
                Ok(prefix) => prefix,
                Err(source) => return (0, Err(IngestError::Read { name, source })),
            };
            match source::detect(prefix) {
                Some(format) => format,
                None => {
                    let message = if prefix.is_empty() {
                        "empty input".to_string()
                    } else {
                        "not a recognised trace format (expected OTLP JSON or protobuf, Jaeger JSON, Zipkin JSON or JUnit XML)".to_string()
                    };
                    let problem = Problem {
                        location: name,
                        message,
                    };
                    return (0, sink.skipped(problem).map_err(stopped_by_caller));
                }
            }
        }
    };
    let mut counting = CountingRead {
        inner: &mut opened.reader,
        bytes: 0,
    };
    let result = match format {
        Format::Junit => {
            let ctx = junit_context_for(&options.junit, opened.mtime_ns);
            junit::decode(&mut counting, &name, &ctx, sink)
        }
        other => source::decode(other, &mut counting, &name, sink),
    };
    (counting.bytes, result.map_err(IngestError::from))
}

/// The only error a [`ChunkSink`] returns: the caller stopped taking. It is never
/// shown (the caller has its own error), so its text only needs to say what it is.
fn stopped_by_caller(error: SinkError) -> IngestError {
    IngestError::Source(source::SourceError::Sink(error))
}

/// Collects a worker's spans into chunks for the caller.
struct ChunkSink {
    sender: SyncSender<Decoded>,
    chunk: Vec<Span>,
}

impl ChunkSink {
    fn send_chunk(&mut self) -> Result<(), SinkError> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK_SPANS));
        self.send(Decoded::Spans(chunk))
    }

    fn send(&self, item: Decoded) -> Result<(), SinkError> {
        self.sender
            .send(item)
            .map_err(|_| "the ingest stopped taking decoded spans".into())
    }
}

impl SpanSink for ChunkSink {
    fn span(&mut self, span: Span) -> Result<(), SinkError> {
        self.chunk.push(span);
        if self.chunk.len() >= CHUNK_SPANS {
            self.send_chunk()?;
        }
        Ok(())
    }

    fn skipped(&mut self, problem: Problem) -> Result<(), SinkError> {
        // The spans before the problem go first, so the caller sees the input's order.
        self.send_chunk()?;
        self.send(Decoded::Skipped(problem))
    }
}

/// Counts bytes read, for the MB/s figure.
struct CountingRead<'a> {
    inner: &'a mut Box<dyn std::io::BufRead + Send>,
    bytes: u64,
}

impl std::io::Read for CountingRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

impl std::io::BufRead for CountingRead<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.bytes += amt as u64;
        self.inner.consume(amt);
    }
}
