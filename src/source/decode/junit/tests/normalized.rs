//! The CI normaliser, unchanged, over decoded reports: roles, names, outcomes and the
//! trace facts come out as the span table wants them.

use super::*;
use crate::model::conventions::Conventions;
use crate::model::normalize::Normalizer;
use crate::model::{Outcome, Role};

fn normalized(mut spans: Vec<Span>) -> Vec<Span> {
    let normalizer = Normalizer::new(Conventions::builtin());
    normalizer.normalize_trace(&mut spans, None);
    spans
}

const REPORT: &str = r#"<testsuites name="jest tests">
  <testsuite name="com.acme.CartTest" timestamp="2024-01-01T00:00:00">
    <testcase name="addsItem" classname="com.acme.CartTest" time="0.1"/>
    <testcase name="checkout" classname="com.acme.CartTest" time="0.2">
      <flakyFailure message="first" type="E"/>
    </testcase>
    <testcase name="pays" classname="com.acme.CartTest"><error message="NPE"/></testcase>
    <testcase name="ignored" classname="com.acme.CartTest"><skipped/></testcase>
  </testsuite>
  <testsuite name="src/cart.test.ts">
    <testcase classname="" name="renders" time="0.1"><failure>Error: nope</failure></testcase>
  </testsuite>
</testsuites>"#;

#[test]
fn roles_outcomes_and_names() {
    let spans = normalized(clean(REPORT));
    type Row<'a> = (
        Option<Role>,
        Option<&'a str>,
        Option<&'a str>,
        Option<Outcome>,
    );
    let rows: Vec<Row> = spans
        .iter()
        .map(|s| {
            (
                s.ci.role,
                s.ci.test.as_deref(),
                s.ci.suite.as_deref(),
                s.ci.outcome,
            )
        })
        .collect();
    let cart = Some("com.acme.CartTest");
    assert_eq!(
        rows,
        [
            (
                Some(Role::Test),
                Some("addsItem"),
                cart,
                Some(Outcome::Pass)
            ),
            (
                Some(Role::Test),
                Some("checkout"),
                cart,
                Some(Outcome::Fail)
            ),
            (
                Some(Role::Test),
                Some("checkout"),
                cart,
                Some(Outcome::Pass)
            ),
            (Some(Role::Test), Some("pays"), cart, Some(Outcome::Error)),
            (Some(Role::Test), Some("ignored"), cart, Some(Outcome::Skip)),
            (
                Some(Role::Test),
                Some("renders"),
                Some("src/cart.test.ts"),
                Some(Outcome::Fail)
            ),
            // Top-level suites come once the report's result is known (their parent's
            // id depends on it).
            (Some(Role::Suite), None, cart, Some(Outcome::Fail)),
            (
                Some(Role::Suite),
                None,
                Some("src/cart.test.ts"),
                Some(Outcome::Fail)
            ),
            (Some(Role::Task), None, None, Some(Outcome::Fail)),
            (Some(Role::Pipeline), None, None, Some(Outcome::Fail)),
        ]
    );
}

#[test]
fn trace_facts_and_task_on_every_span() {
    let spans = normalized(clean(REPORT));
    for s in &spans {
        let ci = &s.ci;
        assert_eq!(ci.pipeline.as_deref(), Some("ci"), "{}", s.name);
        assert_eq!(ci.run_id.as_deref(), Some("4711"));
        assert_eq!(ci.attempt, Some(2));
        assert_eq!(ci.branch.as_deref(), Some("main"));
        assert_eq!(ci.commit.as_deref(), Some("0123abcd"));
        assert_eq!(ci.repo.as_deref(), Some("acme/shop"));
        if ci.role == Some(Role::Test) || ci.role == Some(Role::Task) {
            assert_eq!(ci.task.as_deref(), Some("unit-tests"), "{}", s.name);
        }
    }
}

#[test]
fn a_green_report_makes_a_green_run() {
    let spans = normalized(clean(
        r#"<testsuite name="s"><testcase name="a" classname="c"/><testcase name="b" classname="c"><skipped/></testcase></testsuite>"#,
    ));
    let pipeline = spans
        .iter()
        .find(|s| s.ci.role == Some(Role::Pipeline))
        .unwrap();
    assert_eq!(pipeline.ci.outcome, Some(Outcome::Pass));
    assert_eq!(pipeline.name, "ci");
}

#[test]
fn without_context_the_run_still_normalises() {
    let sink = run_with(REPORT, &JunitContext::default());
    let spans = normalized(sink.spans);
    let run_id = spans[0].ci.run_id.clone();
    assert!(
        run_id.as_deref().is_some_and(|r| r.starts_with("junit-")),
        "{run_id:?}"
    );
    for s in &spans {
        assert_eq!(s.ci.run_id, run_id);
        assert_eq!(s.ci.attempt, Some(1));
        assert_eq!(s.ci.branch, None);
    }
    let roles: Vec<Option<Role>> = spans.iter().map(|s| s.ci.role).collect();
    assert_eq!(
        roles.iter().filter(|r| **r == Some(Role::Pipeline)).count(),
        1
    );
    assert_eq!(roles.iter().filter(|r| **r == Some(Role::Task)).count(), 0);
    assert_eq!(roles.iter().filter(|r| **r == Some(Role::Test)).count(), 6);
}
