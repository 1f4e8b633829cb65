//! `pipescope failures --by cause` on a small history whose every failure is known:
//! which failed runs the CI platform failed (checkout `error`, a job that could not
//! start, a runner step, a timed-out run, a run where only the pipeline span failed)
//! and which the code or its tests did (a failed test, a failed compile), with known
//! durations, over three pipelines and three emitter conventions: the GitHub receiver's
//! `cicd.*` keys (`build`), the GitHub Actions exporter's `github.*` keys (`CI`) and
//! Tekton-style task scripts without a pipeline span (`tekton-build`). A cancelled run
//! is not a failed run and counts nowhere.

mod common;

use common::{Env, assert_cli, attr, store_of};
use serde_json::{Value, json};

const S: i64 = 1_000_000_000;
/// 2025-06-10T08:00:00Z: the `build` runs; the others start a day later.
const DAY1: i64 = 1_749_542_400 * S;
const DAY2: i64 = DAY1 + 86_400 * S;

/// One span: (span id, parent, name, start s, end s, failed, attributes), times in
/// seconds after the run's start.
type SpanDef<'a> = (String, Option<String>, &'a str, i64, i64, bool, Vec<Value>);

fn trace(trace_id: u32, start: i64, resource: &[(&str, &str)], spans: Vec<SpanDef<'_>>) -> String {
    let trace_id = format!("{trace_id:032x}");
    let spans: Vec<Value> = spans
        .into_iter()
        .map(|(id, parent, name, from, to, failed, attributes)| {
            let mut span = json!({
                "traceId": trace_id,
                "spanId": format!("{id:0>16}"),
                "name": name,
                "startTimeUnixNano": (start + from * S).to_string(),
                "endTimeUnixNano": (start + to * S).to_string(),
                "attributes": attributes,
                "status": {"code": if failed { 2 } else { 1 }},
            });
            if let Some(parent) = parent {
                span["parentSpanId"] = json!(format!("{parent:0>16}"));
            }
            span
        })
        .collect();
    let resource: Vec<Value> = resource.iter().map(|(k, v)| attr(k, v)).collect();
    json!({"resourceSpans": [{
        "resource": {"attributes": resource},
        "scopeSpans": [{"spans": spans}],
    }]})
    .to_string()
        + "\n"
}

/// A test of a task: (name, from, to, status).
type TestDef<'a> = (&'a str, i64, i64, &'a str);
/// A task of a run: (name, from, to, result, its tests).
type TaskDef<'a> = (&'a str, i64, i64, &'a str, &'a [TestDef<'a>]);

/// A run of `build` with the GitHub receiver's keys.
fn receiver_run(n: u32, seconds: i64, result: &str, tasks: &[TaskDef<'_>]) -> String {
    let run_id = format!("{}", 100 + n);
    let failed = |r: &str| !matches!(r, "success" | "pass");
    let mut spans: Vec<SpanDef<'_>> = vec![(
        "1".into(),
        None,
        "build",
        0,
        seconds,
        failed(result),
        vec![
            attr("cicd.pipeline.name", "build"),
            attr("cicd.pipeline.run.id", &run_id),
            attr("cicd.pipeline.result", result),
        ],
    )];
    let ids = ["10", "20", "30", "40"];
    for (i, (name, from, to, task_result, tests)) in tasks.iter().enumerate() {
        spans.push((
            ids[i].into(),
            Some("1".into()),
            name,
            *from,
            *to,
            failed(task_result),
            vec![
                attr("cicd.pipeline.task.name", name),
                attr("cicd.pipeline.task.run.result", task_result),
            ],
        ));
        for (j, (test, from, to, status)) in tests.iter().enumerate() {
            spans.push((
                format!("{}{j}", ids[i]),
                Some(ids[i].into()),
                test,
                *from,
                *to,
                failed(status),
                vec![
                    attr("test.case.name", test),
                    attr("test.case.result.status", status),
                ],
            ));
        }
    }
    let resource = [
        ("service.name", "github-actions"),
        ("vcs.ref.head.name", "main"),
        ("vcs.ref.head.revision", "aaa111"),
    ];
    trace(n, DAY1 + n as i64 * 1000 * S, &resource, spans)
}

/// A run of `CI` with the GitHub Actions exporter's keys: the root carries
/// `github.workflow`, jobs `github.job.name`, steps `github.job.step.name`; `spans`
/// are (id, parent, kind `job`/`step`/`test`, name, from, to, conclusion).
fn exporter_run(
    n: u32,
    seconds: i64,
    conclusion: &str,
    spans: &[(&str, &str, &str, &str, i64, i64, &str)],
) -> String {
    let failed = |r: &str| !matches!(r, "success" | "pass");
    let run_id = format!("{}", 9000 + n);
    let mut defs: Vec<SpanDef<'_>> = vec![(
        "1".into(),
        None,
        "CI",
        0,
        seconds,
        failed(conclusion),
        vec![
            attr("github.workflow", "CI"),
            attr("github.run_id", &run_id),
            attr("github.run_attempt", "1"),
            attr("github.head_branch", "feature/x"),
            attr("github.head_sha", "bbb222"),
            attr("github.conclusion", conclusion),
        ],
    )];
    for (id, parent, kind, name, from, to, result) in spans {
        let attributes = match *kind {
            "job" => vec![
                attr("github.job.name", name),
                attr("github.job.conclusion", result),
            ],
            "step" => vec![
                attr("github.job.step.name", name),
                attr("github.job.step.conclusion", result),
            ],
            _ => vec![
                attr("test.case.name", name),
                attr("test.case.result.status", result),
            ],
        };
        defs.push((
            id.to_string(),
            Some(parent.to_string()),
            name,
            *from,
            *to,
            failed(result),
            attributes,
        ));
    }
    let resource = [("service.name", "github-actions-exporter")];
    trace(1000 + n, DAY2 + n as i64 * 1000 * S, &resource, defs)
}

/// One task of a Tekton-style run (no pipeline span): a trace of its own, tied to its
/// run by the resource's `pipeline.run`.
fn tekton_task(trace_id: u32, run: &str, task: &str, start: i64, end: i64, result: &str) -> String {
    let resource = [
        ("service.name", "tekton-task"),
        ("pipeline.name", "tekton-build"),
        ("pipeline.run", run),
        ("task.name", task),
        ("vcs.ref.head.name", "main"),
    ];
    let spans = vec![(
        "1".into(),
        None,
        task,
        0,
        end - start,
        result != "success",
        vec![attr("cicd.pipeline.task.run.result", result)],
    )];
    trace(trace_id, DAY2 + 10_000 * S + start * S, &resource, spans)
}

const NO_TESTS: &[TestDef<'static>] = &[];

/// The history; every run's verdict and duration is in the comment before it.
fn history() -> String {
    let mut out = String::new();
    // build (cicd.*), 2025-06-10.
    // Passed, 100 s: not a failure.
    out += &receiver_run(
        1,
        100,
        "success",
        &[("checkout", 1, 10, "success", NO_TESTS)],
    );
    // Platform, 30 s: the checkout errored and nothing else ran.
    out += &receiver_run(2, 30, "error", &[("checkout", 1, 11, "error", NO_TESTS)]);
    // Change, 200 s: a failed test.
    out += &receiver_run(
        3,
        200,
        "failure",
        &[
            ("checkout", 1, 10, "success", NO_TESTS),
            (
                "test",
                11,
                190,
                "failure",
                &[("test_login", 12, 20, "fail"), ("test_ok", 21, 30, "pass")],
            ),
        ],
    );
    // Change, 50 s: the compile failed (a task failed with no failed test).
    out += &receiver_run(
        4,
        50,
        "failure",
        &[
            ("checkout", 1, 10, "success", NO_TESTS),
            ("compile", 11, 45, "failure", NO_TESTS),
        ],
    );
    // Platform, 120 s: only the pipeline span failed.
    out += &receiver_run(
        5,
        120,
        "failure",
        &[
            ("checkout", 1, 10, "success", NO_TESTS),
            ("test", 11, 100, "success", &[("test_ok", 12, 20, "pass")]),
        ],
    );
    // Platform, 600 s: the run timed out in the test task.
    out += &receiver_run(
        6,
        600,
        "timed_out",
        &[
            ("checkout", 1, 10, "success", NO_TESTS),
            ("test", 11, 599, "timed_out", &[("test_ok", 12, 20, "pass")]),
        ],
    );
    // Not a failure, 80 s: cancelled.
    out += &receiver_run(
        7,
        80,
        "cancelled",
        &[
            ("checkout", 1, 10, "success", NO_TESTS),
            ("test", 11, 79, "cancelled", NO_TESTS),
        ],
    );
    // Change, 70 s: a test failed first (ended at 40 s); the cache upload errored after
    // it (66 s) and did not make it fail.
    out += &receiver_run(
        8,
        70,
        "failure",
        &[
            ("test", 11, 45, "failure", &[("test_login", 12, 40, "fail")]),
            ("save-cache", 46, 66, "error", NO_TESTS),
        ],
    );

    // CI (github.*), 2025-06-11.
    // Platform, 40 s: the runner failed to set up the job.
    out += &exporter_run(
        1,
        40,
        "failure",
        &[
            ("10", "1", "job", "test", 1, 39, "failure"),
            ("11", "10", "step", "Set up job", 1, 3, "failure"),
        ],
    );
    // Change, 300 s: a failed test.
    out += &exporter_run(
        2,
        300,
        "failure",
        &[
            ("10", "1", "job", "test", 1, 299, "failure"),
            ("11", "10", "step", "Set up job", 1, 3, "success"),
            ("12", "10", "step", "Run tests", 4, 298, "failure"),
            ("13", "12", "test", "test_cart", 5, 100, "fail"),
        ],
    );
    // Platform, 500 s: fetching the dependencies failed (19 s) before a test of the
    // job beside it failed (200 s).
    out += &exporter_run(
        3,
        500,
        "failure",
        &[
            ("10", "1", "job", "deps", 1, 20, "failure"),
            ("11", "10", "step", "Fetch dependencies", 2, 19, "failure"),
            ("20", "1", "job", "test", 1, 499, "failure"),
            ("21", "20", "step", "Run tests", 2, 498, "failure"),
            ("22", "21", "test", "test_cart", 100, 200, "fail"),
        ],
    );
    // Change, 90 s: the compile step failed.
    out += &exporter_run(
        4,
        90,
        "failure",
        &[
            ("10", "1", "job", "build", 1, 89, "failure"),
            ("11", "10", "step", "cargo build", 2, 88, "failure"),
        ],
    );
    // Passed, 100 s.
    out += &exporter_run(
        5,
        100,
        "success",
        &[("10", "1", "job", "build", 1, 99, "success")],
    );
    // Platform, 25 s: the job could not start on a runner (`startup_failure`).
    out += &exporter_run(
        6,
        25,
        "failure",
        &[("10", "1", "job", "test", 1, 24, "startup_failure")],
    );

    // tekton-build (no pipeline span; a trace per task), 2025-06-11.
    // Change, 90 s (first start to last end over two traces): the unit tests failed.
    out += &tekton_task(2001, "run-7", "fetch-source", 0, 30, "success");
    out += &tekton_task(2002, "run-7", "unit-tests", 40, 90, "failure");
    // Platform, 20 s: the clone errored.
    out += &tekton_task(2003, "run-8", "git-clone", 100, 120, "error");
    out
}

fn store() -> &'static Env {
    static STORE: std::sync::OnceLock<Env> = std::sync::OnceLock::new();
    STORE.get_or_init(|| store_of("history.jsonl", &history()))
}

#[allow(clippy::too_many_arguments)]
fn row(
    pipeline: Option<&str>,
    bucket: Option<&str>,
    failed: u64,
    platform: u64,
    share: f64,
    lost: f64,
    platform_lost: f64,
    lost_share: f64,
) -> Value {
    let mut r = json!({
        "pipeline": pipeline,
        "total": pipeline.is_none(),
        "failed_runs": failed,
        "platform_runs": platform,
        "change_runs": failed - platform,
        "platform_share": share,
        "lost_s": lost,
        "platform_lost_s": platform_lost,
        "platform_lost_share": lost_share,
    });
    if let Some(b) = bucket {
        r["bucket"] = json!(b);
    }
    r
}

#[test]
fn platform_and_change_per_pipeline() {
    let env = store();
    assert_eq!(
        env.rows(&["failures", "--by", "cause"]),
        vec![
            row(Some("build"), None, 6, 3, 0.5, 1070.0, 750.0, 0.7009),
            row(Some("CI"), None, 5, 3, 0.6, 955.0, 565.0, 0.5916),
            row(Some("tekton-build"), None, 2, 1, 0.5, 110.0, 20.0, 0.1818),
            row(None, None, 13, 7, 0.5385, 2135.0, 1335.0, 0.6253),
        ]
    );
}

#[test]
fn the_common_filters_and_buckets() {
    let env = store();
    assert_eq!(
        env.rows(&["failures", "--by", "cause", "--pipeline", "CI"]),
        vec![
            row(Some("CI"), None, 5, 3, 0.6, 955.0, 565.0, 0.5916),
            row(None, None, 5, 3, 0.6, 955.0, 565.0, 0.5916),
        ]
    );
    assert_eq!(
        env.rows(&["failures", "--by", "cause", "--branch", "main"]),
        vec![
            row(Some("build"), None, 6, 3, 0.5, 1070.0, 750.0, 0.7009),
            row(Some("tekton-build"), None, 2, 1, 0.5, 110.0, 20.0, 0.1818),
            row(None, None, 8, 4, 0.5, 1180.0, 770.0, 0.6525),
        ]
    );
    assert_eq!(
        env.rows(&[
            "failures",
            "--by",
            "cause",
            "--since",
            "2025-06-11",
            "--until",
            "2025-06-12"
        ]),
        vec![
            row(Some("CI"), None, 5, 3, 0.6, 955.0, 565.0, 0.5916),
            row(Some("tekton-build"), None, 2, 1, 0.5, 110.0, 20.0, 0.1818),
            row(None, None, 7, 4, 0.5714, 1065.0, 585.0, 0.5493),
        ]
    );
    // Nothing failed: one total row of zeros.
    assert_eq!(
        env.rows(&["failures", "--by", "cause", "--since", "2025-07-01"]),
        vec![row(None, None, 0, 0, 0.0, 0.0, 0.0, 0.0)]
    );
    let day1 = Some("2025-06-10T00:00:00.000Z");
    let day2 = Some("2025-06-11T00:00:00.000Z");
    assert_eq!(
        env.rows(&["failures", "--by", "cause", "--bucket", "day"]),
        vec![
            row(Some("build"), day1, 6, 3, 0.5, 1070.0, 750.0, 0.7009),
            row(None, day1, 6, 3, 0.5, 1070.0, 750.0, 0.7009),
            row(Some("CI"), day2, 5, 3, 0.6, 955.0, 565.0, 0.5916),
            row(Some("tekton-build"), day2, 2, 1, 0.5, 110.0, 20.0, 0.1818),
            row(None, day2, 7, 4, 0.5714, 1065.0, 585.0, 0.5493),
        ]
    );
}

#[test]
fn table_and_csv() {
    let env = store();
    let (code, csv, stderr) = env.run(&["failures", "--by", "cause", "--format", "csv"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        csv,
        "pipeline,total,failed_runs,platform_runs,change_runs,platform_share,lost_s,platform_lost_s,platform_lost_share\n\
         build,false,6,3,3,0.5,1070,750,0.7009\n\
         CI,false,5,3,2,0.6,955,565,0.5916\n\
         tekton-build,false,2,1,1,0.5,110,20,0.1818\n\
         ,true,13,7,6,0.5385,2135,1335,0.6253\n"
    );
    assert_cli!("cause_table", env, ["failures", "--by", "cause"]);
}

#[test]
fn the_report_says_it_in_words() {
    let env = store();
    let args = [
        "report",
        "--since",
        "2025-06-10",
        "--until",
        "2025-06-12",
        "--format",
        "json",
    ];
    let (code, stdout, stderr) = env.run(&args);
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    let lines = doc["report"]["platform_or_change"]
        .as_array()
        .expect("platform_or_change");
    let words: Vec<&str> = lines.iter().filter_map(|l| l["words"].as_str()).collect();
    assert_eq!(
        words,
        [
            "build: 3 of 6 failed runs (50 %) and 13 min of 18 min lost were the platform: checkout errored (1), nothing below the run failed (1), test timed out (1).",
            "CI: 3 of 5 failed runs (60 %) and 9 min of 16 min lost were the platform: deps / Fetch dependencies failed (1), test / Set up job failed (1), test errored (1).",
            "tekton-build: 1 of 2 failed runs (50 %) and 20 s of 2 min lost were the platform: git-clone errored (1).",
            "All pipelines: 7 of 13 failed runs (54 %) and 22 min of 36 min lost were the platform.",
        ]
    );
    // The counts beside the words are the rows of `failures --by cause`.
    assert_eq!(lines[3]["failed_runs"], 13);
    assert_eq!(lines[3]["platform_lost_s"], 1335.0);
    assert_eq!(
        lines[0]["platform_causes"][0],
        json!({"cause": "checkout errored", "runs": 1})
    );

    let (code, html, stderr) =
        env.run(&["report", "--since", "2025-06-10", "--until", "2025-06-12"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        html.contains("<h2>Platform or change?</h2>")
            && html.contains("<li>tekton-build: 1 of 2 failed runs (50 %) and 20 s of 2 min lost"),
        "{html}"
    );
}
