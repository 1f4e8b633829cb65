//! `pipescope receive` fed by real OpenTelemetry producers: the Python SDK's OTLP/HTTP
//! and OTLP/gRPC exporters, pytest-otel, a Tekton-style task script and a pytest
//! conftest, all installed from PyPI by tests/receive/setup.sh. Each test asserts the
//! rows the store holds afterwards, not just that spans arrived.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{self, Receiver, rows, sql};
use serde_json::Value;

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/receive")
}

/// The venv's python (installed on first use); when python3 is missing, see
/// `common::require`.
fn python() -> Option<String> {
    let python3 = match Command::new("python3").arg("--version").output() {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("python3 cannot be run: {e}")),
    };
    crate::common::require("python3 (for the real-producer tests)", python3)?;
    let out = Command::new("bash")
        .arg(scripts().join("setup.sh"))
        .output()
        .expect("run setup.sh");
    assert!(
        out.status.success(),
        "setup.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn run_ok(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("run producer");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("Failed to export"),
        "the exporter could not deliver:\n{text}"
    );
    (out.status.code().unwrap_or(-1), text)
}

fn col<'a>(row: &'a Value, key: &str) -> &'a str {
    row[key].as_str().unwrap_or("")
}

#[test]
fn pytest_otel_runs_show_the_flaky_test_and_its_slow_dependency() {
    let Some(python) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start(&data, &[]);
    // Seeds 1, 3, 4 make the dependency slow (random.Random(seed).random() < 0.5);
    // 2, 5, 6 do not. Runs alternate pytest-otel's two exporters.
    for seed in 1..=6 {
        let (protocol, endpoint) = if seed % 2 == 0 {
            ("grpc", format!("http://{}", receiver.grpc))
        } else {
            ("http/protobuf", format!("http://{}", receiver.http))
        };
        let (code, text) = run_ok(
            Command::new(&python)
                .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
                .arg(scripts().join("suite"))
                .args(["--otel-endpoint", &endpoint])
                .args(["--otel-exporter-protocol", protocol])
                .args(["--otel-service-name", "checkout-tests"])
                .env("RUN_SEED", seed.to_string())
                .env(
                    "OTEL_RESOURCE_ATTRIBUTES",
                    format!(
                        "ci.commit.sha=c0ffee1,vcs.ref.head.name=main,ci.pipeline.id=run-{seed}"
                    ),
                ),
        );
        assert_eq!(code, 1, "pytest run {seed} should have failures:\n{text}");
        let expected = if [1, 3, 4].contains(&seed) {
            "2 failed, 1 passed"
        } else {
            "1 failed, 2 passed"
        };
        assert!(text.contains(expected), "run {seed}:\n{text}");
    }
    receiver.stop();

    let tests = sql(
        &data,
        "SELECT test, outcome, branch, \"commit\", source FROM spans WHERE role = 'test' ORDER BY test, outcome",
    );
    assert_eq!(tests.len(), 18, "3 tests x 6 runs: {tests:?}");
    for row in &tests {
        assert_eq!(col(row, "branch"), "main");
        assert_eq!(col(row, "commit"), "c0ffee1");
        assert_eq!(col(row, "source"), "otlp-http");
    }
    let outcomes = |test: &str, outcome: &str| {
        tests
            .iter()
            .filter(|r| col(r, "test") == test && col(r, "outcome") == outcome)
            .count()
    };
    assert_eq!(outcomes("test_checkout", "fail"), 3);
    assert_eq!(outcomes("test_checkout", "pass"), 3);
    assert_eq!(outcomes("test_config_is_valid", "fail"), 6);
    assert_eq!(outcomes("test_totals", "pass"), 6);
    assert_eq!(
        harness::count(&data, "SELECT count(*) FROM spans WHERE role = 'suite'"),
        6
    );

    let flaky = rows(&data, &["flaky"]);
    let names: Vec<&str> = flaky.iter().map(|r| col(r, "test")).collect();
    assert_eq!(names, ["test_checkout"], "{flaky:?}");

    let compare = rows(&data, &["compare", "--test", "test_checkout"]);
    let top = compare.first().expect("compare rows");
    assert_eq!(col(top, "span"), "inventory.lookup", "{compare:?}");
    assert!(top["delta_ms"].as_f64().unwrap_or(0.0) > 150.0, "{top}");
}

#[test]
fn tekton_tasks_share_one_trace_through_a_traceparent_file() {
    let Some(python) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start(&data, &[]);
    let endpoint = format!("http://{}", receiver.http);
    let traceparent = tmp.path().join("traceparent");
    let task = |name: &str, commands: &[&str]| {
        run_ok(
            Command::new(&python)
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tekton/task.py"))
                .args(["otlp", &endpoint, "pr-7", name])
                .arg(&traceparent)
                .args(commands)
                .env("GIT_COMMIT", "abc1234")
                .env("GIT_BRANCH", "feature/x"),
        )
        .0
    };
    assert_eq!(task("build", &["echo building", "true"]), 0);
    assert_eq!(
        task("test", &["echo testing", "sh -c 'exit 3'", "echo never"]),
        1
    );
    receiver.stop();

    let spans = sql(
        &data,
        "SELECT name, role, task, outcome, status, pipeline, run_id, branch, \"commit\", trace_id, span_id, parent_span_id, attributes['exit_code'] AS exit_code FROM spans ORDER BY start_time",
    );
    let names: Vec<&str> = spans.iter().map(|r| col(r, "name")).collect();
    assert_eq!(
        names,
        [
            "build",
            "echo building",
            "true",
            "test",
            "echo testing",
            "sh -c 'exit 3'"
        ],
        "the command after the failure never ran"
    );
    let trace = col(&spans[0], "trace_id");
    for row in &spans {
        assert_eq!(col(row, "trace_id"), trace, "one trace for both tasks");
        assert_eq!(col(row, "pipeline"), "build-and-test");
        assert_eq!(col(row, "run_id"), "pr-7");
        assert_eq!(col(row, "branch"), "feature/x");
        assert_eq!(col(row, "commit"), "abc1234");
    }
    let by_name = |n: &str| spans.iter().find(|r| col(r, "name") == n).unwrap();
    let (build, test) = (by_name("build"), by_name("test"));
    assert_eq!(col(build, "role"), "task");
    assert_eq!(col(build, "outcome"), "pass");
    assert_eq!(build["parent_span_id"], Value::Null);
    assert_eq!(col(test, "role"), "task");
    assert_eq!(
        (col(test, "outcome"), col(test, "status")),
        ("fail", "unset"),
        "the script marks only the failing command; its task fails with it"
    );
    assert_eq!(
        col(test, "parent_span_id"),
        col(build, "span_id"),
        "the second task continues the first through the traceparent file"
    );
    let failed = by_name("sh -c 'exit 3'");
    assert_eq!(col(failed, "role"), "step");
    assert_eq!(col(failed, "task"), "test");
    assert_eq!(col(failed, "outcome"), "fail");
    assert_eq!(col(failed, "status"), "error");
    assert_eq!(col(failed, "exit_code"), "3");
    assert_eq!(col(failed, "parent_span_id"), col(test, "span_id"));
    let ok = by_name("echo building");
    assert_eq!((col(ok, "role"), col(ok, "outcome")), ("step", "pass"));
    assert_eq!(col(ok, "exit_code"), "0");
}

#[test]
fn a_conftest_exporting_over_grpc_stores_test_execute_rows() {
    let Some(python) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start(&data, &[]);
    let (code, text) = run_ok(
        Command::new(&python)
            .args([
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:pytest_otel",
                ".",
            ])
            .current_dir(scripts().join("grpc_suite"))
            .env("PIPESCOPE_GRPC", format!("http://{}", receiver.grpc))
            .env("CI_PIPELINE_ID", "gl-42")
            .env("CI_COMMIT_SHA", "feed42")
            .env("CI_COMMIT_BRANCH", "release"),
    );
    assert_eq!(code, 1, "{text}");
    receiver.stop();

    let spans = sql(
        &data,
        "SELECT name, role, test, outcome, run_id, branch, \"commit\" FROM spans ORDER BY role, test",
    );
    let got: Vec<(&str, &str, &str, &str)> = spans
        .iter()
        .map(|r| {
            (
                col(r, "name"),
                col(r, "role"),
                col(r, "test"),
                col(r, "outcome"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("pytest session", "pipeline", "", "fail"),
            ("test.execute", "test", "test_deploys", "skip"),
            ("test.execute", "test", "test_parses_manifest", "pass"),
            ("test.execute", "test", "test_rejects_bad_manifest", "fail"),
        ]
    );
    for row in &spans {
        assert_eq!(col(row, "run_id"), "gl-42");
        assert_eq!(col(row, "commit"), "feed42");
        assert_eq!(col(row, "branch"), "release");
    }
}

/// Exports one span with the SDK's exporter over `protocol`, with `OTEL_EXPORTER_OTLP_HEADERS`
/// set to `headers`; prints the export result.
const EXPORT_ONE: &str = r#"
import sys
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
protocol, endpoint = sys.argv[1], sys.argv[2]
if protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=5)
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter(endpoint=endpoint, timeout=5)
provider = TracerProvider()
spans = []
class Keep(SimpleSpanProcessor):
    def on_end(self, span):
        spans.append(span)
provider.add_span_processor(Keep(exporter))
provider.get_tracer("t").start_span(f"span over {protocol}").end()
print("RESULT", exporter.export(spans).name)
"#;

#[test]
fn both_exporters_need_the_bearer_token_when_one_is_set() {
    let Some(python) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start_with_env(
        &data,
        &["--token-env", "PS_TOKEN"],
        &[("PS_TOKEN", "t0ken")],
    );
    let export = |protocol: &str, endpoint: String, headers: &str| {
        let out = Command::new(&python)
            .args(["-c", EXPORT_ONE, protocol, &endpoint])
            .env("OTEL_EXPORTER_OTLP_HEADERS", headers)
            .output()
            .expect("run python");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .unwrap_or_else(|| panic!("no result: {text}{}", String::from_utf8_lossy(&out.stderr)))
            .to_string()
    };
    let grpc = format!("http://{}", receiver.grpc);
    let http = format!("http://{}/v1/traces", receiver.http);
    assert_eq!(
        export("grpc", grpc.clone(), "authorization=Bearer wrong"),
        "FAILURE"
    );
    assert_eq!(export("http", http.clone(), ""), "FAILURE");
    assert_eq!(
        export("grpc", grpc, "authorization=Bearer t0ken"),
        "SUCCESS"
    );
    assert_eq!(
        export("http", http, "Authorization=Bearer t0ken"),
        "SUCCESS"
    );
    receiver.stop();
    let names: Vec<String> = sql(&data, "SELECT name FROM spans ORDER BY name")
        .iter()
        .map(|r| col(r, "name").to_string())
        .collect();
    assert_eq!(names, ["span over grpc", "span over http"]);
}
