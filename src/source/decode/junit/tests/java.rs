//! The JVM's reports: Maven Surefire/Failsafe (with flaky and rerun elements),
//! Gradle, JUnit 4 (Ant) and JUnit 5 (console launcher).

use super::*;
use crate::model::Status;

#[test]
fn surefire_flaky_and_rerun_elements_are_executions() {
    let spans = clean(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd" version="3.0" name="com.acme.CartTest" time="1.234" tests="4" errors="0" skipped="1" failures="1">
  <properties>
    <property name="java.version" value="17.0.2"/>
  </properties>
  <testcase name="addsItem" classname="com.acme.CartTest" time="0.1"/>
  <testcase name="checkout" classname="com.acme.CartTest" time="0.2">
    <flakyFailure message="expected:&lt;1&gt; but was:&lt;2&gt;" type="org.opentest4j.AssertionFailedError">
      <stackTrace><![CDATA[org.opentest4j.AssertionFailedError: expected:<1> but was:<2>
	at com.acme.CartTest.checkout(CartTest.java:42)]]></stackTrace>
      <system-out><![CDATA[noise from the first run]]></system-out>
    </flakyFailure>
    <flakyError message="Connection refused" type="java.net.ConnectException">
      <stackTrace>java.net.ConnectException: Connection refused</stackTrace>
    </flakyError>
  </testcase>
  <testcase name="pays" classname="com.acme.CartTest" time="0.3">
    <failure message="boom" type="java.lang.AssertionError">java.lang.AssertionError: boom
	at com.acme.CartTest.pays(CartTest.java:50)</failure>
    <rerunFailure message="boom again" type="java.lang.AssertionError">
      <stackTrace>java.lang.AssertionError: boom again</stackTrace>
    </rerunFailure>
    <rerunError message="timeout" type="java.util.concurrent.TimeoutException">
      <stackTrace>java.util.concurrent.TimeoutException</stackTrace>
    </rerunError>
  </testcase>
  <testcase name="ignored" classname="com.acme.CartTest" time="0">
    <skipped message="@Disabled"/>
  </testcase>
</testsuite>"#,
    );
    assert_eq!(
        results(&spans),
        [
            ("addsItem", "pass"),
            ("checkout", "fail"),
            ("checkout", "error"),
            ("checkout", "pass"),
            ("pays", "fail"),
            ("pays", "fail"),
            ("pays", "error"),
            ("ignored", "skipped"),
        ]
    );
    let t = tests(&spans);
    let attempts: Vec<&str> = t.iter().map(|s| s.attr("junit.attempt").unwrap()).collect();
    assert_eq!(attempts, ["1", "1", "2", "3", "1", "2", "3", "1"]);

    let flaky = t[1];
    assert_eq!(flaky.attr("junit.result.element"), Some("flakyFailure"));
    assert_eq!(
        flaky.attr("exception.type"),
        Some("org.opentest4j.AssertionFailedError")
    );
    assert_eq!(
        flaky.attr("exception.message"),
        Some("expected:<1> but was:<2>")
    );
    assert_eq!(
        flaky.attr("exception.stacktrace"),
        Some(
            "org.opentest4j.AssertionFailedError: expected:<1> but was:<2>\n\tat com.acme.CartTest.checkout(CartTest.java:42)"
        ),
        "the stack trace, not the system-out"
    );
    assert_eq!(flaky.status, Status::Error);
    assert_eq!(
        flaky.status_message.as_deref(),
        Some("expected:<1> but was:<2>")
    );
    assert_eq!(t[3].status, Status::Ok);
    assert_eq!(t[3].attr("exception.message"), None);
    assert_eq!(
        t[4].attr("exception.stacktrace"),
        Some("java.lang.AssertionError: boom\n\tat com.acme.CartTest.pays(CartTest.java:50)")
    );
    assert_eq!(t[5].attr("junit.result.element"), Some("rerunFailure"));
    assert_eq!(t[7].attr("junit.skipped.message"), Some("@Disabled"));
    assert_eq!(t[7].status, Status::Unset);

    // Every execution is its own span.
    let mut ids: Vec<&str> = t.iter().map(|s| s.span_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8);

    // `pays` failed on every rerun: the suite and the run failed; `checkout` passed last.
    let suite = named(&spans, "com.acme.CartTest");
    assert_eq!(suite.attr("test.suite.run.status"), Some("fail"));
    assert_eq!(
        run_span(&spans).attr("cicd.pipeline.result"),
        Some("failure")
    );
}

#[test]
fn surefire_flaky_test_that_passed_leaves_the_run_green() {
    let spans = clean(
        r#"<testsuite name="com.acme.A" tests="1">
  <testcase name="t" classname="com.acme.A" time="0.1">
    <flakyFailure message="first" type="E"/>
    <flakyFailure message="second" type="E"/>
  </testcase>
</testsuite>"#,
    );
    assert_eq!(
        results(&spans),
        [("t", "fail"), ("t", "fail"), ("t", "pass")]
    );
    assert_eq!(
        named(&spans, "com.acme.A").attr("test.suite.run.status"),
        Some("pass")
    );
    assert_eq!(
        run_span(&spans).attr("cicd.pipeline.result"),
        Some("success")
    );
    assert_eq!(
        named(&spans, "unit-tests").attr("cicd.pipeline.task.run.result"),
        Some("success")
    );
}

#[test]
fn gradle() {
    let spans = clean(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="org.gradle.sample.PersonTest" tests="3" skipped="1" failures="1" errors="0" timestamp="2023-05-01T10:00:00" hostname="build-7" time="0.5">
  <properties/>
  <testcase name="canBeCreated()" classname="org.gradle.sample.PersonTest" time="0.1"/>
  <testcase name="hasAName()" classname="org.gradle.sample.PersonTest" time="0.2">
    <failure message="org.opentest4j.AssertionFailedError: expected: &lt;Bob&gt; but was: &lt;Alice&gt;" type="org.opentest4j.AssertionFailedError">org.opentest4j.AssertionFailedError: expected: &lt;Bob&gt; but was: &lt;Alice&gt;
	at app//org.gradle.sample.PersonTest.hasAName(PersonTest.java:12)
</failure>
  </testcase>
  <testcase name="later()" classname="org.gradle.sample.PersonTest" time="0.0">
    <skipped/>
  </testcase>
  <system-out><![CDATA[]]></system-out>
  <system-err><![CDATA[]]></system-err>
</testsuite>"#,
    );
    assert_eq!(
        results(&spans),
        [
            ("canBeCreated()", "pass"),
            ("hasAName()", "fail"),
            ("later()", "skipped")
        ]
    );
    let t = tests(&spans);
    assert_eq!(
        t[1].attr("exception.message"),
        Some("org.opentest4j.AssertionFailedError: expected: <Bob> but was: <Alice>")
    );
    assert!(
        t[1].attr("exception.stacktrace")
            .unwrap()
            .ends_with("(PersonTest.java:12)")
    );
    let suite = named(&spans, "org.gradle.sample.PersonTest");
    assert_eq!(suite.attr("host.name"), Some("build-7"));
    assert_eq!(suite.start_ns, 1_682_935_200_000_000_000);
    assert_eq!(suite.end_ns, 1_682_935_200_500_000_000);
}

#[test]
fn junit5_console_launcher_error_vs_failure() {
    let spans = clean(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
<testsuite name="JUnit Jupiter" tests="3" skipped="0" failures="1" errors="1" time="0.05" hostname="ci-host" timestamp="2024-01-02T03:04:05">
<properties><property name="java.vendor" value="Eclipse Adoptium"/></properties>
<testcase name="works()" classname="com.x.FooTest" time="0.01">
<system-out><![CDATA[
unique-id: [engine:junit-jupiter]/[class:com.x.FooTest]/[method:works()]
display-name: works()
]]></system-out>
</testcase>
<testcase name="explodes()" classname="com.x.FooTest" time="0.02">
<error message="Cannot invoke &quot;String.length()&quot;" type="java.lang.NullPointerException"><![CDATA[java.lang.NullPointerException: Cannot invoke "String.length()"
	at com.x.FooTest.explodes(FooTest.java:9)
]]></error>
</testcase>
<testcase name="asserts()" classname="com.x.FooTest" time="0.02">
<failure message="expected: &lt;1&gt; but was: &lt;2&gt;" type="org.opentest4j.AssertionFailedError"/>
</testcase>
</testsuite>
</testsuites>"#,
    );
    assert_eq!(
        results(&spans),
        [
            ("works()", "pass"),
            ("explodes()", "error"),
            ("asserts()", "fail")
        ]
    );
    let t = tests(&spans);
    assert_eq!(
        t[0].attr("exception.stacktrace"),
        None,
        "system-out is not a failure"
    );
    assert_eq!(
        t[1].attr("exception.type"),
        Some("java.lang.NullPointerException")
    );
    assert_eq!(t[1].attr("test.classname"), Some("com.x.FooTest"));
    assert_eq!(t[1].attr("test.suite.name"), Some("JUnit Jupiter"));
}

#[test]
fn junit4_ant_report() {
    let spans = clean(
        r#"<?xml version="1.0" encoding="UTF-8" ?>
<testsuite errors="0" failures="1" hostname="localhost" name="com.acme.LegacyTest" skipped="0" tests="2" time="0.031" timestamp="2019-07-09T12:00:00">
  <properties><property name="ant.home" value="/usr/share/ant"/></properties>
  <testcase classname="com.acme.LegacyTest" name="testOld" time="0.011"/>
  <testcase classname="com.acme.LegacyTest" name="testBroken" time="0.02">
    <failure message="expected:&lt;3&gt; but was:&lt;4&gt;" type="junit.framework.AssertionFailedError">junit.framework.AssertionFailedError: expected:&lt;3&gt; but was:&lt;4&gt;</failure>
  </testcase>
  <system-out><![CDATA[]]></system-out>
  <system-err><![CDATA[]]></system-err>
</testsuite>"#,
    );
    assert_eq!(
        results(&spans),
        [("testOld", "pass"), ("testBroken", "fail")]
    );
    assert_eq!(suites(&spans).len(), 1);
}
