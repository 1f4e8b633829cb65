//! A small, controlled CI history for the gate and the report: one pipeline
//! (`checkout → build → test → lint`) run on `main` (the baseline) and then on a
//! feature branch (the current runs), with exactly the change a test asks for planted
//! on the feature branch: a slower task, a new failing test, a failed last run with one
//! known-flaky and one new failure, or a platform failure (checkout errors, nothing
//! else runs). Everything else is the same noise on both branches, so a gate that fires
//! on a quiet history is wrong. OTLP/JSON lines with the GitHub receiver's `cicd.*`
//! keys; the same config always yields the same bytes.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// The pipeline's name.
pub const PIPELINE: &str = "ci";
/// A test that fails ~10 % of executions on both branches and passes on its in-run retry.
pub const FLAKY_TEST: &str = "test_network_retry";
/// Run id of the last current run (the one `--current-run` judges).
pub const LAST_RUN: &str = "pr-last";
const TESTS: [(&str, f64); 5] = [
    ("test_parse", 2.0),
    ("test_render", 3.0),
    ("test_store", 4.0),
    ("test_query", 5.0),
    (FLAKY_TEST, 2.5),
];
const S: i64 = 1_000_000_000;

/// How the last current run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastRun {
    /// Like the others.
    Normal,
    /// The flaky test fails (and its retry too) and `new_failure_test` fails.
    KnownFlakyAndNew,
    /// `checkout` ends with result `error` (the runner lost the repository); nothing
    /// after it runs; the pipeline's result is `error`.
    Platform,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct HistoryConfig {
    pub seed: u64,
    /// End of the history (ns since epoch), normally now: baseline runs fall in the 14
    /// to 3 days before it, current runs in the last 2 days.
    pub end_ns: i64,
    pub baseline_runs: usize,
    pub current_runs: usize,
    pub current_branch: String,
    /// A task slowed down by this factor on the current branch (`("build", 1.5)`).
    pub slow_task: Option<(String, f64)>,
    /// A test run everywhere that fails on every current run and never on the baseline.
    pub new_failure_test: Option<String>,
    pub last_run: LastRun,
}

impl HistoryConfig {
    /// A quiet history: 60 baseline runs, 15 current runs, nothing planted.
    pub fn quiet(seed: u64, end_ns: i64) -> Self {
        HistoryConfig {
            seed,
            end_ns,
            baseline_runs: 60,
            current_runs: 15,
            current_branch: "feature/x".into(),
            slow_task: None,
            new_failure_test: None,
            last_run: LastRun::Normal,
        }
    }
}

struct Builder<'a> {
    rng: &'a mut SmallRng,
    trace_id: String,
    spans: Vec<Value>,
}

impl Builder<'_> {
    fn id(&mut self, bytes: usize) -> String {
        (0..bytes)
            .map(|_| format!("{:02x}", self.rng.random::<u8>()))
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn span(
        &mut self,
        parent: Option<&str>,
        name: &str,
        start: i64,
        end: i64,
        error: bool,
        attrs: &[(&str, &str)],
    ) -> String {
        let id = self.id(8);
        let attributes: Vec<Value> = attrs
            .iter()
            .map(|(k, v)| json!({"key": k, "value": {"stringValue": v}}))
            .collect();
        let mut span = json!({
            "traceId": self.trace_id,
            "spanId": id,
            "name": name,
            "kind": 1,
            "startTimeUnixNano": start.to_string(),
            "endTimeUnixNano": end.to_string(),
            "attributes": attributes,
            "status": {"code": if error { 2 } else { 1 }},
        });
        if let Some(parent) = parent {
            span["parentSpanId"] = json!(parent);
        }
        self.spans.push(span);
        id
    }
}

fn noisy(rng: &mut SmallRng, seconds: f64) -> i64 {
    (seconds * rng.random_range(0.9..1.1) * S as f64) as i64
}

fn result(failed: bool) -> &'static str {
    if failed { "failure" } else { "success" }
}

struct Plan<'a> {
    branch: &'a str,
    run_id: String,
    start: i64,
    slow: Option<(&'a str, f64)>,
    /// An extra test run on every run; it fails when `new_failure` is set.
    extra_test: Option<&'a str>,
    new_failure: bool,
    last: LastRun,
}

fn run(rng: &mut SmallRng, plan: &Plan<'_>) -> Value {
    let mut b = Builder {
        trace_id: String::new(),
        rng,
        spans: Vec::new(),
    };
    b.trace_id = b.id(16);
    let commit = b.id(20);
    let factor = |task: &str| match plan.slow {
        Some((slow, f)) if slow == task => f,
        _ => 1.0,
    };
    // The root's id is needed by its children before its end is known: make it first.
    let root_index = b.spans.len();
    let root = b.span(None, PIPELINE, plan.start, plan.start, false, &[]);
    let mut t = plan.start + S;
    let mut failed = false;
    let mut platform = false;

    let checkout_end = t + noisy(b.rng, 10.0);
    let checkout_error = plan.last == LastRun::Platform;
    b.span(
        Some(&root),
        "checkout",
        t,
        checkout_end,
        checkout_error,
        &[
            ("cicd.pipeline.task.name", "checkout"),
            (
                "cicd.pipeline.task.run.result",
                if checkout_error { "error" } else { "success" },
            ),
        ],
    );
    t = checkout_end + S;
    if checkout_error {
        failed = true;
        platform = true;
    } else {
        let end = t + noisy(b.rng, 60.0 * factor("build"));
        b.span(
            Some(&root),
            "build",
            t,
            end,
            false,
            &[
                ("cicd.pipeline.task.name", "build"),
                ("cicd.pipeline.task.run.result", "success"),
            ],
        );
        t = end + S;

        let task_index = b.spans.len();
        let task = b.span(Some(&root), "test", t, t, false, &[]);
        let mut cursor = t + S / 2;
        let mut task_failed = false;
        let mut tests: Vec<(&str, f64)> = TESTS.to_vec();
        if let Some(extra) = plan.extra_test {
            tests.push((extra, 3.0));
        }
        for (name, seconds) in tests {
            let mut attempt = 0;
            loop {
                attempt += 1;
                let fails = if name == FLAKY_TEST {
                    plan.last == LastRun::KnownFlakyAndNew || b.rng.random_bool(0.1)
                } else {
                    plan.new_failure && Some(name) == plan.extra_test
                };
                let end = cursor + noisy(b.rng, seconds * factor(name));
                b.span(
                    Some(&task),
                    name,
                    cursor,
                    end,
                    fails,
                    &[
                        ("test.case.name", name),
                        ("test.suite.name", "unit"),
                        (
                            "test.case.result.status",
                            if fails { "fail" } else { "pass" },
                        ),
                    ],
                );
                cursor = end + S / 10;
                // The flaky test is retried once inside the run, as pytest-rerunfailures does.
                if !(fails && name == FLAKY_TEST && attempt < 2) {
                    task_failed |= fails;
                    break;
                }
            }
        }
        let test_end = cursor + noisy(b.rng, 5.0);
        let attrs = [
            ("cicd.pipeline.task.name", "test"),
            ("cicd.pipeline.task.run.result", result(task_failed)),
        ];
        b.spans[task_index]["endTimeUnixNano"] = json!(test_end.to_string());
        b.spans[task_index]["status"] = json!({"code": if task_failed { 2 } else { 1 }});
        b.spans[task_index]["attributes"] = attrs
            .iter()
            .map(|(k, v)| json!({"key": k, "value": {"stringValue": v}}))
            .collect();
        t = test_end + S;
        failed |= task_failed;

        let lint_failed = !failed && b.rng.random_bool(0.03);
        let end = t + noisy(b.rng, 20.0);
        b.span(
            Some(&root),
            "lint",
            t,
            end,
            lint_failed,
            &[
                ("cicd.pipeline.task.name", "lint"),
                ("cicd.pipeline.task.run.result", result(lint_failed)),
            ],
        );
        t = end + S;
        failed |= lint_failed;
    }

    let pipeline_result = if platform { "error" } else { result(failed) };
    let root_attrs = [
        ("cicd.pipeline.name", PIPELINE),
        ("cicd.pipeline.run.id", plan.run_id.as_str()),
        ("cicd.pipeline.result", pipeline_result),
    ];
    b.spans[root_index]["endTimeUnixNano"] = json!(t.to_string());
    b.spans[root_index]["status"] = json!({"code": if failed { 2 } else { 1 }});
    b.spans[root_index]["attributes"] = root_attrs
        .iter()
        .map(|(k, v)| json!({"key": k, "value": {"stringValue": v}}))
        .collect();

    let resource = [
        ("service.name", "github-actions"),
        ("vcs.ref.head.name", plan.branch),
        ("vcs.ref.head.revision", commit.as_str()),
        ("vcs.repository.name", "acme/shop"),
    ];
    let resource: Vec<Value> = resource
        .iter()
        .map(|(k, v)| json!({"key": k, "value": {"stringValue": v}}))
        .collect();
    json!({"resourceSpans": [{
        "resource": {"attributes": resource},
        "scopeSpans": [{"scope": {"name": "pipescope-history"}, "spans": b.spans}],
    }]})
}

/// The history as OTLP/JSON lines (one trace per line), baseline runs first.
pub fn generate(cfg: &HistoryConfig) -> Vec<u8> {
    let mut rng = SmallRng::seed_from_u64(cfg.seed);
    let day = 86_400 * S;
    let mut out = Vec::new();
    let emit = |value: Value, out: &mut Vec<u8>| {
        out.extend_from_slice(value.to_string().as_bytes());
        out.push(b'\n');
    };
    let spread =
        |i: usize, n: usize, from: i64, to: i64| from + (to - from) / n.max(1) as i64 * i as i64;
    for i in 0..cfg.baseline_runs {
        let start = spread(
            i,
            cfg.baseline_runs,
            cfg.end_ns - 14 * day,
            cfg.end_ns - 3 * day,
        );
        let plan = Plan {
            branch: "main",
            run_id: format!("{}", 1000 + i),
            start,
            slow: None,
            extra_test: cfg.new_failure_test.as_deref(),
            new_failure: false,
            last: LastRun::Normal,
        };
        emit(run(&mut rng, &plan), &mut out);
    }
    for i in 0..cfg.current_runs {
        let start = spread(
            i,
            cfg.current_runs,
            cfg.end_ns - 2 * day,
            cfg.end_ns - day / 24,
        );
        let last = i + 1 == cfg.current_runs;
        let plan = Plan {
            branch: &cfg.current_branch,
            run_id: if last {
                LAST_RUN.to_string()
            } else {
                format!("{}", 5000 + i)
            },
            start,
            slow: cfg.slow_task.as_ref().map(|(t, f)| (t.as_str(), *f)),
            extra_test: cfg.new_failure_test.as_deref(),
            new_failure: true,
            last: if last { cfg.last_run } else { LastRun::Normal },
        };
        emit(run(&mut rng, &plan), &mut out);
    }
    out
}
