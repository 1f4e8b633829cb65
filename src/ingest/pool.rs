//! Decoding on worker threads while the calling thread normalises and writes.
//!
//! Decoding (parsing JSON, protobuf or XML into spans) is most of an ingest's work, and
//! every input decodes on its own. So `threads` workers take the inputs in order and
//! decode each into chunks of spans, while the caller takes the chunks input by input,
//! in input order: the batcher sees exactly the spans and problems, in exactly the
//! order, that a one-threaded ingest gives it, so the store is written the same
//! whatever the number of threads. The lead is bounded twice: no worker starts an
//! input more than [`inputs_ahead`] past the one the batcher takes, and each input's
//! channel holds a few chunks, so the decoded spans waiting stay under about one
//! batch (`--batch-spans`) whatever the number and size of the inputs. That much lead
//! is what lets decoding go on while the batcher normalises and writes a batch; with
//! less, the workers would stand still through every flush.
//!
//! A worker that takes an input hands its receiving end to the caller before it
//! decodes, so the caller always knows who is decoding the input it waits for. When
//! the caller stops (an error, `--strict`), it drops every receiver: each worker's
//! next send fails, and it takes no further input.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Condvar, Mutex, MutexGuard};

use super::{IngestError, IngestOptions, junit_context_for};
use crate::model::Span;
use crate::source::decode::junit;
use crate::source::{self, Format, InputSpec, Problem, SinkError, SpanSink};

/// Spans sent together: large enough that channel traffic costs nothing next to
/// decoding, small enough that a worker ahead holds little.
const CHUNK_SPANS: usize = 1024;

/// Inputs past the one the caller takes that workers may decode: enough that every
/// worker has one while the caller drains another.
fn inputs_ahead(threads: usize) -> usize {
    2 * threads
}

/// Chunks of one input sent and not taken yet: the inputs ahead together about one
/// batch (see the module's doc), within bounds.
fn chunks_in_flight(options: &IngestOptions, threads: usize) -> usize {
    (options.batch_spans / CHUNK_SPANS / (inputs_ahead(threads) + 1)).clamp(2, 64)
}

/// Where the workers and the caller are, shared.
struct Lead {
    state: Mutex<LeadState>,
    /// Signalled when the caller moves to its next input or stops.
    moved: Condvar,
    /// How far past `taking` a worker may start an input.
    ahead: usize,
}

struct LeadState {
    /// The next input a worker takes.
    next_input: usize,
    /// The input the caller takes from.
    taking: usize,
    /// The caller stopped: workers take nothing more.
    stopped: bool,
}

impl Lead {
    fn new(ahead: usize) -> Lead {
        Lead {
            state: Mutex::new(LeadState {
                next_input: 0,
                taking: 0,
                stopped: false,
            }),
            moved: Condvar::new(),
            ahead,
        }
    }

    fn lock(&self) -> MutexGuard<'_, LeadState> {
        // A worker that panicked while holding the lock left nothing half-done.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next input for a worker once it is within the lead, or `None` when there
    /// is none or the caller stopped. The input the caller takes is always within it,
    /// so the caller never waits for a worker that waits for the caller.
    fn next_for_worker(&self, inputs: usize) -> Option<usize> {
        let mut state = self.lock();
        if state.stopped || state.next_input >= inputs {
            return None;
        }
        let index = state.next_input;
        state.next_input += 1;
        while !state.stopped && index > state.taking + self.ahead {
            state = self
                .moved
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        (!state.stopped).then_some(index)
    }

    fn caller_moves_to(&self, index: usize) {
        self.lock().taking = index;
        self.moved.notify_all();
    }

    fn caller_stops(&self) {
        self.lock().stopped = true;
        self.moved.notify_all();
    }
}

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
    let threads = threads.clamp(1, inputs.len().max(1));
    let lead = Lead::new(inputs_ahead(threads));
    decode_with_lead(inputs, options, threads, &lead, take)
}

fn decode_with_lead(
    inputs: &[InputSpec],
    options: &IngestOptions,
    threads: usize,
    lead: &Lead,
    take: &mut dyn FnMut(&InputSpec, Decoded) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let in_flight = chunks_in_flight(options, threads);
    std::thread::scope(|scope| {
        let (handoff, handed) = channel();
        for _ in 0..threads {
            let handoff = handoff.clone();
            scope.spawn(move || work(inputs, options, in_flight, lead, handoff));
        }
        drop(handoff);
        let result = take_in_order(inputs, lead, handed, take);
        // Whatever ended the loop, the receivers are dropped now: workers stop at
        // their next send or wait, and the scope's join does not wait on them.
        lead.caller_stops();
        result
    })
}

fn take_in_order(
    inputs: &[InputSpec],
    lead: &Lead,
    handed: Receiver<(usize, Receiver<Decoded>)>,
    take: &mut dyn FnMut(&InputSpec, Decoded) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let mut waiting: HashMap<usize, Receiver<Decoded>> = HashMap::new();
    for (index, input) in inputs.iter().enumerate() {
        lead.caller_moves_to(index);
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
    in_flight: usize,
    lead: &Lead,
    handoff: Sender<(usize, Receiver<Decoded>)>,
) {
    while let Some(index) = lead.next_for_worker(inputs.len()) {
        let input = &inputs[index];
        let (sender, receiver) = sync_channel(in_flight);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// However slow the caller, workers decode no further than the lead ahead of it:
    /// memory does not grow with the number of inputs.
    #[test]
    fn workers_stay_within_the_lead_of_a_slow_caller() {
        let dir = tempfile::tempdir().unwrap();
        let inputs: Vec<InputSpec> = (0..60)
            .map(|i| {
                let path = dir.path().join(format!("{i:02}.jsonl"));
                std::fs::write(&path, crate::synth::otlp_json_lines(i, 30)).unwrap();
                InputSpec::Path(path)
            })
            .collect();
        let threads = 3;
        let lead = Lead::new(inputs_ahead(threads));
        let mut furthest_lead = 0;
        let mut done = 0;
        let mut take = |_: &InputSpec, decoded: Decoded| {
            if let Decoded::Done { result, .. } = decoded {
                result?;
                done += 1;
                // Give the workers time to run as far ahead as they can.
                std::thread::sleep(std::time::Duration::from_millis(20));
                let state = lead.lock();
                furthest_lead = furthest_lead.max(state.next_input - state.taking);
            }
            Ok(())
        };
        decode_with_lead(
            &inputs,
            &IngestOptions::default(),
            threads,
            &lead,
            &mut take,
        )
        .unwrap();
        assert_eq!(done, 60);
        // Taken inputs: up to `ahead` past the caller's, plus one each waiting worker holds.
        assert!(
            furthest_lead <= inputs_ahead(threads) + threads + 1,
            "workers ran {furthest_lead} inputs ahead"
        );
        assert!(
            furthest_lead >= inputs_ahead(threads),
            "the workers never got ahead: {furthest_lead}"
        );
    }
}
