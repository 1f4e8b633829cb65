//! The JSON value loop shared by every JSON decoder: streaming, resynchronising on
//! JSON lines, bounded memory.
//!
//! An input is either JSON lines (the Collector file exporter writes one object per
//! line) or one or more (pretty-printed, possibly multi-GB) concatenated values. The
//! first non-blank line decides: if it is a complete JSON value (or broken, or longer
//! than the peek window) the input is read line by line, each line through its own
//! streaming deserializer, so a broken line is reported with `file:line:column` and the
//! next line decodes. Otherwise the input is one stream of values, and a syntax error
//! ends it (what was decoded before is kept) with the position reported.
//!
//! Values are never materialised here: a [`ValueHandler`] receives a
//! `serde_json::Deserializer` positioned at the next value and drives its own
//! `DeserializeSeed`, so each span reaches the sink as soon as it is parsed. In lines
//! mode each line up to [`MAX_SLICE`] is first copied whole and parsed from the
//! slice, several times faster than serde_json's byte-at-a-time reader, and so is a
//! stream of values up to that size (a Jaeger or Zipkin download, a pretty OTLP file);
//! anything longer streams, so memory stays bounded by that limit whatever the input.

use super::{Problem, SinkError, SourceError};
use serde_json::de::IoRead;
use std::io::{self, BufRead, Read};

/// How much of the first line is looked at to choose between lines and stream mode.
const PEEK_WINDOW: usize = 64 * 1024;

/// Lines up to this long are parsed from a copy of the whole line (see the module's
/// doc); longer ones stream from the input. Above the Collector file exporter's
/// largest lines (a batch of 8192 spans is a few MB).
pub(crate) const MAX_SLICE: usize = 16 * 1024 * 1024;

/// Where the current top-level value sits, for problem locations.
#[derive(Debug, Clone, Copy)]
pub struct ValuePos {
    /// 1-based line in JSON-lines mode.
    pub line: Option<u64>,
    /// 0-based index of the value within the input (or within its line).
    pub index: usize,
}

impl ValuePos {
    /// `origin:line: ` / `origin: #2 ` prefix for a JSON path.
    pub fn locate(&self, origin: &str, path: &str) -> String {
        match (self.line, self.index) {
            (Some(line), 0) => format!("{origin}:{line}: {path}"),
            (Some(line), i) => format!("{origin}:{line}: #{i} {path}"),
            (None, 0) => format!("{origin}: {path}"),
            (None, i) => format!("{origin}: #{i} {path}"),
        }
    }
}

/// Why a handler stopped.
pub enum HandlerError {
    /// The JSON was malformed (or not the expected shape): reported, then resync.
    Json(serde_json::Error),
    /// The sink failed: decoding stops with this error.
    Fatal(SinkError),
}

/// Decodes top-level values; implemented by each JSON format.
pub trait ValueHandler {
    /// Decodes the next value from `de` (reading a slice or a stream).
    fn value<'de, R: serde_json::de::Read<'de>>(
        &mut self,
        de: &mut serde_json::Deserializer<R>,
        pos: ValuePos,
    ) -> Result<(), HandlerError>;
    /// Reports a syntax problem (forwarded to the sink).
    fn problem(&mut self, problem: Problem) -> Result<(), SinkError>;
}

/// Runs `handler` over every top-level JSON value of `input`.
pub fn for_each_value(
    input: &mut dyn BufRead,
    origin: &str,
    handler: &mut impl ValueHandler,
) -> Result<(), SourceError> {
    values_with_slice_limit(input, origin, handler, MAX_SLICE)
}

fn values_with_slice_limit(
    input: &mut dyn BufRead,
    origin: &str,
    handler: &mut impl ValueHandler,
    max_slice: usize,
) -> Result<(), SourceError> {
    let mut reader = JsonReader::new(input);
    match reader.first_line_is_complete_value()? {
        true => lines_mode(&mut reader, origin, handler, max_slice),
        false => stream_mode(&mut reader, origin, handler, max_slice),
    }
}

fn lines_mode(
    reader: &mut JsonReader<'_>,
    origin: &str,
    handler: &mut impl ValueHandler,
    max_slice: usize,
) -> Result<(), SourceError> {
    reader.stop_at_newline = true;
    let mut line: u64 = 1;
    let mut copy = Vec::new();
    loop {
        if reader.read_line_into(&mut copy, max_slice)? {
            let mut de = serde_json::Deserializer::from_slice(&copy);
            decode_values(&mut de, Some(line), origin, handler)?;
        } else {
            let rest = (&copy[..]).chain(&mut *reader);
            let mut de = serde_json::Deserializer::new(IoRead::new(rest));
            decode_values(&mut de, Some(line), origin, handler)?;
        }
        if !reader.next_line()? {
            return Ok(());
        }
        line += 1;
    }
}

/// Decodes the values of one line (`line`) or of a whole stream (`None`); a malformed
/// value is reported and ends the line, or the stream.
fn decode_values<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    line: Option<u64>,
    origin: &str,
    handler: &mut impl ValueHandler,
) -> Result<(), SourceError> {
    let mut index = 0;
    while de.end().is_err() {
        match handler.value(de, ValuePos { line, index }) {
            Ok(()) => index += 1,
            Err(HandlerError::Fatal(e)) => return Err(SourceError::Sink(e)),
            Err(HandlerError::Json(e)) if e.is_io() => return Err(read_error(origin, e)),
            Err(HandlerError::Json(e)) => {
                let (location, skipped) = match line {
                    Some(line) if e.line() == 1 => {
                        (format!("{origin}:{line}:{}", e.column()), "line skipped")
                    }
                    // Past the newline (an EOF error) the column means nothing.
                    Some(line) => (format!("{origin}:{line}"), "line skipped"),
                    None => (
                        format!("{origin}:{}:{}", e.line(), e.column()),
                        "the rest of this input is skipped",
                    ),
                };
                handler.problem(Problem {
                    location,
                    message: format!("{}; {skipped}", strip_position(&e)),
                })?;
                return Ok(());
            }
        }
    }
    Ok(())
}

fn stream_mode(
    reader: &mut JsonReader<'_>,
    origin: &str,
    handler: &mut impl ValueHandler,
    max_slice: usize,
) -> Result<(), SourceError> {
    // An input that fits the slice limit is read whole and parsed from memory, as a
    // line is; a larger one streams, its first bytes from the copy.
    let mut copy = Vec::new();
    (&mut *reader)
        .take(max_slice as u64 + 1)
        .read_to_end(&mut copy)
        .map_err(|e| read_error(origin, serde_json::Error::io(e)))?;
    if copy.len() <= max_slice {
        let mut de = serde_json::Deserializer::from_slice(&copy);
        decode_values(&mut de, None, origin, handler)
    } else {
        let rest = (&copy[..]).chain(reader);
        let mut de = serde_json::Deserializer::new(IoRead::new(rest));
        decode_values(&mut de, None, origin, handler)
    }
}

fn read_error(origin: &str, source: serde_json::Error) -> SourceError {
    SourceError::ReadJson {
        origin: origin.to_owned(),
        source,
    }
}

/// serde_json's message without its " at line L column C" suffix (we print our own).
pub fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// A buffered reader that serves serde_json's byte-at-a-time reads cheaply and can
/// pretend the input ends at each newline (JSON-lines mode).
pub struct JsonReader<'r> {
    inner: &'r mut dyn BufRead,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    stop_at_newline: bool,
    /// A newline was delivered in lines mode: reads return 0 until `next_line`.
    at_line_end: bool,
}

impl<'r> JsonReader<'r> {
    fn new(inner: &'r mut dyn BufRead) -> Self {
        JsonReader {
            inner,
            buf: vec![0; PEEK_WINDOW],
            pos: 0,
            end: 0,
            eof: false,
            stop_at_newline: false,
            at_line_end: false,
        }
    }

    /// Reads more bytes into the buffer; false at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            return Ok(true);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Looks at the first non-blank line (without consuming it) and says whether it
    /// is a complete JSON value on its own, which means the input is JSON lines.
    fn first_line_is_complete_value(&mut self) -> io::Result<bool> {
        loop {
            let window = &self.buf[self.pos..self.end];
            if window.starts_with(b"\xEF\xBB\xBF") {
                self.pos += 3;
                continue;
            }
            if let Some(start) = window.iter().position(|b| !b.is_ascii_whitespace())
                && let Some(len) = window[start..].iter().position(|&b| b == b'\n')
            {
                let line = &window[start..start + len];
                return Ok(
                    match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
                        Ok(_) => true,
                        // Incomplete at the end of the line: a pretty-printed value.
                        Err(e) => !e.is_eof(),
                    },
                );
            }
            let full = self.pos == 0 && self.end == self.buf.len();
            // No newline within the window, or the input ends on its first line:
            // lines mode streams a line of any length, so it is the safe choice.
            if full || !self.fill()? {
                return Ok(true);
            }
        }
    }

    /// Copies the rest of the current line, its newline included, into `out` (cleared
    /// first), up to `limit` bytes. True when the whole line fit; false when `limit`
    /// bytes were copied and the line goes on (the rest is still to be read).
    fn read_line_into(&mut self, out: &mut Vec<u8>, limit: usize) -> io::Result<bool> {
        out.clear();
        while !self.at_line_end {
            if self.pos == self.end && !self.fill()? {
                break;
            }
            let room = limit - out.len();
            if room == 0 {
                return Ok(false);
            }
            let avail = &self.buf[self.pos..self.end];
            let take = avail.len().min(room);
            match avail[..take].iter().position(|&b| b == b'\n') {
                Some(i) => {
                    out.extend_from_slice(&avail[..=i]);
                    self.pos += i + 1;
                    self.at_line_end = true;
                }
                None => {
                    out.extend_from_slice(&avail[..take]);
                    self.pos += take;
                }
            }
        }
        Ok(true)
    }

    /// Skips to the start of the next line; false at end of input.
    fn next_line(&mut self) -> io::Result<bool> {
        if !self.at_line_end {
            loop {
                if let Some(i) = self.buf[self.pos..self.end]
                    .iter()
                    .position(|&b| b == b'\n')
                {
                    self.pos += i + 1;
                    break;
                }
                self.pos = self.end;
                if !self.fill()? {
                    return Ok(false);
                }
            }
        }
        self.at_line_end = false;
        if self.pos < self.end {
            return Ok(true);
        }
        self.fill()
    }
}

impl Read for JsonReader<'_> {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at_line_end || out.is_empty() {
            return Ok(0);
        }
        if self.pos == self.end && !self.fill()? {
            return Ok(0);
        }
        let avail = &self.buf[self.pos..self.end];
        let mut n = out.len().min(avail.len());
        if self.stop_at_newline
            && let Some(i) = avail[..n].iter().position(|&b| b == b'\n')
        {
            n = i + 1;
            self.at_line_end = true;
        }
        out[..n].copy_from_slice(&avail[..n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize as _;

    /// Collects each value as text, plus problems.
    #[derive(Default)]
    struct Collect {
        values: Vec<(Option<u64>, String)>,
        problems: Vec<Problem>,
    }

    impl ValueHandler for Collect {
        fn value<'de, R: serde_json::de::Read<'de>>(
            &mut self,
            de: &mut serde_json::Deserializer<R>,
            pos: ValuePos,
        ) -> Result<(), HandlerError> {
            let v = serde_json::Value::deserialize(de).map_err(HandlerError::Json)?;
            self.values.push((pos.line, v.to_string()));
            Ok(())
        }
        fn problem(&mut self, problem: Problem) -> Result<(), SinkError> {
            self.problems.push(problem);
            Ok(())
        }
    }

    fn run(input: &str) -> Collect {
        let mut c = Collect::default();
        for_each_value(&mut input.as_bytes(), "f", &mut c).unwrap();
        c
    }

    /// A stream of values longer than the slice limit streams: the same values and the
    /// same problem at the same position as from the slice.
    #[test]
    fn streams_over_the_slice_limit_decode_the_same_streamed() {
        let input = "{\n  \"a\": 1\n}\n{\n  \"b\": \"two\"\n} {\"c\":\n [3, x]}\n{\"d\": 4}";
        let sliced = run(input);
        assert_eq!(sliced.values.len(), 2, "{:?}", sliced.values);
        assert_eq!(sliced.problems.len(), 1, "{:?}", sliced.problems);
        same_at_every_limit(input, &sliced, &[1, 5, 13, 1000]);
    }

    /// `input` decoded with each slice limit gives what `sliced` holds.
    fn same_at_every_limit(input: &str, sliced: &Collect, limits: &[usize]) {
        for &limit in limits {
            let mut streamed = Collect::default();
            values_with_slice_limit(&mut input.as_bytes(), "f", &mut streamed, limit).unwrap();
            assert_eq!(streamed.values, sliced.values, "limit {limit}");
            assert_eq!(streamed.problems, sliced.problems, "limit {limit}");
        }
    }

    /// Lines longer than the slice limit stream instead: the same values, the same
    /// problems at the same positions, whether a line is cut inside a value, between
    /// values or in a string.
    #[test]
    fn lines_over_the_slice_limit_decode_the_same_streamed() {
        let input = "{\"a\":1}\n{\"a\":\n\n{\"a\":3} {\"b\":\"long string value\"}\n  {\"c\": [1, 2, x]}\n{\"d\":4}";
        let sliced = run(input);
        assert_eq!(sliced.values.len(), 4, "{:?}", sliced.values);
        same_at_every_limit(input, &sliced, &[1, 3, 8, 17, 1000]);
    }

    #[test]
    fn json_lines_resync_after_a_broken_line() {
        let c = run("{\"a\":1}\n{\"a\":\n\n{\"a\":3} {\"b\":4}\n");
        assert_eq!(
            c.values,
            vec![
                (Some(1), "{\"a\":1}".to_owned()),
                (Some(4), "{\"a\":3}".to_owned()),
                (Some(4), "{\"b\":4}".to_owned())
            ]
        );
        assert_eq!(c.problems.len(), 1);
        assert_eq!(c.problems[0].location, "f:2");
        assert!(c.problems[0].message.contains("EOF"), "{}", c.problems[0]);
    }

    #[test]
    fn broken_first_line_still_means_lines() {
        let c = run("{\"a\" 1}\n{\"a\":2}");
        assert_eq!(c.values, vec![(Some(2), "{\"a\":2}".to_owned())]);
        assert_eq!(c.problems[0].location, "f:1:6");
    }

    #[test]
    fn pretty_printed_concatenated_values() {
        let c = run("\u{feff}{\n  \"a\": 1\n}\n{\n \"b\": [1,\n2]\n}\n");
        assert_eq!(
            c.values,
            vec![
                (None, "{\"a\":1}".to_owned()),
                (None, "{\"b\":[1,2]}".to_owned())
            ]
        );
        assert!(c.problems.is_empty());
    }

    #[test]
    fn stream_error_ends_the_input() {
        let c = run("[\n{\"a\": 1},\n{\"a\" 2}\n]\n{\"c\":1}");
        assert!(c.values.is_empty());
        assert_eq!(c.problems.len(), 1);
        assert_eq!(c.problems[0].location, "f:3:6");
    }

    #[test]
    fn long_first_line_uses_lines_mode() {
        let big = format!(
            "{{\"a\":\"{}\"}}\n{{\"a\" 2}}\n{{\"a\":3}}",
            "x".repeat(200_000)
        );
        let c = run(&big);
        assert_eq!(c.values.len(), 2);
        assert_eq!(c.values[1], (Some(3), "{\"a\":3}".to_owned()));
        assert_eq!(c.problems[0].location, "f:2:6");
    }

    #[test]
    fn empty_and_blank_inputs() {
        assert!(run("").values.is_empty());
        let c = run("\n\n  \n");
        assert!(c.values.is_empty() && c.problems.is_empty());
    }
}
