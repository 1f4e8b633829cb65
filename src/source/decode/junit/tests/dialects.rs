//! One test per dialect (Python, JavaScript, Go, Rust, PHP, Swift, C++ and the
//! shapes they share), on small reports written the way each tool writes them; the
//! JVM's are in `java`.

use super::*;

const PYTEST_CASES: &str = r#"
    <testcase classname="tests.test_math" name="test_add" file="tests/test_math.py" line="3" time="0.001"/>
    <testcase classname="tests.test_math" name="test_div" file="tests/test_math.py" line="7" time="0.002"><failure message="ZeroDivisionError: division by zero">def test_div():
&gt;       1/0
E       ZeroDivisionError: division by zero

tests/test_math.py:8: ZeroDivisionError</failure></testcase>
    <testcase classname="tests.test_math" name="test_fixture" file="tests/test_math.py" line="11" time="0.000"><error message="failed on setup with &quot;fixture 'db' not found&quot;">file tests/test_math.py, line 11</error></testcase>
    <testcase classname="tests.test_math" name="test_skip" file="tests/test_math.py" line="15" time="0.000"><skipped type="pytest.skip" message="not on CI">tests/test_math.py:15: not on CI</skipped></testcase>
    <testcase classname="tests.test_math" name="test_param[1-2]" file="tests/test_math.py" line="19" time="0.000"><properties><property name="example_key" value="1"/></properties></testcase>
"#;

fn pytest_report(cases: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5" time="0.05" timestamp="2024-03-01T12:00:00.123456+00:00" hostname="runner">{cases}</testsuite></testsuites>"#
    )
}

#[test]
fn pytest_xunit1_has_files_and_lines() {
    let spans = clean(&pytest_report(PYTEST_CASES));
    assert_eq!(
        results(&spans),
        [
            ("test_add", "pass"),
            ("test_div", "fail"),
            ("test_fixture", "error"),
            ("test_skip", "skipped"),
            ("test_param[1-2]", "pass"),
        ]
    );
    let t = tests(&spans);
    assert_eq!(t[1].attr("code.file.path"), Some("tests/test_math.py"));
    assert_eq!(t[1].attr("code.line.number"), Some("7"));
    assert_eq!(
        t[1].attr("exception.stacktrace").unwrap().lines().nth(1),
        Some(">       1/0")
    );
    assert_eq!(
        t[2].status_message.as_deref(),
        Some("failed on setup with \"fixture 'db' not found\"")
    );
    assert_eq!(t[3].attr("junit.skipped.message"), Some("not on CI"));
    assert_eq!(t[4].attr("junit.property.example_key"), Some("1"));
    assert_eq!(t[0].start_ns, 1_709_294_400_123_456_000);
}

#[test]
fn pytest_xunit2_has_no_files() {
    let xunit2 = PYTEST_CASES
        .replace(r#" file="tests/test_math.py""#, "")
        .replace(r#" line="3""#, "");
    let spans = clean(&pytest_report(&xunit2));
    assert_eq!(tests(&spans).len(), 5);
    assert_eq!(tests(&spans)[0].attr("code.file.path"), None);
    assert_eq!(tests(&spans)[0].attr("code.line.number"), None);
    assert_eq!(
        named(&spans, "pytest").attr("test.suite.run.status"),
        Some("fail")
    );
}

#[test]
fn pytest_rerunfailures_repeats_the_test_case() {
    let spans = clean(
        r#"<testsuites><testsuite name="pytest" tests="1" failures="0" errors="0" skipped="0" timestamp="2024-03-01T12:00:00">
<testcase classname="tests.test_net" name="test_fetch" time="0.5"><failure message="ConnectionError: reset">tests/test_net.py:9: ConnectionError</failure></testcase>
<testcase classname="tests.test_net" name="test_fetch" time="0.4"><failure message="ConnectionError: reset"/></testcase>
<testcase classname="tests.test_net" name="test_fetch" time="0.3"/>
</testsuite></testsuites>"#,
    );
    assert_eq!(
        results(&spans),
        [
            ("test_fetch", "fail"),
            ("test_fetch", "fail"),
            ("test_fetch", "pass")
        ]
    );
    let t = tests(&spans);
    assert_eq!(
        t.iter()
            .map(|s| s.attr("junit.attempt").unwrap())
            .collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    assert_ne!(t[0].span_id, t[1].span_id);
    let start = 1_709_294_400_000_000_000;
    assert_eq!((t[0].start_ns, t[0].end_ns), (start, start + 500_000_000));
    assert_eq!(
        (t[1].start_ns, t[1].end_ns),
        (start + 500_000_000, start + 900_000_000)
    );
    assert_eq!(
        (t[2].start_ns, t[2].end_ns),
        (start + 900_000_000, start + 1_200_000_000)
    );
    // The last attempt passed: the test is not failing, the run is green.
    assert_eq!(
        named(&spans, "pytest").attr("test.suite.run.status"),
        Some("pass")
    );
    assert_eq!(
        run_span(&spans).attr("cicd.pipeline.result"),
        Some("success")
    );
}

#[test]
fn jest_junit() {
    let spans = clean(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="3" failures="1" errors="0" time="1.2">
  <testsuite name="src/cart.test.ts" errors="0" failures="1" skipped="1" timestamp="2024-02-02T10:00:00" time="1.1" tests="3">
    <testcase classname="Cart adds items" name="Cart adds items" time="0.01">
    </testcase>
    <testcase classname="Cart › checkout fails" name="Cart › checkout fails" time="0.2">
      <failure>Error: expect(received).toBe(expected) // Object.is equality

Expected: 2
Received: 1
    at Object.&lt;anonymous&gt; (src/cart.test.ts:10:5)</failure>
    </testcase>
    <testcase classname="" name="pending item" time="0">
      <skipped/>
    </testcase>
  </testsuite>
</testsuites>"#,
    );
    assert_eq!(
        results(&spans),
        [
            ("Cart adds items", "pass"),
            ("Cart › checkout fails", "fail"),
            ("pending item", "skipped"),
        ]
    );
    let t = tests(&spans);
    assert_eq!(
        t[1].status_message.as_deref(),
        Some("Error: expect(received).toBe(expected) // Object.is equality")
    );
    assert!(
        t[1].attr("exception.stacktrace")
            .unwrap()
            .contains("at Object.<anonymous>")
    );
    assert_eq!(
        t[2].attr("test.classname"),
        None,
        "an empty classname is no class"
    );
    assert_eq!(t[2].attr("test.suite.name"), Some("src/cart.test.ts"));
    assert_eq!(suites(&spans).len(), 1, "<testsuites> makes no span");
}

#[test]
fn gotestsum_rerun_fails() {
    let spans = clean(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<testsuites tests=\"4\" failures=\"1\" errors=\"0\" time=\"1.500000\">
\t<testsuite tests=\"4\" failures=\"1\" time=\"1.200000\" name=\"github.com/acme/app/store\" timestamp=\"2024-04-04T08:00:00Z\">
\t\t<properties>
\t\t\t<property name=\"go.version\" value=\"go1.22.1 linux/amd64\"></property>
\t\t</properties>
\t\t<testcase classname=\"github.com/acme/app/store\" name=\"TestOpen\" time=\"0.010000\"></testcase>
\t\t<testcase classname=\"github.com/acme/app/store\" name=\"TestFlaky\" time=\"0.300000\">
\t\t\t<failure message=\"Failed\" type=\"\">=== RUN   TestFlaky&#xA;    store_test.go:20: timeout&#xA;--- FAIL: TestFlaky (0.30s)&#xA;</failure>
\t\t</testcase>
\t\t<testcase classname=\"github.com/acme/app/store\" name=\"TestFlaky\" time=\"0.200000\"></testcase>
\t\t<testcase classname=\"github.com/acme/app/store\" name=\"TestSkip\" time=\"0.000000\">
\t\t\t<skipped message=\"=== RUN   TestSkip&#xA;--- SKIP: TestSkip (0.00s)&#xA;\"></skipped>
\t\t</testcase>
\t</testsuite>
</testsuites>",
    );
    assert_eq!(
        results(&spans),
        [
            ("TestOpen", "pass"),
            ("TestFlaky", "fail"),
            ("TestFlaky", "pass"),
            ("TestSkip", "skipped"),
        ]
    );
    let t = tests(&spans);
    assert_eq!(t[1].attr("exception.type"), None, "empty type");
    assert_eq!(t[1].status_message.as_deref(), Some("Failed"));
    assert_eq!(
        t[1].attr("exception.stacktrace"),
        Some("=== RUN   TestFlaky\n    store_test.go:20: timeout\n--- FAIL: TestFlaky (0.30s)")
    );
    assert_eq!(t[2].attr("junit.attempt"), Some("2"));
    assert_eq!(
        t[3].attr("junit.skipped.message"),
        Some("=== RUN   TestSkip\n--- SKIP: TestSkip (0.00s)\n"),
        "character references in attributes are not normalised away"
    );
    assert_eq!(
        run_span(&spans).attr("cicd.pipeline.result"),
        Some("success")
    );
}

#[test]
fn cargo_nextest_flaky_and_retries_with_their_own_times() {
    let spans = clean(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="3" failures="1" errors="0" uuid="45c50e8e-7f8a-4d5e-9a1b-0c2d3e4f5a6b" timestamp="2024-05-05T09:00:00.000+00:00" time="2.5">
    <testsuite name="pipescope" tests="3" disabled="0" errors="0" failures="1">
        <testcase name="store::tests::roundtrip" classname="pipescope" timestamp="2024-05-05T09:00:00.100+00:00" time="0.2">
        </testcase>
        <testcase name="pull::tests::retry" classname="pipescope" timestamp="2024-05-05T09:00:01.000+00:00" time="0.3">
            <flakyFailure timestamp="2024-05-05T09:00:00.300+00:00" time="0.4" type="test failure">thread 'pull::tests::retry' panicked at src/pull/mod.rs:10:5
                <system-out>running 1 test</system-out>
                <system-err>panicked here</system-err>
            </flakyFailure>
        </testcase>
        <testcase name="cli::tests::broken" classname="pipescope" timestamp="2024-05-05T09:00:01.500+00:00" time="0.1">
            <failure type="test failure">assertion failed: ok</failure>
            <rerunFailure timestamp="2024-05-05T09:00:01.700+00:00" time="0.1" type="test failure">assertion failed again</rerunFailure>
            <system-out>running 1 test</system-out>
        </testcase>
    </testsuite>
</testsuites>"#,
    );
    assert_eq!(
        results(&spans),
        [
            ("store::tests::roundtrip", "pass"),
            ("pull::tests::retry", "fail"),
            ("pull::tests::retry", "pass"),
            ("cli::tests::broken", "fail"),
            ("cli::tests::broken", "fail"),
        ]
    );
    let base = 1_714_899_600_000_000_000;
    let ms = 1_000_000;
    let t = tests(&spans);
    let times: Vec<(i64, i64)> = t
        .iter()
        .map(|s| ((s.start_ns - base) / ms, (s.end_ns - base) / ms))
        .collect();
    assert_eq!(
        times,
        [
            (100, 300),
            (300, 700),
            (1000, 1300),
            (1500, 1600),
            (1700, 1800)
        ]
    );
    assert_eq!(
        t[1].attr("exception.stacktrace"),
        Some("thread 'pull::tests::retry' panicked at src/pull/mod.rs:10:5"),
        "output of the attempt is not its failure text"
    );
    assert_eq!(t[1].attr("exception.type"), Some("test failure"));
    // The suite has no timestamp: it starts with its first test.
    let suite = named(&spans, "pipescope");
    assert_eq!(suite.start_ns, base + 100 * ms);
    assert_eq!(suite.end_ns, base + 1800 * ms);
}

#[test]
fn phpunit_nested_suites_with_files() {
    let spans = clean(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="Unit" tests="3" assertions="3" errors="0" failures="1" skipped="0" time="0.015">
    <testsuite name="App\Tests\MathTest" file="/app/tests/MathTest.php" tests="3" assertions="3" errors="0" failures="1" skipped="0" time="0.015">
      <testcase name="testAdd" file="/app/tests/MathTest.php" line="10" class="App\Tests\MathTest" classname="App.Tests.MathTest" assertions="1" time="0.005"/>
      <testsuite name="App\Tests\MathTest::testDiv" tests="2" assertions="2" errors="0" failures="1" skipped="0" time="0.01">
        <testcase name="testDiv with data set #0" file="/app/tests/MathTest.php" line="20" class="App\Tests\MathTest" classname="App.Tests.MathTest" assertions="1" time="0.004"/>
        <testcase name="testDiv with data set #1" file="/app/tests/MathTest.php" line="20" class="App\Tests\MathTest" classname="App.Tests.MathTest" assertions="1" time="0.006">
          <failure type="PHPUnit\Framework\ExpectationFailedException">App\Tests\MathTest::testDiv with data set #1
Failed asserting that 2 is identical to 3.

/app/tests/MathTest.php:22</failure>
        </testcase>
      </testsuite>
    </testsuite>
  </testsuite>
  <testsuite name="Integration" tests="1" time="0.001">
    <testcase name="phpt-test.phpt" file="/app/tests/phpt-test.phpt" time="0.001"/>
  </testsuite>
</testsuites>"#,
    );
    assert_eq!(
        results(&spans),
        [
            ("testAdd", "pass"),
            ("testDiv with data set #0", "pass"),
            ("testDiv with data set #1", "fail"),
            ("phpt-test.phpt", "pass"),
        ]
    );
    let unit = named(&spans, "Unit");
    let class = named(&spans, "App\\Tests\\MathTest");
    let method = named(&spans, "App\\Tests\\MathTest::testDiv");
    assert_eq!(class.parent_span_id.as_deref(), Some(unit.span_id.as_str()));
    assert_eq!(
        method.parent_span_id.as_deref(),
        Some(class.span_id.as_str())
    );
    assert_eq!(
        class.attr("code.file.path"),
        Some("/app/tests/MathTest.php")
    );
    let failed = named(&spans, "testDiv with data set #1");
    assert_eq!(
        failed.parent_span_id.as_deref(),
        Some(method.span_id.as_str())
    );
    assert_eq!(failed.attr("test.classname"), Some("App.Tests.MathTest"));
    assert_eq!(
        failed.attr("test.suite.name"),
        Some("App\\Tests\\MathTest::testDiv")
    );
    assert_eq!(
        failed.status_message.as_deref(),
        Some("App\\Tests\\MathTest::testDiv with data set #1")
    );
    for s in [unit, class, method] {
        assert_eq!(s.attr("test.suite.run.status"), Some("fail"), "{}", s.name);
    }
    assert_eq!(
        named(&spans, "Integration").attr("test.suite.run.status"),
        Some("pass")
    );
    let phpt = named(&spans, "phpt-test.phpt");
    assert_eq!(phpt.attr("test.classname"), None);
    assert_eq!(phpt.attr("test.suite.name"), Some("Integration"));
    // The second top-level suite follows the first.
    assert_eq!(named(&spans, "Integration").start_ns, unit.end_ns);
}

#[test]
fn python_unittest_xml_reporting_bare_suite_with_test_timestamps() {
    let spans = clean(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="TestAcme-20251114214921" tests="3" file=".py" time="0.003" timestamp="2025-11-14T21:49:22" failures="1" errors="0" skipped="1">
  <testcase classname="TestAcme" name="test_pass" time="0.001" timestamp="2025-11-14T21:49:22" file="tests/test_lib.py" line="8"/>
  <testcase classname="TestAcme" name="test_fail" time="0.001" timestamp="2025-11-14T21:49:23" file="tests/test_lib.py" line="23">
    <failure type="AssertionError" message="failed"><![CDATA[Traceback (most recent call last):
  File "tests/test_lib.py", line 24, in test_fail
    self.fail("failed")
AssertionError: failed
]]></failure>
  </testcase>
  <testcase classname="TestAcme" name="test_skip" time="0.000" timestamp="2025-11-14T21:49:23" file="tests/test_lib.py" line="30">
    <skipped type="skip" message="demonstrating skipping"/>
  </testcase>
</testsuite>"#,
    );
    assert_eq!(
        results(&spans),
        [
            ("test_pass", "pass"),
            ("test_fail", "fail"),
            ("test_skip", "skipped")
        ]
    );
    let t = tests(&spans);
    assert_eq!(
        t[1].start_ns, 1_763_156_963_000_000_000,
        "its own timestamp"
    );
    assert_eq!(t[1].attr("exception.type"), Some("AssertionError"));
    assert!(
        t[1].attr("exception.stacktrace")
            .unwrap()
            .starts_with("Traceback")
    );
}

#[test]
fn swift_xunit() {
    let spans = clean(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
<testsuite name="TestResults" errors="0" tests="2" failures="1" time="0.2">
<testcase classname="AppTests.AppTests" name="testA" time="0.1">
</testcase>
<testcase classname="AppTests.AppTests" name="testB" time="0.1">
<failure message="XCTAssertEqual failed: (&quot;1&quot;) is not equal to (&quot;2&quot;)"></failure>
</testcase>
</testsuite>
</testsuites>"#,
    );
    assert_eq!(results(&spans), [("testA", "pass"), ("testB", "fail")]);
    assert_eq!(
        tests(&spans)[1].status_message.as_deref(),
        Some(r#"XCTAssertEqual failed: ("1") is not equal to ("2")"#)
    );
    // No timestamp anywhere: the context's fallback time.
    assert_eq!(named(&spans, "TestResults").start_ns, T0);
    assert_eq!(tests(&spans)[1].start_ns, T0 + 100_000_000);
}

#[test]
fn googletest_disabled_tests_are_skipped() {
    let spans = clean(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="0" disabled="1" errors="0" time="0.001" timestamp="2024-06-01T10:00:00.000" name="AllTests">
  <testsuite name="MathTest" tests="3" failures="0" disabled="1" skipped="1" errors="0" time="0.001" timestamp="2024-06-01T10:00:00.000">
    <testcase name="Adds" file="math_test.cc" line="5" status="run" result="completed" time="0." timestamp="2024-06-01T10:00:00.000" classname="MathTest" />
    <testcase name="DISABLED_Divides" file="math_test.cc" line="9" status="notrun" result="suppressed" time="0." timestamp="2024-06-01T10:00:00.000" classname="MathTest" />
    <testcase name="Later" file="math_test.cc" line="12" status="run" result="skipped" time="0." timestamp="2024-06-01T10:00:00.000" classname="MathTest">
      <skipped message="math_test.cc:13&#x0A;"><![CDATA[math_test.cc:13
]]></skipped>
    </testcase>
  </testsuite>
</testsuites>"#,
    );
    assert_eq!(
        results(&spans),
        [
            ("Adds", "pass"),
            ("DISABLED_Divides", "skipped"),
            ("Later", "skipped")
        ]
    );
}

#[test]
fn nested_testsuites_groups_make_no_spans() {
    let spans = clean(
        r#"<testsuites name="all">
  <testsuites name="shard-1" timestamp="2024-01-01T00:00:00">
    <testsuite name="A"><testcase name="t" classname="A" time="1"/></testsuite>
  </testsuites>
  <testsuites name="shard-2" timestamp="2024-01-01T01:00:00">
    <testsuite name="B"><testcase name="t" classname="B" time="1"/></testsuite>
    <testsuite><testcase name="u" classname="C" time="1"/></testsuite>
  </testsuites>
</testsuites>"#,
    );
    let names: Vec<&str> = suites(&spans).iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["A", "B", "shard-2"],
        "a nameless suite is named after its group"
    );
    let task = named(&spans, "unit-tests");
    for s in suites(&spans) {
        assert_eq!(s.parent_span_id.as_deref(), Some(task.span_id.as_str()));
    }
    assert_eq!(named(&spans, "A").start_ns, 1_704_067_200_000_000_000);
    assert_eq!(named(&spans, "B").start_ns, 1_704_070_800_000_000_000);
    let run = run_span(&spans);
    assert_eq!(run.start_ns, 1_704_067_200_000_000_000);
    assert_eq!(run.end_ns, 1_704_070_800_000_000_000 + 2_000_000_000);
}

#[test]
fn empty_reports() {
    for xml in [
        "<testsuites/>",
        r#"<?xml version="1.0" encoding="UTF-8"?><testsuites name="jest tests" tests="0" failures="0" errors="0" time="11.299"></testsuites>"#,
    ] {
        let spans = clean(xml);
        assert_eq!(spans.len(), 2, "a run and its task: {xml}");
        assert_eq!(run_span(&spans).name, "ci");
        assert_eq!(run_span(&spans).start_ns, T0);
        assert_eq!(
            run_span(&spans).attr("cicd.pipeline.result"),
            Some("success")
        );
    }
    let spans = clean(
        r#"<testsuite name="org.acme.EmptyTest" tests="0" timestamp="2021-03-07T10:36:56 UTC" time="0.116"></testsuite>"#,
    );
    assert_eq!(spans.len(), 3);
    let suite = named(&spans, "org.acme.EmptyTest");
    assert_eq!(suite.attr("test.suite.run.status"), Some("pass"));
    assert_eq!(suite.start_ns, 1_615_113_416_000_000_000);
    assert_eq!(suite.duration_ns(), 116_000_000);
}

#[test]
fn bom_declaration_comments_and_doctype() {
    let spans = clean(
        "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<!DOCTYPE testsuites>\n<!-- written by a tool -->\n<?some-pi data?>\n<testsuites><testsuite name=\"s\"><testcase name=\"t\" classname=\"c\"/></testsuite></testsuites>\n",
    );
    assert_eq!(results(&spans), [("t", "pass")]);
}

#[test]
fn entities_and_cdata_in_messages() {
    let spans = clean(
        r#"<testsuite name="s"><testcase name="t" classname="c">
<failure message="a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#x263A; &#10;line2" type="x&amp;y">before &amp; <![CDATA[<raw> & ]]>]]&gt; after &#169; &unknown;</failure>
</testcase></testsuite>"#,
    );
    let t = tests(&spans)[0];
    assert_eq!(
        t.attr("exception.message"),
        Some("a <b> & \"c\" 'd' ☺ \nline2")
    );
    assert_eq!(t.attr("exception.type"), Some("x&y"));
    assert_eq!(
        t.attr("exception.stacktrace"),
        Some("before & <raw> & ]]> after © &unknown;")
    );
}
