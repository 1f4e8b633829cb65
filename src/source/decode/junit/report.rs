//! What the XML walk (`parse`) hands to the span builder (`spans`): suites, test
//! cases and their executions, as the report wrote them (times still raw text).

use crate::source::SourceError;

/// A `<testsuites>` (a group) or `<testsuite>` start tag.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SuiteTag {
    /// `<testsuite>` (which becomes a suite span) rather than `<testsuites>`.
    pub is_suite: bool,
    pub name: Option<String>,
    pub timestamp: Option<String>,
    pub time: Option<String>,
    pub file: Option<String>,
    pub hostname: Option<String>,
}

/// What one execution of a test came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Error,
    Skip,
}

/// One execution of a test: the test case itself, or one Surefire/nextest
/// `flakyFailure`/`flakyError`/`rerunFailure`/`rerunError` inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub verdict: Verdict,
    /// The test case's own result, not one of its flaky or rerun elements.
    pub own: bool,
    /// The element that gave the verdict (`failure`, `flakyError`, …), if any.
    pub element: Option<String>,
    pub message: Option<String>,
    pub kind: Option<String>,
    /// The element's text, or its `<stackTrace>`'s (Surefire), cut at [`MAX_TEXT`].
    pub text: String,
    /// Own `time` / `timestamp` (nextest writes them on reruns).
    pub time: Option<String>,
    pub timestamp: Option<String>,
}

/// One `<testcase>`, with every execution it records in order: earlier flaky
/// failures, the test case's own result, later failed reruns.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub name: Option<String>,
    pub classname: Option<String>,
    pub file: Option<String>,
    pub line: Option<String>,
    pub time: Option<String>,
    pub timestamp: Option<String>,
    pub executions: Vec<Execution>,
    pub properties: Vec<(String, String)>,
}

/// Receives what the walk reads.
pub trait Handler {
    fn open(&mut self, tag: SuiteTag) -> Result<(), SourceError>;
    fn case(&mut self, case: Case) -> Result<(), SourceError>;
    /// Closes the innermost open group or suite.
    fn close(&mut self) -> Result<(), SourceError>;
    fn problem(&mut self, location: String, message: String) -> Result<(), SourceError>;
}
