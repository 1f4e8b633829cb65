//! `pipescope gate --allow-known-flaky` through the binary, on a history with planted
//! truth: on main, `tests.test_net.test_retry` is flaky (passes and fails on the same
//! commits), `tests.test_db.test_migrate` has been broken since a commit (fails on
//! every execution after it), `tests.test_cart.test_total` always passes. Feature-branch
//! runs then fail in different ways, and the gate must pass the job only when the
//! flaky test alone failed — and stay red when it cannot read the store.
//!
//! The traces are messy like real CI: the same test arrives as a pytest node id or as
//! a JUnit class + name, result words vary in case and spelling, the flaky test is
//! retried inside a run, and run ids are numbers or strings.

mod common;

use common::{Env, attr, now_ns};
use serde_json::{Value, json};

const FLAKY: &str = "tests.test_net.test_retry";
const BROKEN: &str = "tests.test_db.test_migrate";
const STABLE: &str = "tests.test_cart.test_total";

const DAY_NS: i64 = 86_400_000_000_000;

/// One test execution as an emitter writes it: `style` 0 = pytest node id in
/// `test.case.name`, 1 = JUnit class + name (`test.name`, `test.classname`).
fn test_attrs(test_id: &str, passed: bool, style: usize) -> Vec<Value> {
    let (module, name) = test_id.rsplit_once('.').expect("dotted id");
    let mut attrs = if style.is_multiple_of(2) {
        vec![attr(
            "test.case.name",
            &format!("{}.py::{name}", module.replace('.', "/")),
        )]
    } else {
        vec![attr("test.name", name), attr("test.classname", module)]
    };
    let words = if passed {
        ["pass", "passed", "PASS"]
    } else {
        ["fail", "failed", "FAIL"]
    };
    attrs.push(attr("test.case.result.status", words[style % 3]));
    attrs.push(attr("test.suite.name", "pytest"));
    attrs
}

/// One pipeline run: (test id, outcomes of its attempts) for each test.
struct Run<'a> {
    trace: u32,
    run_id: String,
    branch: &'a str,
    commit: String,
    start_ns: i64,
    tests: Vec<(&'a str, Vec<bool>)>,
}

fn line(run: &Run<'_>) -> String {
    let trace_id = format!("{:032x}", run.trace as u64 * 7919 + 11);
    let id = |n: u32| format!("{:016x}", (run.trace as u64) << 16 | n as u64);
    let ns = |offset_s: i64| (run.start_ns + offset_s * 1_000_000_000).to_string();
    let failed = run
        .tests
        .iter()
        .any(|(_, a)| !a.last().copied().unwrap_or(true));
    let mut spans = vec![
        json!({"traceId": trace_id, "spanId": id(1), "name": "pipeline",
               "startTimeUnixNano": ns(0), "endTimeUnixNano": ns(300),
               "status": {"code": if failed { 2 } else { 1 }},
               "attributes": [attr("cicd.pipeline.name", "ci"),
                              attr("cicd.pipeline.run.id", &run.run_id),
                              attr("cicd.pipeline.result", if failed { "failure" } else { "success" })]}),
        json!({"traceId": trace_id, "spanId": id(2), "parentSpanId": id(1), "name": "test",
               "startTimeUnixNano": ns(10), "endTimeUnixNano": ns(290),
               "attributes": [attr("cicd.pipeline.task.name", "test"),
                              attr("cicd.pipeline.task.run.result", if failed { "failure" } else { "success" })]}),
    ];
    let mut n = 3;
    let mut t = 20;
    for (i, (test, attempts)) in run.tests.iter().enumerate() {
        for &passed in attempts {
            spans.push(
                json!({"traceId": trace_id, "spanId": id(n), "parentSpanId": id(2),
                "name": test, "startTimeUnixNano": ns(t), "endTimeUnixNano": ns(t + 3),
                "status": {"code": if passed { 0 } else { 2 }},
                "attributes": test_attrs(test, passed, run.trace as usize + i)}),
            );
            n += 1;
            t += 4;
        }
    }
    json!({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", "ci"),
                                    attr("vcs.ref.head.name", run.branch),
                                    attr("vcs.ref.head.revision", &run.commit)]},
        "scopeSpans": [{"spans": spans}]}]})
    .to_string()
}

/// The baseline on main (12 commits, 3 runs each over the last 12 days) and five
/// feature-branch runs, each failing its own way.
fn history() -> String {
    let now = now_ns();
    let mut lines = Vec::new();
    let mut trace = 0;
    for commit in 0..12u32 {
        for rerun in 0..3u32 {
            trace += 1;
            // Flaky: fails in the first run of every third commit, passes in the others.
            let flaky_fails = commit.is_multiple_of(3) && rerun == 0;
            // Broken since commit 8: fails every time from then on.
            let broken_fails = commit >= 8;
            let flaky = if flaky_fails {
                vec![false, false]
            } else {
                vec![true]
            };
            lines.push(line(&Run {
                trace,
                run_id: (1000 + trace).to_string(),
                branch: "main",
                commit: format!("c0ffee{commit:02}"),
                start_ns: now - (12 - commit as i64) * DAY_NS + rerun as i64 * 3_600_000_000_000,
                tests: vec![
                    (FLAKY, flaky),
                    (BROKEN, vec![!broken_fails]),
                    (STABLE, vec![true]),
                ],
            }));
        }
    }
    let feature = |trace, run_id: &str, flaky: Vec<bool>, broken: bool, stable: bool| Run {
        trace,
        run_id: run_id.to_string(),
        branch: "feature/pay",
        commit: format!("feed{trace}"),
        start_ns: now - DAY_NS / 2 + trace as i64 * 1_000_000_000_000,
        tests: vec![
            (FLAKY, flaky),
            (BROKEN, vec![broken]),
            (STABLE, vec![stable]),
        ],
    };
    // The broken test is fixed on the branch in every run but pr-broken.
    lines.push(line(&feature(
        100,
        "pr-flaky",
        vec![false, false],
        true,
        true,
    )));
    lines.push(line(&feature(
        101,
        "pr-new",
        vec![false, false],
        true,
        false,
    )));
    lines.push(line(&feature(102, "pr-broken", vec![true], false, true)));
    lines.push(line(&feature(
        103,
        "pr-green",
        vec![false, true],
        true,
        true,
    )));
    lines.push(line(&feature(104, "pr-only-new", vec![true], true, false)));
    lines.join("\n") + "\n"
}

fn store() -> &'static Env {
    static STORE: std::sync::OnceLock<Env> = std::sync::OnceLock::new();
    STORE.get_or_init(|| common::store_of("history.jsonl", &history()))
}

/// Runs the gate in the store's directory with no job status in the environment:
/// (exit code, JSON document, stderr).
fn gate(env: &Env, args: &[&str]) -> (i32, Value, String) {
    let out = env
        .cmd()
        .current_dir(env.dir.path())
        .env_remove("PIPESCOPE_JOB_STATUS")
        .env_remove("CI_JOB_STATUS")
        .args(["gate", "--format", "json", "--baseline", "branch=main"])
        .args(args)
        .output()
        .expect("run gate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        doc,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn triage(doc: &Value) -> Vec<(String, String)> {
    doc["triage"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|t| {
                    (
                        t["subject"].as_str().unwrap_or("").to_string(),
                        t["category"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn pair(test: &str, category: &str) -> (String, String) {
    (test.to_string(), category.to_string())
}

#[test]
fn only_the_known_flaky_test_failed_the_job_passes() {
    let (code, doc, stderr) = gate(
        store(),
        &[
            "--current-run",
            "pr-flaky",
            "--allow-known-flaky",
            "--job-status",
            "failure",
        ],
    );
    assert_eq!(code, 0, "{stderr}\n{doc:#}");
    assert_eq!(triage(&doc), vec![pair(FLAKY, "known_flaky")], "{doc:#}");
    assert_eq!(doc["verdict"]["passed"], true);
    assert_eq!(doc["verdict"]["failures"]["known_flaky"], 1);
    assert_eq!(doc["verdict"]["job_status"], "failure");
}

#[test]
fn a_new_failure_beside_the_flaky_one_fails_the_job() {
    for run in ["pr-new", "pr-only-new"] {
        let (code, doc, stderr) = gate(
            store(),
            &[
                "--current-run",
                run,
                "--allow-known-flaky",
                "--job-status",
                "failure",
            ],
        );
        assert_eq!(code, 1, "{run}: {stderr}\n{doc:#}");
        let found = triage(&doc);
        assert!(found.contains(&pair(STABLE, "new")), "{run}: {found:?}");
        assert_eq!(doc["verdict"]["passed"], false);
        let reason = doc["verdict"]["reason"].as_str().unwrap();
        assert!(
            reason.ends_with("failures that are not known flakes: 1 new"),
            "{reason}"
        );
    }
    let (_, doc, _) = gate(store(), &["--current-run", "pr-new", "--allow-known-flaky"]);
    assert_eq!(
        triage(&doc),
        vec![pair(FLAKY, "known_flaky"), pair(STABLE, "new")]
    );
}

#[test]
fn a_test_broken_before_the_change_is_named_and_still_fails() {
    let (code, doc, stderr) = gate(
        store(),
        &[
            "--current-run",
            "pr-broken",
            "--allow-known-flaky",
            "--job-status",
            "failure",
        ],
    );
    assert_eq!(code, 1, "{stderr}\n{doc:#}");
    assert_eq!(triage(&doc), vec![pair(BROKEN, "broken_before")]);
    let reason = doc["triage"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("12 of 36"), "{reason}");
    let verdict = doc["verdict"]["reason"].as_str().unwrap();
    assert!(verdict.contains("not this change's fault"), "{verdict}");
}

#[test]
fn allow_known_flaky_judges_failures_the_rules_leave_alone() {
    // new_failure catches the stable test failing, with or without the flag …
    let (code, doc, stderr) = gate(store(), &["--current-run", "pr-only-new"]);
    assert_eq!(code, 1, "{stderr}\n{doc:#}");
    assert_eq!(doc["verdict"]["allow_known_flaky"], false);
    assert_eq!(triage(&doc), vec![pair(STABLE, "new")]);
    // … but with that rule off, only the verdict on the job still fails it.
    let off = ["--current-run", "pr-only-new", "--disable", "new_failure"];
    let (code, _, _) = gate(store(), &off);
    assert_eq!(code, 0);
    let (code, doc, _) = gate(store(), &[&off[..], &["--allow-known-flaky"]].concat());
    assert_eq!(code, 1, "{doc:#}");
    let reason = doc["verdict"]["reason"].as_str().unwrap();
    assert_eq!(reason, "failures that are not known flakes: 1 new");
}

#[test]
fn the_config_file_allows_known_flakes_too() {
    let env = store();
    let config = env.write("allow.toml", "[gate]\nallow_known_flaky = true\n");
    let config = env.arg(&config);
    let (code, doc, _) = gate(env, &["--current-run", "pr-flaky", "--config", &config]);
    assert_eq!(
        (code, &doc["verdict"]["allow_known_flaky"]),
        (0, &json!(true))
    );
    let (code, _, _) = gate(env, &["--current-run", "pr-new", "--config", &config]);
    assert_eq!(code, 1);
}

#[test]
fn a_retried_flake_that_passed_and_a_red_job_without_failures() {
    // pr-green: the flaky test failed once and passed on retry, so nothing failed.
    let (code, doc, stderr) = gate(
        store(),
        &["--current-run", "pr-green", "--allow-known-flaky"],
    );
    assert_eq!(code, 0, "{stderr}\n{doc:#}");
    // But the job says it failed, and the run shows no reason: stay red.
    let (code, doc, _) = gate(
        store(),
        &[
            "--current-run",
            "pr-green",
            "--allow-known-flaky",
            "--job-status",
            "failure",
        ],
    );
    assert_eq!(code, 1, "{doc:#}");
    assert!(
        doc["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("no failure"),
        "{doc:#}"
    );
}

#[test]
fn an_unreadable_store_leaves_the_job_its_own_verdict() {
    let env = Env::new();
    let missing = env.dir.path().join("nowhere");
    let missing = env.arg(&missing);
    let base = [
        "--data",
        missing.as_str(),
        "--current-run",
        "pr-flaky",
        "--allow-known-flaky",
    ];
    let with = |status: Option<&str>| {
        let mut args = base.to_vec();
        if let Some(s) = status {
            args.extend(["--job-status", s]);
        }
        gate(&env, &args)
    };
    let (code, _, stderr) = with(Some("failure"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("Fail-safe: the job's own verdict stands: failure"),
        "{stderr}"
    );
    let (code, _, stderr) = with(Some("success"));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = with(None);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("unknown, so failure"), "{stderr}");
    // GitLab's after_script variable is read when no flag is given.
    let out = env
        .cmd()
        .env("CI_JOB_STATUS", "success")
        .env_remove("PIPESCOPE_JOB_STATUS")
        .args(["gate", "--baseline", "branch=main"])
        .args(base)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    // Without --allow-known-flaky an unreadable store stays an error (exit 2).
    let (code, _, _) = gate(
        &env,
        &["--data", missing.as_str(), "--current-run", "pr-flaky"],
    );
    assert_eq!(code, 2);
}

#[test]
fn a_corrupt_store_or_an_unknown_run_is_not_forgiven() {
    let env = Env::new();
    let path = env.write("history.jsonl", &history());
    let (code, stderr) = env.ingest(&[&path]);
    assert_eq!(code, 0, "{stderr}");
    // A run that was never ingested (the report was lost): the job's verdict stands.
    let (code, _, stderr) = gate(
        &env,
        &[
            "--current-run",
            "pr-lost",
            "--allow-known-flaky",
            "--job-status",
            "failure",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("Fail-safe"), "{stderr}");
    // A Parquet file that is not Parquet: the gate judges from the rest of the store,
    // names the file, and exits 2 (an answer from a damaged store), so the known flake
    // is still not forgiven; with --strict it cannot judge, and the job's verdict stands.
    let dir = env.data().join("spans/date=2020-01-01");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let broken = dir.join("broken.parquet");
    std::fs::write(&broken, b"not parquet at all").expect("write");
    let args = [
        "--current-run",
        "pr-flaky",
        "--allow-known-flaky",
        "--job-status",
        "failure",
    ];
    let (code, _, stderr) = gate(&env, &args);
    assert_eq!(code, 2, "{stderr}");
    let named = format!("damaged store file {}: ", broken.display());
    assert!(
        stderr.contains(&format!("warning: skipping {named}")),
        "{stderr}"
    );
    let (code, _, stderr) = gate(&env, &[&["--strict"], args.as_slice()].concat());
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("Fail-safe") && stderr.contains(&named),
        "{stderr}"
    );
}

/// The gate in `format` (not JSON): (exit code, stdout).
fn gate_text(env: &Env, format: &str, args: &[&str]) -> (i32, String) {
    let summary = env.dir.path().join("summary.md");
    let out = env
        .cmd()
        .current_dir(env.dir.path())
        .env_remove("PIPESCOPE_JOB_STATUS")
        .env_remove("CI_JOB_STATUS")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["gate", "--format", format, "--baseline", "branch=main"])
        .args(args)
        .output()
        .expect("run gate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn every_format_shows_the_verdict_and_the_categories() {
    let flaky = ["--current-run", "pr-flaky", "--allow-known-flaky"];
    let (code, table) = gate_text(store(), "table", &flaky);
    assert_eq!(code, 0, "{table}");
    assert!(
        table.contains(
            "Verdict (known flakes allowed): PASS — every failure is known flaky (1 test(s)): the job passes"
        ),
        "{table}"
    );
    let broken = ["--current-run", "pr-broken", "--allow-known-flaky"];
    let (code, markdown) = gate_text(store(), "markdown", &broken);
    assert_eq!(code, 1);
    assert!(markdown.contains("| broken_before |"), "{markdown}");
    assert!(
        markdown.contains("Verdict (known flakes allowed): FAIL"),
        "{markdown}"
    );
    let (code, github) = gate_text(store(), "github", &broken);
    assert_eq!(code, 1);
    assert!(
        github.contains(
            "::warning title=pipescope triage%3A broken_before::test tests.test_db.test_migrate"
        ),
        "{github}"
    );
    assert!(
        github.contains(
            "::error title=pipescope gate%3A verdict::Verdict (known flakes allowed): FAIL"
        ),
        "{github}"
    );
}

/// A pytest `--junitxml` report (xunit2) of a feature-branch run: `failing` tests fail.
fn junit_report(failing: &[&str]) -> String {
    let cases: String = [FLAKY, BROKEN, STABLE]
        .iter()
        .map(|id| {
            let (class, name) = id.rsplit_once('.').expect("dotted");
            if failing.contains(id) {
                format!(
                    "<testcase classname=\"{class}\" name=\"{name}\" time=\"0.4\"><failure message=\"AssertionError: boom\">tests failed &lt;here&gt;</failure></testcase>"
                )
            } else {
                format!("<testcase classname=\"{class}\" name=\"{name}\" time=\"0.2\" />")
            }
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites><testsuite name=\"pytest\" errors=\"0\" failures=\"{}\" skipped=\"0\" tests=\"3\" time=\"1.1\" timestamp=\"2026-12-01T10:00:00.123456\" hostname=\"runner-7\">{cases}</testsuite></testsuites>\n",
        failing.len()
    )
}

#[test]
fn junit_reports_judged_as_the_run_that_just_finished() {
    let env = Env::new();
    let path = env.write("history.jsonl", &history());
    let (code, stderr) = env.ingest(&[&path]);
    assert_eq!(code, 0, "{stderr}");
    let run = |name: &str, failing: &[&str]| {
        let report = env.write(&format!("{name}.xml"), &junit_report(failing));
        let report = env.arg(&report);
        gate(
            &env,
            &[
                "--junit",
                report.as_str(),
                "--run-id",
                name,
                "--branch",
                "feature/pay",
                "--commit",
                &format!("feed-{name}"),
                "--allow-known-flaky",
                "--job-status",
                "failure",
            ],
        )
    };
    let (code, doc, stderr) = run("gha-1", &[FLAKY]);
    assert_eq!(code, 0, "{stderr}\n{doc:#}");
    assert_eq!(doc["current"], "run gha-1");
    assert_eq!(triage(&doc), vec![pair(FLAKY, "known_flaky")], "{doc:#}");
    let (code, doc, stderr) = run("gha-2", &[FLAKY, STABLE]);
    assert_eq!(code, 1, "{stderr}\n{doc:#}");
    assert_eq!(
        triage(&doc),
        vec![pair(FLAKY, "known_flaky"), pair(STABLE, "new")]
    );
    // A report that is not JUnit, or missing: the job's own verdict, not a pass.
    let junk = env.write("junk.xml", "<html>not a report</html>");
    let junk = env.arg(&junk);
    let (code, _, stderr) = gate(
        &env,
        &[
            "--junit",
            junk.as_str(),
            "--run-id",
            "gha-3",
            "--allow-known-flaky",
            "--job-status",
            "failure",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("Fail-safe"), "{stderr}");
    let (code, _, stderr) = gate(
        &env,
        &[
            "--junit",
            "missing.xml",
            "--allow-known-flaky",
            "--job-status",
            "success",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("Fail-safe: the job's own verdict stands: success"),
        "{stderr}"
    );
}
