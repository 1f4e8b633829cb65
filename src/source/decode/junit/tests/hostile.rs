//! Malformed and hostile input: what was read before an error is kept, the error is
//! reported with its position, nothing panics (property tests over arbitrary bytes and
//! over random JUnit-shaped documents), and a large report streams.

use super::*;
use crate::source::{Problem, SpanSink};
use proptest::prelude::*;
use std::io::{BufReader, Read};

#[test]
fn malformed_xml_keeps_what_was_read_and_says_where() {
    let sink = run(
        r#"<testsuites><testsuite name="a"><testcase name="ok" classname="a"/><testcase name="bad" classname="a"><failure></testsuite></testsuites>"#,
    );
    assert_eq!(
        results(&sink.spans),
        [("ok", "pass")],
        "the broken test case is dropped"
    );
    assert_eq!(suites(&sink.spans).len(), 1, "the open suite is closed");
    assert_eq!(run_span(&sink.spans).name, "ci");
    let [p] = &sink.problems[..] else {
        panic!("one problem: {:?}", sink.problems)
    };
    assert!(p.location.starts_with("report.xml: byte "), "{p}");
    assert!(
        p.location
            .ends_with("/testsuites[1]/testsuite[1]/testcase[2]/failure"),
        "{p}"
    );
    assert!(p.message.contains("malformed XML"), "{p}");
}

#[test]
fn a_truncated_report_keeps_its_complete_test_cases() {
    let full = r#"<testsuites><testsuite name="a"><testcase name="one" classname="a"/><testcase name="two" classname="a"><failure message="x">trace</failure></testcase><testcase name="three" classname="a">"#;
    let sink = run(full);
    assert_eq!(results(&sink.spans), [("one", "pass"), ("two", "fail")]);
    assert_eq!(sink.problems.len(), 1, "{:?}", sink.problems);
    assert_eq!(
        run_span(&sink.spans).attr("cicd.pipeline.result"),
        Some("failure")
    );
}

#[test]
fn not_a_junit_report() {
    for (input, says) in [
        (
            "<html><body>502 Bad Gateway</body></html>",
            "root element is <html>",
        ),
        ("", "no JUnit report"),
        ("   \n", "no JUnit report"),
        ("{\"resourceSpans\": []}", "no JUnit report"),
    ] {
        let sink = run(input);
        assert!(sink.spans.is_empty(), "{input:?}");
        assert_eq!(sink.problems.len(), 1, "{input:?}: {:?}", sink.problems);
        assert!(
            sink.problems[0].message.contains(says),
            "{input:?}: {:?}",
            sink.problems
        );
    }
}

#[test]
fn a_test_case_without_a_name_is_named_after_its_class_or_suite() {
    let spans = clean(
        r#"<testsuite name="s"><testcase classname="c"/><testcase name="" classname=""/><testcase name="t" classname="c"/></testsuite>"#,
    );
    assert_eq!(
        results(&spans),
        [("c", "pass"), ("s", "pass"), ("t", "pass")]
    );
}

#[test]
fn hostile_strings_are_kept_as_data_and_bounded() {
    let huge = "x".repeat(100_000);
    let xml = format!(
        r#"<testsuite name="../../etc/passwd&#10;DROP TABLE spans;"><testcase name="{huge}" classname="&#x1F4A3;&#x202E;"><failure message="{huge}">{huge}{huge}</failure></testcase></testsuite>"#
    );
    let spans = clean(&xml);
    let t = tests(&spans)[0];
    let cap = super::super::text::MAX_TEXT + super::super::text::TRUNCATED.len();
    assert!(t.name.len() <= cap);
    assert!(t.attr("exception.stacktrace").unwrap().len() <= cap);
    assert!(
        t.attr("exception.stacktrace")
            .unwrap()
            .ends_with("(truncated)")
    );
    assert!(t.status_message.as_deref().unwrap().len() <= cap + 32);
    assert_eq!(t.attr("test.classname"), Some("💣\u{202e}"));
    assert_eq!(
        t.attr("test.suite.name"),
        Some("../../etc/passwd\nDROP TABLE spans;")
    );
}

#[test]
fn text_is_cut_at_a_character_boundary() {
    let text = "é".repeat(20_000);
    let spans = clean(&format!(
        r#"<testsuite name="s"><testcase name="t"><failure>{text}</failure></testcase></testsuite>"#
    ));
    let trace = tests(&spans)[0].attr("exception.stacktrace").unwrap();
    assert!(trace.starts_with("éé"));
    assert!(trace.ends_with("(truncated)"));
}

#[test]
fn deep_nesting_is_reported_not_followed() {
    let depth = 5_000;
    let xml = format!(
        "{}<testcase name=\"deep\"/>{}",
        "<testsuite name=\"n\">".repeat(depth),
        "</testsuite>".repeat(depth)
    );
    let sink = run(&xml);
    assert_eq!(sink.problems.len(), 1);
    assert!(
        sink.problems[0].message.contains("nested deeper"),
        "{:?}",
        sink.problems[0]
    );
    assert!(tests(&sink.spans).is_empty());
    assert_eq!(
        suites(&sink.spans).len(),
        1024,
        "the suites opened are closed"
    );
}

#[test]
fn odd_but_harmless_markup() {
    // Duplicate and unknown attributes, upper-case element names, unknown elements,
    // a test case directly under the root, several roots.
    let sink = run(
        r#"<TestSuites><TestSuite name="s" name="dup" foo="bar"><weird><testcase name="hidden"/></weird><TestCase name="t" classname="c" time="x"/></TestSuite><testcase name="loose" classname="c"/></TestSuites><testsuite name="second"/>"#,
    );
    assert!(sink.problems.is_empty(), "{:?}", sink.problems);
    assert_eq!(results(&sink.spans), [("t", "pass"), ("loose", "pass")]);
    let names: Vec<&str> = suites(&sink.spans)
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["s", "second"]);
    let loose = named(&sink.spans, "loose");
    assert_eq!(loose.attr("test.suite.name"), None);
    assert_eq!(
        loose.parent_span_id.as_deref(),
        Some(named(&sink.spans, "unit-tests").span_id.as_str())
    );
}

#[test]
fn malformed_attribute_is_reported_and_the_element_kept() {
    let sink =
        run(r#"<testsuite name="s"><testcase name="t" classname="c" time=0.1/></testsuite>"#);
    assert!(!sink.problems.is_empty());
    assert!(
        sink.problems
            .iter()
            .any(|p| p.location.contains("testcase")),
        "{:?}",
        sink.problems
    );
}

#[test]
fn a_sink_error_stops_decoding() {
    struct Refuse;
    impl SpanSink for Refuse {
        fn span(&mut self, _: Span) -> Result<(), crate::source::SinkError> {
            Err("store full".into())
        }
        fn skipped(&mut self, _: Problem) -> Result<(), crate::source::SinkError> {
            Err("strict".into())
        }
    }
    let xml = r#"<testsuite name="s"><testcase name="t"/></testsuite>"#;
    let err = decode(&mut xml.as_bytes(), "r.xml", &ctx(), &mut Refuse).unwrap_err();
    assert_eq!(err.to_string(), "store full");
    let err = decode(&mut "<html/>".as_bytes(), "r.xml", &ctx(), &mut Refuse).unwrap_err();
    assert_eq!(err.to_string(), "strict");
}

#[test]
fn an_io_error_is_fatal() {
    struct Broken(usize);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            self.0 = 0;
            let head = b"<testsuite name=\"s\"><testcase name=\"t\"/>";
            buf[..head.len()].copy_from_slice(head);
            Ok(head.len())
        }
    }
    let mut input = BufReader::new(Broken(1));
    let mut sink = VecSink::default();
    let err = decode(&mut input, "r.xml", &ctx(), &mut sink).unwrap_err();
    assert!(err.to_string().contains("disk on fire"), "{err}");
}

/// Produces a report of `cases` test cases on the fly, never holding it whole.
struct Generated {
    cases: usize,
    next: usize,
    pending: Vec<u8>,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            self.pending = if self.next == 0 {
                b"<testsuites><testsuite name=\"big\" timestamp=\"2024-01-01T00:00:00\">".to_vec()
            } else if self.next <= self.cases {
                let i = self.next;
                let failure = if i.is_multiple_of(10) {
                    "<failure message=\"m\">trace</failure>"
                } else {
                    ""
                };
                format!("<testcase name=\"t{i}\" classname=\"c{}\" time=\"0.001\">{failure}<system-out>{}</system-out></testcase>\n", i % 7, "o".repeat(200)).into_bytes()
            } else if self.next == self.cases + 1 {
                b"</testsuite></testsuites>".to_vec()
            } else {
                return Ok(0);
            };
            self.next += 1;
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[test]
fn a_large_report_streams() {
    #[derive(Default)]
    struct Count {
        tests: usize,
        failed: usize,
        last_end: i64,
    }
    impl SpanSink for Count {
        fn span(&mut self, s: Span) -> Result<(), crate::source::SinkError> {
            if s.attr("test.case.name").is_some() {
                self.tests += 1;
                self.failed += usize::from(s.attr("test.case.result.status") == Some("fail"));
                self.last_end = self.last_end.max(s.end_ns);
            }
            Ok(())
        }
        fn skipped(&mut self, p: Problem) -> Result<(), crate::source::SinkError> {
            Err(p.to_string().into())
        }
    }
    let cases = 50_000;
    let mut input = BufReader::new(Generated {
        cases,
        next: 0,
        pending: Vec::new(),
    });
    let mut count = Count::default();
    decode(&mut input, "big.xml", &ctx(), &mut count).unwrap();
    assert_eq!(count.tests, cases);
    assert_eq!(count.failed, cases / 10);
    assert_eq!(count.last_end, 1_704_067_200_000_000_000 + 50_000_000_000);
}

fn check_well_formed(sink: &VecSink) {
    for s in &sink.spans {
        assert_eq!(s.trace_id.len(), 32);
        assert_eq!(s.span_id.len(), 16);
        assert!(s.end_ns >= s.start_ns);
    }
}

/// Pieces of JUnit documents, so random ones exercise the typed paths.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<testsuites>".to_owned()),
        Just("</testsuites>".to_owned()),
        Just("<testsuite name=\"s\" timestamp=\"2024-01-01T00:00:00\" time=\"1\">".to_owned()),
        Just("<testsuite>".to_owned()),
        Just("</testsuite>".to_owned()),
        Just("<testcase name=\"t\" classname=\"c\" time=\"0.5\">".to_owned()),
        Just("<testcase name=\"t\"/>".to_owned()),
        Just("</testcase>".to_owned()),
        Just("<failure message=\"m\" type=\"T\">".to_owned()),
        Just("</failure>".to_owned()),
        Just("<error/>".to_owned()),
        Just("<skipped/>".to_owned()),
        Just("<flakyFailure><stackTrace>s</stackTrace></flakyFailure>".to_owned()),
        Just("<rerunError time=\"-1\" timestamp=\"x\"/>".to_owned()),
        Just("<stackTrace>".to_owned()),
        Just("</stackTrace>".to_owned()),
        Just("<system-out>out</system-out>".to_owned()),
        Just("<properties><property name=\"k\" value=\"v\"/></properties>".to_owned()),
        Just("<![CDATA[<x>]]>".to_owned()),
        Just("&amp;&lt;&#10;&bogus;&#xFFFFFF;".to_owned()),
        Just("<?xml version=\"1.0\"?>".to_owned()),
        Just("<!-- c -->".to_owned()),
        "[ -~]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut sink = VecSink::default();
        decode(&mut &bytes[..], "fuzz.xml", &ctx(), &mut sink).unwrap();
        check_well_formed(&sink);
    }

    #[test]
    fn random_junit_shaped_documents_never_panic(parts in proptest::collection::vec(fragment(), 0..40)) {
        let xml = parts.concat();
        let mut sink = VecSink::default();
        decode(&mut xml.as_bytes(), "fuzz.xml", &ctx(), &mut sink).unwrap();
        check_well_formed(&sink);
        // Every span hangs from a span of the report.
        let ids: Vec<&str> = sink.spans.iter().map(|s| s.span_id.as_str()).collect();
        for s in &sink.spans {
            if let Some(p) = &s.parent_span_id {
                prop_assert!(ids.contains(&p.as_str()), "{xml}");
            }
        }
        // Decoding is deterministic.
        let mut again = VecSink::default();
        decode(&mut xml.as_bytes(), "fuzz.xml", &ctx(), &mut again).unwrap();
        prop_assert_eq!(&sink.spans, &again.spans);
    }
}
