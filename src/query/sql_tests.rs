//! Tests of the named SQL queries on hand-built spans with known answers: the
//! definitions of DESIGN.md, checked without decoders or the normaliser in the way.

use datafusion::common::ScalarValue;
use serde_json::{Value, json};

use super::{Engine, Filters, NamedQuery};
use crate::model::{CiFields, Outcome, Role, Span, Status};
use crate::query::Rows;
use crate::store::{Store, StoreWriter};

pub(super) const MINUTE: i64 = 60_000_000_000;

pub(super) fn span(
    trace: u32,
    id: u32,
    parent: Option<u32>,
    role: Option<Role>,
    ci: CiFields,
    start_min: i64,
) -> Span {
    Span {
        trace_id: format!("{trace:032x}"),
        span_id: format!("{id:016x}"),
        parent_span_id: parent.map(|p| format!("{p:016x}")),
        name: format!("span {id}"),
        kind: "internal".into(),
        start_ns: 1_700_000_000_000_000_000 + start_min * MINUTE,
        end_ns: 1_700_000_000_000_000_000 + (start_min + 1) * MINUTE,
        status: Status::Ok,
        ci: CiFields { role, ..ci },
        ..Span::default()
    }
}

/// A pipeline run (one trace) on `branch`/`commit` whose tests have the given outcomes.
fn run(
    trace: u32,
    branch: &str,
    commit: &str,
    failed: bool,
    tests: &[(&str, Outcome)],
) -> Vec<Span> {
    let facts = CiFields {
        branch: Some(branch.into()),
        commit: Some(commit.into()),
        pipeline: Some("ci".into()),
        run_id: Some(format!("run-{trace}")),
        attempt: Some(1),
        ..CiFields::default()
    };
    let outcome = if failed { Outcome::Fail } else { Outcome::Pass };
    let mut spans = vec![span(
        trace,
        1,
        None,
        Some(Role::Pipeline),
        CiFields {
            outcome: Some(outcome),
            ..facts.clone()
        },
        trace as i64 * 10,
    )];
    for (i, (test, outcome)) in tests.iter().enumerate() {
        let ci = CiFields {
            test: Some(test.to_string()),
            outcome: Some(*outcome),
            ..facts.clone()
        };
        spans.push(span(
            trace,
            10 + i as u32,
            Some(1),
            Some(Role::Test),
            ci,
            trace as i64 * 10 + i as i64,
        ));
    }
    spans
}

pub(super) async fn store_with(spans: &[Span]) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut writer = StoreWriter::new(&store).unwrap();
    writer.write(spans.to_vec()).unwrap();
    writer.finish().unwrap();
    let engine = Engine::open(&store, &Filters::default()).await.unwrap();
    (dir, engine)
}

async fn rows(engine: &Engine, query: NamedQuery, params: Vec<(&str, ScalarValue)>) -> Vec<Value> {
    let result = engine.run(query, params).await.unwrap();
    Rows::from_result(&result).objects()
}

fn history() -> Vec<Span> {
    use Outcome::{Fail, Pass};
    let mut spans = Vec::new();
    // t_flaky: fails once on c1 where it also passes, then a retry inside run 3 passes.
    spans.extend(run(
        1,
        "main",
        "c1",
        false,
        &[("t_flaky", Pass), ("t_broken", Pass), ("t_ok", Pass)],
    ));
    spans.extend(run(
        2,
        "main",
        "c1",
        true,
        &[("t_flaky", Fail), ("t_broken", Pass), ("t_ok", Pass)],
    ));
    spans.extend(run(
        3,
        "feature/x",
        "c2",
        true,
        &[
            ("t_flaky", Fail),
            ("t_flaky", Pass),
            ("t_broken", Fail),
            ("t_ok", Pass),
        ],
    ));
    // t_broken fails on every execution of c2 (runs 3 and 4): broken, not flaky.
    spans.extend(run(
        4,
        "feature/x",
        "c2",
        true,
        &[("t_flaky", Pass), ("t_broken", Fail), ("t_ok", Pass)],
    ));
    spans
}

#[tokio::test]
async fn flaky_separates_flaky_from_broken_and_counts_the_evidence() {
    let (_dir, engine) = store_with(&history()).await;
    let all = rows(
        &engine,
        NamedQuery::Flaky,
        vec![("all", ScalarValue::Boolean(Some(true)))],
    )
    .await;
    let by_test = |name: &str| {
        all.iter()
            .find(|r| r["test"] == json!(name))
            .cloned()
            .unwrap()
    };

    let flaky = by_test("t_flaky");
    assert_eq!(flaky["status"], json!("flaky"));
    assert_eq!(flaky["runs"], json!(5));
    assert_eq!(flaky["passes"], json!(3));
    assert_eq!(flaky["failures"], json!(2));
    assert_eq!(flaky["flaky_commits"], json!(2));
    assert_eq!(flaky["retry_passes"], json!(1));
    // pass fail fail pass pass: 2 flips in 4 transitions.
    assert_eq!(flaky["flip_rate"], json!(0.5));

    assert_eq!(by_test("t_broken")["status"], json!("broken"));
    assert_eq!(by_test("t_ok")["status"], json!("stable"));

    let only_flaky = rows(
        &engine,
        NamedQuery::Flaky,
        vec![("all", ScalarValue::Boolean(Some(false)))],
    )
    .await;
    assert_eq!(only_flaky.len(), 1);
    assert_eq!(only_flaky[0]["test"], json!("t_flaky"));
}

#[tokio::test]
async fn flaky_score_ranks_ten_in_a_hundred_above_one_in_two() {
    use Outcome::{Fail, Pass};
    let mut spans = Vec::new();
    // "often": 100 executions on 50 commits, 10 of them failures beside a pass.
    for i in 0..50u32 {
        let second = if i < 10 { Fail } else { Pass };
        spans.extend(run(
            100 + i,
            "main",
            &format!("often{i}"),
            false,
            &[("often", Pass), ("often", second)],
        ));
    }
    // "once": 2 executions of one commit, one failure.
    spans.extend(run(
        1000,
        "main",
        "once",
        false,
        &[("once", Pass), ("once", Fail)],
    ));
    let (_dir, engine) = store_with(&spans).await;
    let flaky = rows(
        &engine,
        NamedQuery::Flaky,
        vec![("all", ScalarValue::Boolean(Some(false)))],
    )
    .await;
    let order: Vec<&str> = flaky.iter().map(|r| r["test"].as_str().unwrap()).collect();
    assert_eq!(order, vec!["often", "once"]);
    assert_eq!(flaky[0]["flake_rate"], json!(0.1));
    assert_eq!(flaky[1]["flake_rate"], json!(0.5));
    // The interval is Wilson's at 95%: 10/100 → [0.0552, 0.1744].
    assert_eq!(
        (
            flaky[0]["flake_rate_low"].clone(),
            flaky[0]["flake_rate_high"].clone()
        ),
        (json!(0.0552), json!(0.1744))
    );
}

#[tokio::test]
async fn failures_by_branch_counts_pipeline_runs() {
    let (_dir, engine) = store_with(&history()).await;
    let by_branch = rows(
        &engine,
        NamedQuery::FailuresByBranch,
        vec![("bucket", ScalarValue::from("none"))],
    )
    .await;
    let main = by_branch
        .iter()
        .find(|r| r["branch"] == json!("main"))
        .unwrap();
    assert_eq!(
        (
            main["runs"].clone(),
            main["failed"].clone(),
            main["failure_rate"].clone()
        ),
        (json!(2), json!(1), json!(0.5))
    );
    let feature = by_branch
        .iter()
        .find(|r| r["branch"] == json!("feature/x"))
        .unwrap();
    assert_eq!(
        (feature["runs"].clone(), feature["failed"].clone()),
        (json!(2), json!(2))
    );

    let by_day = rows(
        &engine,
        NamedQuery::FailuresByBranch,
        vec![("bucket", ScalarValue::from("day"))],
    )
    .await;
    assert!(by_day.iter().all(|r| {
        r["bucket"]
            .as_str()
            .is_some_and(|b| b.ends_with("T00:00:00.000Z"))
    }));
}

#[tokio::test]
async fn filters_narrow_every_query() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut writer = StoreWriter::new(&store).unwrap();
    writer.write(history()).unwrap();
    writer.finish().unwrap();
    let filters = Filters {
        branches: vec!["main".into()],
        ..Filters::default()
    };
    let engine = Engine::open(&store, &filters).await.unwrap();
    let by_branch = rows(
        &engine,
        NamedQuery::FailuresByBranch,
        vec![("bucket", ScalarValue::from("none"))],
    )
    .await;
    assert_eq!(by_branch.len(), 1);
    assert_eq!(by_branch[0]["branch"], json!("main"));
}

#[tokio::test]
async fn writing_the_same_spans_twice_stores_them_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for _ in 0..2 {
        let mut writer = StoreWriter::new(&store).unwrap();
        writer.write(history()).unwrap();
        writer.finish().unwrap();
    }
    let engine = Engine::open(&store, &Filters::default()).await.unwrap();
    let count = engine.sql("SELECT COUNT(*) AS n FROM spans").await.unwrap();
    let n = Rows::from_result(&count).objects();
    assert_eq!(n[0]["n"], json!(history().len()));
}

#[tokio::test]
async fn facts_learned_later_complete_spans_stored_earlier() {
    use crate::model::TraceFacts;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // First ingest: the tests of trace 9, with no branch known yet.
    let mut early = run(9, "main", "c9", false, &[("t", Outcome::Pass)]);
    early.retain(|s| s.ci.role == Some(Role::Test));
    for s in &mut early {
        s.ci.branch = None;
        s.ci.commit = None;
    }
    let mut writer = StoreWriter::new(&store).unwrap();
    writer.write(early.clone()).unwrap();
    writer.finish().unwrap();
    // Second ingest: the pipeline span arrives, and with it the trace's branch.
    let mut late = run(9, "main", "c9", false, &[]);
    let facts = TraceFacts {
        branch: Some("main".into()),
        commit: Some("c9".into()),
        ..TraceFacts::default()
    };
    let mut writer = StoreWriter::new(&store).unwrap();
    writer.set_trace_facts(&late[0].trace_id, &facts);
    writer.write(std::mem::take(&mut late)).unwrap();
    writer.finish().unwrap();

    let engine = Engine::open(
        &store,
        &Filters {
            branches: vec!["main".into()],
            ..Filters::default()
        },
    )
    .await
    .unwrap();
    let result = engine
        .sql("SELECT role, branch, \"commit\" FROM spans ORDER BY role")
        .await
        .unwrap();
    let rows = Rows::from_result(&result).objects();
    assert_eq!(
        rows,
        vec![
            json!({"role": "pipeline", "branch": "main", "commit": "c9"}),
            json!({"role": "test", "branch": "main", "commit": "c9"}),
        ]
    );
}

/// A run without a pipeline span: two tasks of run `r-1` in two traces (the second
/// task starts 5 minutes after the first), each with a step; the second task's step
/// failed in run `r-2`.
fn span_less_runs() -> Vec<Span> {
    let mut spans = Vec::new();
    for (run, failed) in [(1, false), (2, true)] {
        let facts = CiFields {
            pipeline: Some("build".into()),
            run_id: Some(format!("r-{run}")),
            attempt: Some(1),
            branch: Some("main".into()),
            ..CiFields::default()
        };
        for (k, task) in ["compile", "test"].into_iter().enumerate() {
            let trace = run * 10 + k as u32;
            let at = run as i64 * 100 + k as i64 * 5;
            let failed_here = failed && task == "test";
            let outcome = if failed_here {
                Outcome::Fail
            } else {
                Outcome::Pass
            };
            let with = |role| CiFields {
                task: Some(task.into()),
                outcome: Some(outcome),
                role: Some(role),
                ..facts.clone()
            };
            spans.push(span(trace, 1, None, Some(Role::Task), with(Role::Task), at));
            spans.push(span(
                trace,
                2,
                Some(1),
                Some(Role::Step),
                with(Role::Step),
                at,
            ));
        }
    }
    spans
}

#[tokio::test]
async fn a_run_id_without_a_pipeline_span_is_one_run_across_its_traces() {
    let (_dir, engine) = store_with(&span_less_runs()).await;
    let result = engine
        .sql("SELECT run_key, has_pipeline_span, duration_ns, failed FROM pipeline_runs ORDER BY run_key")
        .await
        .unwrap();
    let runs = Rows::from_result(&result).objects();
    assert_eq!(
        json!(runs),
        json!([
            {"run_key": "run:build:r-1#1", "has_pipeline_span": false,
             "duration_ns": 6 * MINUTE, "failed": false},
            {"run_key": "run:build:r-2#1", "has_pipeline_span": false,
             "duration_ns": 6 * MINUTE, "failed": true},
        ])
    );

    // The gate's duration rule sees the successful run's wall time as the pipeline's.
    let durations = rows(&engine, NamedQuery::GateDurations, vec![]).await;
    let pipeline: Vec<&Value> = durations
        .iter()
        .filter(|r| r["kind"] == "pipeline")
        .collect();
    assert_eq!(
        pipeline,
        vec![
            &json!({"kind": "pipeline", "pipeline": "build", "subject": "build", "duration_ns": 6 * MINUTE})
        ]
    );
}
