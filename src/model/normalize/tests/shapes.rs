//! Whole traces shaped like real emitters write them.

use super::*;

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
            ..TraceFacts::default()
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

/// The same Tekton-style trace as exported to Zipkin: no resource, the resource
/// attributes are tags of every span.
#[test]
fn tekton_style_shape_from_zipkin_reads_tags_as_the_resource() {
    let pipe = [
        ("pipeline.name", "deploy"),
        ("pipeline.run", "deploy-run-x7"),
    ];
    let mut t_build: Vec<(&str, &str)> = pipe.to_vec();
    t_build.push(("task.name", "build"));
    let mut cmd = t_build.clone();
    cmd.extend([("command", "make"), ("exit_code", "0")]);
    let zipkin = |s: Span| Span {
        source: Some(crate::model::SourceKind::Zipkin),
        resource: vec![("service.name".into(), "tekton".into())],
        ..s
    };
    let mut v = vec![
        zipkin(with(span("p", None, "deploy"), &pipe)),
        zipkin(with(
            at(span("t", Some("p"), "build"), 1, Status::Ok),
            &t_build,
        )),
        zipkin(with(at(span("c", Some("t"), "make"), 2, Status::Ok), &cmd)),
    ];
    run(&mut v);
    assert_eq!(by_id(&v, "p").role, Some(Role::Pipeline));
    assert_eq!(by_id(&v, "t").role, Some(Role::Task));
    assert_eq!(by_id(&v, "t").task.as_deref(), Some("build"));
    assert_eq!(by_id(&v, "c").role, Some(Role::Step));
    assert_eq!(by_id(&v, "c").run_id.as_deref(), Some("deploy-run-x7"));
    // The stored resource is what the decoder gave, not a copy of the tags.
    assert!(v.iter().all(|s| s.resource.len() == 1));
}

/// Two Tekton-style tasks chained through a traceparent file: the second task's span is
/// a child of the first's, in the same batch. It is a task of its own, and its command
/// a step of it.
#[test]
fn tekton_tasks_chained_by_traceparent_stay_tasks() {
    let pipe = [
        ("pipeline.name", "build-and-test"),
        ("pipeline.run", "pr-7"),
    ];
    let mut build: Vec<(&str, &str)> = pipe.to_vec();
    build.push(("task.name", "build"));
    let mut test: Vec<(&str, &str)> = pipe.to_vec();
    test.push(("task.name", "test"));
    let mut v = vec![
        with_res(at(span("b", None, "build"), 1, Status::Ok), &build),
        with_res(
            with(
                at(span("bc", Some("b"), "make"), 2, Status::Ok),
                &[("command", "make"), ("exit_code", "0")],
            ),
            &build,
        ),
        with_res(at(span("t", Some("b"), "test"), 3, Status::Error), &test),
        with_res(
            with(
                at(span("tc", Some("t"), "sh"), 4, Status::Error),
                &[("command", "sh"), ("exit_code", "3")],
            ),
            &test,
        ),
    ];
    run(&mut v);
    assert_eq!(by_id(&v, "b").role, Some(Role::Task));
    assert_eq!(by_id(&v, "t").role, Some(Role::Task));
    assert_eq!(by_id(&v, "t").task.as_deref(), Some("test"));
    assert_eq!(by_id(&v, "t").outcome, Some(Outcome::Fail));
    assert_eq!(by_id(&v, "bc").role, Some(Role::Step));
    assert_eq!(by_id(&v, "tc").role, Some(Role::Step));
    assert_eq!(by_id(&v, "tc").task.as_deref(), Some("test"));
}

/// A receiver may compact a task's command spans before the task span arrives: alone
/// in their batch they are still steps of that task.
#[test]
fn tekton_command_spans_without_their_task_span_are_steps() {
    let res = [
        ("pipeline.name", "build-and-test"),
        ("pipeline.run", "pr-7"),
        ("task.name", "test"),
    ];
    let mut v = vec![with_res(
        with(
            at(
                span("c", Some("t-not-here"), "sh -c 'exit 3'"),
                4,
                Status::Error,
            ),
            &[("command", "sh -c 'exit 3'"), ("exit_code", "3")],
        ),
        &res,
    )];
    run(&mut v);
    assert_eq!(by_id(&v, "c").role, Some(Role::Step));
    assert_eq!(by_id(&v, "c").task.as_deref(), Some("test"));
    assert_eq!(by_id(&v, "c").outcome, Some(Outcome::Fail));
}
