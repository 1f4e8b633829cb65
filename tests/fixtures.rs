//! The bundled sample inputs of `fixtures/` (see its README): every file ingests, and
//! every analysis finds what the samples hold — runs without a pipeline span from the
//! real Python exporters, JUnit reruns as flaky evidence, a broken test, a setup error.

mod common;

use std::path::Path;

use common::Env;
use serde_json::Value;

fn store() -> Env {
    let env = Env::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let dirs: Vec<_> = ["tekton-zipkin", "tekton-otlp", "junit"]
        .iter()
        .map(|d| fixtures.join(d))
        .collect();
    let paths: Vec<&Path> = dirs.iter().map(|p| p.as_path()).collect();
    let (code, stderr) = env.ingest(&paths);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("14 files") && stderr.contains("0 skipped"),
        "{stderr}"
    );
    env
}

fn find<'a>(rows: &'a [Value], key: &str, value: &str) -> &'a Value {
    rows.iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value}: {rows:#?}"))
}

#[test]
fn every_analysis_reads_the_bundled_samples() {
    let env = store();

    let flaky = env.rows(&["flaky", "--all"]);
    for (test, status, runs, failures) in [
        ("com.acme.CartTest.checkout", "flaky", 2, 1),
        ("tests.integration.test_totals.test_totals", "flaky", 2, 1),
        ("com.acme.CartTest.pays", "broken", 2, 2),
        ("tests.unit.test_db.test_connect", "broken", 1, 1),
        (
            "tests.unit.test_cart.TestCart.test_add[eur-1]",
            "stable",
            1,
            0,
        ),
    ] {
        let row = find(&flaky, "test", test);
        assert_eq!(
            (
                row["status"].as_str(),
                row["runs"].as_i64(),
                row["failures"].as_i64()
            ),
            (Some(status), Some(runs), Some(failures)),
            "{row}"
        );
    }
    assert_eq!(
        flaky.len(),
        7,
        "the skipped test is no evidence: {flaky:#?}"
    );

    // Four Tekton runs (two per exporter), none with a pipeline span; run 2 of each
    // failed in its test task's last command.
    let by_task = env.rows(&["failures", "--by", "task"]);
    let test = find(&by_task, "task", "test");
    assert_eq!(
        (test["runs"].as_i64(), test["failed"].as_i64()),
        (Some(4), Some(2))
    );
    let by_pipeline = env.rows(&["failures", "--by", "pipeline"]);
    let tekton = find(&by_pipeline, "pipeline", "build-and-test");
    assert_eq!(
        (tekton["runs"].as_i64(), tekton["failed"].as_i64()),
        (Some(4), Some(2))
    );

    let bottlenecks = env.rows(&["bottlenecks"]);
    let tasks: Vec<&str> = bottlenecks
        .iter()
        .filter_map(|r| r["task"].as_str())
        .collect();
    assert_eq!(tasks, ["build", "test", "clone"], "{bottlenecks:#?}");
    assert!(
        bottlenecks.iter().all(|r| r["runs"] == 4),
        "{bottlenecks:#?}"
    );
}
