//! Test suites on the wire: suite span, test spans and their children, in the
//! convention of the suite's runner (`catalog::Convention`).
//!
//! This is where a planted flaky test's cause becomes visible: only on failing
//! executions the cause child is slow, errors or carries the telling attribute value,
//! or the test itself runs into its timeout.

use rand::Rng;

use super::catalog::{ChildDef, ChildKind, Convention, Plant, SuiteDef, TestDef};
use super::generator::Gen;
use super::trace::{Kind, SpanRef, SpanStatus, TraceBuilder, Val, attrs};
use super::truth::Cause;

const MS: i64 = 1_000;
/// pytest-timeout / JUnit timeout a SelfDuration flake runs into.
const TIMEOUT_MS: i64 = 30_000;

/// One execution of one test, for the Truth.
#[derive(Debug, Clone)]
pub(crate) struct Exec {
    pub test: &'static str,
    pub passed: bool,
    pub retry: bool,
}

/// What a suite run needs to know about the commit it runs on.
pub(crate) struct SuiteCtx<'a> {
    /// Flaky tests that must pass in this run (they have not passed on this commit yet).
    pub forced_pass: &'a [&'static str],
    /// Tests broken on this commit.
    pub broken: &'a [&'static str],
}

/// Result of one suite run.
pub(crate) struct SuiteResult {
    pub end_us: i64,
    pub failed: bool,
}

/// Emits one suite below `parent`, starting at `start_us`; appends executions to `execs`.
pub(crate) fn emit_suite(
    b: &mut TraceBuilder,
    g: &mut Gen,
    suite: &SuiteDef,
    parent: SpanRef,
    start_us: i64,
    ctx: &SuiteCtx<'_>,
    execs: &mut Vec<Exec>,
) -> SuiteResult {
    let language = match suite.convention {
        Convention::Pytest => "python",
        Convention::JUnit => "java",
        Convention::TestCase => "go",
    };
    let res = b.resource(attrs! {
        "service.name" => suite.service,
        "telemetry.sdk.language" => language,
        "telemetry.sdk.name" => "opentelemetry",
    });
    let (suite_name, suite_kind) = match suite.convention {
        Convention::Pytest => ("Test Suite", Kind::Server),
        _ => (suite.name, Kind::Internal),
    };
    let suite_span = b.span(
        &mut g.rng,
        res,
        Some(parent),
        suite_name,
        suite_kind,
        start_us,
        start_us,
        SpanStatus::Unset,
        Vec::new(),
    );
    let mut cursor = start_us + g.rng.random_range(5..40) * MS;
    let mut failures = 0i64;
    for test in &suite.tests {
        let fail = decide(g, test, ctx, false);
        cursor = emit_test(b, g, suite, test, res, suite_span, cursor, fail);
        execs.push(Exec {
            test: test.name,
            passed: !fail,
            retry: false,
        });
        let mut final_fail = fail;
        if fail && suite.retries {
            let again = decide(g, test, ctx, true);
            cursor = emit_test(b, g, suite, test, res, suite_span, cursor, again);
            execs.push(Exec {
                test: test.name,
                passed: !again,
                retry: true,
            });
            final_fail = again;
        }
        failures += i64::from(final_fail);
    }
    let end_us = cursor + g.rng.random_range(2..20) * MS;
    let failed = failures > 0;
    let span = b.get_mut(suite_span);
    span.end_us = end_us;
    span.status = if failed {
        SpanStatus::Error
    } else {
        SpanStatus::Ok
    };
    span.attrs = match suite.convention {
        Convention::TestCase => attrs! {
            "test.suite.name" => suite.name,
            "test.suite.run.status" => if failed { "failure" } else { "success" },
        },
        Convention::JUnit => attrs! {
            "test.name" => suite.name,
            "test.scope" => "Suite",
            "test.tests" => suite.tests.len() as i64,
            "test.errors" => failures,
            "error" => failed,
        },
        Convention::Pytest => attrs! {
            "tests.status" => if failed { "failed" } else { "passed" },
        },
    };
    SuiteResult { end_us, failed }
}

/// Whether this execution fails. A retry of a flaky test always passes, so that every
/// flake is on a commit where the test also passed.
fn decide(g: &mut Gen, test: &TestDef, ctx: &SuiteCtx<'_>, retry: bool) -> bool {
    match &test.plant {
        Plant::Stable => false,
        Plant::Broken => ctx.broken.contains(&test.name),
        Plant::Flaky { rate, .. } => {
            if retry || ctx.forced_pass.contains(&test.name) {
                false
            } else {
                g.flake(test.name, *rate)
            }
        }
    }
}

/// Emits one test execution starting at `start_us`; returns where the next test starts.
#[allow(clippy::too_many_arguments)]
fn emit_test(
    b: &mut TraceBuilder,
    g: &mut Gen,
    suite: &SuiteDef,
    test: &TestDef,
    res: usize,
    parent: SpanRef,
    start_us: i64,
    fail: bool,
) -> i64 {
    let cause = match (&test.plant, fail) {
        (Plant::Flaky { cause, child, .. }, true) => Some((cause, *child)),
        _ => None,
    };
    let name = match suite.convention {
        Convention::Pytest => format!("Running {}", test.name),
        _ => test.name.to_string(),
    };
    let span = b.span(
        &mut g.rng,
        res,
        Some(parent),
        name,
        Kind::Internal,
        start_us,
        start_us,
        SpanStatus::Unset,
        Vec::new(),
    );
    let mut cursor = start_us + g.rng.random_range(200..3000);
    let mut children = Vec::with_capacity(test.children.len());
    for (i, child) in test.children.iter().enumerate() {
        let hit = cause.filter(|(_, c)| *c == i).map(|(c, _)| c);
        let (s, end) = emit_child(b, g, res, span, child, cursor, hit);
        children.push(s);
        cursor = end + g.rng.random_range(100..2000);
    }
    let own = g.rng.random_range(test.ms.0..=test.ms.1) * MS;
    let mut end_us = (start_us + own).max(cursor + MS);
    if matches!(cause, Some((Cause::SelfDuration, _))) {
        end_us = start_us + TIMEOUT_MS * MS + g.rng.random_range(0..50) * MS;
    }
    if g.messy {
        skew_children(b, g, &children, start_us, end_us);
    }
    let status = if fail {
        SpanStatus::Error
    } else {
        SpanStatus::Ok
    };
    let secs = (end_us - start_us) as f64 / 1e6;
    let mut a = match suite.convention {
        Convention::TestCase => attrs! {
            "test.case.name" => test.name,
            "test.suite.name" => suite.name,
            "test.case.result.status" => if fail { "fail" } else { "pass" },
        },
        Convention::JUnit => attrs! {
            "test.name" => test.name,
            "test.classname" => test.class,
            "test.scope" => "Case",
            "test.time" => secs,
            "error" => fail,
        },
        Convention::Pytest => attrs! {
            "tests.name" => test.name,
            "tests.status" => if fail { "failed" } else { "passed" },
        },
    };
    if fail {
        let msg = failure_message(test, cause.map(|(c, _)| c));
        let key = match suite.convention {
            Convention::JUnit => "test.failure.0.message",
            _ => "exception.message",
        };
        a.push((key.to_string(), Val::Str(msg.clone())));
        b.get_mut(span).status_message = Some(msg);
    }
    let s = b.get_mut(span);
    s.end_us = end_us;
    s.status = status;
    s.attrs = a;
    end_us + g.rng.random_range(100..5000)
}

fn failure_message(test: &TestDef, cause: Option<&Cause>) -> String {
    match cause {
        Some(Cause::SelfDuration) => format!("Timeout >{}.0s", TIMEOUT_MS / 1000),
        Some(Cause::ErrorChild) => "TimeoutError: redis read timed out after 2000ms".into(),
        Some(Cause::SlowChild) => "context deadline exceeded waiting for page 2".into(),
        Some(Cause::AttributeValue { .. }) => "unexpected status 503 from inventory".into(),
        None => format!(
            "assertion failed in {}: expected 10.00, got 9.99",
            test.name
        ),
    }
}

/// Emits one child span; `cause` is set when this child shows a failing flake's cause.
fn emit_child(
    b: &mut TraceBuilder,
    g: &mut Gen,
    res: usize,
    parent: SpanRef,
    child: &ChildDef,
    start_us: i64,
    cause: Option<&Cause>,
) -> (SpanRef, i64) {
    let mut dur = g.rng.random_range(child.ms.0 * MS..=child.ms.1 * MS);
    if matches!(cause, Some(Cause::SlowChild)) {
        dur *= 10;
    }
    let first_word = child.name.split(' ').next().unwrap_or(child.name);
    let (kind, a) = match child.kind {
        ChildKind::Db => (
            Kind::Client,
            attrs! {
                "db.system.name" => "postgresql",
                "db.operation.name" => first_word,
                "db.query.text" => child.name,
                "server.address" => "pg.internal",
            },
        ),
        ChildKind::Cache => (
            Kind::Client,
            attrs! {
                "db.system.name" => "redis",
                "db.operation.name" => child.name.split(' ').nth(1).unwrap_or("GET"),
                "server.address" => "redis.internal",
            },
        ),
        ChildKind::Http { method, host } => {
            let path = child.name.split(' ').nth(1).unwrap_or("/");
            let code = match cause {
                Some(Cause::AttributeValue { value, .. }) => value.parse().unwrap_or(503),
                _ => 200i64,
            };
            (
                Kind::Client,
                attrs! {
                    "http.request.method" => method,
                    "http.response.status_code" => code,
                    "server.address" => host,
                    "server.port" => 8080i64,
                    "url.full" => format!("http://{host}:8080{path}"),
                },
            )
        }
        ChildKind::Fixture => (Kind::Internal, attrs! { "code.function" => "setup" }),
    };
    let s = b.span(
        &mut g.rng,
        res,
        Some(parent),
        child.name,
        kind,
        start_us,
        start_us + dur,
        SpanStatus::Unset,
        a,
    );
    if matches!(cause, Some(Cause::ErrorChild)) {
        let span = b.get_mut(s);
        span.status = SpanStatus::Error;
        span.status_message = Some("read timed out".into());
        span.attrs
            .push(("error.type".into(), Val::Str("TimeoutError".into())));
    }
    (s, start_us + dur)
}

/// Clock skew between hosts: now and then the first child starts a few ms before its
/// test, or the last one ends a few ms after it. Durations are kept.
fn skew_children(b: &mut TraceBuilder, g: &mut Gen, children: &[SpanRef], start: i64, end: i64) {
    let (Some(first), Some(last)) = (children.first(), children.last()) else {
        return;
    };
    if g.rng.random_bool(0.04) {
        let s = b.get_mut(*first);
        let shift = s.start_us - start + g.rng.random_range(2..9) * MS;
        s.start_us -= shift;
        s.end_us -= shift;
        g.skewed += 1;
    } else if g.rng.random_bool(0.04) {
        let s = b.get_mut(*last);
        let shift = end - s.end_us + g.rng.random_range(2..9) * MS;
        s.start_us += shift;
        s.end_us += shift;
        g.skewed += 1;
    }
}
