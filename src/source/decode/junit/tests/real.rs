//! Every JUnit report of the shared real fixtures (`../shared/fixtures/real/junit/`:
//! Surefire, TestNG, Jest, pytest, unittest, PHPUnit, Swift, Nette Tester, googletest
//! style): none rejected, executions and outcomes exact per file, suite names right,
//! and the same numbers after the CI normaliser.
//!
//! The numbers were counted independently of this decoder, with Python's ElementTree:
//! each `<testcase>` is one execution plus one per flaky/rerun element; its outcome is
//! its first `<failure>`/`<error>`, else `<skipped>`, else pass.

use std::path::{Path, PathBuf};

use super::*;
use crate::model::conventions::Conventions;
use crate::model::normalize::Normalizer;
use crate::model::{Outcome, Role};

/// (file, executions, pass, fail, error, skip, suites, some suite names).
type Expected = (
    &'static str,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    &'static [&'static str],
);

const EXPECTED: &[Expected] = &[
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

fn root() -> Option<PathBuf> {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/real/junit"
    ));
    if root.is_dir() {
        Some(root)
    } else {
        eprintln!(
            "note: {} is absent; real JUnit fixtures skipped",
            root.display()
        );
        None
    }
}

/// Every `.xml` below `dir`, relative to `root`, sorted.
fn xml_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            xml_files(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "xml") {
            out.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

#[test]
fn every_fixture_is_listed() {
    let Some(root) = root() else { return };
    let mut files = Vec::new();
    xml_files(&root, &root, &mut files);
    let mut listed: Vec<&str> = EXPECTED.iter().map(|e| e.0).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "a fixture was added or removed: count it and list it"
    );
}

#[test]
fn every_fixture_decodes_exactly() {
    let Some(root) = root() else { return };
    let normalizer = Normalizer::new(Conventions::builtin());
    for &(file, executions, pass, fail, error, skip, suite_count, suite_names) in EXPECTED {
        let bytes = std::fs::read(root.join(file)).unwrap();
        let mut sink = VecSink::default();
        decode(&mut &bytes[..], file, &ctx(), &mut sink).unwrap();
        assert!(sink.problems.is_empty(), "{file}: {:?}", sink.problems);

        let count = |status: &str| {
            tests(&sink.spans)
                .iter()
                .filter(|s| s.attr("test.case.result.status") == Some(status))
                .count()
        };
        let got = (
            tests(&sink.spans).len(),
            count("pass"),
            count("fail"),
            count("error"),
            count("skipped"),
        );
        assert_eq!(
            got,
            (executions, pass, fail, error, skip),
            "{file}: executions, pass, fail, error, skip"
        );

        let names: Vec<&str> = suites(&sink.spans)
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names.len(), suite_count, "{file}: suites");
        for want in suite_names {
            assert!(
                names.contains(want),
                "{file}: no suite {want:?} in {names:?}"
            );
        }
        if suite_names.len() == suite_count {
            let mut sorted = names.clone();
            sorted.sort();
            let mut want = suite_names.to_vec();
            want.sort();
            assert_eq!(sorted, want, "{file}: suite names");
        }

        // The same numbers once normalised: roles and outcomes, names and branch.
        let mut spans = sink.spans;
        normalizer.normalize_trace(&mut spans, None);
        let role = |r: Role| spans.iter().filter(|s| s.ci.role == Some(r)).count();
        assert_eq!(role(Role::Test), executions, "{file}: tests");
        assert_eq!(role(Role::Suite), suite_count, "{file}: suites");
        assert_eq!(role(Role::Pipeline), 1, "{file}: the run");
        assert_eq!(role(Role::Task), 1, "{file}: the job");
        let outcome = |o: Outcome| {
            spans
                .iter()
                .filter(|s| s.ci.role == Some(Role::Test) && s.ci.outcome == Some(o))
                .count()
        };
        assert_eq!(
            (
                outcome(Outcome::Pass),
                outcome(Outcome::Fail),
                outcome(Outcome::Error),
                outcome(Outcome::Skip)
            ),
            (pass, fail, error, skip),
            "{file}: normalised outcomes"
        );
        let run_failed = fail + error > 0;
        let pipeline = spans
            .iter()
            .find(|s| s.ci.role == Some(Role::Pipeline))
            .unwrap();
        assert_eq!(
            pipeline.ci.outcome == Some(Outcome::Fail),
            run_failed,
            "{file}: run outcome"
        );
        for s in &spans {
            assert_eq!(s.ci.branch.as_deref(), Some("main"), "{file}");
            assert_eq!(s.ci.pipeline.as_deref(), Some("ci"), "{file}");
            if s.ci.role == Some(Role::Test) {
                assert_eq!(
                    s.ci.test.as_deref(),
                    s.attr("test.case.name").map(str::trim),
                    "{file}"
                );
                assert!(s.ci.suite.is_some(), "{file}: {} has a suite", s.name);
                assert_eq!(s.ci.task.as_deref(), Some("unit-tests"), "{file}");
            }
        }
    }
}

#[test]
fn fixture_details() {
    let Some(root) = root() else { return };
    let load = |file: &str| {
        let bytes = std::fs::read(root.join(file)).unwrap();
        let mut sink = VecSink::default();
        decode(&mut &bytes[..], file, &ctx(), &mut sink).unwrap();
        sink.spans
    };
    // TestNG via Surefire: the same test twice (skipped, then failed) is two attempts.
    let spans = load(
        "dorny-test-reporter/external/java/TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml",
    );
    let t = tests(&spans);
    assert_eq!(t[1].attr("junit.attempt"), Some("2"));
    assert_eq!(
        t[1].attr("exception.message"),
        Some("expected [1.2.1] but found [1.2.0]")
    );
    assert!(
        t[1].attr("exception.stacktrace")
            .unwrap()
            .starts_with("java.lang.AssertionError")
    );

    // A message with encoded newlines and quotes.
    let spans = load("dorny-test-reporter/external/java/empty_failures.xml");
    let failed = named(&spans, "test_other_case");
    assert!(
        failed
            .attr("exception.message")
            .unwrap()
            .contains("File \"/home/redacted/test_foo.py\", line 183")
    );
    assert_eq!(failed.attr("exception.message").unwrap().lines().count(), 4);

    // A zoned timestamp with microseconds, and " UTC".
    let spans = load("dorny-test-reporter/python-xunit-pytest.xml");
    assert_eq!(named(&spans, "pytest").start_ns, 1_763_225_509_548_396_000);
    let spans = load("dorny-test-reporter/empty/java-junit.xml");
    assert_eq!(
        named(&spans, "org.apache.pulsar.AddMissingPatchVersionTest").start_ns,
        1_615_113_416_000_000_000
    );

    // Jest: an escaped suite name, a suite that failed to run (epoch timestamp).
    let spans = load("dorny-test-reporter/external/jest/jest-react-component-test-results.xml");
    assert_eq!(
        tests(&spans)[0].name,
        "<Component /> should render properly"
    );
    let spans = load("dorny-test-reporter/test-errors/jest/jest-test-results.xml");
    assert_eq!(named(&spans, "libs/foo.spec.ts").start_ns, T0);

    // PHPUnit nests suites four deep; the innermost holds the test.
    let spans = load("dorny-test-reporter/external/phpunit/phpcheckstyle-phpunit.xml");
    let comments = named(&spans, "CommentsTest");
    assert_eq!(
        comments.attr("code.file.path"),
        Some("/workspace/phpcheckstyle/test/CommentsTest.php")
    );
    let good_doc = named(&spans, "testGoodDoc");
    assert_eq!(
        good_doc.parent_span_id.as_deref(),
        Some(comments.span_id.as_str())
    );
    assert_eq!(good_doc.attr("code.line.number"), Some("12"));
}
