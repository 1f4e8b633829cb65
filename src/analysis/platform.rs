//! The one rule for "is this failure the CI platform's fault?", shared by the gate's
//! triage (`gate::triage`, per failure) and `failures --by cause`
//! (`failure_cause`, per failed run).
//!
//! A failure of a failed run is the **platform**'s when it is a task, step or stage
//! with result `error`, `cancel` or `timeout`, or a failed task or step whose name says
//! runner, checkout, clone, fetch, setup / set up, provision, cache, artifact, docker
//! pull or git; and when nothing below the pipeline failed at all, the run itself is
//! the platform's failure. Everything else is the **change**'s: a failed test, or a
//! task that failed with no failed test below it (a compile or lint error). Failed
//! tasks with failed tests below them, and failed steps that are not the platform's,
//! are not failures of their own: their tests or their task speak for them.
//!
//! [`blame`] returns the failures of one run in the order the gate's triage reports
//! them (tests first, then tasks and steps, then the run); [`first_failure`] says
//! which of them happened first, which decides the run (see [`RunCause`]).

use std::collections::BTreeSet;

use super::gate::measures::FailedSpan;

/// Words in a task or step name that say the CI platform did the work.
const PLATFORM_WORDS: [&str; 11] = [
    "runner",
    "checkout",
    "clone",
    "fetch",
    "setup",
    "set up",
    "provision",
    "cache",
    "artifact",
    "docker pull",
    "git",
];

/// Results that say the CI system, not the code, stopped the work.
const PLATFORM_RESULTS: [&str; 3] = ["error", "cancel", "timeout"];

/// Whether a task or step name says the CI platform did the work (`git` only as a
/// word of its own: `digital` is not git).
pub fn platform_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    PLATFORM_WORDS.iter().any(|w| {
        if *w == "git" {
            lower
                .split(|c: char| !c.is_alphanumeric())
                .any(|t| t == "git")
        } else {
            lower.contains(w)
        }
    })
}

/// Who failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// The CI system: runner, checkout, infrastructure, an `error` result.
    Platform,
    /// The code or its tests.
    Change,
}

/// One failure of a failed run, and whose fault it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Blamed<'s> {
    /// The span that failed (for a run with nothing failed below: its first failed span).
    pub span: &'s FailedSpan,
    /// Its position in the run's spans as given to [`blame`].
    pub index: usize,
    /// `test`, `task`, `step`, `stage` or `pipeline`.
    pub kind: String,
    /// The test, the task, `task / step`, or the pipeline.
    pub subject: String,
    pub fault: Fault,
    /// Why, in a few words (empty for tests: their reason is the caller's, e.g. the
    /// gate's baseline evidence).
    pub reason: String,
}

/// The failures of one failed run: `spans` are the spans of the run that did not
/// succeed. A failed test counts once however often it failed in the run.
pub fn blame<'s>(spans: &[&'s FailedSpan]) -> Vec<Blamed<'s>> {
    let Some(first) = spans.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut seen_tests = BTreeSet::new();
    let mut any_test = false;
    for (index, span) in spans.iter().copied().enumerate() {
        if span.role != "test" {
            continue;
        }
        let Some(test) = span.test.as_deref() else {
            continue;
        };
        any_test = true;
        if seen_tests.insert(test) {
            out.push(Blamed {
                span,
                index,
                kind: "test".into(),
                subject: test.to_string(),
                fault: Fault::Change,
                reason: String::new(),
            });
        }
    }
    for (index, span) in spans.iter().copied().enumerate() {
        if !matches!(span.role.as_str(), "task" | "step" | "stage") {
            continue;
        }
        let name = span.task.as_deref().unwrap_or(&span.name);
        let subject = if span.role == "step" {
            format!("{name} / {}", span.name)
        } else {
            name.to_string()
        };
        let outcome = span
            .outcome
            .as_deref()
            .unwrap_or(if span.status == "error" {
                "error status"
            } else {
                "unknown"
            });
        let (fault, reason) = if PLATFORM_RESULTS.contains(&outcome) {
            (Fault::Platform, format!("{} result '{outcome}'", span.role))
        } else if platform_name(&span.name) || platform_name(name) {
            (
                Fault::Platform,
                format!("{} of the CI platform failed", span.role),
            )
        } else if span.role == "task" && !any_test {
            (
                Fault::Change,
                "task failed with no failed test (a build or lint error?)".to_string(),
            )
        } else {
            continue;
        };
        out.push(Blamed {
            span,
            index,
            kind: span.role.clone(),
            subject,
            fault,
            reason,
        });
    }
    if out.is_empty() {
        out.push(Blamed {
            span: first,
            index: 0,
            kind: "pipeline".into(),
            subject: first.pipeline.clone(),
            fault: Fault::Platform,
            reason: "the run failed but no task or test did".into(),
        });
    }
    out
}

/// The failure that happened first, which decides whose fault the run is: the one
/// whose span ended first (`end_ns` of a span by its index in the run's spans). A run
/// is the platform's when that failure is: a checkout that errored before the tests
/// ran made the rest fail (or not run), while a cache upload that errored after a test
/// failed did not make the test fail. On a tie the change's failure wins: a failed test
/// is evidence about the code whatever else broke at that moment. None when `blamed`
/// is empty.
pub fn first_failure<'b, 's>(
    blamed: &'b [Blamed<'s>],
    end_ns: impl Fn(usize) -> i64,
) -> Option<&'b Blamed<'s>> {
    blamed
        .iter()
        .min_by_key(|b| (end_ns(b.index), b.fault == Fault::Platform))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(role: &str, name: &str, test: Option<&str>, outcome: &str) -> FailedSpan {
        FailedSpan {
            trace_id: "t1".into(),
            run: "42".into(),
            attempt: Some(1),
            pipeline: "ci".into(),
            role: role.into(),
            name: name.into(),
            task: Some(if role == "test" { "test" } else { name }.into()),
            test: test.map(str::to_string),
            outcome: Some(outcome.into()),
            status: "error".into(),
            status_message: None,
        }
    }

    fn cause(spans: &[FailedSpan], ends: &[i64]) -> (Fault, String) {
        let refs: Vec<&FailedSpan> = spans.iter().collect();
        let blamed = blame(&refs);
        let c = first_failure(&blamed, |i| ends[i]).expect("a failure");
        (c.fault, c.subject.clone())
    }

    #[test]
    fn the_first_failure_decides_the_run() {
        // The checkout errored first: the tests that failed after it are its doing.
        let spans = [
            span("pipeline", "ci", None, "fail"),
            span("task", "checkout", None, "error"),
            span("test", "test_a", Some("test_a"), "fail"),
        ];
        assert_eq!(
            cause(&spans, &[100, 10, 50]),
            (Fault::Platform, "checkout".into())
        );
        // A cache upload that errored after a test failed did not fail the test.
        let spans = [
            span("pipeline", "ci", None, "fail"),
            span("test", "test_a", Some("test_a"), "fail"),
            span("step", "Save cache", None, "error"),
        ];
        assert_eq!(
            cause(&spans, &[100, 10, 50]),
            (Fault::Change, "test_a".into())
        );
        // A tie goes to the change.
        assert_eq!(
            cause(&spans, &[100, 50, 50]),
            (Fault::Change, "test_a".into())
        );
    }

    #[test]
    fn a_run_with_nothing_failed_below_is_the_platform() {
        let spans = [span("pipeline", "ci", None, "fail")];
        assert_eq!(cause(&spans, &[100]), (Fault::Platform, "ci".into()));
        // A compile error is the change's.
        let spans = [
            span("pipeline", "ci", None, "fail"),
            span("task", "build", None, "fail"),
        ];
        assert_eq!(cause(&spans, &[100, 50]), (Fault::Change, "build".into()));
    }

    #[test]
    fn platform_names_are_words_or_phrases() {
        assert!(platform_name("Run actions/checkout@v4"));
        assert!(platform_name("Set up job"));
        assert!(platform_name("git fetch"));
        assert!(!platform_name("digital signature"));
        assert!(!platform_name("unit tests"));
    }
}
