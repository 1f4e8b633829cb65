//! Attributes and status of a test execution's span.

use super::report::{Execution, Verdict};
use super::text::push_capped;
use crate::model::Status;

/// The value of `test.case.result.status` (the conventions map it to the outcome).
pub fn result_value(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Error => "error",
        Verdict::Skip => "skipped",
    }
}

/// Failure message, type and stack trace (OpenTelemetry's `exception.*` keys), or
/// the reason of a skip.
pub fn failure_attributes(exec: &Execution, attrs: &mut Vec<(String, String)>) {
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v.as_ref().filter(|v| !v.trim().is_empty()) {
            attrs.push((k.to_owned(), v.clone()));
        }
    };
    put("junit.result.element", &exec.element);
    match exec.verdict {
        Verdict::Fail | Verdict::Error => {
            put("exception.type", &exec.kind);
            put("exception.message", &exec.message);
            put("exception.stacktrace", &Some(exec.text.clone()));
        }
        Verdict::Skip => put("junit.skipped.message", &exec.message),
        Verdict::Pass => {}
    }
}

/// Span status and message: the failure's message, else the first line of its text.
pub fn status_of(exec: &Execution) -> (Status, Option<String>) {
    match exec.verdict {
        Verdict::Pass => (Status::Ok, None),
        Verdict::Skip => (Status::Unset, None),
        Verdict::Fail | Verdict::Error => {
            let message = exec
                .message
                .as_deref()
                .filter(|m| !m.trim().is_empty())
                .or_else(|| exec.text.lines().map(str::trim).find(|l| !l.is_empty()))
                .or(exec.element.as_deref())
                .map(|m| {
                    let mut out = String::new();
                    push_capped(&mut out, m.trim());
                    out
                });
            (Status::Error, message)
        }
    }
}
