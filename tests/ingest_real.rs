//! `pipescope ingest` on the real traces of ../shared/fixtures/real: every format
//! decodes, and the facts the emitters recorded come out of the store.

mod common;

use std::path::{Path, PathBuf};

use common::{Env, real_fixtures};
use serde_json::json;

#[test]
fn every_real_file_is_ingested_or_reported() {
    let Some(real) = real_fixtures() else { return };
    let env = Env::new();
    let (code, stderr) = env.ingest(&[&real]);
    // The YAML, the JS console dump and SOURCES.md are not traces: skipped, named, exit 2.
    assert_eq!(code, 2, "{stderr}");
    for skipped in [
        "workflow-run-expected.yaml",
        "workflow-job-expected.yaml",
        "output_failed.txt",
        "SOURCES.md",
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("skipped:") && l.contains(skipped)),
            "{skipped} not reported:\n{stderr}"
        );
    }
    let per_file = [
        // (where the spans came from, spans)
        (
            "SELECT COUNT(*) FROM spans WHERE trace_id = '5b8efff798038103d269b633813fc60c'",
            1,
        ), // opentelemetry-proto
        (
            "SELECT COUNT(*) FROM spans WHERE trace_id = '731ec8a47fd7450f753a812a4a8aa5a0'",
            11,
        ), // collector-contrib run + job
        // ui_01 (16-hex id, padded) has span 2 twice, and FindTraces' one span is span 2
        // of the same trace id: a span's identity is (trace_id, span_id), so 4 remain.
        (
            "SELECT COUNT(*) FROM spans WHERE trace_id = '00000000000000000000000000000001'",
            4,
        ),
        (
            "SELECT COUNT(*) FROM spans WHERE trace_id = '00000000000000000000000000000011'",
            5,
        ), // example_trace
        // otlp2jaeger-out holds the same span twice.
        (
            "SELECT COUNT(*) FROM spans WHERE trace_id = '83a9efd15c1c98a977e0711cc93ee28b'",
            1,
        ),
        (
            "SELECT COUNT(*) FROM spans WHERE trace_id = '00000000000000002be38093ead7a083'",
            2,
        ), // trace_success
        (
            "SELECT COUNT(*) FROM spans WHERE service = 'Pytest_Otel_reporter'",
            3,
        ),
        ("SELECT COUNT(*) FROM spans WHERE service = 'Test'", 6 + 13), // otel-export-trace-action
    ];
    for (query, expected) in per_file {
        assert_eq!(env.count(query), expected, "{query}");
    }
    // The JUnit reports are ingested too (their exact contents: `junit_reports_exactly`);
    // their LICENSE is the fifth file skipped.
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("skipped:") && l.contains("dorny-test-reporter/LICENSE")),
        "{stderr}"
    );
    let junit_spans = 24 + 617 + 5224; // runs, suites, test executions
    let summary = format!(
        "{} spans read, {} stored, 3 already stored, 5 skipped",
        49 + junit_spans,
        46 + junit_spans
    );
    assert!(stderr.contains(&summary), "{summary}:\n{stderr}");
}

#[test]
fn github_receiver_run_keeps_branch_failure_and_attempt() {
    let Some(real) = real_fixtures() else { return };
    let env = Env::new();
    let dir = real.join("collector-contrib");
    let (code, stderr) = env.ingest(&[
        &dir.join("workflow-run-expected.json"),
        &dir.join("workflow-job-expected.json"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let pipeline = env.sql("SELECT name, branch, outcome, attempt, run_id, pipeline FROM spans WHERE role = 'pipeline'");
    assert_eq!(
        pipeline,
        vec![
            json!({"name": "build-and-test", "branch": "renovate/major-tool-deps", "outcome": "fail",
                    "attempt": 13, "run_id": "14460881260", "pipeline": "build-and-test"})
        ]
    );
    // The branch and commit reach every span of the trace, steps included.
    assert_eq!(env.count("SELECT COUNT(*) FROM spans WHERE branch = 'renovate/major-tool-deps' AND \"commit\" = '6077d805b0fc49f65e6dbaefc2d1fc9b4f92aa4e'"), 11);
    assert_eq!(env.count("SELECT COUNT(*) FROM spans WHERE role = 'task' AND name = 'test (1.23)' AND outcome = 'pass'"), 1);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM spans WHERE role = 'step'"),
        8
    );
    let by_branch = env.rows(&["failures"]);
    assert_eq!(
        by_branch,
        vec![
            json!({"branch": "renovate/major-tool-deps", "runs": 1, "failed": 1, "failure_rate": 1.0})
        ]
    );
}

#[test]
fn junit_failures_of_the_export_action_are_failing_tests() {
    let Some(real) = real_fixtures() else { return };
    let env = Env::new();
    let (code, stderr) = env.ingest(&[&real.join("otel-export-trace-action/fail-test-trace.otlp")]);
    assert_eq!(code, 0, "{stderr}");
    let failing =
        env.sql("SELECT test FROM spans WHERE role = 'test' AND outcome = 'fail' ORDER BY test");
    let names: Vec<&str> = failing.iter().filter_map(|r| r["test"].as_str()).collect();
    assert_eq!(names.len(), 9, "{names:?}");
    assert!(names.contains(&"traceTestReportArtifact test junit spans match snapshot"));
    assert!(names.contains(&"listWorkflowRunArtifacts test WorkflowArtifactDownload path exists"));
    assert_eq!(
        env.count("SELECT COUNT(*) FROM spans WHERE role = 'suite'"),
        3
    );
    assert_eq!(
        env.count("SELECT COUNT(*) FROM spans WHERE role = 'test' AND outcome = 'pass'"),
        0
    );
}

#[test]
fn pytest_otel_tests_pass_inside_their_suite() {
    let Some(real) = real_fixtures() else { return };
    let env = Env::new();
    let (code, stderr) = env.ingest(&[&real.join("pytest_otel/test_spans_http.json")]);
    assert_eq!(code, 0, "{stderr}");
    let tests = env.sql("SELECT test, outcome FROM spans WHERE role = 'test' ORDER BY test");
    assert_eq!(
        tests,
        vec![
            json!({"test": "test_http_exporter_protocol", "outcome": "pass"}),
            json!({"test": "test_http_protocol", "outcome": "pass"}),
        ]
    );
    assert_eq!(
        env.count("SELECT COUNT(*) FROM spans WHERE role = 'suite' AND name = 'Test Suite'"),
        1
    );
}

#[test]
fn jaeger_and_otlp_statuses_survive() {
    let Some(real) = real_fixtures() else { return };
    let env = Env::new();
    let (code, stderr) = env.ingest(&[
        &real.join("jaeger/FindTraces.json"),
        &real.join("jaeger/trace_success.json"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        env.count("SELECT COUNT(*) FROM spans WHERE status = 'error'"),
        2
    );
    assert_eq!(
        env.count(
            "SELECT COUNT(*) FROM spans WHERE kind = 'client' AND attributes['error'] = 'true'"
        ),
        1
    );
}

#[test]
fn ingesting_the_real_files_twice_changes_nothing() {
    let Some(real) = real_fixtures() else { return };
    let env = Env::new();
    env.ingest(&[&real]);
    let before =
        env.sql("SELECT trace_id, span_id, branch, outcome FROM spans ORDER BY trace_id, span_id");
    let (_, stderr) = env.ingest(&[&real]);
    assert!(stderr.contains(" 0 stored"), "{stderr}");
    let after =
        env.sql("SELECT trace_id, span_id, branch, outcome FROM spans ORDER BY trace_id, span_id");
    assert_eq!(before, after);
}

/// (file below `junit/`, test executions, pass, fail, error, skip, suites, suite names:
/// all of them when as many as the suites, else some). Counted independently of the
/// decoder with Python's ElementTree: each `<testcase>` is one execution plus one per
/// Surefire flaky/rerun element; its outcome is its first `<failure>`/`<error>`, else
/// `<skipped>`, else pass.
type Expected = (
    &'static str,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    &'static [&'static str],
);

const JUNIT: &[Expected] = &[
    (
        "dorny-test-reporter/jest-junit-eslint.xml",
        1,
        1,
        0,
        0,
        0,
        1,
        &["test.jsx"],
    ),
    (
        "dorny-test-reporter/jest-junit.xml",
        6,
        1,
        4,
        0,
        1,
        2,
        &["__tests__\\main.test.js", "__tests__\\second.test.js"],
    ),
    (
        "dorny-test-reporter/junit-with-message.xml",
        1,
        0,
        1,
        0,
        0,
        1,
        &["Test"],
    ),
    (
        "dorny-test-reporter/python-xunit-pytest.xml",
        10,
        6,
        2,
        0,
        2,
        1,
        &["pytest"],
    ),
    (
        "dorny-test-reporter/python-xunit-unittest.xml",
        8,
        4,
        1,
        1,
        2,
        1,
        &["TestAcme-20251114214921"],
    ),
    (
        "dorny-test-reporter/swift-xunit.xml",
        3,
        2,
        1,
        0,
        0,
        1,
        &["TestResults"],
    ),
    (
        "dorny-test-reporter/empty/java-junit.xml",
        0,
        0,
        0,
        0,
        0,
        1,
        &["org.apache.pulsar.AddMissingPatchVersionTest"],
    ),
    (
        "dorny-test-reporter/empty/jest-junit-empty-testsuite.xml",
        0,
        0,
        0,
        0,
        0,
        1,
        &["__tests__\\main.test.js"],
    ),
    (
        "dorny-test-reporter/empty/jest-junit.xml",
        0,
        0,
        0,
        0,
        0,
        0,
        &[],
    ),
    (
        "dorny-test-reporter/empty/phpunit-empty.xml",
        0,
        0,
        0,
        0,
        0,
        0,
        &[],
    ),
    (
        "dorny-test-reporter/external/java/TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml",
        2,
        0,
        1,
        0,
        1,
        1,
        &["org.apache.pulsar.AddMissingPatchVersionTest"],
    ),
    (
        "dorny-test-reporter/external/java/empty_failures.xml",
        3,
        2,
        1,
        0,
        0,
        1,
        &["my_package.test_foo.launch_tests"],
    ),
    (
        "dorny-test-reporter/external/java/junit4-basic.xml",
        6,
        5,
        1,
        0,
        0,
        2,
        &["Tests.Registration", "Tests.Authentication"],
    ),
    (
        "dorny-test-reporter/external/java/junit4-complete.xml",
        8,
        5,
        1,
        1,
        1,
        1,
        &["Tests.Registration"],
    ),
    (
        "dorny-test-reporter/external/java/pulsar-test-report.xml",
        808,
        793,
        1,
        0,
        14,
        176,
        &[
            "org.apache.pulsar.AddMissingPatchVersionTest",
            "org.apache.pulsar.PulsarBrokerStarterTest",
        ],
    ),
    (
        "dorny-test-reporter/external/jest/jest-react-component-test-results.xml",
        1,
        1,
        0,
        0,
        0,
        1,
        &["<Component />"],
    ),
    (
        "dorny-test-reporter/external/jest/jest-test-results.xml",
        4239,
        4207,
        2,
        0,
        30,
        400,
        &[
            "packages/jest-config/src/__tests__/normalize.test.js",
            "packages/jest-repl/src/__tests__/jest_repl.test.js",
        ],
    ),
    (
        "dorny-test-reporter/external/phpunit/junit-basic.xml",
        9,
        8,
        1,
        0,
        0,
        3,
        &[
            "Tests.Registration",
            "Tests.Authentication",
            "Tests.Authentication.Login",
        ],
    ),
    (
        "dorny-test-reporter/external/phpunit/phpcheckstyle-phpunit.xml",
        30,
        28,
        2,
        0,
        0,
        14,
        &[
            "/workspace/phpcheckstyle/phpunit.xml",
            "PHPUnitTestSuite",
            "CommentsTest",
            "DeprecationTest",
            "GoodTest",
            "IndentationTest",
            "MetricsTest",
            "NamingTest",
            "OptimizationTest",
            "OtherTest",
            "PHPTagsTest",
            "ProhibitedTest",
            "StrictCompareTest",
            "UnusedTest",
        ],
    ),
    // Nette Tester writes nameless suites: they are named after the file.
    (
        "dorny-test-reporter/nette-tester/BootstrapFormRenderer-report.xml",
        4,
        4,
        0,
        0,
        0,
        1,
        &["BootstrapFormRenderer-report"],
    ),
    (
        "dorny-test-reporter/nette-tester/tester-v1.7-report.xml",
        65,
        61,
        1,
        0,
        3,
        1,
        &["tester-v1.7-report"],
    ),
    (
        "dorny-test-reporter/phpunit/phpunit-paths.xml",
        6,
        0,
        6,
        0,
        0,
        1,
        &["SampleSuite"],
    ),
    (
        "dorny-test-reporter/phpunit/phpunit.xml",
        12,
        10,
        2,
        0,
        0,
        4,
        &[
            "CLI Arguments",
            "PHPUnit\\Event\\CollectingDispatcherTest",
            "PHPUnit\\Event\\DeferringDispatcherTest",
            "PHPUnit\\Event\\DirectDispatcherTest",
        ],
    ),
    (
        "dorny-test-reporter/test-errors/jest/jest-test-results.xml",
        2,
        0,
        0,
        2,
        0,
        2,
        &["libs/foo.spec.ts", "libs/bar.spec.ts"],
    ),
];

#[test]
fn junit_reports_exactly() {
    let Some(real) = real_fixtures() else { return };
    let root = real.join("junit");
    let mut files = Vec::new();
    xml_files(&root, &root, &mut files);
    let mut listed: Vec<&str> = JUNIT.iter().map(|e| e.0).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "a JUnit fixture was added or removed: count it and list it"
    );

    let env = Env::new();
    // One ingest per report, its path as the run id, so the store tells them apart.
    for &(file, ..) in JUNIT {
        let path = root.join(file);
        let out = env
            .cmd_outside_ci()
            .args([
                "ingest",
                "--pipeline",
                "fixtures",
                "--branch",
                "main",
                "--run-id",
                file,
            ])
            .arg(&path)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{file}: {stderr}");
        assert!(stderr.contains(" 0 skipped"), "{file}: {stderr}");
    }

    let tally = env.sql(
        "SELECT run_id, role, outcome, COUNT(*) AS n FROM spans \
         WHERE pipeline = 'fixtures' AND branch = 'main' AND source = 'junit' \
         GROUP BY run_id, role, outcome",
    );
    let count = |file: &str, role: &str, outcome: Option<&str>| -> i64 {
        tally
            .iter()
            .filter(|r| r["run_id"] == file && r["role"] == role)
            .filter(|r| outcome.is_none_or(|o| r["outcome"] == o))
            .map(|r| r["n"].as_i64().unwrap_or(0))
            .sum()
    };
    let suites = env.sql("SELECT run_id, name FROM spans WHERE role = 'suite' ORDER BY name");
    for &(file, executions, pass, fail, error, skip, suite_count, suite_names) in JUNIT {
        let got = (
            count(file, "test", None),
            count(file, "test", Some("pass")),
            count(file, "test", Some("fail")),
            count(file, "test", Some("error")),
            count(file, "test", Some("skip")),
        );
        assert_eq!(
            got,
            (executions, pass, fail, error, skip),
            "{file}: executions, pass, fail, error, skip"
        );
        assert_eq!(count(file, "pipeline", None), 1, "{file}: one run");
        let run_outcome = if fail + error > 0 { "fail" } else { "pass" };
        assert_eq!(
            count(file, "pipeline", Some(run_outcome)),
            1,
            "{file}: the run's outcome"
        );
        let names: Vec<&str> = suites
            .iter()
            .filter(|r| r["run_id"] == file)
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert_eq!(names.len() as i64, suite_count, "{file}: suites {names:?}");
        for want in suite_names {
            assert!(
                names.contains(want),
                "{file}: no suite {want:?} in {names:?}"
            );
        }
        if suite_names.len() as i64 == suite_count {
            let mut want = suite_names.to_vec();
            want.sort();
            assert_eq!(names, want, "{file}: suite names");
        }
    }
    // Test spans name their suite, and every test has an identity.
    assert_eq!(
        env.count(
            "SELECT COUNT(*) FROM spans WHERE role = 'test' AND (suite IS NULL OR test_id IS NULL)"
        ),
        0
    );
}

/// Every `.xml` below `dir`, relative to `root` with `/` separators, sorted.
fn xml_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read fixture dir")
        .map(|e| e.expect("fixture entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            xml_files(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "xml") {
            let rel = path.strip_prefix(root).expect("below root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    out.sort();
}
