//! Details of the shared real JUnit fixtures (`../shared/fixtures/real/junit/`) that
//! only the decoder's own spans show. That every report ingests with exact executions,
//! outcomes and suite names per file is checked once, through the binary, in
//! `tests/ingest_real.rs`.

use std::path::PathBuf;

use super::*;

fn root() -> Option<PathBuf> {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/real/junit"
    ));
    if root.is_dir() {
        Some(root)
    } else {
        // With CI set the fixtures must be there: a missing checkout is no pass.
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is absent",
            root.display()
        );
        eprintln!(
            "note: {} is absent; real JUnit fixtures skipped",
            root.display()
        );
        None
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
