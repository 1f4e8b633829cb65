//! One test is one test whatever emitted it. The same Python suite arrives through three
//! emitters — pytest-otel style node ids over OTLP/JSON, JUnit-to-OTLP class + name
//! spans over OTLP/JSON, and bare function names over Zipkin — and every analysis shows
//! each test once, with the evidence of all three summed.
//!
//! The history is built so that identity matters: `test_totals` passes under one
//! emitter and fails under another *on the same commit*, so it is flaky only when the
//! three names meet; `test_parse` exists in two files and must stay two tests.

mod common;

use std::sync::OnceLock;

use common::{Env, attr};
use serde_json::{Value, json};

const REPO: &str = "acme/shop";
const TOTALS: &str = "tests.integration.test_totals.test_totals";
const ADD: &str = "tests.unit.test_cart.TestCart.test_add";
const PARSE_UNIT: &str = "tests.unit.test_parse.test_parse";
const PARSE_INTEGRATION: &str = "tests.integration.test_parse.test_parse";
const PARAM: &str = "tests.unit.test_x.test_x[path/a.b::c]";

/// One test as the suite knows it: module path, class, function, parameters.
struct Case {
    file: &'static str,
    class: Option<&'static str>,
    function: &'static str,
    /// Whether the Zipkin emitter (bare names) reports it: a bare `test_parse` would be
    /// ambiguous, so that emitter's suite is smaller.
    bare_ok: bool,
}

const CASES: [Case; 5] = [
    Case {
        file: "tests/integration/test_totals.py",
        class: None,
        function: "test_totals",
        bare_ok: true,
    },
    Case {
        file: "tests/unit/test_cart.py",
        class: Some("TestCart"),
        function: "test_add",
        bare_ok: true,
    },
    Case {
        file: "tests/unit/test_parse.py",
        class: None,
        function: "test_parse",
        bare_ok: false,
    },
    Case {
        file: "tests/integration/test_parse.py",
        class: None,
        function: "test_parse",
        bare_ok: false,
    },
    Case {
        file: "tests/unit/test_x.py",
        class: None,
        function: "test_x[path/a.b::c]",
        bare_ok: false,
    },
];

impl Case {
    fn node_id(&self) -> String {
        match self.class {
            Some(class) => format!("{}::{class}::{}", self.file, self.function),
            None => format!("{}::{}", self.file, self.function),
        }
    }

    fn junit_class(&self) -> String {
        let module = self.file.trim_end_matches(".py").replace('/', ".");
        match self.class {
            Some(class) => format!("{module}.{class}"),
            None => module,
        }
    }
}

#[derive(Clone, Copy)]
enum Emitter {
    PytestOtel,
    JunitOtlp,
    Zipkin,
}

/// What happens to `test_totals` in each (commit, emitter) run; every other test
/// passes, except `test_add`, which fails on every run of commit c3 (broken there).
fn totals_passes(commit: &str, emitter: Emitter) -> bool {
    !matches!(
        (commit, emitter),
        ("c1", Emitter::JunitOtlp) | ("c2", Emitter::PytestOtel | Emitter::Zipkin)
    )
}

/// One pipeline run as OTLP/JSON: a pipeline span, a `tests` task, and its tests.
fn otlp_run(trace: u64, commit: &str, branch: &str, emitter: Emitter, start_s: u64) -> String {
    let trace_id = format!("{trace:032x}");
    let ns = |s: u64| (s * 1_000_000_000).to_string();
    let mut spans = vec![
        json!({"traceId": trace_id, "spanId": format!("{:016x}", trace * 100), "name": "ci",
            "startTimeUnixNano": ns(start_s), "endTimeUnixNano": ns(start_s + 60),
            "attributes": [attr("cicd.pipeline.name", "ci"), attr("cicd.pipeline.run.id", &format!("run-{trace}"))]}),
        json!({"traceId": trace_id, "spanId": format!("{:016x}", trace * 100 + 1),
            "parentSpanId": format!("{:016x}", trace * 100), "name": "tests",
            "startTimeUnixNano": ns(start_s + 1), "endTimeUnixNano": ns(start_s + 59),
            "attributes": [attr("cicd.pipeline.task.name", "tests")]}),
    ];
    for (i, case) in CASES.iter().enumerate() {
        let passed = test_passes(case, commit, emitter);
        let mut attributes = match emitter {
            Emitter::PytestOtel => vec![
                attr("test.case.name", &case.node_id()),
                attr(
                    "test.case.result.status",
                    if passed { "pass" } else { "fail" },
                ),
            ],
            _ => vec![
                attr("test.name", case.function),
                attr("test.classname", &case.junit_class()),
                attr("test.scope", "Case"),
                json!({"key": "error", "value": {"boolValue": !passed}}),
            ],
        };
        attributes.push(attr("code.lineno", "12"));
        let at = start_s + 2 + i as u64 * 5;
        spans.push(
            json!({"traceId": trace_id, "spanId": format!("{:016x}", trace * 100 + 10 + i as u64),
            "parentSpanId": format!("{:016x}", trace * 100 + 1), "name": case.function,
            "startTimeUnixNano": ns(at), "endTimeUnixNano": ns(at + 3),
            "status": {"code": if passed { 1 } else { 2 }},
            "attributes": attributes}),
        );
        if case.function == "test_totals" {
            // What compare should find: the cache read that errors when the test fails.
            spans.push(json!({"traceId": trace_id, "spanId": format!("{:016x}", trace * 100 + 90),
                "parentSpanId": format!("{:016x}", trace * 100 + 10 + i as u64), "name": "redis GET",
                "startTimeUnixNano": ns(at + 1), "endTimeUnixNano": ns(at + 2),
                "status": {"code": if passed { 1 } else { 2 }}}));
        }
    }
    let service = match emitter {
        Emitter::PytestOtel => "pytest-otel",
        _ => "junit2otlp",
    };
    json!({"resourceSpans": [{
        "resource": {"attributes": [
            attr("service.name", service),
            attr("vcs.ref.head.name", branch),
            attr("vcs.ref.head.revision", commit),
            attr("vcs.repository.name", REPO)
        ]},
        "scopeSpans": [{"spans": spans}]
    }]})
    .to_string()
}

/// The same run as Zipkin v2 JSON, tests named by their bare function.
fn zipkin_run(trace: u64, commit: &str, branch: &str, start_s: u64) -> Value {
    let trace_id = format!("{trace:032x}");
    let us = |s: u64| s * 1_000_000;
    let endpoint = json!({"serviceName": "pytest"});
    let mut spans = vec![
        json!({"traceId": trace_id, "id": format!("{:016x}", trace * 100), "name": "ci",
            "timestamp": us(start_s), "duration": us(60), "localEndpoint": endpoint,
            "tags": {"cicd.pipeline.name": "ci", "cicd.pipeline.run.id": format!("run-{trace}"),
                     "vcs.ref.head.name": branch, "vcs.ref.head.revision": commit,
                     "vcs.repository.name": REPO}}),
        json!({"traceId": trace_id, "id": format!("{:016x}", trace * 100 + 1),
            "parentId": format!("{:016x}", trace * 100), "name": "tests",
            "timestamp": us(start_s + 1), "duration": us(58), "localEndpoint": endpoint,
            "tags": {"cicd.pipeline.task.name": "tests"}}),
    ];
    for (i, case) in CASES.iter().enumerate().filter(|(_, c)| c.bare_ok) {
        let passed = test_passes(case, commit, Emitter::Zipkin);
        let mut tags = json!({"tests.name": case.function,
            "tests.status": if passed { "passed" } else { "failed" }});
        if !passed {
            tags["error"] = json!("AssertionError: totals differ");
        }
        spans.push(json!({"traceId": trace_id, "id": format!("{:016x}", trace * 100 + 10 + i as u64),
            "parentId": format!("{:016x}", trace * 100 + 1), "name": format!("Running {}", case.function),
            "timestamp": us(start_s + 2 + i as u64 * 5), "duration": us(3),
            "localEndpoint": endpoint, "tags": tags}));
        if case.function == "test_totals" {
            let mut child = json!({"traceId": trace_id, "id": format!("{:016x}", trace * 100 + 90),
                "parentId": format!("{:016x}", trace * 100 + 10 + i as u64), "name": "redis GET",
                "timestamp": us(start_s + 3 + i as u64 * 5), "duration": us(1),
                "localEndpoint": endpoint, "tags": {}});
            if !passed {
                child["tags"]["error"] = json!("connection reset");
            }
            spans.push(child);
        }
    }
    Value::Array(spans)
}

fn test_passes(case: &Case, commit: &str, emitter: Emitter) -> bool {
    match case.function {
        "test_totals" => totals_passes(commit, emitter),
        "test_add" => commit != "c3",
        _ => true,
    }
}

/// Commits c1..c3 on main, each run once by each emitter: 9 runs.
fn store() -> &'static Env {
    static STORE: OnceLock<Env> = OnceLock::new();
    STORE.get_or_init(|| {
        let env = Env::new();
        let (mut otlp, mut zipkin) = (String::new(), Vec::new());
        let mut trace = 1;
        for (day, commit) in ["c1", "c2", "c3"].into_iter().enumerate() {
            let start = 1_780_000_000 + day as u64 * 86_400;
            for (k, emitter) in [Emitter::PytestOtel, Emitter::JunitOtlp]
                .into_iter()
                .enumerate()
            {
                let at = start + k as u64 * 600;
                otlp += &(otlp_run(trace, commit, "main", emitter, at) + "\n");
                trace += 1;
            }
            zipkin.extend(
                zipkin_run(trace, commit, "main", start + 1200)
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
            trace += 1;
        }
        let a = env.write("pytest-and-junit.jsonl", &otlp);
        let b = env.write("zipkin.json", &Value::Array(zipkin).to_string());
        let (code, stderr) = env.ingest(&[&a, &b]);
        assert_eq!(code, 0, "ingest failed: {stderr}");
        env
    })
}

fn by_test(rows: &[Value]) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = rows
        .iter()
        .map(|r| (r["test"].as_str().unwrap_or("").to_string(), r.clone()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn flaky_shows_each_test_once_with_every_emitters_evidence() {
    let env = store();
    let rows = by_test(&env.rows(&["flaky", "--all"]));
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = vec![TOTALS, ADD, PARSE_UNIT, PARSE_INTEGRATION, PARAM];
    expected.sort();
    assert_eq!(names, expected, "one row per test: {rows:#?}");

    let totals = &rows.iter().find(|(n, _)| n == TOTALS).expect("totals").1;
    assert_eq!(totals["status"], "flaky", "{totals}");
    assert_eq!(
        totals["runs"], 9,
        "three emitters × three commits: {totals}"
    );
    assert_eq!(totals["failures"], 3, "{totals}");
    assert_eq!(
        totals["flaky_commits"], 2,
        "c1 and c2 pass under one emitter and fail under another: {totals}"
    );

    let add = &rows.iter().find(|(n, _)| n == ADD).expect("test_add").1;
    assert_eq!(add["status"], "broken", "{add}");
    assert_eq!(
        (add["runs"].as_i64(), add["failures"].as_i64()),
        (Some(9), Some(3))
    );

    for parse in [PARSE_UNIT, PARSE_INTEGRATION, PARAM] {
        let row = &rows.iter().find(|(n, _)| n == parse).expect("parse").1;
        assert_eq!(row["runs"], 6, "two emitters report {parse}: {row}");
    }
}

#[test]
fn failures_by_test_counts_one_row_per_test() {
    let env = store();
    let rows = by_test(&env.rows(&["failures", "--by", "test"]));
    let totals: Vec<&Value> = rows
        .iter()
        .filter(|(n, _)| n.ends_with("test_totals"))
        .map(|(_, r)| r)
        .collect();
    assert_eq!(totals.len(), 1, "{rows:#?}");
    assert_eq!(totals[0]["test"], TOTALS);
    assert_eq!(
        (totals[0]["runs"].as_i64(), totals[0]["failed"].as_i64()),
        (Some(9), Some(3))
    );
}

#[test]
fn compare_finds_a_test_by_its_bare_name_and_refuses_an_ambiguous_one() {
    let env = store();
    let rows = env.rows(&["compare", "--test", "test_totals"]);
    assert!(!rows.is_empty(), "compare found nothing for the bare name");
    assert!(rows.iter().all(|r| r["test"] == TOTALS), "{rows:#?}");
    let top = &rows[0];
    assert_eq!(
        (top["signal"].as_str(), top["span"].as_str()),
        (Some("error"), Some("redis GET")),
        "the errored cache read of all three emitters' runs comes first: {rows:#?}"
    );
    let by_id = env.rows(&["compare", "--test", TOTALS]);
    assert_eq!(rows, by_id, "the bare name and the id are the same test");

    let (code, _, stderr) = env.run(&["compare", "--test", "test_parse"]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("names 2 tests")
            && stderr.contains(PARSE_UNIT)
            && stderr.contains(PARSE_INTEGRATION),
        "{stderr}"
    );
}

#[test]
fn sql_sees_the_test_id_column_and_the_emitted_names() {
    let env = store();
    let rows = env.sql(
        "SELECT DISTINCT test, test_id FROM test_executions WHERE test_id LIKE '%test_totals' ORDER BY test",
    );
    let pairs: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["test"].as_str().unwrap_or("").into(),
                r["test_id"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("test_totals".into(), TOTALS.into()),
            (
                "tests/integration/test_totals.py::test_totals".into(),
                TOTALS.into()
            ),
        ],
        "the bare Zipkin name and the node id both resolve; the raw column keeps what was emitted"
    );
}

/// A current run on a branch from the bare-name emitter where `test` fails and then
/// passes on retry (flaky within the run).
fn flaky_current_run(trace: u64, test: &str) -> Value {
    let mut run = zipkin_run(trace, "c9", "feature/x", 1_780_400_000);
    let retry = json!({"traceId": format!("{trace:032x}"), "id": "00000000000013ff",
        "parentId": format!("{:016x}", trace * 100 + 1), "name": format!("Running {test}"),
        "timestamp": 1_780_400_050_000_000u64, "duration": 3_000_000,
        "localEndpoint": {"serviceName": "pytest"},
        "tags": {"tests.name": test, "tests.status": "passed"}});
    if let Some(spans) = run.as_array_mut() {
        for s in spans.iter_mut() {
            if s["tags"]["tests.name"] == test {
                s["tags"]["tests.status"] = json!("failed");
            }
        }
        spans.push(retry);
    }
    run
}

/// The gate's exit code, violations and new_flaky rule summary for one current run.
fn gate(env: &Env, run_id: &str) -> (i32, Vec<Value>, Value) {
    let (code, stdout, stderr) = env.run(&[
        "gate",
        "--current-run",
        run_id,
        "--baseline",
        "branch=main,since=3000d",
        // The history holds 9 executions of each test (the default asks for 10).
        "--min-runs",
        "5",
        "--format",
        "json",
    ]);
    let doc: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    let new_flaky = doc["rules"]
        .as_array()
        .and_then(|rules| rules.iter().find(|r| r["rule"] == "new_flaky"))
        .cloned()
        .unwrap_or_else(|| panic!("no new_flaky rule: {stdout}"));
    let violations = doc["violations"].as_array().cloned().unwrap_or_default();
    (code, violations, new_flaky)
}

#[test]
fn the_gate_knows_a_flaky_test_whatever_emitted_its_failure() {
    let env = Env::new();
    copy_dir(&store().data(), &env.data());
    let current = [
        ("totals.json", flaky_current_run(50, "test_totals")),
        ("add.json", flaky_current_run(51, "test_add")),
    ];
    for (name, run) in &current {
        let path = env.write(name, &run.to_string());
        let (code, stderr) = env.ingest(&[&path]);
        assert_eq!(code, 0, "{stderr}");
    }

    // test_totals is flaky in the baseline under its node id and JUnit names: judged
    // against that evidence (not left out as a test the baseline never ran), and known.
    let (code, violations, new_flaky) = gate(&env, "run-50");
    assert_eq!(
        (
            new_flaky["checked"].as_u64(),
            new_flaky["too_few_runs"].as_u64()
        ),
        (Some(1), Some(0)),
        "{new_flaky}"
    );
    assert!(violations.is_empty(), "{violations:#?}");
    assert_eq!(code, 0);

    // test_add only ever failed on one commit in the baseline: flaky now is new.
    let (code, violations, _) = gate(&env, "run-51");
    assert_eq!(code, 1, "{violations:#?}");
    assert!(
        violations
            .iter()
            .any(|v| v["rule"] == "new_flaky" && v["subject"].to_string().contains(ADD)),
        "the new flake is reported under its id: {violations:#?}"
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read store") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
