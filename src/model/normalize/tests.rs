//! Tests of the normaliser: every row of CONVENTIONS.md, the value → outcome table, and
//! the trace shapes of real emitters (built by hand, mirroring the real fixtures).

use super::*;
use crate::model::span::{CiFields, Link, Outcome, Role, Status};

const TRACE: &str = "731ec8a47fd7450f753a812a4a8aa5a0";

fn span(id: &str, parent: Option<&str>, name: &str) -> Span {
    Span {
        trace_id: TRACE.to_string(),
        span_id: id.to_string(),
        parent_span_id: parent.map(str::to_string),
        name: name.to_string(),
        kind: "internal".to_string(),
        ..Span::default()
    }
}

fn with(mut s: Span, attrs: &[(&str, &str)]) -> Span {
    s.attributes
        .extend(attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    s
}

fn with_res(mut s: Span, res: &[(&str, &str)]) -> Span {
    s.resource
        .extend(res.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    s
}

fn at(mut s: Span, start: i64, status: Status) -> Span {
    s.start_ns = start;
    s.end_ns = start + 10;
    s.status = status;
    s
}

fn normalizer() -> Normalizer {
    Normalizer::new(Conventions::builtin())
}

fn run(spans: &mut [Span]) -> TraceFacts {
    normalizer().normalize_trace(spans, None)
}

fn one(s: Span) -> CiFields {
    let mut v = vec![s];
    run(&mut v);
    v.remove(0).ci
}

fn by_id<'a>(spans: &'a [Span], id: &str) -> &'a CiFields {
    &spans.iter().find(|s| s.span_id == id).unwrap().ci
}

// ---------------------------------------------------------------- trace-level rows

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

// ---------------------------------------------------------------- roles

/// (span name, root?, span attrs, resource attrs, role, task, test, suite)
type RoleRow<'a> = (
    &'a str,
    bool,
    &'a [(&'a str, &'a str)],
    &'a [(&'a str, &'a str)],
    Option<Role>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

const ROLE_ROWS: &[RoleRow] = &[
    (
        "wf",
        true,
        &[("cicd.pipeline.name", "wf")],
        &[],
        Some(Role::Pipeline),
        None,
        None,
        None,
    ),
    (
        "wf",
        false,
        &[("cicd.pipeline.name", "wf")],
        &[],
        Some(Role::Pipeline),
        None,
        None,
        None,
    ),
    (
        "gl",
        true,
        &[("cicd.pipeline.run.id", "7")],
        &[],
        Some(Role::Pipeline),
        None,
        None,
        None,
    ),
    (
        "run",
        true,
        &[("github.run_id", "1")],
        &[],
        Some(Role::Pipeline),
        None,
        None,
        None,
    ),
    (
        "run",
        false,
        &[("github.run_id", "1")],
        &[],
        None,
        None,
        None,
        None,
    ),
    (
        "BUILD app",
        true,
        &[("ci.pipeline.id", "app")],
        &[],
        Some(Role::Pipeline),
        None,
        None,
        None,
    ),
    (
        "BUILD app",
        true,
        &[("ci.pipeline.name", "app")],
        &[],
        Some(Role::Pipeline),
        None,
        None,
        None,
    ),
    (
        "BUILD app",
        true,
        &[("ci.pipeline.run.number", "3")],
        &[],
        Some(Role::Pipeline),
        None,
        None,
        None,
    ),
    (
        "script",
        true,
        &[],
        &[("pipeline.name", "p")],
        Some(Role::Pipeline),
        None,
        None,
        None,
    ),
    (
        "s",
        false,
        &[("buildkite.build.stage", "s")],
        &[],
        Some(Role::Stage),
        None,
        None,
        None,
    ),
    (
        "Stage: build",
        false,
        &[],
        &[],
        Some(Role::Task),
        Some("build"),
        None,
        None,
    ),
    (
        "Parallel branch: a",
        false,
        &[],
        &[],
        Some(Role::Task),
        Some("a"),
        None,
        None,
    ),
    (
        "j",
        false,
        &[("cicd.pipeline.task.name", "job1")],
        &[],
        Some(Role::Task),
        Some("job1"),
        None,
        None,
    ),
    (
        "j",
        false,
        &[("github.job.name", "job2")],
        &[],
        Some(Role::Task),
        Some("job2"),
        None,
        None,
    ),
    (
        "j",
        false,
        &[],
        &[("task.name", "job3"), ("pipeline.name", "p")],
        Some(Role::Task),
        Some("job3"),
        None,
        None,
    ),
    (
        "j",
        false,
        &[("task.name", "not-resource")],
        &[],
        None,
        None,
        None,
        None,
    ),
    (
        "j",
        false,
        &[("task.path", ":app:test")],
        &[],
        Some(Role::Task),
        Some(":app:test"),
        None,
        None,
    ),
    (
        "j",
        false,
        &[("ansible.task.name", "install")],
        &[],
        Some(Role::Task),
        Some("install"),
        None,
        None,
    ),
    (
        "test (1.23)",
        false,
        &[],
        &[("cicd.pipeline.task.run.id", "406")],
        Some(Role::Task),
        Some("test (1.23)"),
        None,
        None,
    ),
    (
        "st",
        false,
        &[("github.job.step.name", "st")],
        &[],
        Some(Role::Step),
        None,
        None,
        None,
    ),
    (
        "sh",
        false,
        &[("jenkins.pipeline.step.name", "sh")],
        &[],
        Some(Role::Step),
        None,
        None,
        None,
    ),
    (
        "c",
        false,
        &[("test.case.name", "t::a")],
        &[],
        Some(Role::Test),
        None,
        Some("t::a"),
        None,
    ),
    (
        "Running t_b",
        false,
        &[("tests.name", "t_b")],
        &[],
        Some(Role::Test),
        None,
        Some("t_b"),
        None,
    ),
    (
        "test.execute",
        false,
        &[("test.name", "t_c"), ("test.classname", "pkg.C")],
        &[],
        Some(Role::Test),
        None,
        Some("t_c"),
        Some("pkg.C"),
    ),
    (
        "c",
        false,
        &[("test.name", "t_d"), ("test.scope", "Case")],
        &[],
        Some(Role::Test),
        None,
        Some("t_d"),
        None,
    ),
    (
        "Gradle Test Executor > t_e",
        false,
        &[("test.result", "SUCCESS")],
        &[],
        Some(Role::Test),
        None,
        Some("Gradle Test Executor > t_e"),
        None,
    ),
    (
        "s",
        false,
        &[("test.suite.name", "suite1")],
        &[],
        Some(Role::Suite),
        None,
        None,
        Some("suite1"),
    ),
    (
        "Test Suite",
        true,
        &[("tests.status", "passed")],
        &[],
        Some(Role::Suite),
        None,
        None,
        Some("Test Suite"),
    ),
    (
        "pkg",
        false,
        &[("test.name", "pkg"), ("test.scope", "Suite")],
        &[],
        Some(Role::Suite),
        None,
        None,
        Some("pkg"),
    ),
    (
        "jest tests",
        true,
        &[("test.name", "jest tests"), ("test.scope", "Run")],
        &[],
        None,
        None,
        None,
        None,
    ),
    (
        "GET /",
        false,
        &[("http.method", "GET")],
        &[],
        None,
        None,
        None,
        None,
    ),
    (
        "echo",
        false,
        &[("command", "echo hi")],
        &[],
        None,
        None,
        None,
        None,
    ),
];

#[test]
fn every_role_row_is_understood() {
    for (i, &(name, root, attrs, res, role, task, test, suite)) in ROLE_ROWS.iter().enumerate() {
        let parent = if root { None } else { Some("missing-parent") };
        let ci = one(with_res(with(span("a", parent, name), attrs), res));
        assert_eq!(ci.role, role, "row {i}: {name} {attrs:?} {res:?}");
        assert_eq!(ci.task.as_deref(), task, "row {i} task");
        assert_eq!(ci.test.as_deref(), test, "row {i} test");
        assert_eq!(ci.suite.as_deref(), suite, "row {i} suite");
    }
}

// ---------------------------------------------------------------- outcomes

/// (role-giving attr, result key, value, expected): every result key of CONVENTIONS.md.
const RESULT_ROWS: &[((&str, &str), &str, &str, Outcome)] = &[
    (
        ("cicd.pipeline.task.name", "j"),
        "cicd.pipeline.task.run.result",
        "failed",
        Outcome::Fail,
    ),
    (
        ("cicd.pipeline.task.name", "j"),
        "cicd.pipeline.run.task.status",
        "success",
        Outcome::Pass,
    ),
    (
        ("cicd.pipeline.task.name", "j"),
        "github.job.conclusion",
        "cancelled",
        Outcome::Cancel,
    ),
    (
        ("cicd.pipeline.task.name", "j"),
        "jenkins.pipeline.step.result",
        "NOT_BUILT",
        Outcome::Skip,
    ),
    (
        ("cicd.pipeline.task.name", "j"),
        "task.outcome",
        "skipped",
        Outcome::Skip,
    ),
    (
        ("cicd.pipeline.task.name", "j"),
        "buildkite.job.passed",
        "false",
        Outcome::Fail,
    ),
    (
        ("cicd.pipeline.task.name", "j"),
        "cicd.pipeline.task.run.result",
        "canceled",
        Outcome::Cancel,
    ),
    (
        ("cicd.pipeline.task.name", "j"),
        "github.job.conclusion",
        "timed_out",
        Outcome::Timeout,
    ),
    (
        ("cicd.pipeline.name", "p"),
        "cicd.pipeline.result",
        "failure",
        Outcome::Fail,
    ),
    (
        ("cicd.pipeline.name", "p"),
        "cicd.pipeline.run.status",
        "startup_failure",
        Outcome::Error,
    ),
    (
        ("cicd.pipeline.name", "p"),
        "ci.pipeline.run.result",
        "UNSTABLE",
        Outcome::Fail,
    ),
    (
        ("cicd.pipeline.name", "p"),
        "ci.pipeline.run.result",
        "ABORTED",
        Outcome::Cancel,
    ),
    (
        ("cicd.pipeline.name", "p"),
        "github.conclusion",
        "neutral",
        Outcome::Pass,
    ),
    (
        ("cicd.pipeline.name", "p"),
        "buildkite.build.state",
        "passed",
        Outcome::Pass,
    ),
    (
        ("test.name", "t"),
        "test.case.result.status",
        "fail",
        Outcome::Fail,
    ),
    (("test.name", "t"), "tests.status", "skipped", Outcome::Skip),
    (("test.name", "t"), "tests.status", "error", Outcome::Error),
    (("test.name", "t"), "test.outcome", "failed", Outcome::Fail),
    (("test.name", "t"), "test.result", "FAILURE", Outcome::Fail),
    (("test.name", "t"), "error", "true", Outcome::Fail),
    (("test.name", "t"), "error", "false", Outcome::Pass),
    (("test.name", "t"), "tests.status", "xfail", Outcome::Skip),
];

#[test]
fn every_result_key_decides_the_outcome() {
    for &((rk, rv), key, value, expected) in RESULT_ROWS {
        // Status OK everywhere: a wrong outcome cannot come from the status fallback
        // except for Pass, and Pass rows are paired with a key whose value is not pass.
        let ci = one(at(
            with(span("a", None, "x"), &[(rk, rv), (key, value)]),
            0,
            Status::Ok,
        ));
        assert_eq!(ci.outcome, Some(expected), "{key}={value}");
        let err = one(at(
            with(span("a", None, "x"), &[(rk, rv), (key, value)]),
            0,
            Status::Error,
        ));
        assert_eq!(err.outcome, Some(expected), "{key}={value} (status error)");
    }
}

#[test]
fn status_decides_without_a_result_and_no_role_means_no_outcome() {
    let t = |st| one(at(with(span("a", None, "x"), &[("test.name", "t")]), 0, st)).outcome;
    assert_eq!(t(Status::Error), Some(Outcome::Fail));
    assert_eq!(t(Status::Ok), Some(Outcome::Pass));
    assert_eq!(t(Status::Unset), Some(Outcome::Pass));
    let plain = one(at(
        with(span("a", None, "GET"), &[("http.method", "GET")]),
        0,
        Status::Error,
    ));
    assert_eq!(plain.outcome, None);
    // A value that is not a result ("in_progress") falls through to the status.
    let ci = one(at(
        with(
            span("a", None, "x"),
            &[
                ("cicd.pipeline.task.name", "j"),
                ("github.job.conclusion", "in_progress"),
            ],
        ),
        0,
        Status::Error,
    ));
    assert_eq!(ci.outcome, Some(Outcome::Fail));
}

#[test]
fn pytest_otel_skip_quirk_prefers_tests_status() {
    // pytest-otel `both` convention on a skipped test.
    let ci = one(with(
        span("a", Some("s"), "Running test_x"),
        &[
            ("tests.name", "test_x"),
            ("test.case.name", "tests/test_a.py::test_x"),
            ("cicd.pipeline.task.name", "test_x"),
            ("tests.status", "skipped"),
            ("test.case.result.status", "fail"),
            ("cicd.pipeline.task.run.result", "skipped"),
        ],
    ));
    assert_eq!(ci.role, Some(Role::Test), "a test, not a task");
    assert_eq!(ci.test.as_deref(), Some("tests/test_a.py::test_x"));
    assert_eq!(ci.outcome, Some(Outcome::Skip));
}

#[test]
fn gitlab_allow_failure_keeps_fail_and_stages_are_found() {
    let res = [
        ("cicd.pipeline.name", "main pipeline"),
        ("cicd.pipeline.run.id", "99"),
    ];
    let mut v = vec![
        with_res(
            at(
                with(
                    span("p", None, "main pipeline"),
                    &[("cicd.pipeline.result", "success")],
                ),
                0,
                Status::Ok,
            ),
            &res,
        ),
        with_res(at(span("st", Some("p"), "test"), 1, Status::Error), &res),
        with_res(
            at(
                with(
                    span("j", Some("st"), "lint"),
                    &[
                        ("cicd.pipeline.task.name", "lint"),
                        ("cicd.pipeline.task.run.result", "failed"),
                        ("gitlab.job.allow_failure", "true"),
                    ],
                ),
                2,
                Status::Error,
            ),
            &res,
        ),
        with_res(
            with(
                span("k", Some("st"), "unit"),
                &[
                    ("cicd.pipeline.task.name", "unit"),
                    ("cicd.pipeline.task.run.result", "canceled"),
                ],
            ),
            &res,
        ),
    ];
    run(&mut v);
    assert_eq!(by_id(&v, "p").role, Some(Role::Pipeline));
    assert_eq!(by_id(&v, "p").outcome, Some(Outcome::Pass));
    assert_eq!(by_id(&v, "st").role, Some(Role::Stage));
    assert_eq!(
        by_id(&v, "st").outcome,
        Some(Outcome::Fail),
        "stage: status decides"
    );
    assert_eq!(by_id(&v, "j").role, Some(Role::Task));
    assert_eq!(by_id(&v, "j").outcome, Some(Outcome::Fail));
    assert_eq!(by_id(&v, "k").outcome, Some(Outcome::Cancel));
    assert!(v.iter().all(|s| s.ci.run_id.as_deref() == Some("99")));
    assert!(
        v.iter()
            .all(|s| s.ci.pipeline.as_deref() == Some("main pipeline"))
    );
}

// ---------------------------------------------------------------- trace shapes

/// The Collector githubreceiver's trace of a failed run (attempt 13), mirroring
/// collector-contrib/workflow-run-expected.yaml and workflow-job-expected.yaml.
fn github_receiver_trace() -> Vec<Span> {
    let common = [
        ("service.name", "otel-collector"),
        ("vcs.repository.name", "open-telemetry-otel-collector"),
        ("vcs.vendor.name", "github"),
        ("vcs.ref.head", "renovate/major-tool-deps"),
        ("vcs.ref.head.type", "branch"),
        (
            "vcs.ref.head.revision",
            "6077d805b0fc49f65e6dbaefc2d1fc9b4f92aa4e",
        ),
    ];
    let mut run_span = at(
        span("aba151af7cfbcf0f", None, "build-and-test"),
        1000,
        Status::Error,
    );
    run_span.links.push(Link {
        trace_id: "3ab150c94bf95169f4958bc860bddc3b".into(),
        span_id: String::new(),
    });
    let run_span = with_res(
        with_res(run_span, &common),
        &[
            ("cicd.pipeline.name", "build-and-test"),
            ("cicd.pipeline.run.id", "14460881260"),
            ("cicd.pipeline.run.status", "failure"),
            (
                "cicd.pipeline.run.previous_attempt.url.full",
                "https://github.com/open-telemetry/open-telemetry-otel-collector/actions/runs/14460881260/attempts/12",
            ),
        ],
    );
    let job_res = [
        ("cicd.pipeline.name", "test (1.23)"),
        ("cicd.pipeline.task.run.id", "40685651258"),
        ("cicd.pipeline.run.task.status", "success"),
    ];
    let job = |s: Span| with_res(with_res(s, &common), &job_res);
    let mut v = vec![
        run_span,
        job(at(
            span("e68a36b3514c8634", Some("aba151af7cfbcf0f"), "test (1.23)"),
            1005,
            Status::Ok,
        )),
        job(with(
            at(
                span(
                    "d328504edfc4f5dc",
                    Some("e68a36b3514c8634"),
                    "queue-test (1.23)",
                ),
                1005,
                Status::Unset,
            ),
            &[("cicd.pipeline.run.queue.duration", "5e+09")],
        )),
    ];
    for (i, (id, name)) in [
        ("103b52e85d34ae1c", "Set up job"),
        ("b0a2cdd89199b9a5", "Run actions/checkout@v4"),
        ("1684627ec86a096c", "Make test-all"),
    ]
    .into_iter()
    .enumerate()
    {
        v.push(job(with(
            at(
                span(id, Some("d328504edfc4f5dc"), name),
                1010 + i as i64,
                Status::Ok,
            ),
            &[
                ("cicd.pipeline.task.name", name),
                ("cicd.pipeline.run.task.status", "success"),
            ],
        )));
    }
    v
}

#[test]
fn github_receiver_trace_shape() {
    let mut v = github_receiver_trace();
    let facts = run(&mut v);
    let run_ci = by_id(&v, "aba151af7cfbcf0f");
    assert_eq!(run_ci.role, Some(Role::Pipeline));
    assert_eq!(run_ci.outcome, Some(Outcome::Fail));
    let job = by_id(&v, "e68a36b3514c8634");
    assert_eq!(job.role, Some(Role::Task));
    assert_eq!(job.task.as_deref(), Some("test (1.23)"));
    assert_eq!(job.outcome, Some(Outcome::Pass));
    let queue = by_id(&v, "d328504edfc4f5dc");
    assert_eq!(queue.role, None);
    assert_eq!(queue.outcome, None);
    for id in ["103b52e85d34ae1c", "b0a2cdd89199b9a5", "1684627ec86a096c"] {
        let step = by_id(&v, id);
        assert_eq!(step.role, Some(Role::Step), "{id}");
        assert_eq!(step.task.as_deref(), Some("test (1.23)"));
        assert_eq!(step.outcome, Some(Outcome::Pass));
    }
    for s in &v {
        assert_eq!(
            s.ci.branch.as_deref(),
            Some("renovate/major-tool-deps"),
            "{}",
            s.name
        );
        assert_eq!(
            s.ci.commit.as_deref(),
            Some("6077d805b0fc49f65e6dbaefc2d1fc9b4f92aa4e")
        );
        assert_eq!(s.ci.repo.as_deref(), Some("open-telemetry-otel-collector"));
        assert_eq!(
            s.ci.pipeline.as_deref(),
            Some("build-and-test"),
            "{}",
            s.name
        );
        assert_eq!(s.ci.run_id.as_deref(), Some("14460881260"));
        assert_eq!(s.ci.attempt, Some(13));
    }
    assert_eq!(
        facts,
        TraceFacts {
            pipeline: Some("build-and-test".into()),
            run_id: Some("14460881260".into()),
            attempt: Some(13),
            branch: Some("renovate/major-tool-deps".into()),
            commit: Some("6077d805b0fc49f65e6dbaefc2d1fc9b4f92aa4e".into()),
            repo: Some("open-telemetry-otel-collector".into()),
        }
    );
}

#[test]
fn github_receiver_events_in_separate_batches() {
    let all = github_receiver_trace();
    let n = normalizer();
    // The workflow_run event arrives first, the workflow_job event later.
    let mut run_batch = all[..1].to_vec();
    let known = n.normalize_trace(&mut run_batch, None);
    let mut job_batch = all[1..].to_vec();
    let merged = n.normalize_trace(&mut job_batch, Some(&known));
    assert_eq!(merged, known);
    assert_eq!(job_batch[0].ci.role, Some(Role::Task));
    for s in &job_batch {
        assert_eq!(s.ci.pipeline.as_deref(), Some("build-and-test"));
        assert_eq!(s.ci.attempt, Some(13));
        assert_eq!(s.ci.run_id.as_deref(), Some("14460881260"));
    }

    // Job event alone: the job resource's cicd.pipeline.name is the job name, not a
    // pipeline name.
    let mut alone = all[1..].to_vec();
    let facts = n.normalize_trace(&mut alone, None);
    assert_eq!(facts.pipeline, None);
    assert_eq!(alone[0].ci.role, Some(Role::Task));
    assert_eq!(facts.branch.as_deref(), Some("renovate/major-tool-deps"));
}

#[test]
fn attempt_from_link_alone_and_defaults() {
    let mut root = with(span("r", None, "wf"), &[("cicd.pipeline.name", "wf")]);
    root.links.push(Link {
        trace_id: "0123456789abcdef0123456789abcdef".into(),
        span_id: String::new(),
    });
    assert_eq!(one(root.clone()).attempt, Some(2));
    // A link inside the same trace says nothing about attempts.
    root.links[0].trace_id = TRACE.into();
    assert_eq!(one(root.clone()).attempt, Some(1));
    // A non-root span's link says nothing either.
    let mut child = with(
        span("c", Some("r"), "job"),
        &[("cicd.pipeline.task.name", "j")],
    );
    child.links.push(Link {
        trace_id: "0123456789abcdef0123456789abcdef".into(),
        span_id: String::new(),
    });
    assert_eq!(one(child).attempt, Some(1));
    // The attempt key beats the previous-attempt URL.
    let ci = one(with(
        span("r", None, "wf"),
        &[
            ("github.run_id", "5"),
            ("github.run_attempt", "7"),
            (
                "cicd.pipeline.run.previous_attempt.url.full",
                "https://x/attempts/2",
            ),
        ],
    ));
    assert_eq!(ci.attempt, Some(7));
    // Garbage attempts are ignored.
    let ci = one(with(
        span("r", None, "wf"),
        &[("github.run_id", "5"), ("github.run_attempt", "-1")],
    ));
    assert_eq!(ci.attempt, Some(1));
}

#[test]
fn otel_cicd_action_shape() {
    let res = [
        ("service.name", "otel-cicd-action"),
        ("service.namespace", "biomejs/biome"),
        (
            "service.version",
            "e2666f5864e5f11de8a071856f0804e6bab0fd8f",
        ),
    ];
    let mut v = vec![
        with_res(
            at(
                with(
                    span("991f2b235b36cb2c", None, "Lint Pull Request Titles"),
                    &[
                        ("cicd.pipeline.name", "Lint Pull Request Titles"),
                        ("cicd.pipeline.result", "failure"),
                        ("cicd.pipeline.run.id", "21458831126"),
                        ("github.run_id", "21458831126"),
                        ("github.run_attempt", "1"),
                        (
                            "github.head_branch",
                            "fixes/use-exhaustive-dependencies-regressions",
                        ),
                        ("error", "true"),
                    ],
                ),
                0,
                Status::Error,
            ),
            &res,
        ),
        with_res(
            at(
                span("b6cb5d1a3093cd7c", Some("991f2b235b36cb2c"), "Queued"),
                0,
                Status::Unset,
            ),
            &res,
        ),
        with_res(
            at(
                with(
                    span(
                        "6ec088f795976e9f",
                        Some("991f2b235b36cb2c"),
                        "Validate PR title",
                    ),
                    &[
                        ("cicd.pipeline.task.name", "Validate PR title"),
                        ("cicd.pipeline.task.run.result", "failure"),
                        ("github.job.name", "Validate PR title"),
                        ("github.job.conclusion", "failure"),
                        ("error", "true"),
                    ],
                ),
                2,
                Status::Error,
            ),
            &res,
        ),
        with_res(
            at(
                with(
                    span("664492c803762481", Some("6ec088f795976e9f"), "Set up job"),
                    &[
                        ("github.job.step.name", "Set up job"),
                        ("github.job.step.conclusion", "success"),
                        ("error", "false"),
                    ],
                ),
                3,
                Status::Ok,
            ),
            &res,
        ),
    ];
    run(&mut v);
    let p = by_id(&v, "991f2b235b36cb2c");
    assert_eq!(
        (p.role, p.outcome),
        (Some(Role::Pipeline), Some(Outcome::Fail))
    );
    assert_eq!(by_id(&v, "b6cb5d1a3093cd7c").role, None);
    let t = by_id(&v, "6ec088f795976e9f");
    assert_eq!((t.role, t.outcome), (Some(Role::Task), Some(Outcome::Fail)));
    let s = by_id(&v, "664492c803762481");
    assert_eq!((s.role, s.outcome), (Some(Role::Step), Some(Outcome::Pass)));
    assert_eq!(s.task.as_deref(), Some("Validate PR title"));
    for s in &v {
        assert_eq!(
            s.ci.branch.as_deref(),
            Some("fixes/use-exhaustive-dependencies-regressions")
        );
        assert_eq!(
            s.ci.commit.as_deref(),
            Some("e2666f5864e5f11de8a071856f0804e6bab0fd8f")
        );
        assert_eq!(s.ci.repo.as_deref(), Some("biomejs/biome"));
        assert_eq!(s.ci.run_id.as_deref(), Some("21458831126"));
        assert_eq!(s.ci.attempt, Some(1));
    }
}

#[test]
fn jenkins_shape() {
    let mut v = vec![
        at(
            with(
                span("root", None, "BUILD app"),
                &[
                    ("ci.pipeline.id", "team/app"),
                    ("ci.pipeline.name", "team » app"),
                    ("ci.pipeline.run.number", "17"),
                    ("ci.pipeline.run.result", "FAILURE"),
                ],
            ),
            0,
            Status::Error,
        ),
        at(span("s1", Some("root"), "Stage: build"), 1, Status::Ok),
        with(
            at(span("sh1", Some("s1"), "sh"), 2, Status::Ok),
            &[
                ("jenkins.pipeline.step.name", "Shell Script"),
                ("git.branch", "main"),
            ],
        ),
        at(span("s2", Some("root"), "Stage: test"), 3, Status::Error),
        at(
            span("b1", Some("s2"), "Parallel branch: unit"),
            4,
            Status::Ok,
        ),
        at(
            span("b2", Some("s2"), "Parallel branch: it"),
            4,
            Status::Error,
        ),
        with(
            at(span("sh2", Some("b2"), "sh"), 5, Status::Error),
            &[
                ("jenkins.pipeline.step.name", "Shell Script"),
                ("jenkins.pipeline.step.result", "FAILURE"),
            ],
        ),
    ];
    run(&mut v);
    let root = by_id(&v, "root");
    assert_eq!(
        (root.role, root.outcome),
        (Some(Role::Pipeline), Some(Outcome::Fail))
    );
    assert_eq!(
        by_id(&v, "s1").role,
        Some(Role::Task),
        "a stage without branches is the unit of work"
    );
    assert_eq!(by_id(&v, "s1").task.as_deref(), Some("build"));
    assert_eq!(by_id(&v, "sh1").role, Some(Role::Step));
    assert_eq!(by_id(&v, "sh1").task.as_deref(), Some("build"));
    assert_eq!(by_id(&v, "s2").role, Some(Role::Stage));
    assert_eq!(by_id(&v, "s2").task, None);
    assert_eq!(by_id(&v, "b1").task.as_deref(), Some("unit"));
    assert_eq!(by_id(&v, "b2").role, Some(Role::Task));
    assert_eq!(by_id(&v, "b2").outcome, Some(Outcome::Fail));
    assert_eq!(by_id(&v, "sh2").outcome, Some(Outcome::Fail));
    assert_eq!(by_id(&v, "sh2").task.as_deref(), Some("it"));
    for s in &v {
        assert_eq!(s.ci.pipeline.as_deref(), Some("team » app"));
        assert_eq!(s.ci.run_id.as_deref(), Some("team/app#17"));
        assert_eq!(
            s.ci.branch.as_deref(),
            Some("main"),
            "found in a git step deep inside"
        );
        assert_eq!(s.ci.attempt, Some(1));
    }
}

#[test]
fn tekton_style_shape() {
    let pipe = [
        ("service.name", "tekton"),
        ("pipeline.name", "deploy"),
        ("pipeline.run", "deploy-run-x7"),
    ];
    let mut t_build: Vec<(&str, &str)> = pipe.to_vec();
    t_build.push(("task.name", "build"));
    let mut v = vec![
        with_res(span("p", None, "deploy"), &pipe),
        // A second span of the pipeline's resource below the root is not a second pipeline.
        with_res(span("p2", Some("p"), "wait"), &pipe),
        with_res(at(span("t", Some("p"), "build"), 1, Status::Ok), &t_build),
        with_res(
            with(
                at(span("c1", Some("t"), "make"), 2, Status::Error),
                &[("command", "make"), ("exit_code", "2")],
            ),
            &t_build,
        ),
        with_res(
            with(span("c2", Some("t"), "ls"), &[("exit_code", "0")]),
            &t_build,
        ),
        with_res(
            with(span("h", Some("t"), "GET /"), &[("http.method", "GET")]),
            &t_build,
        ),
    ];
    run(&mut v);
    assert_eq!(by_id(&v, "p").role, Some(Role::Pipeline));
    assert_eq!(by_id(&v, "p2").role, None);
    assert_eq!(by_id(&v, "t").role, Some(Role::Task));
    assert_eq!(by_id(&v, "t").task.as_deref(), Some("build"));
    assert_eq!(by_id(&v, "c1").role, Some(Role::Step));
    assert_eq!(by_id(&v, "c1").outcome, Some(Outcome::Fail));
    assert_eq!(by_id(&v, "c1").task.as_deref(), Some("build"));
    assert_eq!(by_id(&v, "c2").role, Some(Role::Step));
    assert_eq!(by_id(&v, "h").role, None, "not a command: no role");
    for s in &v {
        assert_eq!(s.ci.pipeline.as_deref(), Some("deploy"));
        assert_eq!(s.ci.run_id.as_deref(), Some("deploy-run-x7"));
    }
}

#[test]
fn pytest_otel_shape() {
    let res = [("service.name", "Pytest_Otel_reporter")];
    let mut v = vec![
        with_res(
            with(
                span("6fc24bab7d20b5f7", None, "Test Suite"),
                &[("tests.status", "passed")],
            ),
            &res,
        ),
        with_res(
            with(
                span(
                    "0fdee24d13b761ed",
                    Some("6fc24bab7d20b5f7"),
                    "Running test_http_protocol",
                ),
                &[
                    ("tests.name", "test_http_protocol"),
                    ("tests.status", "passed"),
                ],
            ),
            &res,
        ),
        with_res(
            at(
                with(
                    span(
                        "141c5f0dbc07c6f5",
                        Some("6fc24bab7d20b5f7"),
                        "Running test_b",
                    ),
                    &[("tests.name", "test_b"), ("tests.status", "failed")],
                ),
                1,
                Status::Error,
            ),
            &res,
        ),
    ];
    let facts = run(&mut v);
    let suite = by_id(&v, "6fc24bab7d20b5f7");
    assert_eq!(
        (suite.role, suite.outcome),
        (Some(Role::Suite), Some(Outcome::Pass))
    );
    assert_eq!(suite.suite.as_deref(), Some("Test Suite"));
    let t = by_id(&v, "0fdee24d13b761ed");
    assert_eq!(t.role, Some(Role::Test));
    assert_eq!(t.test.as_deref(), Some("test_http_protocol"));
    assert_eq!(
        t.suite.as_deref(),
        Some("Test Suite"),
        "suite of the enclosing suite span"
    );
    assert_eq!(t.outcome, Some(Outcome::Pass));
    assert_eq!(by_id(&v, "141c5f0dbc07c6f5").outcome, Some(Outcome::Fail));
    assert_eq!(facts.pipeline.as_deref(), Some("Pytest_Otel_reporter"));
    assert!(v.iter().all(|s| s.ci.run_id.as_deref() == Some(TRACE)));
    assert!(v.iter().all(|s| s.ci.attempt == Some(1)));
}

#[test]
fn junit_shape() {
    let mut v = vec![
        with(
            span("f9ac01dda1b9ff46", None, "jest tests"),
            &[
                ("test.source", "junit"),
                ("test.scope", "Run"),
                ("test.name", "jest tests"),
                ("error", "true"),
            ],
        ),
        at(
            with(
                span(
                    "44e30f79f5957893",
                    Some("f9ac01dda1b9ff46"),
                    "createTracerProvider",
                ),
                &[
                    ("test.name", "createTracerProvider"),
                    ("test.scope", "Suite"),
                    ("error", "true"),
                ],
            ),
            1,
            Status::Error,
        ),
        at(
            with(
                span(
                    "98f8047416b4d3c1",
                    Some("44e30f79f5957893"),
                    "createTracerProvider test a",
                ),
                &[
                    ("test.name", "createTracerProvider test a"),
                    ("test.scope", "Case"),
                    ("test.classname", "createTracerProvider test a"),
                    ("error", "true"),
                ],
            ),
            2,
            Status::Error,
        ),
        with(
            span("x", Some("44e30f79f5957893"), "case b"),
            &[
                ("test.name", "case b"),
                ("test.scope", "Case"),
                ("error", "false"),
            ],
        ),
    ];
    run(&mut v);
    assert_eq!(by_id(&v, "f9ac01dda1b9ff46").role, None);
    let suite = by_id(&v, "44e30f79f5957893");
    assert_eq!(suite.role, Some(Role::Suite));
    assert_eq!(suite.suite.as_deref(), Some("createTracerProvider"));
    assert_eq!(suite.outcome, Some(Outcome::Fail));
    let a = by_id(&v, "98f8047416b4d3c1");
    assert_eq!(a.role, Some(Role::Test));
    assert_eq!(
        a.suite.as_deref(),
        Some("createTracerProvider test a"),
        "test.classname"
    );
    assert_eq!(a.outcome, Some(Outcome::Fail));
    let b = by_id(&v, "x");
    assert_eq!(
        b.suite.as_deref(),
        Some("createTracerProvider"),
        "enclosing suite"
    );
    assert_eq!(b.outcome, Some(Outcome::Pass));
}

#[test]
fn propagation_priority_pipeline_then_root_then_earliest() {
    let mut v = vec![
        at(
            with(span("late", Some("r"), "x"), &[("git.branch", "late")]),
            30,
            Status::Ok,
        ),
        at(
            with(
                span("early", Some("r"), "y"),
                &[("git.branch", "early"), ("ci.commit.sha", "c-early")],
            ),
            20,
            Status::Ok,
        ),
        at(
            with(span("r", None, "root"), &[("ci.commit.sha", "c-root")]),
            10,
            Status::Ok,
        ),
        at(
            with(
                span("p", Some("r"), "wf"),
                &[
                    ("cicd.pipeline.name", "wf"),
                    ("vcs.repository.name", "repo-p"),
                ],
            ),
            40,
            Status::Ok,
        ),
    ];
    // "r" has no pipeline keys, so "p" is the pipeline span.
    let facts = run(&mut v);
    assert_eq!(by_id(&v, "p").role, Some(Role::Pipeline));
    assert_eq!(facts.branch.as_deref(), Some("early"));
    assert_eq!(facts.commit.as_deref(), Some("c-root"));
    assert_eq!(facts.repo.as_deref(), Some("repo-p"));
    assert!(v.iter().all(|s| s.ci.branch.as_deref() == Some("early")));
}

#[test]
fn known_facts_fill_what_a_batch_lacks_but_do_not_override() {
    let n = normalizer();
    let known = TraceFacts {
        pipeline: Some("wf".into()),
        run_id: Some("123".into()),
        attempt: Some(2),
        branch: Some("main".into()),
        commit: Some("abc".into()),
        repo: None,
    };
    let mut v = vec![with(
        span("c", Some("elsewhere"), "test_x"),
        &[
            ("test.name", "test_x"),
            ("vcs.repository.name", "r"),
            ("vcs.ref.head.name", "dev"),
        ],
    )];
    let merged = n.normalize_trace(&mut v, Some(&known));
    assert_eq!(
        merged,
        TraceFacts {
            branch: Some("dev".into()),
            repo: Some("r".into()),
            ..known.clone()
        }
    );
    let ci = &v[0].ci;
    assert_eq!(ci.pipeline.as_deref(), Some("wf"));
    assert_eq!(ci.run_id.as_deref(), Some("123"));
    assert_eq!(ci.attempt, Some(2));
    assert_eq!(ci.branch.as_deref(), Some("dev"));

    // A role-less batch of a known CI trace still gets the run columns.
    let mut plain = vec![span("h", Some("c"), "GET /")];
    n.normalize_trace(&mut plain, Some(&known));
    assert_eq!(plain[0].ci.run_id.as_deref(), Some("123"));
    assert_eq!(plain[0].ci.role, None);
}

#[test]
fn plain_traces_get_no_ci_columns() {
    let mut v = vec![
        with_res(span("a", None, "GET /"), &[("service.name", "shop")]),
        span("b", Some("a"), "SELECT"),
    ];
    let facts = run(&mut v);
    assert_eq!(facts, TraceFacts::default());
    assert!(v.iter().all(|s| s.ci == CiFields::default()));
}

#[test]
fn parent_cycles_and_duplicates_do_not_hang_or_panic() {
    let mut v = vec![
        with(
            span("a", Some("b"), "x"),
            &[("cicd.pipeline.task.name", "a")],
        ),
        with(
            span("b", Some("a"), "y"),
            &[("cicd.pipeline.task.name", "b")],
        ),
        with(span("c", Some("c"), "z"), &[("test.name", "t")]),
        span("a", None, "dup"),
    ];
    run(&mut v);
    let roles: Vec<_> = v.iter().map(|s| s.ci.role).collect();
    assert_eq!(roles[0], Some(Role::Task));
    assert_eq!(roles[1], Some(Role::Step));
    assert_eq!(roles[2], Some(Role::Test));
    let mut empty: Vec<Span> = Vec::new();
    assert_eq!(run(&mut empty), TraceFacts::default());
}

#[test]
fn user_conventions_add_keys_and_result_values() {
    let conv = Conventions::from_toml_str(
        "[keys]\nbranch = [\"acme.branch\"]\ntask = [\"acme.job\"]\ntask_result = [\"acme.verdict\"]\n\
         [results]\nfail = [\"kaputt\"]\n",
    )
    .unwrap();
    let n = Normalizer::new(conv);
    let mut v = vec![with(
        span("a", Some("p"), "j"),
        &[
            ("acme.job", "compile"),
            ("acme.verdict", "KAPUTT"),
            ("acme.branch", "user"),
            ("vcs.ref.head.name", "builtin"),
        ],
    )];
    n.normalize_trace(&mut v, None);
    let ci = &v[0].ci;
    assert_eq!(ci.role, Some(Role::Task));
    assert_eq!(ci.task.as_deref(), Some("compile"));
    assert_eq!(ci.outcome, Some(Outcome::Fail));
    assert_eq!(
        ci.branch.as_deref(),
        Some("user"),
        "user keys take priority"
    );

    // The built-in normaliser knows none of it.
    let ci = one(v[0].clone());
    assert_eq!(ci.role, None);
    assert_eq!(ci.branch.as_deref(), Some("builtin"));
}
