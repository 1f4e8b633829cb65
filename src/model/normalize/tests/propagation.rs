//! Trace-level propagation, batches, bad trees and user conventions.

use super::*;

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
        ..TraceFacts::default()
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
