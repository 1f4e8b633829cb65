//! The XML walk: quick-xml events in, suites and test cases out, one at a time, to a
//! [`Handler`]. Nothing is kept beyond the test case being read and the stack of open
//! elements, so memory does not grow with the report (only with its largest element).
//!
//! Leniency: element names compare case-insensitively; unknown elements and
//! attributes are ignored; an attribute with an unknown entity keeps its raw text; a
//! malformed attribute is reported and the element kept with the attributes read so
//! far. An XML error ends the walk: it is reported with its byte offset and element
//! path, and what was read before it stays read.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::report::{Case, Execution, Handler, SuiteTag, Verdict};
use super::text::{attributes, push_capped, resolve_ref};
use crate::source::SourceError;

/// Deepest element nesting read; deeper input is reported and the walk ends.
const MAX_DEPTH: usize = 1024;
/// Properties kept per test case (pytest `record_property`, Surefire, nextest).
const MAX_PROPERTIES: usize = 64;

/// Reads a whole report. Returns `Err` only for I/O and handler errors; everything
/// else is a problem for the handler. Containers still open when the walk ends stay
/// open: the handler closes them.
pub fn walk(input: &mut dyn BufRead, handler: &mut dyn Handler) -> Result<(), SourceError> {
    let mut walker = Walker {
        reader: Reader::from_reader(input),
        stack: Vec::new(),
        root_children: Vec::new(),
        case: None,
        capture: None,
    };
    walker.run(handler)
}

/// What the walk knows about one open element.
struct Frame {
    name: String,
    /// 1-based index among the siblings of the same name, for element paths.
    index: usize,
    children: Vec<(String, usize)>,
    role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Other,
    Container,
    Case,
    /// A result element of the current case (`failure`, `flakyFailure`, …).
    Result,
    /// `<stackTrace>` inside a result element: its text is the trace.
    Trace,
    Properties,
}

/// A test case being read.
struct CaseBuilder {
    case: Case,
    status: Option<String>,
    result: Option<String>,
    /// Own results (`failure`, `error`, `skipped`), then reruns and flakes.
    main: Vec<Execution>,
    flaky: Vec<Execution>,
    reruns: Vec<Execution>,
}

#[derive(Clone, Copy)]
enum Slot {
    Main,
    Flaky,
    Rerun,
}

/// Text of the result element being read.
struct Capture {
    slot: Slot,
    exec: Execution,
    /// Whether text came from a `<stackTrace>`, which then wins over the element's own.
    from_trace: bool,
    trace: String,
}

struct Walker<'r> {
    reader: Reader<&'r mut dyn BufRead>,
    stack: Vec<Frame>,
    /// Sibling counts of top-level elements (several roots occur in concatenated files).
    root_children: Vec<(String, usize)>,
    case: Option<CaseBuilder>,
    capture: Option<Capture>,
}

impl Walker<'_> {
    fn run(&mut self, h: &mut dyn Handler) -> Result<(), SourceError> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let event = match self.reader.read_event_into(&mut buf) {
                Ok(event) => event,
                Err(quick_xml::Error::Io(e)) => {
                    return Err(SourceError::Read(std::io::Error::new(
                        e.kind(),
                        e.to_string(),
                    )));
                }
                Err(e) => {
                    let at = self.reader.error_position();
                    return h.problem(self.location(at), format!("malformed XML: {e}"));
                }
            };
            match event {
                Event::Start(e) => {
                    if !self.start(&e, h)? {
                        return Ok(());
                    }
                }
                Event::Empty(e) => {
                    if !self.start(&e, h)? {
                        return Ok(());
                    }
                    self.end(h)?;
                }
                Event::End(_) => self.end(h)?,
                Event::Text(t) => self.text(&t.xml10_content()),
                Event::CData(t) => self.text(&t.xml10_content()),
                Event::GeneralRef(r) => self.text(&resolve_ref(&r)),
                Event::Eof => {
                    if !self.stack.is_empty() {
                        let at = self.reader.buffer_position();
                        h.problem(
                            self.location(at),
                            "the report ends inside an element".into(),
                        )?;
                    }
                    return Ok(());
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
    }

    /// Opens an element; `false` ends the walk (not a JUnit report, too deep).
    fn start(&mut self, e: &BytesStart<'_>, h: &mut dyn Handler) -> Result<bool, SourceError> {
        let name = e.local_name().into_inner().to_owned();
        let parent = self.stack.last().map(|f| f.role);
        let at = self.reader.buffer_position();
        if self.stack.len() >= MAX_DEPTH {
            h.problem(
                self.location(at),
                format!("elements nested deeper than {MAX_DEPTH}"),
            )?;
            return Ok(false);
        }
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        let role = match parent {
            None if !(is("testsuites") || is("testsuite") || is("testcase")) => {
                h.problem(
                    self.location(at),
                    format!("not a JUnit report: the root element is <{name}>"),
                )?;
                return Ok(false);
            }
            None | Some(Role::Container) if is("testsuites") || is("testsuite") => Role::Container,
            None | Some(Role::Container) if is("testcase") => Role::Case,
            Some(Role::Case) if result_slot(&name).is_some() => Role::Result,
            Some(Role::Case) if is("properties") => Role::Properties,
            Some(Role::Result) if is("stackTrace") => Role::Trace,
            _ => Role::Other,
        };
        self.push(name.clone(), role);
        let (attrs, bad) = attributes(e);
        if let Some(bad) = bad {
            let location = self.location(at);
            h.problem(location, format!("malformed attribute in <{name}>: {bad}"))?;
        }
        let get = |key: &str| {
            attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
        };
        match role {
            Role::Container => h.open(SuiteTag {
                is_suite: is("testsuite"),
                name: get("name"),
                timestamp: get("timestamp"),
                time: get("time"),
                file: get("file").or_else(|| get("filepath")),
                hostname: get("hostname"),
            })?,
            Role::Case => {
                self.case = Some(CaseBuilder {
                    case: Case {
                        name: get("name"),
                        classname: get("classname").or_else(|| get("class")),
                        file: get("file").or_else(|| get("filepath")),
                        line: get("line").or_else(|| get("lineno")),
                        time: get("time"),
                        timestamp: get("timestamp"),
                        executions: Vec::new(),
                        properties: Vec::new(),
                    },
                    status: get("status"),
                    result: get("result"),
                    main: Vec::new(),
                    flaky: Vec::new(),
                    reruns: Vec::new(),
                });
            }
            Role::Result => {
                if let Some((slot, verdict)) = result_slot(&name) {
                    self.capture = Some(Capture {
                        slot,
                        exec: Execution {
                            verdict,
                            own: matches!(slot, Slot::Main),
                            element: Some(name.clone()),
                            message: get("message"),
                            kind: get("type"),
                            text: String::new(),
                            time: get("time"),
                            timestamp: get("timestamp"),
                        },
                        from_trace: false,
                        trace: String::new(),
                    });
                }
            }
            Role::Other if parent == Some(Role::Properties) && is("property") => {
                if let (Some(case), Some(key)) = (self.case.as_mut(), get("name"))
                    && case.case.properties.len() < MAX_PROPERTIES
                {
                    let value = get("value").unwrap_or_default();
                    case.case.properties.push((key, value));
                }
            }
            _ => {}
        }
        Ok(true)
    }

    fn end(&mut self, h: &mut dyn Handler) -> Result<(), SourceError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        match frame.role {
            Role::Container => h.close()?,
            Role::Case => {
                if let Some(builder) = self.case.take() {
                    h.case(builder.finish())?;
                }
            }
            Role::Result => {
                if let (Some(mut capture), Some(case)) = (self.capture.take(), self.case.as_mut()) {
                    if capture.from_trace {
                        capture.exec.text = capture.trace;
                    }
                    capture.exec.text = capture.exec.text.trim().to_owned();
                    match capture.slot {
                        Slot::Main => case.main.push(capture.exec),
                        Slot::Flaky => case.flaky.push(capture.exec),
                        Slot::Rerun => case.reruns.push(capture.exec),
                    }
                }
            }
            Role::Trace => {
                if let Some(capture) = self.capture.as_mut() {
                    capture.from_trace = true;
                }
            }
            Role::Other | Role::Properties => {}
        }
        Ok(())
    }

    /// Text goes to the result element being read (its own text or its stack trace);
    /// everything else (`system-out`, whitespace between elements) is dropped.
    fn text(&mut self, text: &str) {
        let (Some(capture), Some(top)) = (self.capture.as_mut(), self.stack.last()) else {
            return;
        };
        match top.role {
            Role::Result => push_capped(&mut capture.exec.text, text),
            Role::Trace => push_capped(&mut capture.trace, text),
            _ => {}
        }
    }

    fn push(&mut self, name: String, role: Role) {
        let siblings = match self.stack.last_mut() {
            Some(parent) => &mut parent.children,
            None => &mut self.root_children,
        };
        let index = match siblings.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => {
                *count += 1;
                *count
            }
            None => {
                siblings.push((name.clone(), 1));
                1
            }
        };
        self.stack.push(Frame {
            name,
            index,
            children: Vec::new(),
            role,
        });
    }

    /// `byte N, /testsuites/testsuite[2]/testcase[3]`.
    fn location(&self, at: u64) -> String {
        let mut out = format!("byte {at}");
        if !self.stack.is_empty() {
            out.push_str(", ");
        }
        for f in &self.stack {
            out.push('/');
            out.push_str(&f.name);
            if f.index > 1 || matches!(f.role, Role::Container | Role::Case) {
                out.push_str(&format!("[{}]", f.index));
            }
        }
        out
    }
}

impl CaseBuilder {
    /// Orders the executions: flaky failures (they came first), the case's own
    /// result, failed reruns (they came after it).
    fn finish(self) -> Case {
        let mut case = self.case;
        let own = self
            .main
            .iter()
            .find(|e| matches!(e.verdict, Verdict::Fail | Verdict::Error))
            .or_else(|| self.main.iter().find(|e| e.verdict == Verdict::Skip))
            .cloned()
            .unwrap_or_else(|| Execution {
                verdict: if googletest_skipped(self.status.as_deref(), self.result.as_deref()) {
                    Verdict::Skip
                } else {
                    Verdict::Pass
                },
                own: true,
                element: None,
                message: None,
                kind: None,
                text: String::new(),
                time: None,
                timestamp: None,
            });
        case.executions = self.flaky;
        case.executions.push(own);
        case.executions.extend(self.reruns);
        case
    }
}

/// googletest marks disabled tests `status="notrun"` (older) or `result="skipped"` /
/// `"suppressed"` (newer), sometimes without a `<skipped>` element.
fn googletest_skipped(status: Option<&str>, result: Option<&str>) -> bool {
    let is = |v: Option<&str>, names: &[&str]| {
        v.is_some_and(|v| names.iter().any(|n| v.trim().eq_ignore_ascii_case(n)))
    };
    is(status, &["notrun", "disabled", "skipped"]) || is(result, &["skipped", "suppressed"])
}

/// Which execution a result element belongs to, and its verdict.
fn result_slot(name: &str) -> Option<(Slot, Verdict)> {
    let is = |n: &str| name.eq_ignore_ascii_case(n);
    Some(if is("failure") {
        (Slot::Main, Verdict::Fail)
    } else if is("error") {
        (Slot::Main, Verdict::Error)
    } else if is("skipped") {
        (Slot::Main, Verdict::Skip)
    } else if is("flakyFailure") {
        (Slot::Flaky, Verdict::Fail)
    } else if is("flakyError") {
        (Slot::Flaky, Verdict::Error)
    } else if is("rerunFailure") {
        (Slot::Rerun, Verdict::Fail)
    } else if is("rerunError") {
        (Slot::Rerun, Verdict::Error)
    } else {
        return None;
    })
}
