//! Every result key, the status fallback and the result quirks (pytest-otel, GitLab).

use super::*;

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

/// A Tekton-style task script: the task span says nothing of its result, the failing
/// command is an ERROR span with an exit code.
fn tekton_task(task: &str, failing: Option<&str>, extra: &[(&str, &str)]) -> Vec<Span> {
    let res = [
        ("pipeline.name", "build"),
        ("pipeline.run", "build-run-7"),
        ("task.name", task),
    ];
    let mut spans = vec![with_res(with(span("t", None, task), extra), &res)];
    for (id, command) in [("c1", "make deps"), ("c2", "run-tests")] {
        let failed = failing == Some(command);
        let code = if failed { "2" } else { "0" };
        let status = if failed { Status::Error } else { Status::Ok };
        let cmd = with(
            span(id, Some("t"), command),
            &[("command", command), ("exit_code", code)],
        );
        spans.push(with_res(at(cmd, 1, status), &res));
    }
    spans
}

#[test]
fn a_task_without_a_result_fails_with_its_failing_step() {
    let mut v = tekton_task("test", Some("run-tests"), &[]);
    run(&mut v);
    assert_eq!(by_id(&v, "t").role, Some(Role::Task));
    assert_eq!(by_id(&v, "c2").role, Some(Role::Step));
    assert_eq!(by_id(&v, "c2").outcome, Some(Outcome::Fail));
    assert_eq!(by_id(&v, "t").outcome, Some(Outcome::Fail), "inherited");

    let mut ok = tekton_task("test", None, &[]);
    run(&mut ok);
    assert_eq!(by_id(&ok, "t").outcome, Some(Outcome::Pass));
}

#[test]
fn a_result_of_its_own_wins_over_a_failing_step() {
    // The job says it succeeded (a step with continue-on-error): the job's word stands.
    let mut v = tekton_task("test", Some("run-tests"), &[("task.outcome", "success")]);
    run(&mut v);
    assert_eq!(by_id(&v, "t").outcome, Some(Outcome::Pass));
}

#[test]
fn a_step_allowed_to_fail_does_not_fail_its_task() {
    let mut v = tekton_task("test", Some("run-tests"), &[]);
    let step = v.iter_mut().find(|s| s.span_id == "c2").expect("step");
    step.attributes
        .push(("gitlab.job.allow_failure".into(), "true".into()));
    run(&mut v);
    assert_eq!(by_id(&v, "c2").outcome, Some(Outcome::Fail), "it did fail");
    assert_eq!(by_id(&v, "t").outcome, Some(Outcome::Pass));
}

#[test]
fn a_pipeline_without_a_result_fails_with_its_failing_task() {
    let res = [("cicd.pipeline.name", "ci"), ("cicd.pipeline.run.id", "5")];
    let mut v = vec![
        with_res(span("p", None, "ci"), &res),
        with_res(
            at(
                with(
                    span("j", Some("p"), "unit"),
                    &[("cicd.pipeline.task.name", "unit")],
                ),
                1,
                Status::Error,
            ),
            &res,
        ),
    ];
    run(&mut v);
    assert_eq!(by_id(&v, "p").role, Some(Role::Pipeline));
    assert_eq!(by_id(&v, "j").outcome, Some(Outcome::Fail));
    assert_eq!(by_id(&v, "p").outcome, Some(Outcome::Fail), "inherited");
}
