//! The deployment and change rows (CONVENTIONS.md "Deployments and changes") through the
//! shapes of two emitter families: the GitHub Actions exporters (`github.*`, on the
//! workflow span) and the Collector's GitLab receiver (`cicd.*` and `vcs.*`, pipeline
//! facts on the resource shared by every span).

use super::*;

/// otel-cicd-action's workflow run of a pull request: the PR number and base branch on
/// the workflow span, a deploy job it typed itself, a job named for its environment only.
fn github_pr_workflow() -> Vec<Span> {
    let res = [
        ("service.name", "otel-cicd-action"),
        ("service.namespace", "acme/web"),
    ];
    vec![
        with_res(
            with(
                at(span("w", None, "Deploy preview"), 0, Status::Ok),
                &[
                    ("github.run_id", "7001"),
                    ("github.workflow", "Deploy preview"),
                    ("github.event", "pull_request_target"),
                    ("github.head_branch", "feature/cart"),
                    ("github.head_sha", "c0ffee"),
                    ("github.pull_requests.0.number", "42.0"),
                    ("github.pull_requests.0.base.ref", "refs/heads/main"),
                    ("github.conclusion", "success"),
                ],
            ),
            &res,
        ),
        with_res(
            with(
                at(span("build", Some("w"), "build"), 1, Status::Ok),
                &[
                    ("github.job.name", "build"),
                    ("github.job.conclusion", "success"),
                ],
            ),
            &res,
        ),
        with_res(
            with(
                at(span("ship", Some("w"), "ship"), 2, Status::Ok),
                &[
                    ("github.job.name", "ship"),
                    ("cicd.pipeline.task.type", "deploy"),
                    ("deployment.environment.name", "Prod"),
                    ("github.job.conclusion", "success"),
                ],
            ),
            &res,
        ),
        with_res(
            with(
                at(span("stg", Some("w"), "deploy-staging"), 3, Status::Ok),
                &[
                    ("github.job.name", "deploy-staging"),
                    ("github.job.conclusion", "success"),
                ],
            ),
            &res,
        ),
    ]
}

#[test]
fn github_pull_request_and_deployments() {
    let mut v = github_pr_workflow();
    run(&mut v);
    for s in &v {
        assert_eq!(
            s.ci.trigger.as_deref(),
            Some("pull_request"),
            "{}",
            s.span_id
        );
        assert_eq!(
            s.ci.change_id.as_deref(),
            Some("42"),
            "a double is a number"
        );
        assert_eq!(s.ci.base_branch.as_deref(), Some("main"));
        assert_eq!(s.ci.branch.as_deref(), Some("feature/cart"));
    }
    assert_eq!(by_id(&v, "ship").environment.as_deref(), Some("production"));
    assert_eq!(
        by_id(&v, "stg").environment.as_deref(),
        Some("staging"),
        "named by its job name only"
    );
    assert_eq!(by_id(&v, "build").environment, None);
    assert_eq!(
        by_id(&v, "w").environment,
        None,
        "its tasks are the deployments"
    );
}

/// The GitLab receiver's merge-request pipeline and its deploy jobs: `cicd.pipeline.*`
/// and `vcs.*` on the shared resource, the environment as the job's own attribute.
fn gitlab_pipeline(source: &str, job_env_key: &str) -> Vec<Span> {
    let res = [
        ("service.name", "gitlab"),
        ("cicd.pipeline.name", "payments"),
        ("cicd.pipeline.run.id", "880"),
        ("vcs.repository.name", "acme/payments"),
        ("vcs.ref.head.name", "fix-rounding"),
        ("vcs.ref.head.revision", "beef01"),
        ("gitlab.pipeline.source", source),
        ("vcs.change.id", "17"),
        ("vcs.change.title", "Fix rounding of refunds"),
        ("vcs.ref.base.name", "main"),
    ];
    vec![
        with_res(
            with(
                at(span("p", None, "payments"), 0, Status::Ok),
                &[("cicd.pipeline.result", "success")],
            ),
            &res,
        ),
        with_res(at(span("st", Some("p"), "deploy"), 1, Status::Ok), &res),
        with_res(
            with(
                at(span("j", Some("st"), "review-app"), 2, Status::Ok),
                &[
                    ("cicd.pipeline.task.name", "review-app"),
                    ("cicd.pipeline.task.run.result", "success"),
                    (job_env_key, "int"),
                ],
            ),
            &res,
        ),
    ]
}

#[test]
fn gitlab_merge_request_and_job_environment() {
    for key in [
        "cicd.pipeline.task.run.environment.name",
        "deployment.environment",
    ] {
        let mut v = gitlab_pipeline("merge_request_event", key);
        run(&mut v);
        assert!(
            v.iter()
                .all(|s| s.ci.trigger.as_deref() == Some("pull_request"))
        );
        assert!(v.iter().all(|s| s.ci.change_id.as_deref() == Some("17")));
        assert!(
            v.iter()
                .all(|s| s.ci.change_title.as_deref() == Some("Fix rounding of refunds"))
        );
        assert!(
            v.iter()
                .all(|s| s.ci.base_branch.as_deref() == Some("main"))
        );
        assert_eq!(by_id(&v, "j").role, Some(Role::Task));
        assert_eq!(
            by_id(&v, "j").environment.as_deref(),
            Some("integration"),
            "{key}"
        );
        assert_eq!(
            by_id(&v, "st").environment,
            None,
            "a stage is no deployment"
        );
        assert_eq!(by_id(&v, "p").environment, None);
    }
    let mut push = gitlab_pipeline("push", "deployment.environment.name");
    run(&mut push);
    assert_eq!(by_id(&push, "p").trigger.as_deref(), Some("push"));
}

#[test]
fn a_services_resource_environment_is_no_deployment() {
    // Every span of a service instrumented with the SDK carries its resource's
    // deployment.environment; a test job and its tests are not deployments.
    let res = [
        ("deployment.environment", "production"),
        ("cicd.pipeline.name", "ci"),
    ];
    let mut v = vec![
        with_res(at(span("p", None, "ci"), 0, Status::Ok), &res),
        with_res(
            with(
                at(span("t", Some("p"), "unit"), 1, Status::Ok),
                &[("cicd.pipeline.task.name", "unit")],
            ),
            &res,
        ),
        with_res(
            with(
                at(span("c", Some("t"), "test_pay"), 2, Status::Ok),
                &[("test.case.name", "test_pay")],
            ),
            &res,
        ),
        with_res(
            with(
                at(span("d", Some("p"), "deploy"), 3, Status::Ok),
                &[
                    ("cicd.pipeline.task.name", "deploy"),
                    ("cicd.pipeline.task.type", "deploy"),
                ],
            ),
            &res,
        ),
    ];
    run(&mut v);
    assert_eq!(by_id(&v, "t").environment, None);
    assert_eq!(by_id(&v, "c").environment, None);
    assert_eq!(by_id(&v, "p").environment, None);
    assert_eq!(
        by_id(&v, "d").environment.as_deref(),
        Some("production"),
        "a deploy task takes its resource's environment"
    );
}

#[test]
fn a_deploying_workflow_without_deploy_jobs_is_the_deployment() {
    let mut v = vec![
        with(
            at(span("w", None, "Deploy to Production"), 0, Status::Ok),
            &[
                ("github.run_id", "9"),
                ("github.workflow", "Deploy to Production"),
                ("github.event", "workflow_dispatch"),
            ],
        ),
        with(
            at(span("j", Some("w"), "run"), 1, Status::Ok),
            &[("github.job.name", "run")],
        ),
    ];
    run(&mut v);
    assert_eq!(by_id(&v, "w").role, Some(Role::Pipeline));
    assert_eq!(by_id(&v, "w").environment.as_deref(), Some("production"));
    assert_eq!(by_id(&v, "j").environment, None);
    assert_eq!(by_id(&v, "w").trigger.as_deref(), Some("manual"));
}

#[test]
fn change_facts_learned_in_an_earlier_batch_fill_a_later_one() {
    let mut first = github_pr_workflow();
    let mut later = first.split_off(1);
    let known = run(&mut first);
    normalizer().normalize_trace(&mut later, Some(&known));
    assert!(
        later
            .iter()
            .all(|s| s.ci.change_id.as_deref() == Some("42"))
    );
    assert!(
        later
            .iter()
            .all(|s| s.ci.trigger.as_deref() == Some("pull_request"))
    );
}
