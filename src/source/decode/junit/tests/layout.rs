//! Times (timestamps, sequential layout, fallbacks) and ids (deterministic, distinct).

use super::*;

#[test]
fn tests_follow_one_another_from_the_suite_timestamp() {
    let spans = clean(
        r#"<testsuite name="s" timestamp="2024-01-01T00:00:00" time="10">
  <testcase name="a" classname="c" time="1.5"/>
  <testcase name="b" classname="c"/>
  <testcase name="c" classname="c" time="2"/>
</testsuite>"#,
    );
    let t0 = 1_704_067_200_000_000_000;
    let s = 1_000_000_000;
    let t = tests(&spans);
    let times: Vec<(i64, i64)> = t.iter().map(|x| (x.start_ns - t0, x.end_ns - t0)).collect();
    assert_eq!(
        times,
        [
            (0, s * 3 / 2),
            (s * 3 / 2, s * 3 / 2),
            (s * 3 / 2, s * 7 / 2)
        ],
        "missing time = 0"
    );
    let suite = named(&spans, "s");
    assert_eq!(
        (suite.start_ns - t0, suite.end_ns - t0),
        (0, 10 * s),
        "the declared time"
    );
    let run = run_span(&spans);
    assert_eq!((run.start_ns, run.end_ns), (suite.start_ns, suite.end_ns));
}

#[test]
fn a_later_fallback_time_does_not_stretch_a_dated_run() {
    // The fallback is often the file's mtime: a day after the tests ran, when the
    // report was downloaded as an artifact.
    let day_later = JunitContext {
        time_ns: Some(1_704_153_600_000_000_000), // 2024-01-02T00:00:00Z
        ..ctx()
    };
    let sink = run_with(
        r#"<testsuite name="s" timestamp="2024-01-01T00:00:00" time="3">
  <testcase name="a" classname="c" time="1"/>
</testsuite>"#,
        &day_later,
    );
    assert!(sink.problems.is_empty(), "{:?}", sink.problems);
    let t0 = 1_704_067_200_000_000_000;
    let suite = named(&sink.spans, "s");
    assert_eq!((suite.start_ns, suite.end_ns), (t0, t0 + 3_000_000_000));
    let run = run_span(&sink.spans);
    assert_eq!((run.start_ns, run.end_ns), (suite.start_ns, suite.end_ns));
    let task = named(&sink.spans, "unit-tests");
    assert_eq!((task.start_ns, task.end_ns), (suite.start_ns, suite.end_ns));
}

#[test]
fn suites_without_timestamp_follow_their_siblings_from_the_fallback_time() {
    let spans = clean(
        r#"<testsuites>
  <testsuite name="a" time="1"><testcase name="x" classname="a" time="0.5"/></testsuite>
  <testsuite name="b"><testcase name="y" classname="b" time="2"/></testsuite>
  <testsuite name="c" timestamp="2020-01-01T00:00:00"><testcase name="z" classname="c" time="1"/></testsuite>
</testsuites>"#,
    );
    let s = 1_000_000_000;
    assert_eq!(named(&spans, "a").start_ns, T0);
    assert_eq!(named(&spans, "a").end_ns, T0 + s);
    assert_eq!(
        named(&spans, "b").start_ns,
        T0 + s,
        "after a's declared time"
    );
    assert_eq!(named(&spans, "y").end_ns, T0 + 3 * s);
    let c = named(&spans, "c");
    assert_eq!(
        c.start_ns, 1_577_836_800_000_000_000,
        "its own timestamp wins"
    );
    let run = run_span(&spans);
    assert_eq!((run.start_ns, run.end_ns), (c.start_ns, T0 + 3 * s));
}

#[test]
fn without_any_time_the_epoch() {
    let ctx = JunitContext {
        time_ns: None,
        ..ctx()
    };
    let sink = run_with(
        r#"<testsuite name="s"><testcase name="t" classname="c" time="1"/></testsuite>"#,
        &ctx,
    );
    assert!(sink.problems.is_empty());
    assert_eq!(named(&sink.spans, "t").start_ns, 0);
    assert_eq!(named(&sink.spans, "t").end_ns, 1_000_000_000);
}

#[test]
fn epoch_timestamps_count_as_missing() {
    // jest-junit writes the epoch for a suite that failed to run.
    let spans = clean(
        r#"<testsuites><testsuite name="libs/foo.spec.ts" errors="1" timestamp="1970-01-01T00:00:00" time="0" tests="0">
<testcase classname="Test suite failed to run" name="libs/foo.spec.ts" time="0"><error>  ● Test suite failed to run</error></testcase>
</testsuite></testsuites>"#,
    );
    assert_eq!(named(&spans, "libs/foo.spec.ts").start_ns, T0);
    assert_eq!(results(&spans), [("libs/foo.spec.ts", "error")]);
    assert_eq!(
        tests(&spans)[0].status_message.as_deref(),
        Some("● Test suite failed to run")
    );
}

const REPORT: &str = r#"<testsuites>
  <testsuite name="s" timestamp="2024-01-01T00:00:00" hostname="h1">
    <testcase name="a" classname="c" time="0.1"/>
    <testcase name="a" classname="c" time="0.2"><failure/></testcase>
    <testcase name="b" classname="c" time="0.1"/>
  </testsuite>
  <testsuite name="s" timestamp="2024-01-01T00:01:00" hostname="h1">
    <testcase name="a" classname="c" time="0.1"/>
  </testsuite>
</testsuites>"#;

#[test]
fn ingesting_twice_yields_the_same_ids() {
    assert_eq!(clean(REPORT), clean(REPORT));
}

#[test]
fn ids_are_well_formed_distinct_and_linked() {
    let spans = clean(REPORT);
    let trace = &spans[0].trace_id;
    assert_eq!(trace.len(), 32);
    let mut ids = Vec::new();
    for s in &spans {
        assert_eq!(&s.trace_id, trace, "one trace per run");
        assert_eq!(s.span_id.len(), 16);
        assert!(
            s.span_id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert!(s.span_id.bytes().any(|b| b != b'0'));
        ids.push(s.span_id.as_str());
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "every span has its own id");
    for s in &spans {
        if let Some(p) = &s.parent_span_id {
            assert!(
                ids.contains(&p.as_str()),
                "{} has a parent in the report",
                s.name
            );
        }
    }
    // The second suite of the same name is another suite; `a` in it is a third attempt.
    let attempts: Vec<&str> = tests(&spans)
        .iter()
        .map(|s| s.attr("junit.attempt").unwrap())
        .collect();
    assert_eq!(attempts, ["1", "2", "1", "3"]);
}

#[test]
fn reports_of_one_run_share_its_span_unless_their_results_differ() {
    // Surefire writes one report per class; one run's reports meet in one trace.
    let passed = |class: &str| {
        clean(&format!(
            r#"<testsuite name="{class}"><testcase name="t" classname="{class}"/></testsuite>"#
        ))
    };
    let failed = clean(
        r#"<testsuite name="C"><testcase name="t" classname="C"><failure/></testcase></testsuite>"#,
    );
    let (a, b) = (passed("A"), passed("B"));
    let id_of = |spans: &[Span], name: &str| named(spans, name).span_id.clone();
    assert_eq!(run_span(&a).span_id, run_span(&b).span_id);
    assert_eq!(id_of(&a, "unit-tests"), id_of(&b, "unit-tests"));
    // A failed report's run and job spans are not duplicates of a passed one's (which
    // the store would drop, losing the failure): each report's suites hang from its own.
    assert_eq!(run_span(&a).trace_id, run_span(&failed).trace_id);
    assert_ne!(run_span(&a).span_id, run_span(&failed).span_id);
    assert_ne!(id_of(&a, "unit-tests"), id_of(&failed, "unit-tests"));
    assert_eq!(
        named(&failed, "C").parent_span_id.as_deref(),
        Some(id_of(&failed, "unit-tests").as_str())
    );
    assert_eq!(
        named(&a, "A").parent_span_id.as_deref(),
        Some(id_of(&a, "unit-tests").as_str())
    );
}

#[test]
fn the_run_decides_the_trace() {
    let base = clean(REPORT);
    let other_run = run_with(
        REPORT,
        &JunitContext {
            run_id: Some("4712".into()),
            ..ctx()
        },
    )
    .spans;
    let other_attempt = run_with(
        REPORT,
        &JunitContext {
            attempt: Some(3),
            ..ctx()
        },
    )
    .spans;
    let other_pipeline = run_with(
        REPORT,
        &JunitContext {
            pipeline: Some("nightly".into()),
            ..ctx()
        },
    )
    .spans;
    for other in [&other_run, &other_attempt, &other_pipeline] {
        assert_ne!(base[0].trace_id, other[0].trace_id);
    }
    // Branch and commit describe the run, they do not identify it.
    let other_branch = run_with(
        REPORT,
        &JunitContext {
            branch: Some("dev".into()),
            ..ctx()
        },
    )
    .spans;
    assert_eq!(base[0].trace_id, other_branch[0].trace_id);
}

#[test]
fn the_same_suite_from_two_jobs_of_one_run_keeps_apart() {
    // Matrix jobs share the run and often the job id; their reports differ in times.
    let a = clean(REPORT);
    let b = clean(
        &REPORT
            .replace("00:00:00", "00:00:07")
            .replace("\"h1\"", "\"h2\""),
    );
    let ids = |spans: &[Span]| -> Vec<String> {
        tests(spans).iter().map(|s| s.span_id.clone()).collect()
    };
    for id in ids(&a) {
        assert!(!ids(&b).contains(&id), "{id}");
    }
}

#[test]
fn without_a_run_id_the_file_is_the_run() {
    let ctx = JunitContext {
        run_id: None,
        ..ctx()
    };
    let decode_as = |origin: &str, ctx: &JunitContext| {
        let mut sink = VecSink::default();
        decode(&mut REPORT.as_bytes(), origin, ctx, &mut sink).unwrap();
        sink.spans
    };
    let a = decode_as("reports/TEST-a.xml", &ctx);
    let run_id = run_span(&a)
        .attr("cicd.pipeline.run.id")
        .unwrap()
        .to_owned();
    assert!(run_id.starts_with("junit-"), "{run_id}");
    assert_eq!(
        a,
        decode_as("/elsewhere/TEST-a.xml.gz", &ctx),
        "same name, same time"
    );
    assert_ne!(
        a[0].trace_id,
        decode_as("reports/TEST-b.xml", &ctx)[0].trace_id
    );
    let later = JunitContext {
        time_ns: Some(T0 + 1),
        ..ctx.clone()
    };
    assert_ne!(
        a[0].trace_id,
        decode_as("reports/TEST-a.xml", &later)[0].trace_id
    );
}

#[test]
fn trace_facts_are_on_every_span() {
    let spans = clean(REPORT);
    for s in &spans {
        assert_eq!(s.attr("cicd.pipeline.name"), Some("ci"), "{}", s.name);
        assert_eq!(s.attr("cicd.pipeline.run.id"), Some("4711"));
        assert_eq!(s.attr("github.run_attempt"), Some("2"));
        assert_eq!(s.attr("vcs.ref.head.name"), Some("main"));
        assert_eq!(s.attr("vcs.ref.head.revision"), Some("0123abcd"));
        assert_eq!(s.attr("vcs.repository.name"), Some("acme/shop"));
        assert_eq!(s.source, Some(crate::model::SourceKind::Junit));
        assert_eq!(s.kind, "internal");
        assert!(s.end_ns >= s.start_ns);
    }
}

#[test]
fn without_context_a_bare_run() {
    let sink = run_with(REPORT, &JunitContext::default());
    assert!(sink.problems.is_empty());
    let run = run_span(&sink.spans);
    assert_eq!(run.name, "JUnit report");
    assert_eq!(run.attr("cicd.pipeline.name"), None);
    assert!(run.attr("cicd.pipeline.run.id").is_some());
    let suite = named(&sink.spans, "s");
    assert_eq!(
        suite.parent_span_id.as_deref(),
        Some(run.span_id.as_str()),
        "no task span"
    );
    assert_eq!(sink.spans.len(), 1 + 2 + 4);
}
