//! Every trace-level key (pipeline, run, attempt, branch, commit, repo) and priorities.

use super::*;

#[derive(Clone, Copy, Debug)]
enum Field {
    Pipeline,
    RunId,
    Attempt,
    Branch,
    Commit,
    Repo,
}

fn get(ci: &CiFields, f: Field) -> Option<String> {
    match f {
        Field::Pipeline => ci.pipeline.clone(),
        Field::RunId => ci.run_id.clone(),
        Field::Attempt => ci.attempt.map(|a| a.to_string()),
        Field::Branch => ci.branch.clone(),
        Field::Commit => ci.commit.clone(),
        Field::Repo => ci.repo.clone(),
    }
}

/// (key, on resource?, value, field, expected). Each span also carries a task name so
/// that it is a CI span; every key of every trace-level row of CONVENTIONS.md is here.
const TRACE_ROWS: &[(&str, bool, &str, Field, &str)] = &[
    (
        "cicd.pipeline.name",
        false,
        "build",
        Field::Pipeline,
        "build",
    ),
    (
        "ci.pipeline.name",
        false,
        "jenkins-job",
        Field::Pipeline,
        "jenkins-job",
    ),
    ("github.workflow", false, "CI", Field::Pipeline, "CI"),
    (
        "pipeline.name",
        true,
        "tekton-pipe",
        Field::Pipeline,
        "tekton-pipe",
    ),
    (
        "cicd.pipeline.run.id",
        false,
        "14460881260",
        Field::RunId,
        "14460881260",
    ),
    (
        "github.run_id",
        false,
        "21458831126",
        Field::RunId,
        "21458831126",
    ),
    ("ci.pipeline.run.number", false, "42", Field::RunId, "42"),
    ("pipeline.run", true, "pr-abc12", Field::RunId, "pr-abc12"),
    (
        "ci.pipeline.id",
        false,
        "folder/job",
        Field::RunId,
        "folder/job",
    ),
    ("github.run_attempt", false, "3", Field::Attempt, "3"),
    ("github.job.run_attempt", false, "4", Field::Attempt, "4"),
    ("vcs.ref.head.name", false, "main", Field::Branch, "main"),
    (
        "vcs.ref.head",
        true,
        "renovate/x",
        Field::Branch,
        "renovate/x",
    ),
    (
        "vcs.repository.ref.name",
        false,
        "dev",
        Field::Branch,
        "dev",
    ),
    (
        "github.head_branch",
        false,
        "feat/a",
        Field::Branch,
        "feat/a",
    ),
    (
        "github.job.head_branch",
        false,
        "feat/b",
        Field::Branch,
        "feat/b",
    ),
    ("github.head_ref", false, "feat/c", Field::Branch, "feat/c"),
    (
        "git.branch",
        false,
        "refs/heads/release",
        Field::Branch,
        "release",
    ),
    ("buildkite.build.branch", false, "bk", Field::Branch, "bk"),
    ("ci.commit.branch", false, "cb", Field::Branch, "cb"),
    (
        "vcs.ref.head.revision",
        true,
        "6077d805",
        Field::Commit,
        "6077d805",
    ),
    (
        "vcs.repository.ref.revision",
        false,
        "aaa1",
        Field::Commit,
        "aaa1",
    ),
    ("github.head_sha", false, "bbb2", Field::Commit, "bbb2"),
    ("github.job.head_sha", false, "ccc3", Field::Commit, "ccc3"),
    ("ci.commit.sha", false, "ddd4", Field::Commit, "ddd4"),
    (
        "buildkite.build.commit",
        false,
        "eee5",
        Field::Commit,
        "eee5",
    ),
    (
        "vcs.repository.name",
        true,
        "otel-collector",
        Field::Repo,
        "otel-collector",
    ),
    (
        "vcs.repository.url.full",
        false,
        "https://g/x",
        Field::Repo,
        "https://g/x",
    ),
];

#[test]
fn every_trace_level_key_is_understood() {
    for &(key, on_resource, value, field, expected) in TRACE_ROWS {
        let s = with(span("a", Some("p"), "job"), &[("ansible.task.name", "t")]);
        let s = if on_resource {
            with_res(s, &[(key, value)])
        } else {
            with(s, &[(key, value)])
        };
        let ci = one(s);
        assert_eq!(get(&ci, field).as_deref(), Some(expected), "key {key}");
    }
}

#[test]
fn resource_only_keys_do_not_match_span_attributes() {
    let ci = one(with(
        span("a", Some("p"), "x"),
        &[
            ("ansible.task.name", "t"),
            ("pipeline.name", "p"),
            ("pipeline.run", "r"),
        ],
    ));
    assert_eq!(ci.pipeline, None);
    assert_eq!(
        ci.run_id.as_deref(),
        Some(TRACE),
        "falls back to the trace id"
    );
}

#[test]
fn jenkins_build_number_is_scoped_by_pipeline_id() {
    let ci = one(with(
        span("a", None, "BUILD app"),
        &[
            ("ci.pipeline.id", "team/app"),
            ("ci.pipeline.run.number", "42"),
        ],
    ));
    assert_eq!(ci.run_id.as_deref(), Some("team/app#42"));
    assert_eq!(ci.role, Some(Role::Pipeline));
}

#[test]
fn root_service_name_is_the_last_resort_pipeline_name() {
    let mut v = vec![
        with_res(span("r", None, "jest tests"), &[("service.name", "Test")]),
        with(span("c", Some("r"), "case"), &[("test.name", "t1")]),
    ];
    let facts = run(&mut v);
    assert_eq!(facts.pipeline.as_deref(), Some("Test"));
    assert_eq!(v[1].ci.pipeline.as_deref(), Some("Test"));
}

#[test]
fn otel_cicd_action_service_version_is_the_commit_only_there() {
    let res = [
        ("service.name", "otel-cicd-action"),
        ("service.version", "e2666f58"),
        ("service.namespace", "biomejs/biome"),
    ];
    let ci = one(with_res(
        with(span("a", None, "Lint"), &[("cicd.pipeline.name", "Lint")]),
        &res,
    ));
    assert_eq!(ci.commit.as_deref(), Some("e2666f58"));
    assert_eq!(ci.repo.as_deref(), Some("biomejs/biome"));

    let other = one(with_res(
        with(span("a", None, "Lint"), &[("cicd.pipeline.name", "Lint")]),
        &[
            ("service.name", "my-app"),
            ("service.version", "1.2.3"),
            ("service.namespace", "prod"),
        ],
    ));
    assert_eq!(other.commit, None);
    assert_eq!(other.repo, None);

    // A real commit key outranks the emitter fallback.
    let both = one(with_res(
        with(
            span("a", None, "Lint"),
            &[("cicd.pipeline.name", "Lint"), ("github.head_sha", "real")],
        ),
        &res,
    ));
    assert_eq!(both.commit.as_deref(), Some("real"));
}

#[test]
fn first_key_wins_and_span_beats_resource() {
    let ci = one(with(
        span("a", None, "x"),
        &[
            ("cicd.pipeline.name", "p"),
            ("ci.commit.branch", "last"),
            ("git.branch", "middle"),
            ("vcs.ref.head.name", "first"),
        ],
    ));
    assert_eq!(ci.branch.as_deref(), Some("first"));

    let ci = one(with_res(
        with(
            span("a", None, "x"),
            &[("cicd.pipeline.name", "p"), ("vcs.ref.head.name", "span")],
        ),
        &[("vcs.ref.head.name", "resource")],
    ));
    assert_eq!(ci.branch.as_deref(), Some("span"));

    // Priority is by key first: a better key on the resource beats a worse one on the span.
    let ci = one(with_res(
        with(
            span("a", None, "x"),
            &[("cicd.pipeline.name", "p"), ("git.branch", "span")],
        ),
        &[("vcs.ref.head.name", "resource")],
    ));
    assert_eq!(ci.branch.as_deref(), Some("resource"));
}

#[test]
fn hostile_values_pass_through_untouched() {
    for branch in [
        "fix/../../etc/passwd",
        "feature/ünïcode-✓",
        "a\"b'c",
        "line1\nline2",
        "x; DROP TABLE spans; --",
    ] {
        let ci = one(with(
            span("a", None, "x"),
            &[("cicd.pipeline.name", "p"), ("vcs.ref.head.name", branch)],
        ));
        assert_eq!(ci.branch.as_deref(), Some(branch));
    }
    let ci = one(with(
        span("a", None, "x"),
        &[
            ("cicd.pipeline.name", "p"),
            ("vcs.ref.head.name", "  padded  "),
        ],
    ));
    assert_eq!(ci.branch.as_deref(), Some("padded"), "values are trimmed");
}
