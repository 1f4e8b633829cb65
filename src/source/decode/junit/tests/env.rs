//! The CI context read from the environment of each CI system.

use super::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[test]
fn github_actions() {
    let vars = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_WORKFLOW", "CI"),
        ("GITHUB_RUN_ID", "9876543210"),
        ("GITHUB_RUN_ATTEMPT", "2"),
        ("GITHUB_JOB", "test"),
        ("GITHUB_REF_NAME", "main"),
        ("GITHUB_SHA", "ffac537e6cbbf934b08745a378932722df287a53"),
        ("GITHUB_REPOSITORY", "octo/hello"),
    ];
    let ctx = JunitContext::from_env(env(&vars));
    assert_eq!(
        ctx,
        JunitContext {
            pipeline: some("CI"),
            run_id: some("9876543210"),
            attempt: Some(2),
            task: some("test"),
            branch: some("main"),
            commit: some("ffac537e6cbbf934b08745a378932722df287a53"),
            repo: some("octo/hello"),
            time_ns: None,
        }
    );
    assert_eq!(JunitContext::detect_ci(env(&vars)), Some("github"));
    // A pull request: the head branch, not `<n>/merge`.
    let mut pr = vars.to_vec();
    pr.push(("GITHUB_REF_NAME", "12/merge"));
    pr.push(("GITHUB_HEAD_REF", "feature/x"));
    assert_eq!(JunitContext::from_env(env(&pr)).branch, some("feature/x"));
    // An empty GITHUB_HEAD_REF (push events set it empty) counts as unset.
    let mut push = vars.to_vec();
    push.push(("GITHUB_HEAD_REF", ""));
    assert_eq!(JunitContext::from_env(env(&push)).branch, some("main"));
}

#[test]
fn gitlab_ci() {
    let vars = [
        ("GITLAB_CI", "true"),
        ("CI_PROJECT_NAME", "shop"),
        ("CI_PIPELINE_ID", "1234"),
        ("CI_JOB_NAME", "rspec 1/3"),
        ("CI_COMMIT_REF_NAME", "main"),
        ("CI_COMMIT_SHA", "abc"),
        ("CI_PROJECT_PATH", "group/shop"),
    ];
    let ctx = JunitContext::from_env(env(&vars));
    assert_eq!(ctx.pipeline, some("shop"));
    assert_eq!(ctx.run_id, some("1234"));
    assert_eq!(ctx.attempt, None);
    assert_eq!(ctx.task, some("rspec 1/3"));
    assert_eq!(ctx.branch, some("main"));
    assert_eq!(ctx.commit, some("abc"));
    assert_eq!(ctx.repo, some("group/shop"));
    let mut mr = vars.to_vec();
    mr.push(("CI_PIPELINE_NAME", "MR checks"));
    mr.push(("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "feature/y"));
    let ctx = JunitContext::from_env(env(&mr));
    assert_eq!(ctx.pipeline, some("MR checks"));
    assert_eq!(ctx.branch, some("feature/y"));
}

#[test]
fn jenkins() {
    let vars = [
        ("JENKINS_URL", "https://ci.example.com/"),
        ("JOB_NAME", "shop/main"),
        ("BUILD_NUMBER", "57"),
        ("STAGE_NAME", "Test"),
        ("GIT_BRANCH", "origin/main"),
        ("GIT_COMMIT", "def"),
        ("GIT_URL", "https://git.example.com/shop.git"),
    ];
    let ctx = JunitContext::from_env(env(&vars));
    assert_eq!(ctx.pipeline, some("shop/main"));
    assert_eq!(
        ctx.run_id,
        some("shop/main#57"),
        "build numbers count per job"
    );
    assert_eq!(ctx.task, some("Test"));
    assert_eq!(ctx.branch, some("main"));
    assert_eq!(ctx.commit, some("def"));
    assert_eq!(ctx.repo, some("https://git.example.com/shop.git"));
    let mut pr = vars.to_vec();
    pr.push(("BRANCH_NAME", "PR-7"));
    pr.push(("CHANGE_BRANCH", "feature/z"));
    assert_eq!(JunitContext::from_env(env(&pr)).branch, some("feature/z"));
    let mut multibranch = vars.to_vec();
    multibranch.push(("BRANCH_NAME", "release"));
    assert_eq!(
        JunitContext::from_env(env(&multibranch)).branch,
        some("release")
    );
}

#[test]
fn buildkite() {
    let vars = [
        ("BUILDKITE", "true"),
        ("BUILDKITE_PIPELINE_SLUG", "shop"),
        ("BUILDKITE_BUILD_ID", "0190-uuid"),
        ("BUILDKITE_RETRY_COUNT", "1"),
        ("BUILDKITE_LABEL", ":rspec: Tests"),
        ("BUILDKITE_BRANCH", "main"),
        ("BUILDKITE_COMMIT", "123"),
        ("BUILDKITE_REPO", "git@github.com:acme/shop.git"),
    ];
    let ctx = JunitContext::from_env(env(&vars));
    assert_eq!(ctx.pipeline, some("shop"));
    assert_eq!(ctx.run_id, some("0190-uuid"));
    assert_eq!(ctx.attempt, Some(2), "retry count 1 is the second attempt");
    assert_eq!(ctx.task, some(":rspec: Tests"));
    assert_eq!(ctx.branch, some("main"));
    assert_eq!(ctx.commit, some("123"));
    assert_eq!(ctx.repo, some("git@github.com:acme/shop.git"));
}

#[test]
fn circleci() {
    let vars = [
        ("CIRCLECI", "true"),
        ("CIRCLE_PROJECT_USERNAME", "acme"),
        ("CIRCLE_PROJECT_REPONAME", "shop"),
        ("CIRCLE_WORKFLOW_ID", "wf-uuid"),
        ("CIRCLE_BUILD_NUM", "99"),
        ("CIRCLE_JOB", "test"),
        ("CIRCLE_BRANCH", "main"),
        ("CIRCLE_SHA1", "456"),
    ];
    let ctx = JunitContext::from_env(env(&vars));
    assert_eq!(ctx.pipeline, some("shop"));
    assert_eq!(ctx.run_id, some("wf-uuid"));
    assert_eq!(ctx.task, some("test"));
    assert_eq!(ctx.branch, some("main"));
    assert_eq!(ctx.commit, some("456"));
    assert_eq!(ctx.repo, some("acme/shop"));
}

#[test]
fn outside_ci_nothing_and_stray_variables_do_not_leak() {
    assert_eq!(JunitContext::from_env(env(&[])), JunitContext::default());
    let stray = [
        ("GIT_COMMIT", "x"),
        ("GITHUB_SHA", "y"),
        ("BUILD_NUMBER", "3"),
    ];
    assert_eq!(JunitContext::from_env(env(&stray)), JunitContext::default());
    assert_eq!(JunitContext::detect_ci(env(&stray)), None);
    // Only the detected system's variables are read.
    let gitlab = [
        ("GITLAB_CI", "true"),
        ("CI_PIPELINE_ID", "5"),
        ("GITHUB_SHA", "y"),
    ];
    assert_eq!(JunitContext::from_env(env(&gitlab)).commit, None);
}

#[test]
fn flags_win_and_the_environment_fills_the_rest() {
    let vars = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_WORKFLOW", "CI"),
        ("GITHUB_RUN_ID", "1"),
        ("GITHUB_RUN_ATTEMPT", "not a number"),
        ("GITHUB_SHA", "env-sha"),
    ];
    let flags = JunitContext {
        commit: some("flag-sha"),
        time_ns: Some(5),
        ..JunitContext::default()
    };
    let ctx = flags.with_env(env(&vars));
    assert_eq!(ctx.commit, some("flag-sha"));
    assert_eq!(ctx.pipeline, some("CI"));
    assert_eq!(ctx.run_id, some("1"));
    assert_eq!(ctx.attempt, None, "an unreadable attempt is no attempt");
    assert_eq!(ctx.time_ns, Some(5));
}
