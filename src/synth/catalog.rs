//! The fixed cast of the synthetic world: branches, test suites and planted tests.
//!
//! Everything the Truth promises is declared here, so a reader can see the planted
//! facts in one place; `scenario.rs` decides when they happen and `suites.rs` how they
//! look on the wire.

use super::truth::Cause;

/// Test-runner convention a suite is emitted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Convention {
    /// `test.case.name`, `test.case.result.status`, `test.suite.name`.
    TestCase,
    /// JUnit-to-OTLP: `test.name`, `test.classname`, `test.scope`, `error`.
    JUnit,
    /// pytest-otel: `Test Suite` session span, `Running <name>` spans with `tests.*`.
    Pytest,
}

/// Shape of a child span below a test.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ChildKind {
    Db,
    Http {
        method: &'static str,
        host: &'static str,
    },
    Cache,
    Fixture,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ChildDef {
    pub name: &'static str,
    pub kind: ChildKind,
    /// Duration range in ms.
    pub ms: (i64, i64),
}

/// What the generator plants on a test.
#[derive(Debug, Clone)]
pub(crate) enum Plant {
    Stable,
    /// Fails at `rate`; on failure the cause shows on child `child` (or the test itself).
    Flaky {
        cause: Cause,
        child: usize,
        rate: f64,
    },
    /// Fails on every execution of the commits the scenario marks broken for it.
    Broken,
}

#[derive(Debug, Clone)]
pub(crate) struct TestDef {
    pub name: &'static str,
    /// JUnit class name; unused by the other conventions.
    pub class: &'static str,
    /// Own duration range in ms (children are laid out inside it).
    pub ms: (i64, i64),
    pub children: Vec<ChildDef>,
    pub plant: Plant,
}

#[derive(Debug, Clone)]
pub(crate) struct SuiteDef {
    /// Suite name as the Truth reports it.
    pub name: &'static str,
    pub convention: Convention,
    /// `service.name` of the test runner's resource.
    pub service: &'static str,
    /// Whether the runner re-runs a failed test once inside the same run.
    pub retries: bool,
    pub tests: Vec<TestDef>,
}

const fn db(name: &'static str, lo: i64, hi: i64) -> ChildDef {
    ChildDef {
        name,
        kind: ChildKind::Db,
        ms: (lo, hi),
    }
}
const fn http(name: &'static str, method: &'static str, host: &'static str) -> ChildDef {
    ChildDef {
        name,
        kind: ChildKind::Http { method, host },
        ms: (15, 60),
    }
}
const fn cache(name: &'static str) -> ChildDef {
    ChildDef {
        name,
        kind: ChildKind::Cache,
        ms: (1, 6),
    }
}
const fn fixture(name: &'static str, lo: i64, hi: i64) -> ChildDef {
    ChildDef {
        name,
        kind: ChildKind::Fixture,
        ms: (lo, hi),
    }
}

fn t(name: &'static str, ms: (i64, i64), children: Vec<ChildDef>, plant: Plant) -> TestDef {
    TestDef {
        name,
        class: "",
        ms,
        children,
        plant,
    }
}

fn j(name: &'static str, class: &'static str, ms: (i64, i64), children: Vec<ChildDef>) -> TestDef {
    TestDef {
        name,
        class,
        ms,
        children,
        plant: Plant::Stable,
    }
}

/// Suites run by the test task of the bottleneck pipeline; all planted tests live here
/// so that they get enough executions for statistics.
pub(crate) fn main_suites() -> Vec<SuiteDef> {
    let api = SuiteDef {
        name: "api",
        convention: Convention::TestCase,
        service: "api-tests",
        retries: true,
        tests: vec![
            t(
                "TestOrderHistoryPagination",
                (80, 200),
                vec![
                    fixture("fixture: seed_orders", 10, 30),
                    db("SELECT orders", 20, 45),
                    http("GET /orders", "GET", "orders.internal"),
                ],
                Plant::Flaky {
                    cause: Cause::SlowChild,
                    child: 1,
                    rate: 0.12,
                },
            ),
            t(
                "TestInventoryReservation",
                (60, 150),
                vec![
                    fixture("fixture: warehouse", 5, 20),
                    http("POST /inventory/reserve", "POST", "inventory.internal"),
                ],
                Plant::Flaky {
                    cause: Cause::AttributeValue {
                        key: "http.response.status_code".into(),
                        value: "503".into(),
                    },
                    child: 1,
                    rate: 0.10,
                },
            ),
            t(
                "TestRefundRounding",
                (40, 90),
                vec![db("SELECT payments", 5, 15)],
                Plant::Broken,
            ),
            t(
                "TestCartTotals",
                (30, 80),
                vec![db("SELECT cart_items", 3, 12), cache("redis GET cart")],
                Plant::Stable,
            ),
            t(
                "TestCouponApply",
                (30, 70),
                vec![http("GET /coupons", "GET", "coupons.internal")],
                Plant::Stable,
            ),
            t(
                "TestUserSignup",
                (100, 250),
                vec![
                    db("INSERT users", 5, 20),
                    http("POST /mail/send", "POST", "mail.internal"),
                ],
                Plant::Stable,
            ),
            t(
                "TestSearchSuggest",
                (20, 60),
                vec![http("GET /search", "GET", "search.internal")],
                Plant::Stable,
            ),
        ],
    };
    let core = SuiteDef {
        name: "core",
        convention: Convention::JUnit,
        service: "core-tests",
        retries: false,
        tests: vec![
            TestDef {
                plant: Plant::Flaky {
                    cause: Cause::ErrorChild,
                    child: 0,
                    rate: 0.15,
                },
                ..j(
                    "SessionCacheTest.testConcurrentRefresh",
                    "com.acme.core.SessionCacheTest",
                    (40, 120),
                    vec![cache("redis GET session"), db("UPDATE sessions", 4, 12)],
                )
            },
            TestDef {
                plant: Plant::Broken,
                ..j(
                    "AuthTokenTest.testRotation",
                    "com.acme.core.AuthTokenTest",
                    (20, 60),
                    vec![cache("redis SET token")],
                )
            },
            j(
                "LedgerTest.testBalanceAfterTransfer",
                "com.acme.core.LedgerTest",
                (30, 90),
                vec![db("SELECT ledger", 5, 15), db("INSERT ledger", 5, 15)],
            ),
            j(
                "LedgerTest.testNegativeAmountRejected",
                "com.acme.core.LedgerTest",
                (5, 20),
                vec![],
            ),
            j(
                "MoneyTest.testCurrencyRounding",
                "com.acme.core.MoneyTest",
                (2, 10),
                vec![],
            ),
            j(
                "ConfigLoaderTest.testDefaults",
                "com.acme.core.ConfigLoaderTest",
                (10, 30),
                vec![fixture("load application.yaml", 3, 9)],
            ),
        ],
    };
    let integration = SuiteDef {
        name: "Test Suite",
        convention: Convention::Pytest,
        service: "pytest_otel",
        retries: false,
        tests: vec![
            t(
                "test_upload_large_file",
                (900, 1800),
                vec![
                    fixture("fixture: s3_bucket", 50, 120),
                    http("PUT /upload", "PUT", "storage.internal"),
                ],
                Plant::Flaky {
                    cause: Cause::SelfDuration,
                    child: 0,
                    rate: 0.12,
                },
            ),
            t(
                "test_health_endpoint",
                (20, 50),
                vec![http("GET /healthz", "GET", "app.internal")],
                Plant::Stable,
            ),
            t(
                "test_login_flow",
                (200, 500),
                vec![
                    http("POST /login", "POST", "app.internal"),
                    db("SELECT users", 3, 10),
                ],
                Plant::Stable,
            ),
            t(
                "test_export_csv",
                (300, 700),
                vec![db("SELECT orders export", 40, 120)],
                Plant::Stable,
            ),
        ],
    };
    vec![api, core, integration]
}

/// Stable pytest suites of the Jenkins pipeline's two parallel branches.
pub(crate) fn jenkins_suites() -> [SuiteDef; 2] {
    let stable = |name, ms, children| t(name, ms, children, Plant::Stable);
    [
        SuiteDef {
            name: "Test Suite",
            convention: Convention::Pytest,
            service: "pytest_otel",
            retries: false,
            tests: vec![
                stable("test_parse_config", (5, 20), vec![]),
                stable("test_merge_settings", (5, 20), vec![]),
                stable(
                    "test_slugify",
                    (1, 5),
                    vec![fixture("fixture: unicode_samples", 1, 3)],
                ),
                stable("test_retry_backoff", (50, 120), vec![]),
            ],
        },
        SuiteDef {
            name: "Test Suite",
            convention: Convention::Pytest,
            service: "pytest_otel",
            retries: false,
            tests: vec![
                stable(
                    "test_db_migrations",
                    (800, 1500),
                    vec![db("ALTER TABLE", 100, 300)],
                ),
                stable(
                    "test_queue_roundtrip",
                    (100, 300),
                    vec![http("POST /queue", "POST", "queue.internal")],
                ),
                stable(
                    "test_s3_upload",
                    (200, 400),
                    vec![http("PUT /bucket/object", "PUT", "s3.internal")],
                ),
            ],
        },
    ]
}

/// Stable JUnit smoke suite of the release workflow.
pub(crate) fn smoke_suite() -> SuiteDef {
    let c = "com.acme.smoke.SmokeTest";
    SuiteDef {
        name: "smoke",
        convention: Convention::JUnit,
        service: "smoke-tests",
        retries: false,
        tests: vec![
            j(
                "SmokeTest.testHomepage",
                c,
                (100, 300),
                vec![http("GET /", "GET", "staging.acme.test")],
            ),
            j(
                "SmokeTest.testCheckoutPage",
                c,
                (150, 400),
                vec![http("GET /checkout", "GET", "staging.acme.test")],
            ),
            j("SmokeTest.testApiVersion", c, (20, 60), vec![]),
            j("SmokeTest.testStaticAssets", c, (50, 150), vec![]),
        ],
    }
}

/// A branch and how often its pipelines fail for reasons other than tests.
#[derive(Debug, Clone)]
pub(crate) struct BranchDef {
    pub name: String,
    /// Share of push events.
    pub weight: f64,
    /// Minimum number of push events (so planted facts always happen).
    pub min_events: usize,
    /// Probability that a task (build / lint / publish …) fails.
    pub task_fail: f64,
    pub hostile: bool,
    /// Tests broken on this branch's commits pushed at events `from..=to` (0-based
    /// event index on the branch).
    pub breaks: Option<(&'static str, usize, usize)>,
}

pub(crate) fn branches() -> Vec<BranchDef> {
    let b = |name: &str, weight, task_fail| BranchDef {
        name: name.to_string(),
        weight,
        min_events: 2,
        task_fail,
        hostile: false,
        breaks: None,
    };
    let long = format!("feature/{}", "very-long-branch-name-".repeat(12));
    vec![
        b("main", 0.40, 0.02),
        b("feature/login-form", 0.12, 0.18),
        BranchDef {
            min_events: 6,
            breaks: Some(("TestRefundRounding", 1, 3)),
            ..b("feature/payments", 0.12, 0.06)
        },
        BranchDef {
            min_events: 6,
            breaks: Some(("AuthTokenTest.testRotation", 2, 4)),
            ..b("feature/auth-rework", 0.12, 0.10)
        },
        b("release/2.4", 0.10, 0.0),
        BranchDef {
            hostile: true,
            ..b("fix/../../etc/passwd", 0.035, 0.05)
        },
        BranchDef {
            hostile: true,
            ..b("feature/ünïcode-✓", 0.035, 0.05)
        },
        BranchDef {
            hostile: true,
            ..b("x'; DROP TABLE spans; --", 0.035, 0.05)
        },
        BranchDef {
            hostile: true,
            ..b(&long, 0.035, 0.05)
        },
    ]
}
