//! Suites and test cases (from `parse`) into spans of the span table: one run span,
//! a task span when the context names the job, a span per suite and one per test
//! execution, with the attribute keys the CI normaliser reads (see the `junit` module
//! header for the mapping, the layout of times and the ids).

use std::collections::HashMap;

use super::attributes::{failure_attributes, result_value, status_of};
use super::context::JunitContext;
use super::ids::{self, Digest, file_stem};
use super::layout::{Container, Extent, Seen};
use super::report::{Case, Handler, SuiteTag, Verdict};
use super::time::{duration_ns, timestamp_ns};
use crate::model::{SourceKind, Span, Status};
use crate::source::{Problem, SourceError, SpanSink};

/// Builds spans from what the walk reads and pushes them into the sink.
pub struct Builder<'a> {
    sink: &'a mut dyn SpanSink,
    origin: &'a str,
    /// Trace-level facts, written on every span: a report too large for one ingest
    /// batch still has them on every batch of its trace.
    facts: Vec<(String, String)>,
    pipeline: Option<String>,
    task: Option<String>,
    trace_id: String,
    trace: Digest,
    /// Top-level suites (and test cases outside any suite), held until [`Builder::finish`]
    /// knows the report's result: they hang from the run's (or job's) span, whose id
    /// depends on it (see the `junit` module header). One span per top-level suite,
    /// never the tests inside.
    deferred: Vec<Span>,
    containers: Vec<Container>,
    /// Per test (suite path, class name, name): executions seen so far.
    tests: HashMap<u64, Seen>,
    /// Per (parent path, suite name): how many such suites were opened.
    occurrences: HashMap<u64, u32>,
    top: Extent,
    /// Tests whose latest execution failed or errored.
    failing: i64,
    next_serial: u64,
    saw_report: bool,
    problems: u64,
}

impl<'a> Builder<'a> {
    pub fn new(ctx: &JunitContext, origin: &'a str, sink: &'a mut dyn SpanSink) -> Builder<'a> {
        let run_id = super::run_id(ctx, origin);
        let attempt = ctx.attempt.map(|a| a.to_string());
        let trace_id = ids::trace_id(&[
            ctx.pipeline.as_deref().unwrap_or(""),
            &run_id,
            attempt.as_deref().unwrap_or(""),
        ]);
        let trace = Digest::of(&[&trace_id]);
        let mut facts = Vec::new();
        let mut fact = |k: &str, v: Option<&str>| {
            if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
                facts.push((k.to_owned(), v.to_owned()));
            }
        };
        fact("cicd.pipeline.name", ctx.pipeline.as_deref());
        fact("cicd.pipeline.run.id", Some(&run_id));
        // The only attempt key the conventions table reads today.
        fact("github.run_attempt", attempt.as_deref());
        fact("vcs.ref.head.name", ctx.branch.as_deref());
        fact("vcs.ref.head.revision", ctx.commit.as_deref());
        fact("vcs.repository.name", ctx.repo.as_deref());
        let start = ctx.time_ns.unwrap_or(0);
        Builder {
            sink,
            origin,
            facts,
            pipeline: ctx.pipeline.clone(),
            task: ctx.task.clone(),
            trace_id,
            trace,
            deferred: Vec::new(),
            containers: Vec::new(),
            tests: HashMap::new(),
            occurrences: HashMap::new(),
            top: Extent::at(start),
            failing: 0,
            next_serial: 0,
            saw_report: false,
            problems: 0,
        }
    }

    /// Closes what the walk left open (a truncated or malformed report) and emits the
    /// task and run spans. Input with no report in it yields no spans and a problem.
    pub fn finish(mut self) -> Result<(), SourceError> {
        while !self.containers.is_empty() {
            self.close()?;
        }
        if !self.saw_report {
            if self.problems == 0 {
                self.problem(String::new(), "no JUnit report in the input".into())?;
            }
            return Ok(());
        }
        let start = self.top.first.unwrap_or(self.top.cursor);
        let end = self.top.last.max(start);
        let result = if self.failing > 0 {
            "failure"
        } else {
            "success"
        };
        let status = if self.failing > 0 {
            Status::Error
        } else {
            Status::Ok
        };
        // A run's reports (one per Surefire class, per shard, per matrix job) each
        // emit the run span; the result is part of its id, so that a failed report's
        // run span is stored beside a passed one's instead of being dropped as a
        // duplicate of it, and the run counts as failed (`pipeline_runs` takes any
        // failed pipeline span of a run).
        let run_span_id = self.trace.span_id(&["run", result]);
        let task_span_id = self
            .task
            .as_deref()
            .map(|t| self.trace.span_id(&["task", t, result]));
        let top = task_span_id.clone().unwrap_or_else(|| run_span_id.clone());
        for mut span in std::mem::take(&mut self.deferred) {
            span.parent_span_id = Some(top.clone());
            self.sink.span(span)?;
        }
        let parent = run_span_id.clone();
        if let (Some(task), Some(id)) = (self.task.clone(), task_span_id) {
            let attrs = vec![
                ("cicd.pipeline.task.name".to_owned(), task.clone()),
                (
                    "cicd.pipeline.task.run.result".to_owned(),
                    result.to_owned(),
                ),
            ];
            let span = self.span(id, Some(parent), task, (start, end), status, None, attrs);
            self.sink.span(span)?;
        }
        let name = self
            .pipeline
            .clone()
            .unwrap_or_else(|| "JUnit report".to_owned());
        let attrs = vec![("cicd.pipeline.result".to_owned(), result.to_owned())];
        let span = self.span(run_span_id, None, name, (start, end), status, None, attrs);
        Ok(self.sink.span(span)?)
    }

    /// Emits a span, or holds it until [`Builder::finish`] when it hangs from the top
    /// (no parent yet).
    fn emit(&mut self, span: Span) -> Result<(), SourceError> {
        if span.parent_span_id.is_none() {
            self.deferred.push(span);
            Ok(())
        } else {
            Ok(self.sink.span(span)?)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn span(
        &self,
        span_id: String,
        parent: Option<String>,
        name: String,
        (start_ns, end_ns): (i64, i64),
        status: Status,
        status_message: Option<String>,
        mut attributes: Vec<(String, String)>,
    ) -> Span {
        attributes.extend(self.facts.iter().cloned());
        Span {
            trace_id: self.trace_id.clone(),
            span_id,
            parent_span_id: parent,
            name,
            kind: "internal".to_owned(),
            start_ns,
            end_ns: end_ns.max(start_ns),
            status,
            status_message,
            attributes,
            source: Some(SourceKind::Junit),
            ..Span::default()
        }
    }

    /// The innermost open suite (not group).
    fn suite(&self) -> Option<&Container> {
        self.containers.iter().rev().find(|c| c.span_id.is_some())
    }

    fn extent_mut(&mut self) -> &mut Extent {
        match self.containers.last_mut() {
            Some(c) => &mut c.extent,
            None => &mut self.top,
        }
    }

    fn emit_case(&mut self, case: Case) -> Result<(), SourceError> {
        let classname = case.classname.clone().filter(|c| !c.trim().is_empty());
        let (suite_path, suite_name, parent) = match self.suite() {
            Some(s) => (s.path, s.name.clone(), s.span_id.clone()),
            None => (Digest::of(&[]), None, None),
        };
        // jest-junit writes `name=""` for a test with an empty title: it is still a
        // test, named after its class, else its suite.
        let name = [&case.name, &classname, &suite_name]
            .into_iter()
            .flatten()
            .find(|n| !n.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| "(unnamed test)".to_owned());
        let key = suite_path.child(&[classname.as_deref().unwrap_or(""), &name]);
        let serial = self.containers.last().map_or(u64::MAX, |c| c.serial);
        for exec in &case.executions {
            let timestamp = exec.timestamp.as_deref().or(if exec.own {
                case.timestamp.as_deref()
            } else {
                None
            });
            let time = exec.time.as_deref().or(case.time.as_deref());
            let start = timestamp
                .and_then(timestamp_ns)
                .unwrap_or(self.extent_mut().cursor);
            let end = start.saturating_add(time.and_then(duration_ns).unwrap_or(0));
            self.extent_mut().cover(start, end);

            let seen = self.tests.entry(key.value()).or_insert(Seen {
                attempts: 0,
                failing: false,
                container: serial,
            });
            seen.attempts = seen.attempts.saturating_add(1);
            let attempt = seen.attempts;
            let failed = matches!(exec.verdict, Verdict::Fail | Verdict::Error);
            // A rerun that passes in the same suite takes back its earlier failure.
            let was_failing = seen.failing;
            let same_container = seen.container == serial;
            seen.failing = failed;
            seen.container = serial;
            self.failing += i64::from(failed) - i64::from(was_failing);
            if let Some(c) = self.containers.last_mut() {
                c.failing += i64::from(failed) - i64::from(was_failing && same_container);
                c.executions += 1;
                c.skipped += u64::from(exec.verdict == Verdict::Skip);
            }

            // The parent's id carries the suite's own times and host, which keeps
            // the same test of two matrix jobs apart.
            let id = self.trace.span_id(&[
                "test",
                parent.as_deref().unwrap_or("top"),
                &key.hex(),
                &attempt.to_string(),
                case.time.as_deref().unwrap_or(""),
                timestamp.unwrap_or(""),
            ]);
            let mut attrs = vec![("test.case.name".to_owned(), name.clone())];
            if let Some(c) = &classname {
                attrs.push(("test.classname".to_owned(), c.clone()));
            }
            if let Some(s) = &suite_name {
                attrs.push(("test.suite.name".to_owned(), s.clone()));
            }
            attrs.push((
                "test.case.result.status".to_owned(),
                result_value(exec.verdict).to_owned(),
            ));
            attrs.push(("junit.attempt".to_owned(), attempt.to_string()));
            if let Some(f) = &case.file {
                attrs.push(("code.file.path".to_owned(), f.clone()));
            }
            if let Some(l) = &case.line {
                attrs.push(("code.line.number".to_owned(), l.clone()));
            }
            failure_attributes(exec, &mut attrs);
            for (k, v) in &case.properties {
                attrs.push((format!("junit.property.{k}"), v.clone()));
            }
            let (status, message) = status_of(exec);
            let span = self.span(
                id,
                parent.clone(),
                name.clone(),
                (start, end),
                status,
                message,
                attrs,
            );
            self.emit(span)?;
        }
        Ok(())
    }

    fn problem(&mut self, location: String, message: String) -> Result<(), SourceError> {
        self.problems += 1;
        let location = if location.is_empty() {
            self.origin.to_owned()
        } else {
            format!("{}: {location}", self.origin)
        };
        Ok(self.sink.skipped(Problem { location, message })?)
    }
}

impl Handler for Builder<'_> {
    fn open(&mut self, tag: SuiteTag) -> Result<(), SourceError> {
        self.saw_report = true;
        let (parent_path, parent_cursor) = match self.containers.last() {
            Some(c) => (c.path, c.extent.cursor),
            None => (Digest::of(&[]), self.top.cursor),
        };
        let own = tag.timestamp.as_deref().and_then(timestamp_ns);
        let start = own.unwrap_or(parent_cursor);
        let declared = tag.time.as_deref().and_then(duration_ns).unwrap_or(0);
        let serial = self.next_serial;
        self.next_serial += 1;
        let given = tag.name.filter(|n| !n.trim().is_empty());
        let (span_id, name, path) = if tag.is_suite {
            // A nameless suite (Nette Tester) is named after its group, else the file.
            let name = given
                .or_else(|| {
                    let groups = self.containers.iter().rev().filter(|c| c.span_id.is_none());
                    groups.filter_map(|c| c.name.clone()).next()
                })
                .unwrap_or_else(|| file_stem(self.origin));
            let slot = parent_path.child(&[&name]);
            let n = self.occurrences.entry(slot.value()).or_insert(0);
            *n += 1;
            let path = parent_path.child(&[&name, &n.to_string()]);
            let id = self.trace.span_id(&[
                "suite",
                &path.hex(),
                tag.timestamp.as_deref().unwrap_or(""),
                tag.time.as_deref().unwrap_or(""),
                tag.hostname.as_deref().unwrap_or(""),
            ]);
            (Some(id), Some(name), slot)
        } else {
            (None, given, parent_path)
        };
        self.containers.push(Container {
            span_id,
            name,
            file: tag.file,
            hostname: tag.hostname,
            path,
            serial,
            start,
            dated: own.is_some(),
            extent: Extent::at(start),
            declared,
            failing: 0,
            executions: 0,
            skipped: 0,
        });
        Ok(())
    }

    fn case(&mut self, case: Case) -> Result<(), SourceError> {
        self.saw_report = true;
        self.emit_case(case)
    }

    fn close(&mut self) -> Result<(), SourceError> {
        let Some(c) = self.containers.pop() else {
            return Ok(());
        };
        let (start, end) = c.window();
        let result = c.result();
        let parent_extent = self.extent_mut();
        parent_extent.cover(start, end);
        if let Some(parent) = self.containers.last_mut() {
            parent.failing += c.failing;
            parent.executions += c.executions;
            parent.skipped += c.skipped;
        }
        let (Some(id), Some(name)) = (c.span_id, c.name) else {
            return Ok(());
        };
        // None: a top-level suite, which hangs from the run (see `emit`).
        let parent = self.suite().and_then(|s| s.span_id.clone());
        let mut attrs = vec![
            ("test.suite.name".to_owned(), name.clone()),
            ("test.suite.run.status".to_owned(), result.to_owned()),
        ];
        if let Some(f) = c.file {
            attrs.push(("code.file.path".to_owned(), f));
        }
        if let Some(h) = c.hostname {
            attrs.push(("host.name".to_owned(), h));
        }
        let status = if c.failing > 0 {
            Status::Error
        } else {
            Status::Ok
        };
        let span = self.span(id, parent, name, (start, end), status, None, attrs);
        self.emit(span)
    }

    fn problem(&mut self, location: String, message: String) -> Result<(), SourceError> {
        Builder::problem(self, location, message)
    }
}
