//! Pipelines without a pipeline span: Tekton task scripts instrumented as the
//! OpenTelemetry guides for Tekton show (tests/tekton/task.py: each task a process with
//! the Python SDK, resource `pipeline.name`/`pipeline.run`/`task.name`/`task.run`, a
//! span per task and per command, a failing command an ERROR span with `exit_code`),
//! exported through the real OTLP/HTTP and Zipkin JSON exporters, with the tasks of a
//! run chained into one trace or each in a trace of its own.
//!
//! Every layout must give the same answers: four runs of `build-and-test`, two on main
//! and two on a branch; the `test` task's `run-tests` step fails in runs 2 and 4, so
//! the task and the run fail there although no task span says so.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Env;
use serde_json::Value;

/// The Python with the SDK and its exporters (tests/receive/setup.sh installs the real
/// producers once for every test that runs them).
fn python() -> Option<PathBuf> {
    let setup = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/receive/setup.sh");
    let found = Command::new("bash")
        .arg(&setup)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", setup.display()))
        .and_then(|out| {
            if out.status.success() {
                Ok(PathBuf::from(
                    String::from_utf8_lossy(&out.stdout).trim().to_string(),
                ))
            } else {
                Err(format!(
                    "{} failed: {}",
                    setup.display(),
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        });
    common::require(
        "the OpenTelemetry Python SDK (tests/receive/setup.sh)",
        found,
    )
}

#[derive(Debug, Clone, Copy)]
enum Exporter {
    Otlp,
    Zipkin,
}

#[derive(Debug, Clone, Copy)]
enum Layout {
    /// Tasks chained through a traceparent file: one trace per run.
    OneTrace,
    /// Every task a trace of its own, tied by `pipeline.run`.
    TracePerTask,
}

/// Runs the four pipeline runs' task scripts; returns the directory of captured
/// request bodies.
fn run_pipelines(python: &Path, env: &Env, exporter: Exporter, layout: Layout) -> PathBuf {
    let out = env.dir.path().join("bodies");
    std::fs::create_dir_all(&out).expect("mkdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tekton/task.py");
    let kind = match exporter {
        Exporter::Otlp => "otlp",
        Exporter::Zipkin => "zipkin",
    };
    for run in 1..=4 {
        let pipeline_run = format!("build-and-test-run-{run}");
        let branch = if run <= 2 { "main" } else { "feature/retry" };
        let traceparent = match layout {
            Layout::OneTrace => env
                .dir
                .path()
                .join(format!("traceparent-{run}"))
                .display()
                .to_string(),
            Layout::TracePerTask => "-".to_string(),
        };
        let tests_fail = run % 2 == 0;
        let tasks: [(&str, Vec<&str>); 3] = [
            ("clone", vec!["sleep 0.05"]),
            ("build", vec!["sleep 0.2", "true"]),
            (
                "test",
                vec![
                    "sleep 0.05",
                    if tests_fail {
                        "sleep 0.1; exit 3"
                    } else {
                        "sleep 0.1"
                    },
                ],
            ),
        ];
        for (task, commands) in tasks {
            let status = Command::new(python)
                .arg(&script)
                .args([kind, &out.display().to_string(), &pipeline_run, task])
                .arg(&traceparent)
                .args(&commands)
                .env("GIT_BRANCH", branch)
                .env("GIT_COMMIT", format!("c{run}"))
                .status()
                .expect("run task.py");
            let expect_failure = task == "test" && tests_fail;
            assert_eq!(
                status.success(),
                !expect_failure,
                "{task} of {pipeline_run}"
            );
        }
    }
    out
}

fn ingest(env: &Env, bodies: &Path, exporter: Exporter) {
    let format = match exporter {
        Exporter::Otlp => "otlp-proto",
        Exporter::Zipkin => "zipkin",
    };
    // Once as a user would (detected), once with the format named: the same store.
    for args in [vec![], vec!["--format", format]] {
        let mut all = vec!["ingest".to_string()];
        all.extend(args.iter().map(|s| s.to_string()));
        all.push(bodies.display().to_string());
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let (code, _, stderr) = env.run(&all);
        assert_eq!(code, 0, "{stderr}");
        assert!(!stderr.contains("skipped:"), "{stderr}");
    }
}

fn row<'a>(rows: &'a [Value], key: &str, value: &str) -> &'a Value {
    rows.iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key} = {value}: {rows:#?}"))
}

fn counts(r: &Value) -> (Option<i64>, Option<i64>) {
    (r["runs"].as_i64(), r["failed"].as_i64())
}

fn check(exporter: Exporter, layout: Layout) {
    let Some(python) = python() else { return };
    let env = Env::new();
    let bodies = run_pipelines(&python, &env, exporter, layout);
    ingest(&env, &bodies, exporter);
    let what = format!("{exporter:?}, {layout:?}");

    let traces = env.count("SELECT COUNT(DISTINCT trace_id) FROM spans");
    let expected_traces = match layout {
        Layout::OneTrace => 4,
        Layout::TracePerTask => 12,
    };
    assert_eq!(traces, expected_traces, "{what}");
    assert_eq!(
        env.count("SELECT COUNT(*) FROM spans WHERE role = 'pipeline'"),
        0,
        "{what}: the scripts emit no pipeline span"
    );

    // Roles, tasks and steps as the scripts meant them.
    let roles = env.sql(
        "SELECT role, task, COUNT(*) AS n, SUM(CASE WHEN outcome = 'fail' THEN 1 ELSE 0 END) AS failed \
         FROM spans GROUP BY role, task ORDER BY role, task",
    );
    let summary: Vec<String> = roles
        .iter()
        .map(|r| format!("{} {} {} {}", r["role"], r["task"], r["n"], r["failed"]))
        .collect();
    assert_eq!(
        summary,
        vec![
            r#""step" "build" 8 0"#,
            r#""step" "clone" 4 0"#,
            r#""step" "test" 8 2"#,
            r#""task" "build" 4 0"#,
            r#""task" "clone" 4 0"#,
            r#""task" "test" 4 2"#,
        ],
        "{what}"
    );

    // A pipeline run is a run id: four runs, whatever the number of traces.
    let runs = env.sql("SELECT * FROM pipeline_runs ORDER BY run_id");
    assert_eq!(runs.len(), 4, "{what}: {runs:#?}");
    for r in &runs {
        let run: i64 = r["run_id"].as_str().unwrap_or("")[19..].parse().expect("n");
        assert_eq!(r["failed"], run % 2 == 0, "{what}: {r}");
        assert_eq!(r["pipeline"], "build-and-test", "{what}");
        // From the first span's start to the last span's end: at least the three
        // tasks' sleeps one after the other.
        let secs = r["duration_ns"].as_i64().unwrap_or(0) as f64 / 1e9;
        assert!((0.4..30.0).contains(&secs), "{what}: {r}");
    }

    let by_branch = env.rows(&["failures", "--by", "branch"]);
    assert_eq!(
        counts(row(&by_branch, "branch", "main")),
        (Some(2), Some(1)),
        "{what}"
    );
    assert_eq!(
        counts(row(&by_branch, "branch", "feature/retry")),
        (Some(2), Some(1)),
        "{what}"
    );
    let by_task = env.rows(&["failures", "--by", "task"]);
    assert_eq!(
        counts(row(&by_task, "task", "test")),
        (Some(4), Some(2)),
        "{what}"
    );
    assert_eq!(
        counts(row(&by_task, "task", "build")),
        (Some(4), Some(0)),
        "{what}"
    );
    let by_pipeline = env.rows(&["failures", "--by", "pipeline"]);
    assert_eq!(
        counts(row(&by_pipeline, "pipeline", "build-and-test")),
        (Some(4), Some(2)),
        "{what}"
    );

    // The critical path runs over the run's tasks: they ran one after the other, so
    // every task is on it, the build (the longest sleep) most.
    let bottlenecks = env.rows(&["bottlenecks"]);
    assert_eq!(bottlenecks.len(), 3, "{what}: {bottlenecks:#?}");
    assert_eq!(bottlenecks[0]["task"], "build", "{what}: {bottlenecks:#?}");
    for b in &bottlenecks {
        assert_eq!(b["runs"], 4, "{what}: {b}");
        assert!(
            b["critical_path_s"].as_f64().unwrap_or(0.0) > 0.0,
            "{what}: {b}"
        );
        assert_eq!(b["pipeline"], "build-and-test", "{what}");
    }
    let steps = env.rows(&["bottlenecks", "--by", "step"]);
    assert!(
        steps.iter().any(|s| s["step"] == "sleep 0.2"),
        "{what}: {steps:#?}"
    );

    // The report and the gate read the same runs.
    let report = env.dir.path().join("report.html");
    let (code, _, stderr) = env.run(&["report", "--out", &report.display().to_string()]);
    assert_eq!(code, 0, "{what}: {stderr}");
    let html = std::fs::read_to_string(&report).expect("report");
    assert!(html.contains("build-and-test"), "{what}");
    let (code, stdout, stderr) = env.run(&[
        "gate",
        "--current-run",
        "build-and-test-run-4",
        "--baseline",
        "branch=main,since=3000d",
        "--format",
        "json",
    ]);
    let doc: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{what}: {e}: {stdout} {stderr}"));
    // The failed run is triaged: its failed task, which no test explains.
    let triage = doc["triage"].as_array().cloned().unwrap_or_default();
    assert!(
        triage.iter().any(|t| t["run"] == "build-and-test-run-4"
            && t["kind"] == "task"
            && t["subject"] == "test"),
        "{what}: {doc:#}"
    );
    assert!(code == 0 || code == 1, "{what}: {stderr}");
}

#[test]
fn otlp_exporter_tasks_in_one_trace() {
    check(Exporter::Otlp, Layout::OneTrace);
}

#[test]
fn otlp_exporter_a_trace_per_task() {
    check(Exporter::Otlp, Layout::TracePerTask);
}

#[test]
fn zipkin_exporter_tasks_in_one_trace() {
    check(Exporter::Zipkin, Layout::OneTrace);
}

#[test]
fn zipkin_exporter_a_trace_per_task() {
    check(Exporter::Zipkin, Layout::TracePerTask);
}
