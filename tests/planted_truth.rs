//! Every analysis on generated CI history with planted truth (`pipescope synth`):
//! the flaky set is exactly the planted one, compare names each planted cause,
//! bottlenecks ranks the critical-path task first, failure rates per branch are
//! exact, re-ingesting changes nothing and hostile branch names stay data.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{Env, synth_test_data};
use serde_json::Value;

fn ingested(seed: u64) -> (Env, Value) {
    let env = Env::new();
    let truth = synth_test_data(env.dir.path(), seed);
    let (code, stderr) = env.ingest(&[&env.dir.path().join("traces")]);
    assert_eq!(
        code, 0,
        "ingest of generated data skipped something:\n{stderr}"
    );
    (env, truth)
}

fn names(values: &Value, field: &str) -> BTreeSet<String> {
    values
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            if field.is_empty() {
                v.as_str()
            } else {
                v[field].as_str()
            }
        })
        .map(String::from)
        .collect()
}

#[test]
fn analyses_find_exactly_what_was_planted() {
    for seed in [1, 2] {
        let (env, truth) = ingested(seed);
        check_flaky(&env, &truth);
        check_compare(&env, &truth);
        check_bottlenecks(&env, &truth);
        check_failures(&env, &truth);
        check_store_layout(&env.data());
    }
}

fn check_flaky(env: &Env, truth: &Value) {
    let flaky = env.rows(&["flaky"]);
    let found = names(&Value::Array(flaky.clone()), "test");
    assert_eq!(
        found,
        names(&truth["flaky_tests"], "test"),
        "flaky set differs from the planted one"
    );
    assert!(flaky.iter().all(|r| r["status"] == "flaky"));
    let all = env.rows(&["flaky", "--all"]);
    for broken in names(&truth["broken_tests"], "") {
        let row = all
            .iter()
            .find(|r| r["test"] == broken.as_str())
            .unwrap_or_else(|| panic!("{broken} missing"));
        assert_eq!(row["status"], "broken", "{row}");
    }
    for stable in names(&truth["stable_tests"], "") {
        if let Some(row) = all.iter().find(|r| r["test"] == stable.as_str()) {
            assert_eq!(row["status"], "stable", "{row}");
        }
    }
    // The realised counts the generator recorded come out exactly.
    for row in &flaky {
        let stats = &truth["test_stats"][row["test"].as_str().unwrap_or_default()];
        assert_eq!(row["runs"], stats["executions"], "{row}");
        assert_eq!(row["failures"], stats["failures"], "{row}");
        assert_eq!(row["flaky_commits"], stats["flaky_commits"], "{row}");
    }
}

fn check_compare(env: &Env, truth: &Value) {
    for planted in truth["flaky_tests"].as_array().into_iter().flatten() {
        let test = planted["test"].as_str().unwrap_or_default();
        let rows = env.rows(&["compare", "--test", test]);
        let top = rows
            .first()
            .unwrap_or_else(|| panic!("no compare rows for {test}"));
        let expected_signal = match planted["cause"]["kind"].as_str() {
            Some("slow_child") => "duration",
            Some("error_child") => "error",
            Some("attribute_value") => "attribute",
            Some("self_duration") => "self_duration",
            other => panic!("unknown cause {other:?}"),
        };
        assert_eq!(top["signal"], expected_signal, "{test}: top row {top}");
        assert_eq!(top["span"], planted["cause_span"], "{test}: top row {top}");
        if expected_signal == "attribute" {
            let needle = format!(
                "{}={}",
                planted["cause"]["key"].as_str().unwrap_or(""),
                planted["cause"]["value"].as_str().unwrap_or("")
            );
            assert!(
                top["detail"].as_str().unwrap_or("").contains(&needle),
                "{top}"
            );
        }
        assert!(top["p_value"].as_f64().is_some_and(|p| p < 0.01), "{top}");
    }
}

fn check_bottlenecks(env: &Env, truth: &Value) {
    let pipeline = truth["bottleneck_pipeline"].as_str().unwrap_or_default();
    let rows = env.rows(&["bottlenecks", "--pipeline", pipeline]);
    assert_eq!(rows[0]["task"], truth["critical_task"], "{rows:#?}");
    let rank = |task: &str| {
        rows.iter()
            .position(|r| r["task"] == task)
            .unwrap_or_else(|| panic!("{task} missing"))
    };
    let parallel = truth["parallel_long_task"].as_str().unwrap_or_default();
    let parallel_row = &rows[rank(parallel)];
    // Long, but never on the critical path.
    assert!(
        parallel_row["p50_s"].as_f64() > rows[rank("test")]["p50_s"].as_f64(),
        "{parallel_row}"
    );
    assert!(
        parallel_row["critical_path_s"]
            .as_f64()
            .is_some_and(|s| s < 0.05 * rows[0]["critical_path_s"].as_f64().unwrap_or(0.0)),
        "{parallel_row}"
    );
    for chain_task in ["checkout", "build", "test", "package"] {
        if rows.iter().any(|r| r["task"] == chain_task) {
            assert!(
                rank(chain_task) < rank(parallel),
                "{chain_task} should outrank {parallel}: {rows:#?}"
            );
        }
    }
}

fn check_failures(env: &Env, truth: &Value) {
    let rows = env.rows(&["failures", "--by", "branch"]);
    let expected = truth["branch_runs"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rows.len(), expected.len(), "{rows:#?}");
    for (branch, counts) in expected {
        let row = rows
            .iter()
            .find(|r| r["branch"] == branch.as_str())
            .unwrap_or_else(|| panic!("branch {branch:?} missing"));
        assert_eq!(
            (&row["runs"], &row["failed"]),
            (&counts[0], &counts[1]),
            "{branch:?}"
        );
    }
    for hostile in names(&truth["hostile_branches"], "") {
        assert!(
            rows.iter().any(|r| r["branch"] == hostile.as_str()),
            "hostile branch {hostile:?} not stored as data"
        );
    }
}

/// Only `date=YYYY-MM-DD` directories and Parquet files: nothing from a trace (a branch
/// like `fix/../../etc/passwd`) became a path.
fn check_store_layout(data: &Path) {
    let spans = data.join("spans");
    for partition in std::fs::read_dir(&spans).expect("spans dir") {
        let partition = partition.expect("entry").path();
        let name = partition
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        assert!(
            name.len() == 15 && name.starts_with("date=20"),
            "unexpected {name}"
        );
        for file in std::fs::read_dir(&partition).expect("partition") {
            let file = file.expect("entry").path();
            assert!(
                file.is_file() && file.extension().is_some_and(|e| e == "parquet"),
                "{}",
                file.display()
            );
        }
    }
}

#[test]
fn reingesting_everything_changes_no_result() {
    let (env, _) = ingested(3);
    let snapshot = |env: &Env| {
        [
            env.rows(&["flaky", "--all"]),
            env.rows(&["failures", "--by", "task", "--bucket", "day"]),
            env.rows(&["bottlenecks"]),
            env.sql("SELECT COUNT(*) AS n FROM spans"),
        ]
    };
    let before = snapshot(&env);
    let (code, stderr) = env.ingest(&[&env.dir.path().join("traces")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(" 0 stored"), "{stderr}");
    assert_eq!(before, snapshot(&env));
}

#[test]
fn generated_counts_match_the_store() {
    let (env, truth) = ingested(4);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM spans"),
        truth["spans"].as_i64().unwrap_or(-1)
    );
    assert_eq!(
        env.count("SELECT COUNT(DISTINCT trace_id) FROM spans WHERE role = 'pipeline'"),
        truth["traces"].as_i64().unwrap_or(-1)
    );
    assert_eq!(
        env.count("SELECT COUNT(*) FROM pipeline_runs WHERE attempt > 1"),
        truth["reruns"].as_i64().unwrap_or(-1)
    );
}
