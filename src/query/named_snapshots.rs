//! Every named query of `queries/` run on one small fixed store, its rows snapshotted
//! (`snapshots/`, next to this file): no named query goes untested, and a change to a
//! query's SQL shows up as a reviewed snapshot diff. A `.sql` file without a
//! [`NamedQuery`] fails the first test.
//!
//! The store is built by hand (no decoder, no normaliser): six pipeline runs of three
//! pipelines over two branches (one a pull request), four days and two weeks, with
//! tasks, steps, tests and deployments, plus one plain trace that no CI query may pick
//! up.

use std::collections::BTreeSet;

use datafusion::common::ScalarValue;
use serde_json::Value;

use super::named::VIEW_FILES;
use super::sql_tests::{MINUTE, span, store_with};
use super::{Engine, NamedQuery, Rows};
use crate::model::{CiFields, Outcome, Role, Span, Status};

const DAY_MIN: i64 = 24 * 60;

/// One task of a run: its name, outcome, duration in minutes and the tests below it.
struct Task {
    name: &'static str,
    outcome: Outcome,
    minutes: i64,
    tests: &'static [(&'static str, Outcome)],
}

/// One pipeline run (a trace): pipeline span, then per task a task span with one step
/// and the task's tests, each starting where the previous one ended.
fn run(
    trace: u32,
    pipeline: &str,
    branch: &str,
    commit: &str,
    start_min: i64,
    outcome: Outcome,
    tasks: &[Task],
) -> Vec<Span> {
    let facts = CiFields {
        pipeline: Some(pipeline.into()),
        run_id: Some(format!("run-{trace}")),
        attempt: Some(1),
        branch: Some(branch.into()),
        commit: Some(commit.into()),
        repo: Some("acme/shop".into()),
        ..CiFields::default()
    };
    let with = |outcome: Option<Outcome>, task: Option<&str>, test: Option<&str>| CiFields {
        outcome,
        task: task.map(str::to_string),
        test: test.map(str::to_string),
        suite: test.map(|_| "unit".to_string()),
        ..facts.clone()
    };
    let root = trace * 100;
    let mut pipeline_span = span(
        trace,
        root,
        None,
        Some(Role::Pipeline),
        with(Some(outcome), None, None),
        start_min,
    );
    pipeline_span.name = pipeline.to_string();
    if outcome == Outcome::Fail {
        pipeline_span.status = Status::Error;
    }
    let mut spans = vec![];
    let (mut id, mut at) = (root, start_min);
    for task in tasks {
        let task_id = id + 1;
        let mut task_span = span(
            trace,
            task_id,
            Some(root),
            Some(Role::Task),
            with(Some(task.outcome), Some(task.name), None),
            at,
        );
        task_span.name = task.name.to_string();
        task_span.end_ns = task_span.start_ns + task.minutes * MINUTE;
        if task.outcome == Outcome::Fail {
            task_span.status = Status::Error;
            task_span.status_message = Some(format!("{} failed", task.name));
        }
        let mut step = span(
            trace,
            task_id + 1,
            Some(task_id),
            Some(Role::Step),
            with(None, Some(task.name), None),
            at,
        );
        step.name = format!("run {}", task.name);
        step.end_ns = task_span.end_ns;
        spans.push(task_span);
        spans.push(step);
        id = task_id + 1;
        for (i, (test, outcome)) in task.tests.iter().enumerate() {
            id += 1;
            let mut test_span = span(
                trace,
                id,
                Some(task_id),
                Some(Role::Test),
                with(Some(*outcome), Some(task.name), Some(test)),
                at + i as i64,
            );
            test_span.name = test.to_string();
            if *outcome == Outcome::Fail {
                test_span.status = Status::Error;
            }
            spans.push(test_span);
        }
        at += task.minutes;
    }
    pipeline_span.end_ns = pipeline_span.start_ns + (at - start_min).max(1) * MINUTE;
    spans.insert(0, pipeline_span);
    spans
}

fn fixture() -> Vec<Span> {
    use Outcome::{Cancel, Fail, Pass};
    let build = |outcome| Task {
        name: "build",
        outcome,
        minutes: 4,
        tests: &[],
    };
    let mut spans = Vec::new();
    // Day 0, main, commit c1: t_cart passes and then fails on the same commit (flaky).
    spans.extend(run(
        1,
        "ci",
        "main",
        "c1",
        0,
        Pass,
        &[
            build(Pass),
            Task {
                name: "test",
                outcome: Pass,
                minutes: 6,
                tests: &[("t_login", Pass), ("t_cart", Pass)],
            },
        ],
    ));
    spans.extend(run(
        2,
        "ci",
        "main",
        "c1",
        20,
        Fail,
        &[
            build(Pass),
            Task {
                name: "test",
                outcome: Fail,
                minutes: 7,
                tests: &[("t_login", Pass), ("t_cart", Fail)],
            },
        ],
    ));
    // Day 1, feature/x, commit c2: the build fails; t_login fails, then its retry
    // passes in the same run; t_cart fails on every execution of c2 (runs 3 and 4).
    spans.extend(run(
        3,
        "ci",
        "feature/x",
        "c2",
        DAY_MIN,
        Fail,
        &[
            build(Fail),
            Task {
                name: "test",
                outcome: Fail,
                minutes: 5,
                tests: &[("t_login", Fail), ("t_login", Pass), ("t_cart", Fail)],
            },
        ],
    ));
    // Day 1, the nightly pipeline on main is cancelled during its deploy.
    spans.extend(run(
        5,
        "nightly",
        "main",
        "c1",
        DAY_MIN + 30,
        Cancel,
        &[Task {
            name: "deploy",
            outcome: Cancel,
            minutes: 9,
            tests: &[("t_smoke", Pass)],
        }],
    ));
    for s in spans.iter_mut().filter(|s| s.name == "deploy") {
        s.attributes.push(("deploy.env".into(), "staging".into()));
        s.ci.environment = Some("staging".into());
    }
    // Day 2, the release pipeline deploys c1 to production.
    spans.extend(run(
        6,
        "release",
        "main",
        "c1",
        2 * DAY_MIN,
        Pass,
        &[Task {
            name: "deploy-production",
            outcome: Pass,
            minutes: 3,
            tests: &[],
        }],
    ));
    for s in spans.iter_mut().filter(|s| s.name == "deploy-production") {
        s.ci.environment = Some("production".into());
    }
    // Day 8 (the next week), feature/x again on c2.
    spans.extend(run(
        4,
        "ci",
        "feature/x",
        "c2",
        8 * DAY_MIN,
        Fail,
        &[
            build(Pass),
            Task {
                name: "test",
                outcome: Fail,
                minutes: 6,
                tests: &[("t_login", Pass), ("t_cart", Fail)],
            },
        ],
    ));
    // feature/x is pull request 7 into main.
    for s in spans
        .iter_mut()
        .filter(|s| s.ci.branch.as_deref() == Some("feature/x"))
    {
        s.ci.trigger = Some("pull_request".into());
        s.ci.change_id = Some("7".into());
        s.ci.change_title = Some("Cart totals".into());
        s.ci.base_branch = Some("main".into());
    }
    // A plain trace (an HTTP call, no CI meaning): no CI query may count it.
    let mut plain = span(9, 900, None, None, CiFields::default(), 10);
    plain.name = "GET /health".into();
    spans.push(plain);
    spans
}

/// One run of a named query: the snapshot's name, the parameters, and whether the
/// query's own ORDER BY fixes the row order (otherwise the rows are sorted here).
struct Case {
    snapshot: &'static str,
    query: NamedQuery,
    params: Vec<(&'static str, ScalarValue)>,
    ordered: bool,
}

fn cases() -> Vec<Case> {
    let case = |snapshot, query, params, ordered| Case {
        snapshot,
        query,
        params,
        ordered,
    };
    let all = |b: bool| vec![("all", ScalarValue::Boolean(Some(b)))];
    let bucket = |b: &str| vec![("bucket", ScalarValue::from(b))];
    let trace = |role: &str, test: &str| {
        vec![
            ("role", ScalarValue::from(role)),
            ("test", ScalarValue::from(test)),
        ]
    };
    vec![
        case("flaky_all", NamedQuery::Flaky, all(true), true),
        case("flaky_only_flaky", NamedQuery::Flaky, all(false), true),
        case(
            "failures_by_branch_none",
            NamedQuery::FailuresByBranch,
            bucket("none"),
            true,
        ),
        case(
            "failures_by_branch_day",
            NamedQuery::FailuresByBranch,
            bucket("day"),
            true,
        ),
        case(
            "failures_by_pipeline_week",
            NamedQuery::FailuresByPipeline,
            bucket("week"),
            true,
        ),
        case(
            "failures_by_task_none",
            NamedQuery::FailuresByTask,
            bucket("none"),
            true,
        ),
        case(
            "failures_by_test_day",
            NamedQuery::FailuresByTest,
            bucket("day"),
            true,
        ),
        case(
            "failure_cause_week",
            NamedQuery::FailureCause,
            bucket("week"),
            true,
        ),
        case(
            "trace_spans_test_t_smoke",
            NamedQuery::TraceSpans,
            trace("test", "t_smoke"),
            false,
        ),
        case(
            "trace_spans_any_test",
            NamedQuery::TraceSpans,
            trace("test", ""),
            false,
        ),
        case("pipeline_spans", NamedQuery::PipelineSpans, vec![], false),
        case("gate_durations", NamedQuery::GateDurations, vec![], false),
        case("gate_failures", NamedQuery::GateFailures, vec![], true),
        case("gate_failed_runs", NamedQuery::GateFailedRuns, vec![], true),
        // Ordered by pipeline, task and day only: durations of one day may come in any order.
        case(
            "report_task_durations",
            NamedQuery::ReportTaskDurations,
            vec![],
            false,
        ),
        case("delivery_runs", NamedQuery::DeliveryRuns, vec![], true),
        case("deployments", NamedQuery::Deployments, vec![], true),
        case(
            "test_ids_t_cart",
            NamedQuery::TestIds,
            vec![("name", ScalarValue::from("t_cart"))],
            true,
        ),
    ]
}

/// The rows as text: the columns, then one compact JSON object per row.
async fn render(engine: &Engine, case: Case) -> String {
    let result = engine
        .run(case.query, case.params)
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", case.snapshot));
    let rows = Rows::from_result(&result);
    let mut lines: Vec<String> = rows.objects().iter().map(Value::to_string).collect();
    if !case.ordered {
        lines.sort();
    }
    format!(
        "{} rows; columns: {}\n{}\n",
        lines.len(),
        rows.columns.join(", "),
        lines.join("\n")
    )
}

#[test]
fn every_sql_file_is_a_named_query() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let files: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_string()))
        .filter(|stem| !VIEW_FILES.contains(&stem.as_str()))
        .collect();
    let named: BTreeSet<String> = NamedQuery::ALL
        .iter()
        .map(|q| q.name().to_string())
        .collect();
    assert_eq!(
        files, named,
        "queries/*.sql (the view files aside) and NamedQuery::ALL differ"
    );
}

#[test]
fn every_named_query_has_a_snapshot_case() {
    let covered: BTreeSet<&str> = cases().iter().map(|c| c.query.name()).collect();
    let all: BTreeSet<&str> = NamedQuery::ALL.iter().map(|q| q.name()).collect();
    assert_eq!(covered, all);
}

#[tokio::test]
async fn every_named_query_on_the_fixed_store() {
    let (_dir, engine) = store_with(&fixture()).await;
    for case in cases() {
        let name = case.snapshot;
        let text = render(&engine, case).await;
        insta::assert_snapshot!(name, text);
    }
}
