//! Defaults for a pull-request job, from the CI system's environment variables: the
//! current runs are the PR's branch over the last 7 days (`$GITHUB_HEAD_REF`,
//! `$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME`, `$CI_COMMIT_REF_NAME` or `$GITHUB_REF_NAME`),
//! the baseline its target branch over 14 days (`$GITHUB_BASE_REF`,
//! `$CI_MERGE_REQUEST_TARGET_BRANCH_NAME`, `$CI_DEFAULT_BRANCH`, else `main`).
//!
//! The environment comes in as a lookup function (`std::env::var(name).ok()` in the
//! binary), so the defaults are tested without touching the process environment.

use super::selection::RunSelection;

/// The PR's own branch, first set variable wins (GitHub, then GitLab).
pub const HEAD_BRANCH: [&str; 4] = [
    "GITHUB_HEAD_REF",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    "CI_COMMIT_REF_NAME",
    "GITHUB_REF_NAME",
];

/// The branch the PR merges into.
pub const BASE_BRANCH: [&str; 3] = [
    "GITHUB_BASE_REF",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
    "CI_DEFAULT_BRANCH",
];

/// The baseline branch when no CI variable names one.
pub const FALLBACK_BASE: &str = "main";

/// The value of the first of `names` that is set and not blank.
fn first_set(env: &dyn Fn(&str) -> Option<String>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .filter_map(|n| env(n))
        .find(|v| !v.trim().is_empty())
}

/// The current runs of a PR job: its branch over 7 days, if a CI variable names it.
pub fn current(env: &dyn Fn(&str) -> Option<String>) -> Option<RunSelection> {
    first_set(env, &HEAD_BRANCH).map(|branch| RunSelection::branch_since(branch, "7d"))
}

/// The baseline of a PR job: its target branch (else `main`) over 14 days.
pub fn baseline(env: &dyn Fn(&str) -> Option<String>) -> RunSelection {
    let branch = first_set(env, &BASE_BRANCH).unwrap_or_else(|| FALLBACK_BASE.to_string());
    RunSelection::branch_since(branch, "14d")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn github_pull_request() {
        let env = env(&[
            ("GITHUB_HEAD_REF", "feature/x"),
            ("GITHUB_REF_NAME", "17/merge"),
            ("GITHUB_BASE_REF", "release"),
        ]);
        let current = current(&env).unwrap();
        assert_eq!(current.describe(), "branch=feature/x,since=7d");
        assert_eq!(baseline(&env).describe(), "branch=release,since=14d");
    }

    #[test]
    fn gitlab_merge_request_and_blank_variables() {
        let env = env(&[
            ("GITHUB_HEAD_REF", " "),
            ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "fix"),
            ("CI_COMMIT_REF_NAME", "other"),
            ("CI_DEFAULT_BRANCH", "trunk"),
        ]);
        assert_eq!(current(&env).unwrap().branch.as_deref(), Some("fix"));
        assert_eq!(baseline(&env).branch.as_deref(), Some("trunk"));
    }

    #[test]
    fn outside_ci_there_is_no_current_branch_and_the_baseline_is_main() {
        let env = env(&[]);
        assert_eq!(current(&env), None);
        assert_eq!(baseline(&env).describe(), "branch=main,since=14d");
    }
}
