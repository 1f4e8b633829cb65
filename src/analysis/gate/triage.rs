//! Triage of failed current runs: for every failure, the answer to "is this me?".
//!
//! - **known_flaky**: a failed test that is flaky in the baseline — not your change.
//! - **broken_before**: a failed test that already failed in the baseline without
//!   passing on a commit it failed on (status `broken` of `flaky.sql`) — not your
//!   change, but not a flake either: the test is really failing on the target branch.
//! - **new**: a failed test that never failed in the baseline (or is not in it), or a
//!   task that failed (`fail`) with no failed test below it (a compile error) — likely
//!   your change.
//! - **platform**: the CI system failed: a task, step or run with result `error`,
//!   `cancel` or `timeout`, a failed task or step whose name says runner, checkout,
//!   clone, fetch, setup, provision, cache, artifact or docker pull, or a failed run in
//!   which nothing below the pipeline failed.
//!
//! Which failures there are and which are the platform's is decided in
//! `analysis::platform` (`failures --by cause` uses the same rule); triage adds the
//! baseline's verdict on each failed test.

use std::collections::BTreeMap;

use serde::Serialize;

use super::measures::{FailedSpan, RunMeasures};
use crate::analysis::platform::{Blamed, Fault, blame};

/// The verdict on one failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    KnownFlaky,
    BrokenBefore,
    New,
    Platform,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::KnownFlaky => "known_flaky",
            Category::BrokenBefore => "broken_before",
            Category::New => "new",
            Category::Platform => "platform",
        }
    }
}

/// One triaged failure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriageItem {
    /// The run id (or trace id when the run has none) and attempt.
    pub run: String,
    pub attempt: Option<i64>,
    pub pipeline: String,
    /// `test`, `task`, `step` or `pipeline`.
    pub kind: String,
    pub subject: String,
    pub category: Category,
    /// Why, in a sentence.
    pub reason: String,
}

/// Triage of every failed run in `current`, judged against `baseline`.
pub fn triage(baseline: &RunMeasures, current: &RunMeasures) -> Vec<TriageItem> {
    let mut by_trace: BTreeMap<&str, Vec<&FailedSpan>> = BTreeMap::new();
    for span in &current.failed_spans {
        by_trace
            .entry(span.trace_id.as_str())
            .or_default()
            .push(span);
    }
    let mut items = Vec::new();
    for spans in by_trace.values() {
        items.extend(triage_run(baseline, spans));
    }
    items
}

fn triage_run(baseline: &RunMeasures, spans: &[&FailedSpan]) -> Vec<TriageItem> {
    let Some(first) = spans.first() else {
        return Vec::new();
    };
    let item = |b: &Blamed<'_>, category, reason: String| TriageItem {
        run: first.run.clone(),
        attempt: first.attempt,
        pipeline: first.pipeline.clone(),
        kind: b.kind.clone(),
        subject: b.subject.clone(),
        category,
        reason: match &b.span.status_message {
            Some(m) if !m.is_empty() => format!("{reason}: {m}"),
            _ => reason,
        },
    };
    blame(spans)
        .iter()
        .map(|b| match (b.kind.as_str(), b.fault) {
            ("test", _) => {
                let (category, reason) = test_verdict(baseline, &b.subject);
                item(b, category, reason)
            }
            (_, Fault::Platform) => item(b, Category::Platform, b.reason.clone()),
            (_, Fault::Change) => item(b, Category::New, b.reason.clone()),
        })
        .collect()
}

/// A failed test judged against the baseline: known flaky, broken before, or new.
fn test_verdict(baseline: &RunMeasures, test: &str) -> (Category, String) {
    if baseline.flaky.contains(test) {
        (
            Category::KnownFlaky,
            "flaky in the baseline (passes and fails on one commit)".to_string(),
        )
    } else if baseline.broken.contains(test) {
        let base = baseline.tests.get(test).copied().unwrap_or_default();
        (
            Category::BrokenBefore,
            format!(
                "already failing in the baseline ({} of {} executions failed, never passing on a commit it failed on)",
                base.failed, base.runs
            ),
        )
    } else {
        let base = baseline.tests.get(test).copied().unwrap_or_default();
        let why = if base.runs == 0 {
            "not run in the baseline".to_string()
        } else {
            format!(
                "{} of {} baseline executions failed",
                base.failed, base.runs
            )
        };
        (Category::New, format!("not flaky in the baseline; {why}"))
    }
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
            task: Some(if role == "task" { name } else { "test" }.into()),
            test: test.map(str::to_string),
            outcome: Some(outcome.into()),
            status: "error".into(),
            status_message: None,
        }
    }

    #[test]
    fn known_flaky_new_and_platform() {
        let mut baseline = RunMeasures::default();
        baseline.flaky.insert("test_flaky".into());
        baseline.broken.insert("test_broken".into());
        let mut current = RunMeasures {
            failed_spans: vec![
                span("pipeline", "ci", None, "fail"),
                span("task", "test", None, "fail"),
                span("test", "test_flaky", Some("test_flaky"), "fail"),
                span("test", "test_new", Some("test_new"), "fail"),
                span("test", "test_broken", Some("test_broken"), "fail"),
            ],
            ..RunMeasures::default()
        };
        let items = triage(&baseline, &current);
        let got: Vec<(&str, Category)> = items
            .iter()
            .map(|i| (i.subject.as_str(), i.category))
            .collect();
        assert_eq!(
            got,
            vec![
                ("test_flaky", Category::KnownFlaky),
                ("test_new", Category::New),
                ("test_broken", Category::BrokenBefore),
            ]
        );

        current.failed_spans = vec![
            span("pipeline", "ci", None, "fail"),
            span("task", "checkout", None, "fail"),
        ];
        let items = triage(&baseline, &current);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].category, Category::Platform);
        assert_eq!(items[0].subject, "checkout");

        current.failed_spans = vec![span("pipeline", "ci", None, "cancel")];
        let items = triage(&baseline, &current);
        assert_eq!(items[0].category, Category::Platform);
        assert_eq!(items[0].kind, "pipeline");
    }
}
