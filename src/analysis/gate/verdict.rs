//! The job's verdict under `allow_known_flaky`: may a red test step still leave the job
//! green because every failure is a known flake?
//!
//! - No violation, and every triaged failure of the judged run is **known_flaky**: pass.
//! - Any **new** or **platform** failure: fail.
//! - A **broken_before** failure fails too: it is not the change's fault, but it is
//!   not a flake either — the test really fails on the target branch, and a gate that
//!   waved it through would let every later change merge with that test unchecked.
//!   The reason says so, so the author knows it is not theirs to fix.
//! - The job says it failed but the judged run shows no failure at all (the test step
//!   died before writing a report, a build error outside the traced spans): fail —
//!   the gate never turns a red job green on evidence it does not have.
//!
//! Without `allow_known_flaky` the gate judges the rules only (see [`super::rules`]).

use serde::Serialize;

use super::rules::Violation;
use super::triage::{Category, TriageItem};

/// The job's own result, as the CI system reports it for the test step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Success,
    Failure,
}

impl JobStatus {
    /// Reads a CI status word: `success`/`passed` (GitHub `steps.<id>.outcome`, GitLab
    /// `CI_JOB_STATUS`); everything else (`failure`, `failed`, `cancelled`, `canceled`,
    /// `skipped`) is a failure, so an unexpected word can never make a job green.
    /// Blank is `None`.
    pub fn parse(text: &str) -> Option<JobStatus> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" => None,
            "success" | "succeeded" | "passed" | "pass" | "ok" | "0" => Some(JobStatus::Success),
            _ => Some(JobStatus::Failure),
        }
    }

    /// The status from the environment: `PIPESCOPE_JOB_STATUS`, then GitLab's
    /// `CI_JOB_STATUS` (set in `after_script`).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Option<JobStatus> {
        ["PIPESCOPE_JOB_STATUS", "CI_JOB_STATUS"]
            .iter()
            .find_map(|name| env(name).and_then(|v| JobStatus::parse(&v)))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Success => "success",
            JobStatus::Failure => "failure",
        }
    }
}

/// Failures of the judged run per category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CategoryCounts {
    pub known_flaky: u64,
    pub broken_before: u64,
    pub new: u64,
    pub platform: u64,
}

impl CategoryCounts {
    pub fn of(triage: &[TriageItem]) -> CategoryCounts {
        let mut c = CategoryCounts::default();
        for item in triage {
            match item.category {
                Category::KnownFlaky => c.known_flaky += 1,
                Category::BrokenBefore => c.broken_before += 1,
                Category::New => c.new += 1,
                Category::Platform => c.platform += 1,
            }
        }
        c
    }

    fn total(&self) -> u64 {
        self.known_flaky + self.broken_before + self.new + self.platform
    }
}

/// The gate's decision and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub passed: bool,
    /// Whether known flakes were allowed (`--allow-known-flaky`).
    pub allow_known_flaky: bool,
    /// The job's own status when known (`--job-status`, CI variables).
    pub job_status: Option<JobStatus>,
    pub failures: CategoryCounts,
    /// The decision in a sentence.
    pub reason: String,
}

/// Decides the gate from its violations and the triage of the judged run.
pub fn decide(
    violations: &[Violation],
    triage: &[TriageItem],
    allow_known_flaky: bool,
    job_status: Option<JobStatus>,
) -> Verdict {
    let failures = CategoryCounts::of(triage);
    let verdict = |passed, reason: String| Verdict {
        passed,
        allow_known_flaky,
        job_status,
        failures,
        reason,
    };
    let violated =
        (!violations.is_empty()).then(|| format!("{} rule violation(s)", violations.len()));
    if !allow_known_flaky {
        return match violated {
            Some(reason) => verdict(false, reason),
            None => verdict(true, "no rule violated".to_string()),
        };
    }
    let c = failures;
    let mut parts = Vec::new();
    if c.new > 0 {
        parts.push(format!("{} new", c.new));
    }
    if c.broken_before > 0 {
        parts.push(format!(
            "{} broken before this change (already failing in the baseline: not this change's fault, but not a flake; fix or quarantine it)",
            c.broken_before
        ));
    }
    if c.platform > 0 {
        parts.push(format!("{} of the CI platform", c.platform));
    }
    let unforgiven = (!parts.is_empty())
        .then(|| format!("failures that are not known flakes: {}", parts.join(", ")));
    match (violated, unforgiven) {
        (Some(v), Some(u)) => verdict(false, format!("{v}; {u}")),
        (Some(v), None) | (None, Some(v)) => verdict(false, v),
        (None, None) if c.total() > 0 => verdict(
            true,
            format!(
                "every failure is known flaky ({} test(s)): the job passes",
                c.known_flaky
            ),
        ),
        (None, None) if job_status == Some(JobStatus::Failure) => verdict(
            false,
            "the job failed but the judged run shows no failure: nothing proves it was a flake"
                .to_string(),
        ),
        (None, None) => verdict(true, "no failure in the judged run".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(category: Category) -> TriageItem {
        TriageItem {
            run: "1".into(),
            attempt: Some(1),
            pipeline: "ci".into(),
            kind: "test".into(),
            subject: "t".into(),
            category,
            reason: String::new(),
        }
    }

    #[test]
    fn known_flakes_alone_pass_anything_else_fails() {
        let flaky = [item(Category::KnownFlaky), item(Category::KnownFlaky)];
        assert!(decide(&[], &flaky, true, Some(JobStatus::Failure)).passed);
        assert!(!decide(&[], &flaky, true, None).reason.is_empty());
        for other in [Category::New, Category::BrokenBefore, Category::Platform] {
            let mixed = [item(Category::KnownFlaky), item(other)];
            let v = decide(&[], &mixed, true, Some(JobStatus::Failure));
            assert!(!v.passed, "{other:?}");
        }
        let broken = decide(&[], &[item(Category::BrokenBefore)], true, None);
        assert!(
            broken.reason.contains("not this change's fault"),
            "{broken:?}"
        );
        // Without allow_known_flaky only rules decide, as before.
        assert!(decide(&[], &[item(Category::New)], false, None).passed);
    }

    #[test]
    fn a_failed_job_without_visible_failures_stays_red() {
        assert!(!decide(&[], &[], true, Some(JobStatus::Failure)).passed);
        assert!(decide(&[], &[], true, Some(JobStatus::Success)).passed);
        assert!(decide(&[], &[], true, None).passed);
    }

    #[test]
    fn status_words_other_than_success_are_failures() {
        assert_eq!(JobStatus::parse("success"), Some(JobStatus::Success));
        assert_eq!(JobStatus::parse(" Success\n"), Some(JobStatus::Success));
        for word in [
            "failure",
            "failed",
            "cancelled",
            "canceled",
            "skipped",
            "weird",
        ] {
            assert_eq!(JobStatus::parse(word), Some(JobStatus::Failure), "{word}");
        }
        assert_eq!(JobStatus::parse("  "), None);
        let env = |name: &str| (name == "CI_JOB_STATUS").then(|| "failed".to_string());
        assert_eq!(JobStatus::from_env(&env), Some(JobStatus::Failure));
        let both = |name: &str| match name {
            "PIPESCOPE_JOB_STATUS" => Some("success".to_string()),
            _ => Some("failed".to_string()),
        };
        assert_eq!(JobStatus::from_env(&both), Some(JobStatus::Success));
    }
}
