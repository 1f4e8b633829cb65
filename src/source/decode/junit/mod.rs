//! JUnit XML decoder: test reports (Maven Surefire/Failsafe, Gradle, JUnit 4/5,
//! pytest xunit1/xunit2, jest-junit, gotestsum, cargo-nextest, PHPUnit, unittest,
//! Swift xunit, googletest, Nette Tester, …) into spans of the span table, so that
//! every analysis reads them like test traces.
//!
//! Streaming: quick-xml reads the input event by event (`parse`), and each test case
//! becomes spans as soon as its element ends (`spans`); memory holds the open
//! elements and one digest per distinct test (to number repeated executions), never
//! the report.
//!
//! # Spans
//!
//! | span | parent | attributes (beside the trace facts below) |
//! |---|---|---|
//! | run: named after the pipeline (`JUnit report` without one) | — | `cicd.pipeline.result` = `failure` when a test's last execution failed or errored, else `success` |
//! | task, when the context names one | run | `cicd.pipeline.task.name`, `cicd.pipeline.task.run.result` |
//! | one per `<testsuite>` (nested suites nest) | suite, else task, else run | `test.suite.name`, `test.suite.run.status` (`fail`/`pass`/`skipped`), `code.file.path`, `host.name` |
//! | one per execution of a `<testcase>` | its suite | `test.case.name`, `test.classname`, `test.suite.name`, `test.case.result.status` (`pass`/`fail`/`error`/`skipped`), `junit.attempt`, `code.file.path`, `code.line.number`, `junit.result.element`, `exception.type`/`.message`/`.stacktrace` (cut at 16 KiB), `junit.skipped.message`, `junit.property.<name>` |
//!
//! Every span also carries the trace facts of the context: `cicd.pipeline.name`,
//! `cicd.pipeline.run.id`, `github.run_attempt` (the attempt key the conventions
//! read), `vcs.ref.head.name`, `vcs.ref.head.revision`, `vcs.repository.name`. A
//! `<testsuites>` element makes no span: it only names and dates what it holds.
//! Failed and errored executions have status `error` and the failure's message (else
//! the first line of its text) as status message.
//!
//! # Executions
//!
//! A `<testcase>` is one execution: `<failure>` → fail, `<error>` → error,
//! `<skipped>` (or googletest `status="notrun"`, `result="skipped"`) → skip, else
//! pass. Surefire and nextest record reruns inside it: each `<flakyFailure>` /
//! `<flakyError>` is a failed execution *before* the test case's own (passing) one,
//! each `<rerunFailure>` / `<rerunError>` a failed execution *after* it. A test case
//! repeating the classname and name of an earlier one in the same suite path is
//! another execution (pytest-rerunfailures, gotestsum `--rerun-fails`).
//! `junit.attempt` numbers the executions of one test within the report. A test case
//! with an empty name (jest-junit, for a test with an empty title) is named after its
//! class, else its suite.
//!
//! # Times
//!
//! A suite starts at its `timestamp` (ISO 8601; no zone means UTC; the epoch, which
//! jest-junit writes for suites that failed to run, counts as none), else where the
//! previous sibling ended, else at the context's fallback time. Test executions follow
//! one another from the suite's start, each lasting its `time` (missing: 0), unless
//! they carry a `timestamp` of their own. A suite span covers its declared `time` and
//! everything it holds.
//!
//! # Ids
//!
//! The trace is the run: its id digests pipeline, run id and attempt, so every report
//! of one run (one per job, one per Surefire class) lands in one trace. The run and
//! task span ids also digest the report's result (`success`/`failure`): reports that
//! passed share one run span, and a failed report's run span is stored beside it
//! rather than dropped as its duplicate, so the run counts as failed (a run fails
//! when any of its pipeline spans did). Top-level suites are therefore emitted at the
//! end of the report, once its result is known (they are few: the tests inside
//! stream). Span ids
//! digest the suite path (names and their occurrence), class name, test name and
//! execution number, plus the raw `time`/`timestamp`/`hostname` text, which keeps the
//! same suite of two matrix jobs apart while a report ingested twice yields the same
//! ids. Without a run id, a report is its own run: `junit-<digest of its file name
//! and fallback time>`.
//!
//! # CI context
//!
//! [`JunitContext`] holds what the report cannot say. The CLI fills it from its flags
//! and then [`JunitContext::with_env`] fills the rest from the environment of the CI
//! system the job runs on (the first whose marker is set; only that system's
//! variables are read):
//!
//! | field | GitHub Actions (`GITHUB_ACTIONS`) | GitLab CI (`GITLAB_CI`) | Jenkins (`JENKINS_URL`) | Buildkite (`BUILDKITE`) | CircleCI (`CIRCLECI`) |
//! |---|---|---|---|---|---|
//! | pipeline | `GITHUB_WORKFLOW` | `CI_PIPELINE_NAME`, `CI_PROJECT_NAME` | `JOB_NAME` | `BUILDKITE_PIPELINE_SLUG` | `CIRCLE_PROJECT_REPONAME` |
//! | run id | `GITHUB_RUN_ID` | `CI_PIPELINE_ID` | `JOB_NAME#BUILD_NUMBER` (`BUILD_ID`) | `BUILDKITE_BUILD_ID` | `CIRCLE_WORKFLOW_ID`, `CIRCLE_BUILD_NUM` |
//! | attempt | `GITHUB_RUN_ATTEMPT` | — | — | `BUILDKITE_RETRY_COUNT` + 1 | — |
//! | task | `GITHUB_JOB` | `CI_JOB_NAME` | `STAGE_NAME` | `BUILDKITE_LABEL`, `BUILDKITE_STEP_KEY` | `CIRCLE_JOB` |
//! | branch | `GITHUB_HEAD_REF`, `GITHUB_REF_NAME` | `CI_MERGE_REQUEST_SOURCE_BRANCH_NAME`, `CI_COMMIT_BRANCH`, `CI_COMMIT_REF_NAME` | `CHANGE_BRANCH`, `BRANCH_NAME`, `GIT_BRANCH` (without `origin/`) | `BUILDKITE_BRANCH` | `CIRCLE_BRANCH` |
//! | commit | `GITHUB_SHA` | `CI_COMMIT_SHA` | `GIT_COMMIT` | `BUILDKITE_COMMIT` | `CIRCLE_SHA1` |
//! | repo | `GITHUB_REPOSITORY` | `CI_PROJECT_PATH` | `GIT_URL` | `BUILDKITE_REPO` | `CIRCLE_PROJECT_USERNAME/CIRCLE_PROJECT_REPONAME` |
//!
//! (Several variables in a cell: the first one set wins.)
//!
//! # Problems
//!
//! Malformed XML ends the report: the spans read before the error are kept, the suites
//! still open are closed, and the error is reported through [`SpanSink::skipped`] with
//! its byte offset and element path (`report.xml: byte 812, /testsuites[1]/testsuite[2]`).
//! A root element other than `<testsuites>`/`<testsuite>`/`<testcase>` and input
//! without any report are reported the same way.

mod attributes;
mod context;
mod ids;
mod layout;
mod parse;
mod report;
mod spans;
mod text;
mod time;

#[cfg(test)]
mod tests;

use std::io::BufRead;

pub use context::JunitContext;

use crate::source::{SourceError, SpanSink};

/// Parses a time as reports write `timestamp` (ISO 8601; no zone means UTC; see the
/// module header) to ns since the Unix epoch, for `--time`. `None` when unreadable
/// or at or before the epoch.
pub fn parse_timestamp(raw: &str) -> Option<i64> {
    time::timestamp_ns(raw)
}

/// The run id a report decoded from `origin` with `ctx` gets: the context's, else
/// the one derived from the file name and fallback time (see "Ids" above). Lets a
/// caller find the run it just ingested.
pub fn run_id(ctx: &JunitContext, origin: &str) -> String {
    ctx.run_id
        .clone()
        .unwrap_or_else(|| ids::fallback_run_id(origin, ctx.time_ns))
}

/// Decodes one JUnit XML report, pushing spans and problems into `sink`. `origin`
/// names the input in problems (and, without a run id, names the run).
///
/// Returns `Err` only when reading the input or the sink fails; malformed input is
/// reported through [`SpanSink::skipped`].
pub fn decode(
    input: &mut dyn BufRead,
    origin: &str,
    ctx: &JunitContext,
    sink: &mut dyn SpanSink,
) -> Result<(), SourceError> {
    let mut builder = spans::Builder::new(ctx, origin, sink);
    parse::walk(input, &mut builder)?;
    builder.finish()
}
